//! The one place that talks to AWS: builds SDK clients from an env
//! (region, profile, endpoint), decides retries (adaptive) and rate limits,
//! classifies errors, and implements the deploy engine's traits.

mod archive;
mod cloudformation;
mod cloudwatch;
mod error;
mod kinesis;
mod limiter;
mod local_endpoint;
mod quicksight;
mod redshift_data;
pub mod redshift_serverless;
mod s3;
pub mod secrets;
mod sts;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

pub use cloudformation::CfnStacks;
pub use cloudwatch::CloudWatchMetrics;
pub use error::classify;
pub use kinesis::KinesisStreams;
pub use limiter::RateLimiter;
pub use quicksight::QuickSightApi;
pub use redshift_data::RedshiftDataApi;
pub use s3::S3Objects;
pub use sts::StsIdentity;

use crate::cloud::{AwsError, AwsErrorKind, Identity};
use crate::config::Environment;

/// CloudFormation calls per second across all parallel stacks, and the
/// burst allowed on top (a small deploy or a no-op is never paced).
const CLOUDFORMATION_CALLS_PER_SECOND: u32 = 5;
const CLOUDFORMATION_BURST: u32 = 20;
const MAX_ATTEMPTS: u32 = 8;

/// Where the clients point; `AWS_ENDPOINT_URL` wins over the env's setting.
pub fn endpoint_override(env: &Environment) -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| env.settings.aws.endpoint_url.clone())
}

/// The retry and timeout settings every client uses.
fn loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        )
}

/// The SDK configuration inside a Lambda: region and credentials from its
/// environment.
pub async fn lambda_sdk_config() -> aws_config::SdkConfig {
    loader().load().await
}

/// The SDK configuration for an env.
pub async fn sdk_config(env: &Environment) -> aws_config::SdkConfig {
    let mut loader = loader().region(Region::new(env.settings.region.clone()));
    if let Some(profile) = &env.settings.aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = endpoint_override(env) {
        loader = loader.endpoint_url(endpoint);
        // A local endpoint (moto) accepts any credentials; use fixed ones
        // when none are configured, so `local` needs no AWS account.
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() && env.settings.aws.profile.is_none() {
            loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "pricewatch-local",
            ));
        }
    }
    loader.load().await
}

/// Every client pricewatch uses, built once per command.
pub struct Clients {
    pub stacks: CfnStacks,
    pub objects: S3Objects,
    pub identity: StsIdentity,
    pub streams: KinesisStreams,
    pub metrics: CloudWatchMetrics,
    /// The Data API client; [`RedshiftDataApi`] binds it to a workgroup.
    pub redshift_data: aws_sdk_redshiftdata::Client,
    pub redshift_serverless: aws_sdk_redshiftserverless::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    /// The QuickSight client; [`QuickSightApi`] binds it to an account.
    pub quicksight: aws_sdk_quicksight::Client,
}

impl Clients {
    pub async fn new(env: &Environment) -> Clients {
        let config = sdk_config(env).await;
        let local_endpoint = endpoint_override(env).is_some();
        Clients::from_config(&config, local_endpoint)
    }

    /// Clients from a loaded configuration; `local_endpoint` for endpoints
    /// like moto: path-style S3 addressing (no bucket subdomains) and
    /// QuickSight answers made readable ([`local_endpoint`]).
    pub fn from_config(config: &aws_config::SdkConfig, local_endpoint: bool) -> Clients {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(local_endpoint)
            .build();
        let mut quicksight_config = aws_sdk_quicksight::config::Builder::from(config);
        if local_endpoint {
            let http = config
                .http_client()
                .unwrap_or_else(local_endpoint::default_http_client);
            quicksight_config =
                quicksight_config.http_client(local_endpoint::EpochTimestamps(http));
        }
        Clients {
            stacks: CfnStacks::new(
                aws_sdk_cloudformation::Client::new(config),
                Arc::new(RateLimiter::new(
                    CLOUDFORMATION_CALLS_PER_SECOND,
                    CLOUDFORMATION_BURST,
                )),
            ),
            objects: S3Objects::new(aws_sdk_s3::Client::from_conf(s3_config)),
            identity: StsIdentity::new(aws_sdk_sts::Client::new(config)),
            streams: KinesisStreams::new(aws_sdk_kinesis::Client::new(config)),
            metrics: CloudWatchMetrics::new(aws_sdk_cloudwatch::Client::new(config)),
            redshift_data: aws_sdk_redshiftdata::Client::new(config),
            redshift_serverless: aws_sdk_redshiftserverless::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            quicksight: aws_sdk_quicksight::Client::from_conf(quicksight_config.build()),
        }
    }
}

/// Refuses to go on unless the credentials belong to the env's account.
pub async fn guard_account(identity: &impl Identity, env: &Environment) -> Result<(), AwsError> {
    let actual = identity.account_id().await?;
    if actual == env.settings.account_id {
        Ok(())
    } else {
        Err(AwsError::new(
            "account check",
            AwsErrorKind::Credentials,
            format!(
                "the credentials belong to account {actual}, but env `{}` is account {}: nothing was changed",
                env.name, env.settings.account_id
            ),
        ))
    }
}
