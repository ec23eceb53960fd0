//! CloudFormation behind the [`Stacks`] trait; every call waits for the
//! shared rate limiter first.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, StackDriftDetectionStatus, Tag,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::{classify, RateLimiter};
use pricewatch_core::cloud::stacks::{
    AwsError, AwsErrorKind, AwsResult, ChangeSetOutcome, DriftDetection, ResourceChange,
    StackEvent, StackRequest, StackState, Stacks,
};

pub struct CfnStacks {
    client: aws_sdk_cloudformation::Client,
    limiter: Arc<RateLimiter>,
    /// Stack name → the service role DescribeStacks last reported for it.
    roles: Mutex<BTreeMap<String, Option<String>>>,
}

impl CfnStacks {
    pub fn new(client: aws_sdk_cloudformation::Client, limiter: Arc<RateLimiter>) -> CfnStacks {
        CfnStacks {
            client,
            limiter,
            roles: Mutex::new(BTreeMap::new()),
        }
    }

    /// The role a change set must name: none when the stack already acts
    /// with the requested role. CloudFormation then uses the stack's role,
    /// and the caller needs no `iam:PassRole` - so the CI plan role, which
    /// may not pass roles, can still prepare change sets.
    async fn role_to_pass(&self, request: &StackRequest<'_>) -> AwsResult<Option<String>> {
        let Some(wanted) = request.role_arn else {
            return Ok(None);
        };
        let cached = self.roles.lock().unwrap().get(request.stack_name).cloned();
        let associated = match cached {
            Some(role) => role,
            None => self
                .describe(request.stack_name)
                .await?
                .and_then(|_| self.roles.lock().unwrap().get(request.stack_name).cloned())
                .flatten(),
        };
        Ok(role_change(associated.as_deref(), wanted))
    }
}

/// `Some(wanted)` unless the stack is already associated with it.
fn role_change(associated: Option<&str>, wanted: &str) -> Option<String> {
    (associated != Some(wanted)).then(|| wanted.to_string())
}

fn timestamp(time: Option<&DateTime>) -> Option<String> {
    time.and_then(|t| t.fmt(Format::DateTime).ok())
}

fn inputs(request: &StackRequest<'_>) -> (Vec<Parameter>, Vec<Tag>) {
    let parameters = request
        .parameters
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect();
    let tags = request
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    (parameters, tags)
}

/// How CloudFormation says a change set would change nothing: as the reason
/// of a FAILED change set, or (moto) as the error of CreateChangeSet itself.
fn is_nothing_to_change(message: &str) -> bool {
    message.contains("didn't contain changes") || message.contains("No updates are to be performed")
}

/// Like [`classify`], and names an endpoint that does not implement the
/// call: real CloudFormation always answers with an error code, moto
/// answers an operation it lacks with a bare HTTP 500 (or 404/501).
fn classify_or_unsupported<E>(operation: &str, error: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let unrouted = error.code().is_none()
        && error
            .raw_response()
            .is_some_and(|r| matches!(r.status().as_u16(), 404 | 500 | 501));
    if unrouted {
        return AwsError::new(
            operation,
            AwsErrorKind::Unsupported,
            format!("the endpoint does not implement {operation}"),
        );
    }
    classify(operation, error)
}

/// CloudFormation answers a describe of a missing stack with a ValidationError.
fn is_missing_stack(message: &str) -> bool {
    message.contains("does not exist")
}

