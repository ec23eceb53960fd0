//! STS: whose credentials these are, for the account guard.

use super::classify;
use pricewatch_core::cloud::{AwsError, AwsErrorKind, AwsResult, Identity};

pub struct StsIdentity {
    client: aws_sdk_sts::Client,
}

impl StsIdentity {
    pub fn new(client: aws_sdk_sts::Client) -> StsIdentity {
        StsIdentity { client }
    }
}

impl Identity for StsIdentity {
    async fn account_id(&self) -> AwsResult<String> {
        let output = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| classify("sts:GetCallerIdentity", e))?;
        output.account().map(str::to_string).ok_or_else(|| {
            AwsError::new(
                "sts:GetCallerIdentity",
                AwsErrorKind::Other,
                "no account in the answer",
            )
        })
    }
}
