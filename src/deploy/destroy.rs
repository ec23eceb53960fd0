//! `destroy`: deletes the env's stacks in reverse wave order, emptying the
//! artifacts bucket first when the stack owns it (it cannot be deleted with
//! objects in it). Protected stacks stay unless forced.

use futures::stream::{self, StreamExt};

use super::api::{ObjectStore, Stacks};
use super::engine::{result, DeployError, DeployReport, Engine, Outcome, Target};
use crate::render::RenderedStack;

impl<S: Stacks, O: ObjectStore> Engine<'_, S, O> {
    /// `force` lifts termination protection first.
    pub async fn destroy(&self, target: &Target<'_>, force: bool) -> DeployReport {
        let mut results = Vec::new();
        let mut failed = false;
        for wave in target.bundle.waves.iter().rev() {
            let stacks: Vec<&RenderedStack> = wave
                .iter()
                .map(|name| {
                    target
                        .bundle
                        .stacks
                        .iter()
                        .find(|s| &s.name == name)
                        .expect("waves name rendered stacks")
                })
                .collect();
            if failed {
                results.extend(stacks.iter().map(|s| {
                    result(
                        s,
                        Outcome::NotStarted,
                        0.0,
                        Some("a later stack could not be deleted".into()),
                    )
                }));
                continue;
            }
            let runs = stacks.iter().map(|stack| async move {
                let started = std::time::Instant::now();
                let outcome = self.destroy_stack(target, stack, force).await;
                (*stack, outcome, started.elapsed().as_secs_f64())
            });
            let finished: Vec<_> = stream::iter(runs)
                .buffer_unordered(self.options.parallelism.max(1))
                .collect()
                .await;
            for (stack, outcome, seconds) in finished {
                match outcome {
                    Ok(outcome) => {
                        self.reporter.info(&format!(
                            "{}: {}",
                            stack.name,
                            super::engine::outcome_text(outcome)
                        ));
                        results.push(result(stack, outcome, seconds, None));
                    }
                    Err(e) => {
                        failed = true;
                        self.reporter.warn(&format!("{}: {e}", stack.name));
                        results.push(result(stack, Outcome::Failed, seconds, Some(e.to_string())));
                    }
                }
            }
        }
        let order: Vec<&String> = target.bundle.stacks.iter().map(|s| &s.name).collect();
        results.sort_by_key(|r| order.iter().position(|n| **n == r.stack));
        DeployReport {
            env: target.env.name.clone(),
            stacks: results,
        }
    }

    async fn destroy_stack(
        &self,
        target: &Target<'_>,
        stack: &RenderedStack,
        force: bool,
    ) -> Result<Outcome, DeployError> {
        let env = &target.env.name;
        let Some(state) = self.stacks.describe(&stack.stack_name).await? else {
            return Ok(Outcome::Unchanged);
        };
        if state.termination_protection {
            if !force {
                return Err(DeployError::Stuck {
                    stack: stack.stack_name.clone(),
                    status: state.status,
                    why: "termination protection is on".into(),
                    command: format!("pricewatch destroy --env {env} --yes --i-mean-prod --force"),
                });
            }
            self.stacks
                .set_termination_protection(&stack.stack_name, false)
                .await?;
        }
        let owns_bucket = stack
            .info
            .resources
            .values()
            .any(|kind| kind == "AWS::S3::Bucket");
        if owns_bucket && !target.env.settings.deploy.retain_data {
            let bucket = target.env.names().artifacts_bucket;
            let removed = self.objects.empty(&bucket).await?;
            self.reporter.info(&format!(
                "{}: emptied s3://{bucket} ({removed} object versions)",
                stack.name
            ));
        }
        self.reporter
            .info(&format!("{}: deleting {}", stack.name, stack.stack_name));
        self.delete_and_wait(stack, env).await?;
        Ok(Outcome::Deleted)
    }
}
