//! The ingest Lambda (runtime provided.al2023): on each scheduled event,
//! fetch every source's page (the list is its configuration,
//! `PRICEWATCH_SOURCES`), archive changed snapshots in S3 and push them to
//! Kinesis, logging counts as CloudWatch Embedded Metric Format. Fails the invocation, with
//! the number of records not delivered, when any record was not accepted.

use std::time::{Duration, Instant};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use pricewatch_aws::Context;
use pricewatch_core::ingest::records::SourceConfig;
use pricewatch_core::time::now_unix;
use pricewatch_ingest::{self as ingest, emf, IngestOutcome, Plan, RetryPolicy, SourcePlan};

/// Leave this much of the invocation's time for the heartbeats (at most
/// 5 s each) and the report instead of sending records.
const REPORT_MARGIN: Duration = Duration::from_secs(12);

fn required(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| {
        format!("environment variable {name} is not set (see the ingest stack)").into()
    })
}

fn plan_from_environment(deadline: Instant, holder: String) -> Result<Plan, Error> {
    let sources: Vec<SourceConfig> = serde_json::from_str(&required("PRICEWATCH_SOURCES")?)
        .map_err(|e| format!("environment variable PRICEWATCH_SOURCES is not the ingest stack's source list: {e}"))?;
    Ok(Plan {
        sources: sources
            .iter()
            .map(|config| SourcePlan {
                source: config.source(),
                location: config.url.clone(),
                stream: config.stream.clone(),
            })
            .collect(),
        state_bucket: required("PRICEWATCH_STATE_BUCKET")?,
        state_prefix: required("PRICEWATCH_STATE_PREFIX")?,
        archive_bucket: required("PRICEWATCH_ARCHIVE_BUCKET")?,
        retry: RetryPolicy::standard(deadline),
        call_limit: Duration::from_secs(pricewatch_aws::LAMBDA_CALL_SECONDS.into()),
        holder,
    })
}

async fn handle(
    aws: &Context,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, Error> {
    let env = required("PRICEWATCH_ENV")?;
    // The deadline counts from the invocation's start: every fetch, batch
    // and retry of every page must fit before it.
    let remaining = event
        .context
        .deadline()
        .duration_since(std::time::SystemTime::now())
        .unwrap_or(Duration::from_secs(30));
    let deadline = Instant::now() + remaining.saturating_sub(REPORT_MARGIN);
    let holder = format!(
        "ingest Lambda {} request {}",
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default(),
        event.context.request_id
    );
    let plan = plan_from_environment(deadline, holder)?;
    let reports = ingest::run(
        &plan,
        now_unix(),
        aws.streams().await?,
        aws.objects().await?,
    )
    .await;
    let now_ms = now_unix() * 1000;
    for report in &reports {
        println!("{}", emf::line(&env, report, now_ms));
    }
    // A busy source (another run holds its lease, e.g. an on-call
    // `pricewatch ingest`) is no error: the invocation did its part, and an
    // error would trip the Lambda's Errors alarm for an overlap by design.
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| r.outcome == IngestOutcome::Failed)
        .map(|r| format!("{}: {}", r.source, r.error.as_deref().unwrap_or("failed")))
        .collect();
    if !failed.is_empty() {
        let undelivered: usize = reports.iter().map(|r| r.failed_records).sum();
        return Err(format!(
            "{undelivered} record(s) not delivered; {}",
            failed.join("; ")
        )
        .into());
    }
    Ok(serde_json::to_value(&reports)?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let aws = Context::for_lambda().await;
    lambda_runtime::run(service_fn(|event| handle(&aws, event))).await
}
