//! `status`: each stack's state, last update, drift, last failure and the
//! command that gets it unstuck; with `--detect-drift`, a fresh drift
//! detection of every deployed stack, waited for within the deadline.

use std::collections::BTreeMap;

use serde::Serialize;

use super::api::{AwsErrorKind, DriftDetection, ObjectStore, Stacks};
use super::engine::{DeployError, Engine, Target};
use super::rules::{self, Condition};

#[derive(Debug, Clone, Serialize)]
pub struct StackStatus {
    pub stack: String,
    pub stack_name: String,
    /// CloudFormation status, or `NOT_DEPLOYED`.
    pub status: String,
    pub last_updated: Option<String>,
    /// `IN_SYNC`, `DRIFTED`, `NOT_CHECKED` (CloudFormation's last detection),
    /// or after `--detect-drift` one of [`DRIFT_PROBLEMS`].
    pub drift: Option<String>,
    /// How many resources differ from the template (after a detection).
    pub drifted_resources: Option<u32>,
    /// Why drift is unknown, when a detection could not tell.
    pub drift_note: Option<String>,
    pub termination_protection: bool,
    /// Why the last operation failed, when it did.
    pub failure: Option<String>,
    /// What to run when the stack is stuck or missing.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub env: String,
    pub stacks: Vec<StackStatus>,
}

/// Drift states that need a person: the stack differs from its template,
/// or a requested detection could not say whether it does.
pub(super) const DRIFT_PROBLEMS: [&str; 4] = [
    "DRIFTED",
    "DETECTION_UNAVAILABLE",
    "DETECTION_FAILED",
    "DETECTION_TIMED_OUT",
];

impl StatusReport {
    /// Healthy when every stack is deployed, stable and not known to drift.
    pub fn healthy(&self) -> bool {
        self.stacks.iter().all(|s| {
            s.next.is_none()
                && !s
                    .drift
                    .as_deref()
                    .is_some_and(|d| DRIFT_PROBLEMS.contains(&d))
        })
    }
}

/// What to run about a drifted stack (nothing undoes drift by itself: an
/// unchanged template deploys nothing).
fn drift_next(stack_name: &str) -> String {
    format!(
        "see what changed: aws cloudformation describe-stack-resource-drifts --stack-name {stack_name} \
         --stack-resource-drift-status-filters MODIFIED DELETED; undo the change by hand or put it in the template and deploy"
    )
}

impl<S: Stacks, O: ObjectStore> Engine<'_, S, O> {
    pub async fn status(&self, target: &Target<'_>) -> Result<StatusReport, DeployError> {
        let env = &target.env.name;
        let mut stacks = Vec::new();
        for stack in &target.bundle.stacks {
            let state = self.stacks.describe(&stack.stack_name).await?;
            let entry = match state {
                None => StackStatus {
                    stack: stack.name.clone(),
                    stack_name: stack.stack_name.clone(),
                    status: "NOT_DEPLOYED".into(),
                    last_updated: None,
                    drift: None,
                    drifted_resources: None,
                    drift_note: None,
                    termination_protection: false,
                    failure: None,
                    next: Some(format!("pricewatch deploy --env {env}")),
                },
                Some(state) => {
                    let condition = rules::condition(&state.status);
                    let failed = rules::is_failure(&state.status);
                    let failure = if failed {
                        let events = self.stacks.events(&stack.stack_name).await?;
                        let causes = rules::root_causes(&events, "");
                        let described: Vec<String> = causes
                            .iter()
                            .map(|e| {
                                format!(
                                    "{} {}: {}",
                                    e.logical_id,
                                    e.status,
                                    e.reason.as_deref().unwrap_or("no reason given")
                                )
                            })
                            .collect();
                        Some(if described.is_empty() {
                            state
                                .status_reason
                                .clone()
                                .unwrap_or_else(|| state.status.clone())
                        } else {
                            described.join("; ")
                        })
                    } else {
                        None
                    };
                    let next = match condition {
                        Condition::Missing => Some(format!("pricewatch deploy --env {env}")),
                        other => rules::recovery_command(other, env),
                    }
                    .or_else(|| {
                        (state.drift.as_deref() == Some("DRIFTED"))
                            .then(|| drift_next(&stack.stack_name))
                    });
                    StackStatus {
                        stack: stack.name.clone(),
                        stack_name: stack.stack_name.clone(),
                        status: state.status,
                        last_updated: state.last_updated,
                        drift: state.drift,
                        drifted_resources: None,
                        drift_note: None,
                        termination_protection: state.termination_protection,
                        failure,
                        next,
                    }
                }
            };
            stacks.push(entry);
        }
        Ok(StatusReport {
            env: env.clone(),
            stacks,
        })
    }
}

