//! `plan`: what a deploy would do to each stack — create, update (with the
//! change set's per-resource summary and replacements flagged) or nothing —
//! decided without a change set when the fingerprint matches. A plan file
//! keeps the change sets so `deploy --plan` applies exactly them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::{ObjectStore, ResourceChange, Stacks};
use super::engine::{DeployError, Engine, Outputs, Target};
use super::rules::{self, Condition};
use pricewatch_core::hash::sha256_hex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackAction {
    Create,
    Update,
    Unchanged,
    /// Cannot be planned now (stuck, busy, or waiting on a stack that does not exist yet).
    Blocked,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedStack {
    pub name: String,
    pub stack_name: String,
    pub action: StackAction,
    pub(crate) template_sha256: String,
    pub(crate) deployed_fingerprint: Option<String>,
    pub last_updated: Option<String>,
    /// Kept only with `plan --out`, for `deploy --plan`.
    pub change_set_id: Option<String>,
    pub changes: Vec<ResourceChange>,
    /// Stateful resources the change would replace or delete (refused by deploy).
    pub refusals: Vec<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanFile {
    pub env: String,
    pub account_id: String,
    pub region: String,
    pub stacks: Vec<PlannedStack>,
}

impl PlanFile {
    pub fn has_changes(&self) -> bool {
        self.stacks
            .iter()
            .any(|s| matches!(s.action, StackAction::Create | StackAction::Update))
    }

    pub fn has_blocked(&self) -> bool {
        self.stacks
            .iter()
            .any(|s| s.action == StackAction::Blocked || !s.refusals.is_empty())
    }
}

impl<S: Stacks, O: ObjectStore> Engine<'_, S, O> {
    /// Plans every stack in deploy order. `keep` keeps the change sets.
    pub async fn plan(&self, target: &Target<'_>, keep: bool) -> Result<PlanFile, DeployError> {
        let mut outputs: Outputs = BTreeMap::new();
        let mut planned = Vec::new();
        for stack in &target.bundle.stacks {
            let template_sha256 = sha256_hex(stack.template.as_bytes());
            let mut entry = PlannedStack {
                name: stack.name.clone(),
                stack_name: stack.stack_name.clone(),
                action: StackAction::Blocked,
                template_sha256,
                deployed_fingerprint: None,
                last_updated: None,
                change_set_id: None,
                changes: Vec::new(),
                refusals: Vec::new(),
                note: None,
            };
            let state = self.stacks.describe(&stack.stack_name).await?;
            let condition = state
                .as_ref()
                .map_or(Condition::Missing, |s| rules::condition(&s.status));
            if let Some(state) = &state {
                entry.deployed_fingerprint = state.outputs.get(rules::FINGERPRINT_OUTPUT).cloned();
                entry.last_updated = state.last_updated.clone();
                outputs.insert(stack.name.clone(), state.outputs.clone());
            }
            match condition {
                Condition::Missing => {
                    entry.action = StackAction::Create;
                    entry.changes = stack
                        .info
                        .resources
                        .iter()
                        .map(|(id, kind)| ResourceChange {
                            action: "Add".into(),
                            logical_id: id.clone(),
                            resource_type: kind.clone(),
                            replacement: None,
                            recreating_properties: Vec::new(),
                        })
                        .collect();
                }
                Condition::Ready => match self.resolve(target, stack, &outputs) {
                    Ok(resolved)
                        if entry.deployed_fingerprint.as_deref()
                            == Some(resolved.fingerprint.as_str()) =>
                    {
                        entry.action = StackAction::Unchanged;
                    }
                    Ok(resolved) => {
                        let Some(id) = self.create_change_set(stack, &resolved).await? else {
                            entry.action = StackAction::Unchanged;
                            planned.push(entry);
                            continue;
                        };
                        match self.wait_for_change_set(stack, &id).await? {
                            Some(changes) => {
                                entry.action = StackAction::Update;
                                entry.refusals =
                                    rules::dangerous_changes(&changes, &self.options.allow_replace)
                                        .into_iter()
                                        .map(|r| {
                                            format!(
                                                "would {} {} ({}): {}",
                                                r.what, r.logical_id, r.resource_type, r.why
                                            )
                                        })
                                        .collect();
                                entry.changes = changes;
                                if keep {
                                    entry.change_set_id = Some(id);
                                } else {
                                    self.stacks
                                        .delete_change_set(&stack.stack_name, &id)
                                        .await?;
                                }
                            }
                            None => {
                                self.stacks
                                    .delete_change_set(&stack.stack_name, &id)
                                    .await?;
                                entry.action = StackAction::Unchanged;
                            }
                        }
                    }
                    Err(DeployError::MissingOutput { from, .. }) => {
                        entry.note = Some(format!(
                            "depends on stack {from}, which is not deployed yet"
                        ));
                    }
                    Err(e) => return Err(e),
                },
                other => {
                    let status = state.as_ref().map(|s| s.status.clone()).unwrap_or_default();
                    let command =
                        rules::recovery_command(other, &target.env.name).unwrap_or_default();
                    entry.note = Some(format!("stack is {status}; {command}"));
                }
            }
            planned.push(entry);
        }
        Ok(PlanFile {
            env: target.env.name.clone(),
            account_id: target.env.settings.account_id.clone(),
            region: target.env.settings.region.clone(),
            stacks: planned,
        })
    }
}
