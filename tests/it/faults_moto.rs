//! Fault injection against moto: CloudFormation answers `Throttling` to
//! every third call of a parallel deploy. The shared limiter and the SDK's
//! retries must still deploy every stack, and no stack may be started twice.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::Moto;
use aws_config::retry::RetryConfig;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use pricewatch_aws::{sdk_config, Context};
use pricewatch_core::reporter::StderrReporter;
use pricewatch_ops::deploy::{Engine, Options, Target};

const THROTTLING: &str = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-injection</RequestId></ErrorResponse>"#;

/// Passes requests on, except that every `every`-th CloudFormation call
/// gets a Throttling error without reaching moto.
#[derive(Debug, Clone)]
struct Throttle {
    inner: SharedHttpClient,
    every: usize,
    calls: Arc<AtomicUsize>,
    injected: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct ThrottleConnector {
    inner: SharedHttpConnector,
    every: usize,
    calls: Arc<AtomicUsize>,
    injected: Arc<AtomicUsize>,
}

impl HttpClient for Throttle {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ThrottleConnector {
            inner: self.inner.http_connector(settings, components),
            every: self.every,
            calls: self.calls.clone(),
            injected: self.injected.clone(),
        })
    }
}

impl HttpConnector for ThrottleConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let is_cloudformation = request
            .body()
            .bytes()
            .is_some_and(|b| String::from_utf8_lossy(b).contains("Version=2010-05-15"));
        if is_cloudformation && (self.calls.fetch_add(1, Ordering::SeqCst) + 1) % self.every == 0 {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return HttpConnectorFuture::ready(Ok(Response::new(
                StatusCode::try_from(400).unwrap(),
                SdkBody::from(THROTTLING),
            )));
        }
        self.inner.call(request)
    }
}

pub(crate) fn cloudformation_throttling_during_a_parallel_deploy_is_retried() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(throttled_deploy());
}

async fn throttled_deploy() {
    let moto = Moto::start();
    let project = support::project_dir();
    let mut env = pricewatch_core::config::Environments::new(&project)
        .load("local")
        .unwrap();
    env.settings.aws.endpoint_url = Some(moto.endpoint());
    let bundle = pricewatch_core::bundle::load(&project, &env).unwrap();
    let artifacts_dir = support::placeholder_artifacts();
    let artifacts = pricewatch_ops::deploy::artifacts::collect(
        &bundle,
        artifacts_dir.path(),
        &support::project_dir(),
    )
    .unwrap();

    let throttle = Throttle {
        inner: aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https(),
        every: 3,
        calls: Arc::default(),
        injected: Arc::default(),
    };
    // pricewatch's 8 attempts with a short first backoff, in standard mode:
    // adaptive mode's client-side send-rate limiter would stretch this
    // deploy to minutes after so many throttles (that is its job).
    let retry = RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(20));
    let config = sdk_config(&env)
        .await
        .into_builder()
        .http_client(throttle.clone())
        .retry_config(retry)
        .build();
    let aws = Context::from_config(config, Some(env.clone()), true);
    let options = Options::for_env(&env, Duration::from_secs(600));
    let engine = Engine::new(
        aws.stacks().await.unwrap(),
        aws.objects().await.unwrap(),
        &StderrReporter { level: 0 },
        &options,
    );
    let target = Target {
        env: &env,
        bundle: &bundle,
        artifacts: &artifacts,
    };

    moto.start_recording();
    let report = engine.deploy(&target, None).await;
    assert!(report.ok(), "{report:?}");
    let injected = throttle.injected.load(Ordering::SeqCst);
    assert!(injected >= 3, "only {injected} throttling errors injected");

    let creates = moto
        .recorded_actions()
        .into_iter()
        .filter(|a| a == "CreateStack")
        .count();
    assert_eq!(
        creates,
        bundle.stacks.len(),
        "every stack started exactly once"
    );
}
