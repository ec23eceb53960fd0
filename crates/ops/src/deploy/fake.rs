//! An in-memory CloudFormation and S3 for the engine's tests: records every
//! call, and can be told to fail a create, report replacements, keep a
//! stack busy for a while, or report drift.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::api::*;

#[derive(Debug, Clone, Default)]
pub(super) struct FakeStack {
    pub status: String,
    pub template: String,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub termination_protection: bool,
    pub policy: Option<String>,
    pub events: Vec<StackEvent>,
    /// Describes that still report an operation in progress.
    pub(crate) busy_for: usize,
    pub last_updated: String,
}

#[derive(Default)]
pub(super) struct State {
    pub stacks: BTreeMap<String, FakeStack>,
    pub(crate) change_sets: BTreeMap<String, (String, String, BTreeMap<String, String>)>,
    pub calls: Vec<String>,
    pub(crate) clock: u64,
    pub objects: BTreeSet<(String, String)>,
    /// Drift detection id → polls answered so far.
    pub(crate) drift_polls: BTreeMap<String, usize>,
}

#[derive(Default)]
pub(super) struct FakeCloud {
    pub state: Mutex<State>,
    /// Stack name → (logical id, reason): its create fails on that resource.
    pub(crate) fail_create: BTreeMap<String, (String, String)>,
    /// Stack name → the changes its change sets report.
    pub changes: BTreeMap<String, Vec<ResourceChange>>,
    /// Stack name → how its drift detection ends (after one poll in
    /// progress); `InProgress` never ends. Unlisted stacks are in sync.
    pub drift: BTreeMap<String, DriftDetection>,
    /// DetectStackDrift is not implemented (like moto).
    pub(crate) drift_unsupported: bool,
}

impl FakeCloud {
    pub(super) fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub(super) fn count(&self, operation: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.split(' ').next() == Some(operation))
            .count()
    }

    pub(super) fn stack(&self, name: &str) -> Option<FakeStack> {
        self.state.lock().unwrap().stacks.get(name).cloned()
    }

    pub(super) fn put_stack(&self, name: &str, stack: FakeStack) {
        self.state
            .lock()
            .unwrap()
            .stacks
            .insert(name.to_string(), stack);
    }

    fn record(&self, operation: &str, target: &str) -> AwsResult<()> {
        self.state
            .lock()
            .unwrap()
            .calls
            .push(format!("{operation} {target}"));
        Ok(())
    }
}

fn tick(state: &mut State) -> String {
    state.clock += 1;
    format!(
        "2026-01-01T00:{:02}:{:02}Z",
        state.clock / 60,
        state.clock % 60
    )
}

fn event(
    state: &mut State,
    logical_id: &str,
    kind: &str,
    status: &str,
    reason: Option<&str>,
) -> StackEvent {
    let timestamp = tick(state);
    StackEvent {
        id: format!("{logical_id}-{status}-{timestamp}"),
        timestamp,
        logical_id: logical_id.into(),
        resource_type: kind.into(),
        status: status.into(),
        reason: reason.map(Into::into),
    }
}

