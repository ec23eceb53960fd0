//! `destroy`: deletes the env's stacks in reverse wave order, emptying the
//! artifacts and archive buckets first when the stack owns them (a bucket
//! cannot be deleted with objects in it) and the env does not retain data.
//! Protected stacks stay unless forced.

use super::api::{ObjectStore, Stacks};
use super::engine::{
    in_stack_order, result, wave_stacks, DeployError, DeployReport, Engine, StackOutcome, Target,
};
use pricewatch_core::render::RenderedStack;

impl<S: Stacks, O: ObjectStore> Engine<'_, S, O> {
    /// `force` lifts termination protection first.
    pub async fn destroy(&self, target: &Target<'_>, force: bool) -> DeployReport {
        let mut results = Vec::new();
        let mut failed = false;
        for wave in target.bundle.waves.iter().rev() {
            let stacks = wave_stacks(target.bundle, wave);
            if failed {
                results.extend(stacks.iter().map(|s| {
                    result(
                        s,
                        StackOutcome::NotStarted,
                        0.0,
                        Some("a later stack could not be deleted".into()),
                    )
                }));
                continue;
            }
            let finished = self
                .in_parallel(&stacks, |stack| self.destroy_stack(target, stack, force))
                .await;
            for (stack, outcome, seconds) in finished {
                failed |= self.record(&mut results, stack, outcome, seconds);
            }
        }
        DeployReport {
            env: target.env.name.clone(),
            stacks: in_stack_order(target.bundle, results),
        }
    }

    async fn destroy_stack(
        &self,
        target: &Target<'_>,
        stack: &RenderedStack,
        force: bool,
    ) -> Result<StackOutcome, DeployError> {
        let env = &target.env.name;
        let Some(state) = self.stacks.describe(&stack.stack_name).await? else {
            return Ok(StackOutcome::Unchanged);
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
            let names = target.env.names();
            for bucket in [names.artifacts_bucket, names.archive_bucket] {
                let removed = self.objects.empty(&bucket).await?;
                self.reporter.info(&format!(
                    "{}: emptied s3://{bucket} ({removed} object versions)",
                    stack.name
                ));
            }
        }
        self.reporter
            .info(&format!("{}: deleting {}", stack.name, stack.stack_name));
        self.delete_and_wait(stack, env).await?;
        Ok(StackOutcome::Deleted)
    }
}