impl Stacks for CfnStacks {
    async fn describe(&self, stack_name: &str) -> AwsResult<Option<StackState>> {
        self.limiter.acquire().await;
        let output = match self
            .client
            .describe_stacks()
            .stack_name(stack_name)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                let error = classify("cloudformation:DescribeStacks", e);
                if is_missing_stack(&error.message) {
                    return Ok(None);
                }
                return Err(error);
            }
        };
        let Some(stack) = output.stacks().first() else {
            return Ok(None);
        };
        self.roles
            .lock()
            .unwrap()
            .insert(stack_name.to_string(), stack.role_arn().map(str::to_string));
        let pairs = |items: Vec<(Option<&str>, Option<&str>)>| -> BTreeMap<String, String> {
            items
                .into_iter()
                .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
                .collect()
        };
        Ok(Some(StackState {
            name: stack.stack_name().unwrap_or(stack_name).to_string(),
            status: stack
                .stack_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            status_reason: stack.stack_status_reason().map(str::to_string),
            outputs: pairs(
                stack
                    .outputs()
                    .iter()
                    .map(|o| (o.output_key(), o.output_value()))
                    .collect(),
            ),
            parameters: pairs(
                stack
                    .parameters()
                    .iter()
                    .map(|p| (p.parameter_key(), p.parameter_value()))
                    .collect(),
            ),
            last_updated: timestamp(stack.last_updated_time().or(stack.creation_time())),
            termination_protection: stack.enable_termination_protection().unwrap_or(false),
            drift: stack
                .drift_information()
                .and_then(|d| d.stack_drift_status())
                .map(|s| s.as_str().to_string()),
        }))
    }

    async fn create_stack(&self, request: &StackRequest<'_>) -> AwsResult<()> {
        self.limiter.acquire().await;
        let (parameters, tags) = inputs(request);
        self.client
            .create_stack()
            .stack_name(request.stack_name)
            .template_body(request.template_body)
            .set_parameters(Some(parameters))
            .set_tags(Some(tags))
            .capabilities(Capability::CapabilityNamedIam)
            .set_stack_policy_body(request.policy.map(str::to_string))
            .enable_termination_protection(request.policy.is_some())
            .set_role_arn(request.role_arn.map(str::to_string))
            .send()
            .await
            .map_err(|e| classify("cloudformation:CreateStack", e))?;
        Ok(())
    }

    async fn create_change_set(
        &self,
        request: &StackRequest<'_>,
        change_set_name: &str,
    ) -> AwsResult<Option<String>> {
        let role = self.role_to_pass(request).await?;
        self.limiter.acquire().await;
        let (parameters, tags) = inputs(request);
        let result = self
            .client
            .create_change_set()
            .stack_name(request.stack_name)
            .change_set_name(change_set_name)
            .change_set_type(ChangeSetType::Update)
            .set_role_arn(role)
            .template_body(request.template_body)
            .set_parameters(Some(parameters))
            .set_tags(Some(tags))
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output.id().unwrap_or(change_set_name).to_string())),
            Err(e) => {
                let error = classify("cloudformation:CreateChangeSet", e);
                if is_nothing_to_change(&error.message) {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn change_set(
        &self,
        stack_name: &str,
        change_set_id: &str,
    ) -> AwsResult<ChangeSetOutcome> {
        let mut changes = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            self.limiter.acquire().await;
            let output = self
                .client
                .describe_change_set()
                .stack_name(stack_name)
                .change_set_name(change_set_id)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| classify("cloudformation:DescribeChangeSet", e))?;
            match output.status() {
                Some(ChangeSetStatus::CreateComplete) => {}
                Some(ChangeSetStatus::Failed) => {
                    let reason = output
                        .status_reason()
                        .unwrap_or("no reason given")
                        .to_string();
                    return Ok(if is_nothing_to_change(&reason) {
                        ChangeSetOutcome::Empty
                    } else {
                        ChangeSetOutcome::Failed(reason)
                    });
                }
                _ => return Ok(ChangeSetOutcome::Pending),
            }
            for change in output.changes() {
                let Some(rc) = change.resource_change() else {
                    continue;
                };
                let recreating_properties = rc
                    .details()
                    .iter()
                    .filter_map(|d| d.target())
                    .filter(|t| {
                        t.requires_recreation()
                            .is_some_and(|r| r.as_str() != "Never")
                    })
                    .filter_map(|t| t.name().map(str::to_string))
                    .collect();
                changes.push(ResourceChange {
                    action: rc
                        .action()
                        .map(|a| a.as_str().to_string())
                        .unwrap_or_default(),
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: rc.resource_type().unwrap_or_default().to_string(),
                    replacement: rc.replacement().map(|r| r.as_str().to_string()),
                    recreating_properties,
                });
            }
            match output.next_token() {
                Some(token) => next_token = Some(token.to_string()),
                None => return Ok(ChangeSetOutcome::Ready(changes)),
            }
        }
    }

    async fn execute_change_set(&self, stack_name: &str, change_set_id: &str) -> AwsResult<()> {
        self.limiter.acquire().await;
        self.client
            .execute_change_set()
            .stack_name(stack_name)
            .change_set_name(change_set_id)
            .send()
            .await
            .map_err(|e| classify("cloudformation:ExecuteChangeSet", e))?;
        Ok(())
    }

    async fn delete_change_set(&self, stack_name: &str, change_set_id: &str) -> AwsResult<()> {
        self.limiter.acquire().await;
        self.client
            .delete_change_set()
            .stack_name(stack_name)
            .change_set_name(change_set_id)
            .send()
            .await
            .map_err(|e| classify("cloudformation:DeleteChangeSet", e))?;
        Ok(())
    }

    async fn events(&self, stack_name: &str) -> AwsResult<Vec<StackEvent>> {
        self.limiter.acquire().await;
        let output = match self
            .client
            .describe_stack_events()
            .stack_name(stack_name)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                let error = classify("cloudformation:DescribeStackEvents", e);
                if is_missing_stack(&error.message) {
                    return Ok(Vec::new());
                }
                return Err(error);
            }
        };
        Ok(output
            .stack_events()
            .iter()
            .map(|e| StackEvent {
                id: e.event_id().unwrap_or_default().to_string(),
                timestamp: timestamp(e.timestamp()).unwrap_or_default(),
                logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: e.resource_type().unwrap_or_default().to_string(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_string),
            })
            .collect())
    }

    async fn delete_stack(&self, stack_name: &str) -> AwsResult<()> {
        self.limiter.acquire().await;
        self.client
            .delete_stack()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| classify("cloudformation:DeleteStack", e))?;
        Ok(())
    }

    async fn set_termination_protection(&self, stack_name: &str, enabled: bool) -> AwsResult<()> {
        self.limiter.acquire().await;
        self.client
            .update_termination_protection()
            .stack_name(stack_name)
            .enable_termination_protection(enabled)
            .send()
            .await
            .map_err(|e| classify("cloudformation:UpdateTerminationProtection", e))?;
        Ok(())
    }

    async fn set_stack_policy(&self, stack_name: &str, policy: &str) -> AwsResult<()> {
        self.limiter.acquire().await;
        self.client
            .set_stack_policy()
            .stack_name(stack_name)
            .stack_policy_body(policy)
            .send()
            .await
            .map_err(|e| classify("cloudformation:SetStackPolicy", e))?;
        Ok(())
    }

    async fn continue_update_rollback(&self, stack_name: &str) -> AwsResult<()> {
        self.limiter.acquire().await;
        self.client
            .continue_update_rollback()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| classify("cloudformation:ContinueUpdateRollback", e))?;
        Ok(())
    }
    async fn detect_drift(&self, stack_name: &str) -> AwsResult<String> {
        self.limiter.acquire().await;
        let output = self
            .client
            .detect_stack_drift()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| classify_or_unsupported("cloudformation:DetectStackDrift", e))?;
        output
            .stack_drift_detection_id()
            .map(str::to_string)
            .ok_or_else(|| {
                AwsError::new(
                    "cloudformation:DetectStackDrift",
                    AwsErrorKind::Other,
                    format!("no detection id returned for stack {stack_name}"),
                )
            })
    }

    async fn drift_detection(&self, detection_id: &str) -> AwsResult<DriftDetection> {
        self.limiter.acquire().await;
        let output = self
            .client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(detection_id)
            .send()
            .await
            .map_err(|e| {
                classify_or_unsupported("cloudformation:DescribeStackDriftDetectionStatus", e)
            })?;
        let drifted_resources = output
            .drifted_stack_resource_count()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        Ok(match output.detection_status() {
            Some(StackDriftDetectionStatus::DetectionComplete) => DriftDetection::Complete {
                status: output
                    .stack_drift_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "UNKNOWN".into()),
                drifted_resources,
            },
            Some(StackDriftDetectionStatus::DetectionFailed) => DriftDetection::Failed(
                output
                    .detection_status_reason()
                    .unwrap_or("no reason given")
                    .to_string(),
            ),
            _ => DriftDetection::InProgress,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::role_change;

    #[test]
    fn a_change_set_names_the_role_only_when_it_changes() {
        let role = "arn:aws:iam::1:role/pricewatch-ci/pricewatch-dev-cloudformation";
        assert_eq!(role_change(Some(role), role), None);
        assert_eq!(role_change(None, role), Some(role.to_string()));
        assert_eq!(
            role_change(Some("arn:aws:iam::1:role/old"), role),
            Some(role.to_string())
        );
    }
}
