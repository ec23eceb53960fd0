//! The one place that talks to AWS: the [`Context`] builds each SDK client
//! on first use from an env (region, profile, endpoint) after checking the
//! account, decides retries (adaptive) and rate limits, classifies errors,
//! and implements the core's ports. One cargo feature per service, so a
//! binary links only the SDKs it calls.

#[cfg(feature = "cloudformation")]
mod cloudformation;
#[cfg(feature = "cloudwatch")]
mod cloudwatch;
mod error;
#[cfg(feature = "kinesis")]
mod kinesis;
#[cfg(feature = "cloudformation")]
mod limiter;
#[cfg(feature = "quicksight")]
mod local_endpoint;
#[cfg(feature = "quicksight")]
mod quicksight;
#[cfg(feature = "redshift")]
mod redshift_data;
#[cfg(feature = "redshift-admin")]
pub mod redshift_serverless;
#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "redshift-admin")]
pub mod secrets;
mod sts;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

#[cfg(feature = "cloudformation")]
pub use cloudformation::CfnStacks;
#[cfg(feature = "cloudwatch")]
pub use cloudwatch::CloudWatchMetrics;
pub use error::classify;
#[cfg(feature = "kinesis")]
pub use kinesis::KinesisStreams;
#[cfg(feature = "cloudformation")]
pub use limiter::RateLimiter;
#[cfg(feature = "quicksight")]
pub use quicksight::QuickSightApi;
#[cfg(feature = "redshift")]
pub use redshift_data::RedshiftDataApi;
#[cfg(feature = "s3")]
pub use s3::S3Objects;
pub use sts::StsIdentity;

use pricewatch_core::cloud::{AwsError, AwsErrorKind, Identity};
use pricewatch_core::config::Environment;

/// CloudFormation calls per second across all parallel stacks, and the
/// burst allowed on top (a small deploy or a no-op is never paced).
#[cfg(feature = "cloudformation")]
const CLOUDFORMATION_CALLS_PER_SECOND: u32 = 5;
#[cfg(feature = "cloudformation")]
const CLOUDFORMATION_BURST: u32 = 20;
const MAX_ATTEMPTS: u32 = 8;

/// Where the clients point; `AWS_ENDPOINT_URL` wins over the env's setting.
pub fn endpoint_override(env: &Environment) -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| env.settings.aws.endpoint_url.clone())
}

/// The time limit of one call inside a Lambda, retries included: well
/// within the ingest Lambda's own timeout, which its delivery deadline
/// already respects.
pub const LAMBDA_CALL_SECONDS: u32 = 30;

/// The retry and timeout settings every client uses: each attempt and the
/// whole call (retries and credential resolution included) are bounded, so
/// an endpoint that accepts a connection and never answers ends the call
/// with a timeout naming the operation.
fn loader(call_seconds: u32) -> aws_config::ConfigLoader {
    let call = Duration::from_secs(call_seconds.into());
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10).min(call))
                .operation_attempt_timeout((call / 2).max(Duration::from_secs(5)).min(call))
                .operation_timeout(call)
                .build(),
        )
}