/// Outputs of a submitted template: literal values as they are, others as
/// `fake:<stack>/<output>`.
fn outputs_of(stack: &str, template: &str) -> BTreeMap<String, String> {
    let root: serde_yaml_ng::Value = serde_yaml_ng::from_str(template).expect("templates parse");
    root.get("Outputs")
        .and_then(|o| o.as_mapping())
        .map(|outputs| {
            outputs
                .iter()
                .map(|(k, v)| {
                    let key = k.as_str().unwrap().to_string();
                    let value = match v.get("Value") {
                        Some(serde_yaml_ng::Value::String(s)) => s.clone(),
                        _ => format!("fake:{stack}/{key}"),
                    };
                    (key, value)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Stacks for FakeCloud {
    async fn describe(&self, stack_name: &str) -> AwsResult<Option<StackState>> {
        self.record("DescribeStacks", stack_name)?;
        let mut state = self.state.lock().unwrap();
        let Some(stack) = state.stacks.get_mut(stack_name) else {
            return Ok(None);
        };
        if stack.busy_for > 0 {
            stack.busy_for -= 1;
            if stack.busy_for == 0 {
                stack.status = stack.status.replace("_IN_PROGRESS", "_COMPLETE");
            }
        }
        Ok(Some(StackState {
            name: stack_name.into(),
            status: stack.status.clone(),
            status_reason: None,
            outputs: stack.outputs.clone(),
            parameters: stack.parameters.clone(),
            last_updated: Some(stack.last_updated.clone()),
            termination_protection: stack.termination_protection,
            drift: Some("NOT_CHECKED".into()),
        }))
    }

    async fn create_stack(&self, request: &StackRequest<'_>) -> AwsResult<()> {
        self.record("CreateStack", request.stack_name)?;
        let mut state = self.state.lock().unwrap();
        let mut events = vec![event(
            &mut state,
            request.stack_name,
            "AWS::CloudFormation::Stack",
            "CREATE_IN_PROGRESS",
            None,
        )];
        let status = match self.fail_create.get(request.stack_name) {
            Some((logical_id, reason)) => {
                events.push(event(
                    &mut state,
                    logical_id,
                    "AWS::Kinesis::Stream",
                    "CREATE_FAILED",
                    Some(reason),
                ));
                events.push(event(
                    &mut state,
                    "Other",
                    "AWS::SNS::Topic",
                    "CREATE_FAILED",
                    Some("Resource creation cancelled"),
                ));
                events.push(event(
                    &mut state,
                    request.stack_name,
                    "AWS::CloudFormation::Stack",
                    "ROLLBACK_COMPLETE",
                    None,
                ));
                "ROLLBACK_COMPLETE"
            }
            None => {
                events.push(event(
                    &mut state,
                    request.stack_name,
                    "AWS::CloudFormation::Stack",
                    "CREATE_COMPLETE",
                    None,
                ));
                "CREATE_COMPLETE"
            }
        };
        events.reverse();
        let last_updated = tick(&mut state);
        state.stacks.insert(
            request.stack_name.into(),
            FakeStack {
                status: status.into(),
                template: request.template_body.into(),
                parameters: request.parameters.clone(),
                outputs: if status == "CREATE_COMPLETE" {
                    outputs_of(request.stack_name, request.template_body)
                } else {
                    BTreeMap::new()
                },
                termination_protection: request.policy.is_some(),
                policy: request.policy.map(Into::into),
                events,
                busy_for: 0,
                last_updated,
            },
        );
        Ok(())
    }

    async fn create_change_set(
        &self,
        request: &StackRequest<'_>,
        change_set_name: &str,
    ) -> AwsResult<Option<String>> {
        self.record("CreateChangeSet", request.stack_name)?;
        let mut state = self.state.lock().unwrap();
        let current = state
            .stacks
            .get(request.stack_name)
            .expect("change sets are for existing stacks");
        if current.template == request.template_body && current.parameters == *request.parameters {
            return Ok(None);
        }
        let id = format!("arn:change-set/{}/{change_set_name}", request.stack_name);
        state.change_sets.insert(
            id.clone(),
            (
                request.stack_name.into(),
                request.template_body.into(),
                request.parameters.clone(),
            ),
        );
        Ok(Some(id))
    }

    async fn change_set(
        &self,
        stack_name: &str,
        change_set_id: &str,
    ) -> AwsResult<ChangeSetOutcome> {
        self.record("DescribeChangeSet", stack_name)?;
        if !self
            .state
            .lock()
            .unwrap()
            .change_sets
            .contains_key(change_set_id)
        {
            return Ok(ChangeSetOutcome::Failed(format!(
                "ChangeSet {change_set_id} does not exist"
            )));
        }
        let changes = self.changes.get(stack_name).cloned().unwrap_or_else(|| {
            vec![ResourceChange {
                action: "Modify".into(),
                logical_id: "Something".into(),
                resource_type: "AWS::SNS::Topic".into(),
                replacement: Some("False".into()),
                recreating_properties: Vec::new(),
            }]
        });
        Ok(ChangeSetOutcome::Ready(changes))
    }

    async fn execute_change_set(&self, stack_name: &str, change_set_id: &str) -> AwsResult<()> {
        self.record("ExecuteChangeSet", stack_name)?;
        let mut state = self.state.lock().unwrap();
        let (_, template, parameters) = state
            .change_sets
            .remove(change_set_id)
            .expect("executed change sets exist");
        let first = event(
            &mut state,
            stack_name,
            "AWS::CloudFormation::Stack",
            "UPDATE_IN_PROGRESS",
            None,
        );
        let last = event(
            &mut state,
            stack_name,
            "AWS::CloudFormation::Stack",
            "UPDATE_COMPLETE",
            None,
        );
        let last_updated = tick(&mut state);
        let stack = state.stacks.get_mut(stack_name).unwrap();
        stack.outputs = outputs_of(stack_name, &template);
        stack.template = template;
        stack.parameters = parameters;
        stack.status = "UPDATE_COMPLETE".into();
        stack.events.insert(0, first);
        stack.events.insert(0, last);
        stack.last_updated = last_updated;
        Ok(())
    }

    async fn delete_change_set(&self, stack_name: &str, change_set_id: &str) -> AwsResult<()> {
        self.record("DeleteChangeSet", stack_name)?;
        self.state.lock().unwrap().change_sets.remove(change_set_id);
        Ok(())
    }

    async fn events(&self, stack_name: &str) -> AwsResult<Vec<StackEvent>> {
        self.record("DescribeStackEvents", stack_name)?;
        Ok(self
            .state
            .lock()
            .unwrap()
            .stacks
            .get(stack_name)
            .map(|s| s.events.clone())
            .unwrap_or_default())
    }

    async fn delete_stack(&self, stack_name: &str) -> AwsResult<()> {
        self.record("DeleteStack", stack_name)?;
        let mut state = self.state.lock().unwrap();
        if state
            .stacks
            .get(stack_name)
            .is_some_and(|s| s.termination_protection)
        {
            return Err(AwsError::new(
                "DeleteStack",
                AwsErrorKind::Invalid,
                "termination protection is enabled",
            ));
        }
        state.stacks.remove(stack_name);
        Ok(())
    }

    async fn set_termination_protection(&self, stack_name: &str, enabled: bool) -> AwsResult<()> {
        self.record("UpdateTerminationProtection", stack_name)?;
        if let Some(stack) = self.state.lock().unwrap().stacks.get_mut(stack_name) {
            stack.termination_protection = enabled;
        }
        Ok(())
    }

    async fn set_stack_policy(&self, stack_name: &str, policy: &str) -> AwsResult<()> {
        self.record("SetStackPolicy", stack_name)?;
        if let Some(stack) = self.state.lock().unwrap().stacks.get_mut(stack_name) {
            stack.policy = Some(policy.into());
        }
        Ok(())
    }

    async fn continue_update_rollback(&self, stack_name: &str) -> AwsResult<()> {
        self.record("ContinueUpdateRollback", stack_name)?;
        if let Some(stack) = self.state.lock().unwrap().stacks.get_mut(stack_name) {
            stack.status = "UPDATE_ROLLBACK_COMPLETE".into();
        }
        Ok(())
    }

    async fn detect_drift(&self, stack_name: &str) -> AwsResult<String> {
        self.record("DetectStackDrift", stack_name)?;
        if self.drift_unsupported {
            return Err(AwsError::new(
                "cloudformation:DetectStackDrift",
                AwsErrorKind::Unsupported,
                "the endpoint does not implement cloudformation:DetectStackDrift",
            ));
        }
        let id = format!("drift/{stack_name}");
        self.state.lock().unwrap().drift_polls.insert(id.clone(), 0);
        Ok(id)
    }

    async fn drift_detection(&self, detection_id: &str) -> AwsResult<DriftDetection> {
        let stack = detection_id.trim_start_matches("drift/");
        self.record("DescribeStackDriftDetectionStatus", stack)?;
        let mut state = self.state.lock().unwrap();
        let polls = state.drift_polls.get_mut(detection_id).ok_or_else(|| {
            AwsError::new(
                "cloudformation:DescribeStackDriftDetectionStatus",
                AwsErrorKind::NotFound,
                format!("no drift detection {detection_id}"),
            )
        })?;
        *polls += 1;
        if *polls == 1 {
            return Ok(DriftDetection::InProgress);
        }
        Ok(self
            .drift
            .get(stack)
            .cloned()
            .unwrap_or(DriftDetection::Complete {
                status: "IN_SYNC".into(),
                drifted_resources: 0,
            }))
    }
}

impl ObjectStore for FakeCloud {
    async fn exists(&self, bucket: &str, key: &str) -> AwsResult<bool> {
        self.record("HeadObject", key)?;
        Ok(self
            .state
            .lock()
            .unwrap()
            .objects
            .contains(&(bucket.to_string(), key.to_string())))
    }

    async fn get(&self, bucket: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
        self.record("GetObject", key)?;
        let found = self
            .state
            .lock()
            .unwrap()
            .objects
            .contains(&(bucket.to_string(), key.to_string()));
        Ok(found.then(Vec::new))
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        _body: Vec<u8>,
        _content_type: &str,
    ) -> AwsResult<()> {
        self.record("PutObject", key)?;
        self.state
            .lock()
            .unwrap()
            .objects
            .insert((bucket.to_string(), key.to_string()));
        Ok(())
    }

    async fn empty(&self, bucket: &str) -> AwsResult<usize> {
        self.record("EmptyBucket", bucket)?;
        let mut state = self.state.lock().unwrap();
        let before = state.objects.len();
        state.objects.retain(|(b, _)| b != bucket);
        Ok(before - state.objects.len())
    }
}
