//! One operational cycle — refresh every model, run the checks (metrics
//! and history published), then refresh the dashboard's SPICE data sets
//! (SPICE envs, only after a complete refresh). `pricewatch run` and the
//! scheduled operator Lambda run this same code.

use std::time::Instant;

use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::ImportMode;
use pricewatch_core::reporter::Reporter;
use serde::Serialize;

use crate::checks_run::{self as check, run_checks};
use crate::dashboard::refresh::RefreshReport;
use crate::dashboard::spice::spice_refresh;
use crate::refresh_run::{refresh_models, Refreshed};
use crate::services::Services;

/// How a cycle runs.
#[derive(Debug, Clone, Copy)]
pub struct CycleOptions {
    pub parallelism: usize,
    /// How long to wait for another run's warehouse lease.
    pub lease_wait: std::time::Duration,
    /// Minutes to wait for SPICE ingestions.
    pub spice_timeout_minutes: u64,
}

/// What one step of the cycle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Failed,
    /// Not run: an earlier step failed, or there is nothing to do.
    Skipped,
}

#[derive(Serialize)]
pub struct Cycle {
    pub env: String,
    pub seconds: f64,
    pub refresh_status: StepStatus,
    pub refresh: Option<Refreshed>,
    pub check_status: StepStatus,
    pub checks: Option<check::Report>,
    pub dashboard_status: StepStatus,
    pub dashboard: Option<RefreshReport>,
    /// Why a step failed, in order.
    pub problems: Vec<String>,
    /// Why a step was skipped.
    pub notes: Vec<String>,
}

impl Cycle {
    pub fn succeeded(&self) -> bool {
        [
            self.refresh_status,
            self.check_status,
            self.dashboard_status,
        ]
        .iter()
        .all(|s| *s != StepStatus::Failed)
    }
}

/// Refresh → check → SPICE refresh, holding the warehouse lease. A failed
/// refresh still runs the checks (their metrics are what the alarms watch)
/// but not the SPICE import, so a dashboard never shows a half-refreshed
/// warehouse. A lease that cannot be taken fails the cycle with nothing run.
pub async fn cycle(
    bundle: &Bundle,
    services: &Services<'_>,
    options: CycleOptions,
    reporter: &dyn Reporter,
) -> Cycle {
    let started = Instant::now();
    // Boxed: the steps future is deep, and callers need not know its layout.
    let steps = Box::pin(async { Ok(steps(bundle, services, options, reporter, started).await) });
    match services
        .holding_lease("run", options.lease_wait, reporter, steps)
        .await
    {
        Ok(cycle) => cycle,
        Err(e) => Cycle {
            env: bundle.env.name.clone(),
            seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            refresh_status: StepStatus::Failed,
            refresh: None,
            check_status: StepStatus::Skipped,
            checks: None,
            dashboard_status: StepStatus::Skipped,
            dashboard: None,
            problems: vec![format!("{e:#}")],
            notes: vec!["nothing ran: the cycle needs the warehouse lease".into()],
        },
    }
}

async fn steps(
    bundle: &Bundle,
    services: &Services<'_>,
    options: CycleOptions,
    reporter: &dyn Reporter,
    started: Instant,
) -> Cycle {
    let env = &bundle.env;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let everything = bundle.models.iter().map(|m| m.name.clone()).collect();
    reporter.info(&format!(
        "[1/3] refreshing {} model(s)",
        bundle.models.len()
    ));
    let refresh = match refresh_models(
        bundle,
        services,
        &everything,
        options.parallelism,
        false,
        reporter,
    )
    .await
    {
        Ok(r) => Some(r),
        Err(e) => {
            problems.push(format!("refresh: {e:#}"));
            None
        }
    };
    let refresh_status = match &refresh {
        Some(r) if r.succeeded() => StepStatus::Ok,
        Some(r) => {
            problems.push(format!(
                "refresh: failed: {}; their downstream was skipped",
                r.failed_models().join(", ")
            ));
            StepStatus::Failed
        }
        None => StepStatus::Failed,
    };
    reporter.info(&format!("[2/3] running {} check(s)", bundle.checks.len()));
    let checks = match run_checks(bundle, services, &bundle.checks, true, reporter).await {
        Ok(report) => Some(report),
        Err(e) => {
            problems.push(format!("check: {e:#}"));
            None
        }
    };
    let check_status = match &checks {
        Some(report) if !report.needs_action(false) => StepStatus::Ok,
        Some(report) => {
            let failing = report.failing(false);
            if !failing.is_empty() {
                problems.push(format!("check: failed: {}", failing.join(", ")));
            }
            if let Some(e) = report.publish_error() {
                problems.push(format!("check: results not published: {e}"));
            }
            StepStatus::Failed
        }
        None => StepStatus::Failed,
    };
    let (dashboard_status, dashboard) = if env.settings.quicksight.import_mode
        == ImportMode::DirectQuery
    {
        notes.push("dashboard: DIRECT_QUERY reads the warehouse live; nothing to import".into());
        (StepStatus::Skipped, None)
    } else if refresh_status != StepStatus::Ok {
        notes.push("dashboard: SPICE import skipped after the failed refresh".into());
        (StepStatus::Skipped, None)
    } else {
        reporter.info("[3/3] importing the dashboard's data sets into SPICE");
        match spice_refresh(bundle, services, options.spice_timeout_minutes, reporter).await {
            Ok(Some(report)) if report.succeeded() => (StepStatus::Ok, Some(report)),
            Ok(report) => {
                problems.push("dashboard: a SPICE ingestion did not complete".into());
                (StepStatus::Failed, report)
            }
            Err(e) => {
                problems.push(format!("dashboard: {e:#}"));
                (StepStatus::Failed, None)
            }
        }
    };
    Cycle {
        env: env.name.clone(),
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        refresh_status,
        refresh,
        check_status,
        checks,
        dashboard_status,
        dashboard,
        problems,
        notes,
    }
}
