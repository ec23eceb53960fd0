//! `status`: each stack's state, last update, drift, last failure and the
//! command that gets it unstuck.

use serde::Serialize;

use super::api::{ObjectStore, Stacks};
use super::engine::{DeployError, Engine, Target};
use super::rules::{self, Condition};

#[derive(Debug, Clone, Serialize)]
pub struct StackStatus {
    pub stack: String,
    pub stack_name: String,
    /// CloudFormation status, or `NOT_DEPLOYED`.
    pub status: String,
    pub last_updated: Option<String>,
    pub drift: Option<String>,
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

impl StatusReport {
    /// Healthy when every stack is deployed and stable.
    pub fn healthy(&self) -> bool {
        self.stacks.iter().all(|s| s.next.is_none())
    }
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
                    termination_protection: false,
                    failure: None,
                    next: Some(format!("pricewatch deploy --env {env}")),
                },
                Some(state) => {
                    let condition = rules::condition(&state.status);
                    let failed =
                        state.status.contains("ROLLBACK") || state.status.ends_with("_FAILED");
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
                    };
                    StackStatus {
                        stack: stack.name.clone(),
                        stack_name: stack.stack_name.clone(),
                        status: state.status,
                        last_updated: state.last_updated,
                        drift: state.drift,
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
