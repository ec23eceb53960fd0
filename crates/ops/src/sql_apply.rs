//! `sql apply` as an operation: the sequence around
//! [`warehouse::apply::apply`](crate::warehouse::apply::apply) — the
//! session made the owner's (an administrator bootstraps a warehouse that
//! is not yet), `sql/setup.sql`, then the models under the warehouse lease
//! — and the dry run and the administrator's bootstrap.

use std::time::Duration;

use pricewatch_core::bundle::Bundle;
use pricewatch_core::reporter::Reporter;

use crate::services::Services;
use crate::warehouse::apply::{self, ApplyPlan};
use crate::warehouse::bootstrap;
use crate::warehouse::Statements as _;

/// The plan and the statements that carry it out, in order (context, SQL).
pub(crate) type Applied = (ApplyPlan, Vec<(String, String)>);

/// The plan and its statements without changing anything, and why a real
/// run would refuse it (an unallowed stateful drop), if it would.
pub async fn dry_run(
    services: &Services<'_>,
    bundle: &Bundle,
    allow_replace: &[String],
) -> anyhow::Result<(Applied, Option<String>)> {
    let warehouse = services.connect_one().await?;
    let planned = apply::apply(&warehouse, bundle, allow_replace, true).await?;
    let refused = apply::refuse_stateful(&planned.0, allow_replace, bundle)
        .err()
        .map(|e| e.to_string());
    Ok((planned, refused))
}

/// Brings the warehouse's models to the bundle's: as the owner (an
/// administrator's session bootstraps what is missing first), after
/// `sql/setup.sql`, holding the warehouse lease (waiting up to
/// `lease_wait` for another holder).
pub async fn apply(
    services: &Services<'_>,
    bundle: &Bundle,
    allow_replace: &[String],
    lease_wait: Duration,
    reporter: &dyn Reporter,
) -> anyhow::Result<Applied> {
    let warehouse = services.connect_one().await?;
    match bootstrap::act_as_owner(&warehouse, bundle).await {
        // An administrator's apply bootstraps what is missing first.
        Err(bootstrap::BootstrapError::NotBootstrapped { .. })
            if bootstrap::is_administrator(&warehouse).await? =>
        {
            reporter.info("the warehouse is not bootstrapped (or its bootstrap changed): bootstrapping it as the administrator first");
            bootstrap::bootstrap(&warehouse, bundle, None).await?;
            bootstrap::act_as_owner(&warehouse, bundle).await?;
        }
        other => other?,
    }
    warehouse
        .execute("setup (sql/setup.sql)", &bundle.setup_sql)
        .await?;
    services
        .holding_lease("sql apply", lease_wait, reporter, async {
            Ok(apply::apply(&warehouse, bundle, allow_replace, false).await?)
        })
        .await
}

/// `sql apply --bootstrap`: sets the warehouse up as its administrator
/// (roles, the owner, QuickSight's login on Redshift); the statements run.
#[cfg(feature = "bootstrap")]
pub async fn bootstrap_as_admin(
    services: &Services<'_>,
    bundle: &Bundle,
) -> anyhow::Result<Vec<String>> {
    let (admin, login) = services.connect_admin().await?;
    Ok(bootstrap::bootstrap(&admin, bundle, login.as_ref()).await?)
}
