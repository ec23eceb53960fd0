//! The one Redshift Serverless control-plane read pricewatch needs: the ARN
//! of the namespace's admin secret, which Redshift creates and names itself
//! (CloudFormation does not return it).

use super::classify;
use pricewatch_core::cloud::{AwsError, AwsErrorKind, AwsResult};

pub async fn admin_secret_arn(
    client: &aws_sdk_redshiftserverless::Client,
    namespace: &str,
) -> AwsResult<String> {
    let op = "redshift-serverless:GetNamespace";
    let output = client
        .get_namespace()
        .namespace_name(namespace)
        .send()
        .await
        .map_err(|e| classify(op, e))?;
    output
        .namespace()
        .and_then(|n| n.admin_password_secret_arn())
        .map(str::to_string)
        .ok_or_else(|| {
            AwsError::new(
                op,
                AwsErrorKind::Invalid,
                format!(
                    "namespace {namespace} has no Secrets Manager admin secret (ManageAdminPassword is off?)"
                ),
            )
        })
}