/// The SDK configuration for an env.
pub async fn sdk_config(env: &Environment) -> aws_config::SdkConfig {
    let mut loader = loader(env.settings.timeouts.aws_call_seconds)
        .region(Region::new(env.settings.region.clone()));
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

/// The AWS side of one command or invocation: the SDK configuration, and
/// each service's client built on first use. For an env, the first use of
/// any client checks that the credentials belong to the env's account
/// (once), so no AWS call can skip the check.
pub struct Context {
    config: aws_config::SdkConfig,
    /// The env whose account every call must be in; None inside a Lambda,
    /// which runs in its own account by construction.
    env: Option<Environment>,
    local_endpoint: bool,
    checked: tokio::sync::OnceCell<Result<(), AwsError>>,
    identity: OnceLock<StsIdentity>,
    #[cfg(feature = "cloudformation")]
    stacks: OnceLock<CfnStacks>,
    #[cfg(feature = "s3")]
    objects: OnceLock<S3Objects>,
    #[cfg(feature = "kinesis")]
    streams: OnceLock<KinesisStreams>,
    #[cfg(feature = "cloudwatch")]
    metrics: OnceLock<CloudWatchMetrics>,
    #[cfg(feature = "redshift")]
    redshift_data: OnceLock<aws_sdk_redshiftdata::Client>,
    #[cfg(feature = "redshift-admin")]
    redshift_serverless: OnceLock<aws_sdk_redshiftserverless::Client>,
    #[cfg(feature = "redshift-admin")]
    secrets: OnceLock<aws_sdk_secretsmanager::Client>,
    #[cfg(feature = "quicksight")]
    quicksight: OnceLock<aws_sdk_quicksight::Client>,
}

impl Context {
    /// The context of a command on `env` (no AWS call yet).
    pub async fn for_env(env: &Environment) -> Context {
        let config = sdk_config(env).await;
        Context::from_config(config, Some(env.clone()), endpoint_override(env).is_some())
    }

    /// The context inside a Lambda: region and credentials from its
    /// environment; an `AWS_ENDPOINT_URL` (a local emulator in tests) is
    /// honoured, with path-style S3 addressing.
    pub async fn for_lambda() -> Context {
        let config = loader(LAMBDA_CALL_SECONDS).load().await;
        Context::from_config(config, None, std::env::var_os("AWS_ENDPOINT_URL").is_some())
    }

    /// A context over a configuration built elsewhere (tests that inject
    /// faults into the HTTP client); `env` as in [`Context::for_env`].
    pub fn from_config(
        config: aws_config::SdkConfig,
        env: Option<Environment>,
        local_endpoint: bool,
    ) -> Context {
        Context {
            config,
            env,
            local_endpoint,
            checked: tokio::sync::OnceCell::new(),
            identity: OnceLock::new(),
            #[cfg(feature = "cloudformation")]
            stacks: OnceLock::new(),
            #[cfg(feature = "s3")]
            objects: OnceLock::new(),
            #[cfg(feature = "kinesis")]
            streams: OnceLock::new(),
            #[cfg(feature = "cloudwatch")]
            metrics: OnceLock::new(),
            #[cfg(feature = "redshift")]
            redshift_data: OnceLock::new(),
            #[cfg(feature = "redshift-admin")]
            redshift_serverless: OnceLock::new(),
            #[cfg(feature = "redshift-admin")]
            secrets: OnceLock::new(),
            #[cfg(feature = "quicksight")]
            quicksight: OnceLock::new(),
        }
    }

    /// The account check, run once before the first client is handed out.
    async fn checked(&self) -> Result<(), AwsError> {
        let Some(env) = &self.env else {
            return Ok(());
        };
        self.checked
            .get_or_init(|| Box::pin(guard_account(self.identity_client(), env)))
            .await
            .clone()
    }

    fn identity_client(&self) -> &StsIdentity {
        self.identity
            .get_or_init(|| StsIdentity::new(aws_sdk_sts::Client::new(&self.config)))
    }

    #[cfg(feature = "cloudformation")]
    pub async fn stacks(&self) -> Result<&CfnStacks, AwsError> {
        self.checked().await?;
        Ok(self.stacks.get_or_init(|| {
            CfnStacks::new(
                aws_sdk_cloudformation::Client::new(&self.config),
                Arc::new(RateLimiter::new(
                    CLOUDFORMATION_CALLS_PER_SECOND,
                    CLOUDFORMATION_BURST,
                )),
            )
        }))
    }

    /// S3, path-style on a local endpoint (no bucket subdomains).
    #[cfg(feature = "s3")]
    pub async fn objects(&self) -> Result<&S3Objects, AwsError> {
        self.checked().await?;
        Ok(self.objects.get_or_init(|| {
            let config = aws_sdk_s3::config::Builder::from(&self.config)
                .force_path_style(self.local_endpoint)
                .build();
            S3Objects::new(aws_sdk_s3::Client::from_conf(config))
        }))
    }

    #[cfg(feature = "kinesis")]
    pub async fn streams(&self) -> Result<&KinesisStreams, AwsError> {
        self.checked().await?;
        Ok(self
            .streams
            .get_or_init(|| KinesisStreams::new(aws_sdk_kinesis::Client::new(&self.config))))
    }

    #[cfg(feature = "cloudwatch")]
    pub async fn metrics(&self) -> Result<&CloudWatchMetrics, AwsError> {
        self.checked().await?;
        Ok(self
            .metrics
            .get_or_init(|| CloudWatchMetrics::new(aws_sdk_cloudwatch::Client::new(&self.config))))
    }

    /// The Data API client; [`RedshiftDataApi`] binds it to a workgroup.
    #[cfg(feature = "redshift")]
    pub async fn redshift_data(&self) -> Result<&aws_sdk_redshiftdata::Client, AwsError> {
        self.checked().await?;
        Ok(self
            .redshift_data
            .get_or_init(|| aws_sdk_redshiftdata::Client::new(&self.config)))
    }

    #[cfg(feature = "redshift-admin")]
    pub async fn redshift_serverless(
        &self,
    ) -> Result<&aws_sdk_redshiftserverless::Client, AwsError> {
        self.checked().await?;
        Ok(self
            .redshift_serverless
            .get_or_init(|| aws_sdk_redshiftserverless::Client::new(&self.config)))
    }

    #[cfg(feature = "redshift-admin")]
    pub async fn secrets(&self) -> Result<&aws_sdk_secretsmanager::Client, AwsError> {
        self.checked().await?;
        Ok(self
            .secrets
            .get_or_init(|| aws_sdk_secretsmanager::Client::new(&self.config)))
    }

    /// The QuickSight client; [`QuickSightApi`] binds it to an account. On
    /// a local endpoint, moto's timestamps are made readable first.
    #[cfg(feature = "quicksight")]
    pub async fn quicksight(&self) -> Result<&aws_sdk_quicksight::Client, AwsError> {
        self.checked().await?;
        Ok(self.quicksight.get_or_init(|| {
            let mut config = aws_sdk_quicksight::config::Builder::from(&self.config);
            if self.local_endpoint {
                let http = self
                    .config
                    .http_client()
                    .unwrap_or_else(local_endpoint::default_http_client);
                config = config.http_client(local_endpoint::EpochTimestamps(http));
            }
            aws_sdk_quicksight::Client::from_conf(config.build())
        }))
    }
}

/// Refuses to go on unless the credentials belong to the env's account.
pub(crate) async fn guard_account(
    identity: &impl Identity,
    env: &Environment,
) -> Result<(), AwsError> {
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
