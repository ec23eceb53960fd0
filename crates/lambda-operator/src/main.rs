//! The operator Lambda (runtime provided.al2023): on each scheduled event,
//! one operational cycle — refresh, check, SPICE refresh — with the same
//! code as `pricewatch run`. Its zip carries the project's environments/,
//! sql/ and templates/ beside the binary, so it renders the env exactly as
//! the CLI that deployed it. A cycle that needs action fails the
//! invocation, which the operator stack's alarm reports.

use std::path::PathBuf;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use pricewatch_aws::Context;
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::Environments;
use pricewatch_core::reporter::StderrReporter;
use pricewatch_ops::cycle::{cycle, CycleOptions};
use pricewatch_ops::services::Services;

/// Leave this much of the invocation's time for the SPICE wait to end.
const MARGIN_SECONDS: u64 = 30;

fn required(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| {
        format!("environment variable {name} is not set (see the operator stack)").into()
    })
}

/// The project shipped in the zip: `$LAMBDA_TASK_ROOT/project`, or
/// `PRICEWATCH_PROJECT_DIR`.
fn project_dir() -> Result<PathBuf, Error> {
    if let Ok(dir) = std::env::var("PRICEWATCH_PROJECT_DIR") {
        return Ok(PathBuf::from(dir));
    }
    Ok(PathBuf::from(required("LAMBDA_TASK_ROOT")?).join("project"))
}

fn load_bundle() -> Result<Bundle, Error> {
    let dir = project_dir()?;
    let name = required("PRICEWATCH_ENV")?;
    let env = Environments::new(&dir)
        .load(&name)
        .map_err(|e| format!("cannot load env `{name}` from {}: {e}", dir.display()))?;
    Ok(pricewatch_core::bundle::load(&dir, &env)
        .map_err(|e| format!("cannot render env `{name}`: {e}"))?)
}

async fn handle(
    aws: &Context,
    bundle: &Bundle,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, Error> {
    let remaining = event
        .context
        .deadline()
        .duration_since(std::time::SystemTime::now())
        .map(|d| d.as_secs())
        .unwrap_or(60);
    let options = CycleOptions {
        parallelism: bundle.env.settings.refresh.parallelism as usize,
        spice_timeout_minutes: (remaining.saturating_sub(MARGIN_SECONDS) / 60).max(1),
        // Another run (a deploy's sql apply, an on-call refresh) may hold
        // the warehouse: wait a third of the invocation at most.
        lease_wait: std::time::Duration::from_secs(remaining / 3)
            .min(pricewatch_ops::warehouse::lease::LeaseOptions::DEFAULT_WAIT),
    };
    let reporter = StderrReporter { level: 1 };
    let services = Services::new(&bundle.env, aws);
    let result = cycle(bundle, &services, options, &reporter).await;
    let summary = serde_json::to_value(&result)?;
    println!("{summary}");
    if !result.succeeded() {
        return Err(format!("the cycle needs action: {}", result.problems.join("; ")).into());
    }
    Ok(summary)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let bundle = load_bundle()?;
    let aws = Context::for_lambda().await;
    lambda_runtime::run(service_fn(|event| handle(&aws, &bundle, event))).await
}
