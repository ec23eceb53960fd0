//! `dashboard publish` as an operation: the desired assets from the env and
//! how QuickSight reaches its warehouse, reconciled through the QuickSight
//! API with bounded polling.

use std::time::Duration;

use anyhow::Context as _;
use pricewatch_aws::QuickSightApi;
use pricewatch_core::bundle::Bundle;
use pricewatch_core::dashboard::spec::{self, Desired};
use pricewatch_core::reporter::Reporter;

use super::reconcile::{PublishReport, Publisher};
use super::spice::warehouse_access;
use crate::services::Services;
use crate::wait::Polling;

/// Reconciles the env's QuickSight data source, data sets, dashboard and
/// permissions with the bundle's definition (`dry_run`: reports what would
/// change), waiting up to `timeout` for QuickSight; the desired assets and
/// what was done.
pub async fn publish(
    services: &Services<'_>,
    bundle: &Bundle,
    timeout: Duration,
    dry_run: bool,
    reporter: &dyn Reporter,
) -> anyhow::Result<(Desired, PublishReport)> {
    let env = &bundle.env;
    let (connection, secret_arn) = warehouse_access(services).await?;
    let desired = spec::desired(env, &bundle.dashboard, connection, secret_arn);
    let api = QuickSightApi::new(
        services.aws.quicksight().await?.clone(),
        &env.settings.account_id,
    );
    let publisher = Publisher {
        api: &api,
        reporter,
        polling: Polling::standard(timeout),
        dry_run,
    };
    let report = publisher
        .publish(&desired)
        .await
        .with_context(|| format!("dashboard publish for env `{}` failed", env.name))?;
    Ok((desired, report))
}
