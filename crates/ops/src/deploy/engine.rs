//! Deploying a bundle: wave by wave, stacks of a wave in parallel (bounded),
//! each skipped when its fingerprint matches, else changed through a change
//! set that is checked, executed and followed to the end.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::api::{
    AwsError, ChangeSetOutcome, ObjectStore, ResourceChange, StackEvent, StackRequest, StackState,
    Stacks,
};
use super::artifacts::{self, Artifact};
use super::plan::{PlannedStack, StackAction};
use super::rules::{self, Condition, Refusal};
use crate::wait::Polling;
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::Environment;
use pricewatch_core::hash::sha256_hex;
use pricewatch_core::render::RenderedStack;
use pricewatch_core::reporter::Reporter;

/// What to deploy.
pub struct Target<'a> {
    pub env: &'a Environment,
    pub bundle: &'a Bundle,
    pub artifacts: &'a BTreeMap<String, Artifact>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Logical ids of stateful resources that may be replaced or deleted.
    pub allow_replace: Vec<String>,
    /// Delete failed creates and continue failed rollbacks before deploying.
    pub recover: bool,
    pub polling: Polling,
    /// Stacks deployed at once within a wave.
    pub parallelism: usize,
}

impl Options {
    /// No replacement allowed, no recovery, the env's parallelism, and
    /// `timeout` for each stack operation.
    pub fn for_env(env: &Environment, timeout: std::time::Duration) -> Options {
        Options {
            allow_replace: Vec::new(),
            recover: false,
            polling: Polling::standard(timeout),
            parallelism: env.settings.deploy.parallelism as usize,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackOutcome {
    Unchanged,
    Created,
    Updated,
    Deleted,
    Failed,
    /// An earlier wave failed, so this stack was left alone.
    NotStarted,
}

#[derive(Debug, Clone, Serialize)]
pub struct StackResult {
    pub stack: String,
    pub stack_name: String,
    pub outcome: StackOutcome,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub env: String,
    pub stacks: Vec<StackResult>,
}

impl DeployReport {
    pub fn ok(&self) -> bool {
        self.stacks
            .iter()
            .all(|s| !matches!(s.outcome, StackOutcome::Failed | StackOutcome::NotStarted))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("stack {stack} is {status}: {why}; run `{command}`")]
    Stuck {
        stack: String,
        status: String,
        why: String,
        command: String,
    },
    #[error("refusing to change stack {stack}:{}", describe_refusals(.refused))]
    Refused {
        stack: String,
        refused: Vec<Refusal>,
    },
    #[error("stack {stack} failed ({status}):{}", describe_causes(.causes, .reason))]
    Failed {
        stack: String,
        status: String,
        reason: Option<String>,
        causes: Vec<StackEvent>,
    },
    #[error("change set for stack {stack} failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },
    #[error("stack {stack} did not finish within {seconds} s (still {status}); it keeps going in AWS: check `pricewatch status --env {env}` and deploy again when it settles")]
    Timeout {
        stack: String,
        status: String,
        seconds: u64,
        env: String,
    },
    #[error("stack {stack} needs output {output} of stack {from}, which {from} does not have: deploy {from} first")]
    MissingOutput {
        stack: String,
        from: String,
        output: String,
    },
    #[error("the plan no longer matches for stack {stack}: {why}; run `pricewatch plan` again")]
    PlanMismatch { stack: String, why: String },
    #[error("stack {stack}: {message}")]
    Template { stack: String, message: String },
}

fn describe_refusals(refused: &[Refusal]) -> String {
    let mut text = String::new();
    for r in refused {
        text.push_str(&format!(
            "\n  CloudFormation would {} {} ({}): {}",
            r.what, r.logical_id, r.resource_type, r.why
        ));
    }
    let ids: Vec<&str> = refused.iter().map(|r| r.logical_id.as_str()).collect();
    text.push_str(&format!(
        "\n  Its data would be lost. If that is intended, deploy again with --allow-replace {}",
        ids.join(" --allow-replace ")
    ));
    text
}

fn describe_causes(causes: &[StackEvent], reason: &Option<String>) -> String {
    if causes.is_empty() {
        return format!(
            " {}",
            reason.as_deref().unwrap_or("no failure event was recorded")
        );
    }
    causes
        .iter()
        .map(|e| {
            format!(
                "\n  {} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect()
}

/// A stack's inputs resolved for this deploy.
pub(super) struct Resolved {
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub policy: Option<String>,
    pub role_arn: Option<String>,
    pub fingerprint: String,
}

pub struct Engine<'a, S, O> {
    pub(super) stacks: &'a S,
    pub(super) objects: &'a O,
    pub(super) reporter: &'a dyn Reporter,
    pub(super) options: &'a Options,
}

/// Outputs of the stacks deployed (or found unchanged) so far.
pub(super) type Outputs = BTreeMap<String, BTreeMap<String, String>>;

impl<'a, S: Stacks, O: ObjectStore> Engine<'a, S, O> {
    pub fn new(
        stacks: &'a S,
        objects: &'a O,
        reporter: &'a dyn Reporter,
        options: &'a Options,
    ) -> Self {
        Engine {
            stacks,
            objects,
            reporter,
            options,
        }
    }

    /// Deploys every stack; with a plan, applies exactly what was planned.
    pub async fn deploy(&self, target: &Target<'_>, plan: Option<&[PlannedStack]>) -> DeployReport {
        let mut outputs: Outputs = BTreeMap::new();
        let mut uploaded: BTreeSet<String> = BTreeSet::new();
        let mut results = Vec::new();
        let mut failed = false;
        for wave in &target.bundle.waves {
            let stacks = wave_stacks(target.bundle, wave);
            if failed {
                results.extend(stacks.iter().map(|s| {
                    result(
                        s,
                        StackOutcome::NotStarted,
                        0.0,
                        Some("an earlier wave failed".into()),
                    )
                }));
                continue;
            }
            if let Err(e) = self.upload_artifacts(target, &stacks, &mut uploaded).await {
                failed = true;
                results.extend(
                    stacks
                        .iter()
                        .map(|s| result(s, StackOutcome::Failed, 0.0, Some(e.to_string()))),
                );
                continue;
            }
            let current = &outputs;
            let finished = self
                .in_parallel(&stacks, |stack| {
                    let planned = plan.and_then(|p| p.iter().find(|ps| ps.name == stack.name));
                    self.deploy_stack(target, stack, current, planned)
                })
                .await;
            for (stack, outcome, seconds) in finished {
                let outcome = outcome.map(|(outcome, stack_outputs)| {
                    outputs.insert(stack.name.clone(), stack_outputs);
                    outcome
                });
                failed |= self.record(&mut results, stack, outcome, seconds);
            }
        }
        DeployReport {
            env: target.env.name.clone(),
            stacks: in_stack_order(target.bundle, results),
        }
    }

    /// Runs `work` on each stack of a wave, at most `parallelism` at once.
    pub(super) async fn in_parallel<'s, T, F, Fut>(
        &self,
        stacks: &[&'s RenderedStack],
        work: F,
    ) -> Vec<(&'s RenderedStack, Result<T, DeployError>, f64)>
    where
        F: Fn(&'s RenderedStack) -> Fut,
        Fut: std::future::Future<Output = Result<T, DeployError>>,
    {
        let work = &work;
        let runs = stacks.iter().map(|stack| async move {
            let started = Instant::now();
            let outcome = work(stack).await;
            (*stack, outcome, started.elapsed().as_secs_f64())
        });
        stream::iter(runs)
            .buffer_unordered(self.options.parallelism.max(1))
            .collect()
            .await
    }

    /// Reports and records a stack's outcome; true when it failed.
    pub(super) fn record(
        &self,
        results: &mut Vec<StackResult>,
        stack: &RenderedStack,
        outcome: Result<StackOutcome, DeployError>,
        seconds: f64,
    ) -> bool {
        match outcome {
            Ok(outcome) => {
                self.reporter
                    .info(&format!("{}: {}", stack.name, outcome_text(outcome)));
                results.push(result(stack, outcome, seconds, None));
                false
            }
            Err(e) => {
                self.reporter.warn(&format!("{}: {e}", stack.name));
                results.push(result(
                    stack,
                    StackOutcome::Failed,
                    seconds,
                    Some(e.to_string()),
                ));
                true
            }
        }
    }

    async fn upload_artifacts(
        &self,
        target: &Target<'_>,
        wave: &[&RenderedStack],
        uploaded: &mut BTreeSet<String>,
    ) -> Result<(), AwsError> {
        let bucket = target.env.names().artifacts_bucket;
        for name in wave.iter().flat_map(|s| s.artifacts.values()) {
            if uploaded.contains(name) {
                continue;
            }
            let artifact = &target.artifacts[name];
            if artifacts::upload(self.objects, &bucket, artifact).await? {
                self.reporter.info(&format!(
                    "uploaded artifact {name} to s3://{bucket}/{}",
                    artifact.key
                ));
            } else {
                self.reporter.debug(&format!(
                    "artifact {name} already in s3://{bucket}/{}",
                    artifact.key
                ));
            }
            uploaded.insert(name.clone());
        }
        Ok(())
    }

    /// Resolves parameters from upstream outputs and artifact keys, and
    /// fingerprints everything that shapes the stack.
    pub(super) fn resolve(
        &self,
        target: &Target<'_>,
        stack: &RenderedStack,
        outputs: &Outputs,
    ) -> Result<Resolved, DeployError> {
        let mut parameters = BTreeMap::new();
        for (parameter, source) in &stack.parameters {
            let value = outputs
                .get(&source.stack)
                .and_then(|o| o.get(&source.output))
                .ok_or_else(|| DeployError::MissingOutput {
                    stack: stack.name.clone(),
                    from: source.stack.clone(),
                    output: source.output.clone(),
                })?;
            parameters.insert(parameter.clone(), value.clone());
        }
        for (parameter, artifact) in &stack.artifacts {
            parameters.insert(parameter.clone(), target.artifacts[artifact].key.clone());
        }
        let mut tags = target.env.settings.tags.clone();
        tags.insert("pricewatch:env".into(), target.env.name.clone());
        tags.insert("pricewatch:stack".into(), stack.name.clone());
        let policy = if target.env.settings.deploy.protect_stacks {
            let stateful: Vec<String> = stack
                .info
                .resources
                .iter()
                .filter(|(_, kind)| rules::STATEFUL_TYPES.contains(&kind.as_str()))
                .map(|(id, _)| id.clone())
                .collect();
            rules::protective_policy(&stateful)
        } else {
            None
        };
        let fingerprint =
            rules::fingerprint(&stack.template, &parameters, &tags, policy.as_deref());
        Ok(Resolved {
            parameters,
            tags,
            policy,
            role_arn: target.env.settings.deploy.cloudformation_role_arn.clone(),
            fingerprint,
        })
    }

    /// Brings a stack to a state where it can be changed, recovering it
    /// when allowed. Returns its state (None when it does not exist).
    pub(super) async fn settle(
        &self,
        stack: &RenderedStack,
        env: &str,
    ) -> Result<Option<StackState>, DeployError> {
        let mut state = self.stacks.describe(&stack.stack_name).await?;
        if state
            .as_ref()
            .is_some_and(|s| rules::condition(&s.status) == Condition::InProgress)
        {
            self.reporter.info(&format!(
                "{}: an operation is already in progress ({}), probably an interrupted deploy; waiting for it",
                stack.name,
                state.as_ref().map(|s| s.status.as_str()).unwrap_or_default()
            ));
            let since = self.latest_event_time(stack).await?;
            state = self.follow(stack, since, env).await?;
        }
        let Some(current) = &state else {
            return Ok(None);
        };
        if rules::is_review_shell(&current.status) {
            // A change set was created for a new stack but never executed:
            // an empty shell that would block creating the stack.
            self.reporter.info(&format!(
                "{}: removing an unexecuted change set's empty stack",
                stack.name
            ));
            self.delete_and_wait(stack, env).await?;
            return Ok(None);
        }
        let stuck = |why: &str| DeployError::Stuck {
            stack: stack.stack_name.clone(),
            status: current.status.clone(),
            why: why.to_string(),
            command: rules::recovery_command(rules::condition(&current.status), env)
                .unwrap_or_default(),
        };
        match rules::condition(&current.status) {
            Condition::Missing => Ok(None),
            Condition::Ready => Ok(state),
            Condition::FailedCreate if self.options.recover => {
                self.reporter.info(&format!(
                    "{}: deleting the failed create ({})",
                    stack.name, current.status
                ));
                self.delete_and_wait(stack, env).await?;
                Ok(None)
            }
            Condition::FailedCreate => Err(stuck(
                "its creation failed and it must be deleted before it can be created again",
            )),
            Condition::RollbackFailed if self.options.recover => {
                self.reporter
                    .info(&format!("{}: continuing the failed rollback", stack.name));
                let since = self.latest_event_time(stack).await?;
                self.stacks
                    .continue_update_rollback(&stack.stack_name)
                    .await?;
                let after = self.follow(stack, since, env).await?;
                match after {
                    Some(s) if rules::condition(&s.status) == Condition::Ready => Ok(Some(s)),
                    other => Err(DeployError::Failed {
                        stack: stack.stack_name.clone(),
                        status: other.map(|s| s.status).unwrap_or_else(|| "gone".into()),
                        reason: Some(
                            "the rollback could not be continued; see the stack events".into(),
                        ),
                        causes: Vec::new(),
                    }),
                }
            }
            Condition::RollbackFailed => {
                Err(stuck("an update rolled back and the rollback failed"))
            }
            Condition::DeleteFailed => Err(stuck("a deletion failed")),
            Condition::InProgress => unreachable!("followed to the end above"),
        }
    }

    async fn deploy_stack(
        &self,
        target: &Target<'_>,
        stack: &RenderedStack,
        outputs: &Outputs,
        planned: Option<&PlannedStack>,
    ) -> Result<(StackOutcome, BTreeMap<String, String>), DeployError> {
        let env = &target.env.name;
        if let Some(planned) = planned {
            let sha = sha256_hex(stack.template.as_bytes());
            if planned.template_sha256 != sha {
                return Err(DeployError::PlanMismatch {
                    stack: stack.name.clone(),
                    why: "its template changed since the plan".into(),
                });
            }
            if planned.action == StackAction::Blocked {
                return Err(DeployError::PlanMismatch {
                    stack: stack.name.clone(),
                    why: planned
                        .note
                        .clone()
                        .unwrap_or_else(|| "the plan could not plan it".into()),
                });
            }
        }
        let state = self.settle(stack, env).await?;
        let resolved = self.resolve(target, stack, outputs)?;
        let deployed_fingerprint = state
            .as_ref()
            .and_then(|s| s.outputs.get(rules::FINGERPRINT_OUTPUT))
            .cloned();
        if let Some(planned) = planned {
            check_plan(stack, planned, state.as_ref(), &deployed_fingerprint)?;
        }
        if let (Some(state), Some(deployed)) = (&state, &deployed_fingerprint) {
            if *deployed == resolved.fingerprint {
                return Ok((StackOutcome::Unchanged, state.outputs.clone()));
            }
        }
        if state.is_none() {
            return self.create(stack, &resolved, env).await;
        }
        let planned_change_set = planned.and_then(|p| p.change_set_id.clone());
        let change_set_id = match planned_change_set {
            Some(id) => id,
            None => match self.create_change_set(stack, &resolved).await? {
                Some(id) => id,
                None => {
                    return Ok((
                        StackOutcome::Unchanged,
                        state.map(|s| s.outputs).unwrap_or_default(),
                    ))
                }
            },
        };
        let changes = match self.wait_for_change_set(stack, &change_set_id).await {
            Ok(Some(changes)) => changes,
            Ok(None) => {
                self.stacks
                    .delete_change_set(&stack.stack_name, &change_set_id)
                    .await?;
                return Ok((
                    StackOutcome::Unchanged,
                    state.map(|s| s.outputs).unwrap_or_default(),
                ));
            }
            Err(e) => {
                let _ = self
                    .stacks
                    .delete_change_set(&stack.stack_name, &change_set_id)
                    .await;
                return Err(e);
            }
        };
        let refused = rules::dangerous_changes(&changes, &self.options.allow_replace);
        if !refused.is_empty() {
            self.stacks
                .delete_change_set(&stack.stack_name, &change_set_id)
                .await?;
            return Err(DeployError::Refused {
                stack: stack.stack_name.clone(),
                refused,
            });
        }
        for change in &changes {
            self.reporter.debug(&format!("{}: {change}", stack.name));
        }
        let allowed_replacement = resolved.policy.is_some()
            && changes
                .iter()
                .any(|c| self.options.allow_replace.contains(&c.logical_id));
        if allowed_replacement {
            // The stack policy denies replacing stateful resources; this
            // replacement was explicitly allowed, so lift it for this update.
            self.stacks
                .set_stack_policy(&stack.stack_name, rules::ALLOW_ALL_POLICY)
                .await?;
        }
        let since = self.latest_event_time(stack).await?;
        self.reporter.info(&format!(
            "{}: updating {} ({} resource change{})",
            stack.name,
            stack.stack_name,
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        ));
        self.stacks
            .execute_change_set(&stack.stack_name, &change_set_id)
            .await?;
        let finished = self.finish(stack, since, env).await?;
        if let Some(policy) = &resolved.policy {
            if !finished.termination_protection {
                self.stacks
                    .set_termination_protection(&stack.stack_name, true)
                    .await?;
            }
            self.stacks
                .set_stack_policy(&stack.stack_name, policy)
                .await?;
        }
        Ok((StackOutcome::Updated, finished.outputs))
    }

    /// Creates a new stack directly: a change set would add nothing a plan
    /// does not already show (every resource is an Add).
    async fn create(
        &self,
        stack: &RenderedStack,
        resolved: &Resolved,
        env: &str,
    ) -> Result<(StackOutcome, BTreeMap<String, String>), DeployError> {
        let body = self.submitted_template(stack, resolved)?;
        self.reporter.info(&format!(
            "{}: creating {} ({} resources)",
            stack.name,
            stack.stack_name,
            stack.info.resources.len()
        ));
        self.stacks
            .create_stack(&StackRequest {
                stack_name: &stack.stack_name,
                template_body: &body,
                parameters: &resolved.parameters,
                tags: &resolved.tags,
                policy: resolved.policy.as_deref(),
                role_arn: resolved.role_arn.as_deref(),
            })
            .await?;
        let finished = self.finish(stack, None, env).await?;
        Ok((StackOutcome::Created, finished.outputs))
    }

    /// Follows an operation to its end and turns a failure into its root causes.
    async fn finish(
        &self,
        stack: &RenderedStack,
        since: Option<String>,
        env: &str,
    ) -> Result<StackState, DeployError> {
        let Some(finished) = self.follow(stack, since.clone(), env).await? else {
            return Err(DeployError::Failed {
                stack: stack.stack_name.clone(),
                status: "DELETE_COMPLETE".into(),
                reason: Some("the stack disappeared while it was deployed".into()),
                causes: Vec::new(),
            });
        };
        if rules::succeeded(&finished.status) {
            return Ok(finished);
        }
        let events = self.stacks.events(&stack.stack_name).await?;
        Err(DeployError::Failed {
            stack: stack.stack_name.clone(),
            status: finished.status.clone(),
            reason: finished.status_reason.clone(),
            causes: rules::root_causes(&events, since.as_deref().unwrap_or("")),
        })
    }

    fn submitted_template(
        &self,
        stack: &RenderedStack,
        resolved: &Resolved,
    ) -> Result<String, DeployError> {
        rules::with_fingerprint_output(&stack.template, &resolved.fingerprint).map_err(|message| {
            DeployError::Template {
                stack: stack.name.clone(),
                message,
            }
        })
    }

    pub(super) async fn create_change_set(
        &self,
        stack: &RenderedStack,
        resolved: &Resolved,
    ) -> Result<Option<String>, DeployError> {
        let body = self.submitted_template(stack, resolved)?;
        let seconds = pricewatch_core::time::now_unix();
        let name = format!("pricewatch-{}-{seconds}", &resolved.fingerprint[..12]);
        let request = StackRequest {
            stack_name: &stack.stack_name,
            template_body: &body,
            parameters: &resolved.parameters,
            tags: &resolved.tags,
            policy: resolved.policy.as_deref(),
            role_arn: resolved.role_arn.as_deref(),
        };
        Ok(self.stacks.create_change_set(&request, &name).await?)
    }

    /// The change set's resource changes, or None when it is empty.
    pub(super) async fn wait_for_change_set(
        &self,
        stack: &RenderedStack,
        change_set_id: &str,
    ) -> Result<Option<Vec<ResourceChange>>, DeployError> {
        let mut poller = self.options.polling.start();
        loop {
            match self
                .stacks
                .change_set(&stack.stack_name, change_set_id)
                .await?
            {
                ChangeSetOutcome::Ready(changes) => return Ok(Some(changes)),
                ChangeSetOutcome::Empty => return Ok(None),
                ChangeSetOutcome::Failed(reason) => {
                    return Err(DeployError::ChangeSetFailed {
                        stack: stack.stack_name.clone(),
                        reason,
                    })
                }
                ChangeSetOutcome::Pending => {}
            }
            if !poller.next().await {
                return Err(DeployError::ChangeSetFailed {
                    stack: stack.stack_name.clone(),
                    reason: format!("not ready after {} s", poller.waited().as_secs()),
                });
            }
        }
    }

    async fn latest_event_time(
        &self,
        stack: &RenderedStack,
    ) -> Result<Option<String>, DeployError> {
        let events = self.stacks.events(&stack.stack_name).await?;
        Ok(events.first().map(|e| e.timestamp.clone()))
    }

    /// Follows a stack until no operation is in progress, printing its new
    /// events; returns the final state (None once deleted).
    pub(super) async fn follow(
        &self,
        stack: &RenderedStack,
        since: Option<String>,
        env: &str,
    ) -> Result<Option<StackState>, DeployError> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut poller = self.options.polling.start();
        loop {
            let state = self.stacks.describe(&stack.stack_name).await?;
            let events = self
                .stacks
                .events(&stack.stack_name)
                .await
                .unwrap_or_default();
            for event in events.iter().rev() {
                let new = since
                    .as_deref()
                    .is_none_or(|s| event.timestamp.as_str() > s);
                if new && seen.insert(event.id.clone()) {
                    self.reporter.info(&format!(
                        "{}: {} {} {}{}",
                        stack.name,
                        event.logical_id,
                        event.resource_type,
                        event.status,
                        event
                            .reason
                            .as_deref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    ));
                }
            }
            match &state {
                Some(s) if rules::condition(&s.status) == Condition::InProgress => {}
                _ => return Ok(state),
            }
            if !poller.next().await {
                return Err(DeployError::Timeout {
                    stack: stack.stack_name.clone(),
                    status: state.map(|s| s.status).unwrap_or_default(),
                    seconds: poller.waited().as_secs(),
                    env: env.to_string(),
                });
            }
        }
    }

    /// Deletes a stack and waits until it is gone.
    pub(super) async fn delete_and_wait(
        &self,
        stack: &RenderedStack,
        env: &str,
    ) -> Result<(), DeployError> {
        let since = self.latest_event_time(stack).await?;
        self.stacks.delete_stack(&stack.stack_name).await?;
        match self.follow(stack, since.clone(), env).await? {
            None => Ok(()),
            Some(state) => {
                let events = self.stacks.events(&stack.stack_name).await?;
                Err(DeployError::Failed {
                    stack: stack.stack_name.clone(),
                    status: state.status,
                    reason: state.status_reason,
                    causes: rules::root_causes(&events, since.as_deref().unwrap_or("")),
                })
            }
        }
    }
}

/// With `--plan`, the deployed stack must be as it was when planned.
fn check_plan(
    stack: &RenderedStack,
    planned: &PlannedStack,
    state: Option<&StackState>,
    deployed_fingerprint: &Option<String>,
) -> Result<(), DeployError> {
    let mismatch = |why: String| DeployError::PlanMismatch {
        stack: stack.name.clone(),
        why,
    };
    match (planned.action, state) {
        (StackAction::Create, Some(s)) => Err(mismatch(format!(
            "it was planned as new but now exists ({})",
            s.status
        ))),
        (StackAction::Update | StackAction::Unchanged, None) => Err(mismatch(
            "it was deployed when planned but is gone now".into(),
        )),
        (StackAction::Update | StackAction::Unchanged, Some(s)) => {
            if s.last_updated != planned.last_updated
                || *deployed_fingerprint != planned.deployed_fingerprint
            {
                Err(mismatch(format!(
                    "it was updated since the plan (last update {} , planned against {})",
                    s.last_updated.as_deref().unwrap_or("?"),
                    planned.last_updated.as_deref().unwrap_or("?")
                )))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// The rendered stacks of a wave.
pub(super) fn wave_stacks<'b>(bundle: &'b Bundle, wave: &[String]) -> Vec<&'b RenderedStack> {
    wave.iter()
        .map(|name| {
            bundle
                .stacks
                .iter()
                .find(|s| &s.name == name)
                .expect("waves name rendered stacks")
        })
        .collect()
}

/// Results in deploy order, whatever order they finished in.
pub(super) fn in_stack_order(bundle: &Bundle, mut results: Vec<StackResult>) -> Vec<StackResult> {
    results.sort_by_key(|r| bundle.stacks.iter().position(|s| s.name == r.stack));
    results
}

pub(super) fn result(
    stack: &RenderedStack,
    outcome: StackOutcome,
    seconds: f64,
    detail: Option<String>,
) -> StackResult {
    StackResult {
        stack: stack.name.clone(),
        stack_name: stack.stack_name.clone(),
        outcome,
        seconds: (seconds * 10.0).round() / 10.0,
        detail,
    }
}

pub fn outcome_text(outcome: StackOutcome) -> &'static str {
    match outcome {
        StackOutcome::Unchanged => "unchanged",
        StackOutcome::Created => "created",
        StackOutcome::Updated => "updated",
        StackOutcome::Deleted => "deleted",
        StackOutcome::Failed => "FAILED",
        StackOutcome::NotStarted => "not started",
    }
}