impl<S: Stacks, O: ObjectStore> Engine<'_, S, O> {
    /// Starts a drift detection on every deployed, settled stack of the
    /// report, then follows them all until each finishes or the polling
    /// deadline passes, and writes the results into the report. An endpoint
    /// without drift detection (moto) marks the stacks
    /// `DETECTION_UNAVAILABLE` and says why; other AWS errors are errors.
    pub async fn detect_drift(&self, report: &mut StatusReport) -> Result<(), DeployError> {
        let mut running: BTreeMap<usize, String> = BTreeMap::new();
        let mut unsupported: Option<String> = None;
        for (i, stack) in report.stacks.iter_mut().enumerate() {
            if !rules::drift_detectable(&stack.status) {
                if stack.status != "NOT_DEPLOYED" {
                    stack.drift_note = Some(format!("not checked: the stack is {}", stack.status));
                }
                continue;
            }
            if let Some(why) = &unsupported {
                stack.drift = Some("DETECTION_UNAVAILABLE".into());
                stack.drift_note = Some(why.clone());
                continue;
            }
            match self.stacks.detect_drift(&stack.stack_name).await {
                Ok(id) => {
                    running.insert(i, id);
                }
                Err(e) if e.kind == AwsErrorKind::Unsupported => {
                    let why = format!(
                        "this endpoint does not implement {} (moto lacks drift detection; AWS has it)",
                        e.operation
                    );
                    stack.drift = Some("DETECTION_UNAVAILABLE".into());
                    stack.drift_note = Some(why.clone());
                    unsupported = Some(why);
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !running.is_empty() {
            self.reporter.info(&format!(
                "drift detection started on {} stack(s)",
                running.len()
            ));
        }
        let mut poller = self.options.polling.start();
        while !running.is_empty() {
            let mut finished = Vec::new();
            for (&i, id) in &running {
                let stack = &mut report.stacks[i];
                match self.stacks.drift_detection(id).await? {
                    DriftDetection::InProgress => continue,
                    DriftDetection::Complete {
                        status,
                        drifted_resources,
                    } => {
                        if status == "DRIFTED" && stack.next.is_none() {
                            stack.next = Some(drift_next(&stack.stack_name));
                        }
                        stack.drift = Some(status);
                        stack.drifted_resources = Some(drifted_resources);
                    }
                    DriftDetection::Failed(reason) => {
                        stack.drift = Some("DETECTION_FAILED".into());
                        stack.drift_note = Some(reason);
                    }
                }
                finished.push(i);
            }
            for i in finished {
                running.remove(&i);
            }
            if !running.is_empty() && !poller.next().await {
                break;
            }
        }
        let waited = poller.waited().as_secs();
        for i in running.into_keys() {
            let stack = &mut report.stacks[i];
            stack.drift = Some("DETECTION_TIMED_OUT".into());
            stack.drift_note = Some(format!(
                "the detection did not finish within {waited} s; it keeps going in AWS: run `pricewatch status --env {}` later",
                report.env
            ));
        }
        Ok(())
    }
}
