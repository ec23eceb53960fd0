//! `pricewatch run`: one operational cycle — refresh every model, run the
//! checks (metrics and history published), then refresh the dashboard's
//! SPICE data sets (SPICE envs, only after a complete refresh). The
//! scheduled operator Lambda runs [`cycle`], the same code, in AWS.
//! Exit 0 when every step succeeded and no check failed, else 1.

use std::time::Instant;

use serde::Serialize;

use super::check::{self, run_checks};
use super::dashboard::{refresh_text, spice_refresh};
use super::refresh::{self, refresh_models, Refreshed};
use super::{holding_lease, with_clients, Session};
use crate::aws::Clients;
use crate::cli::RunArgs;
use crate::config::ImportMode;
use crate::dashboard::refresh::RefreshReport;
use crate::error::ExitStatus;
use crate::output::Reporter;
use crate::render::Bundle;

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
    clients: &Clients,
    options: CycleOptions,
    reporter: &dyn Reporter,
) -> Cycle {
    let started = Instant::now();
    let steps = async { Ok(steps(bundle, clients, options, reporter, started).await) };
    match holding_lease(
        &bundle.env,
        clients,
        "run",
        options.lease_wait,
        reporter,
        steps,
    )
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
    clients: &Clients,
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
    let refresh =
        match refresh_models(bundle, clients, &everything, options.parallelism, reporter).await {
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
    let checks = match run_checks(bundle, clients, &bundle.checks, true, reporter).await {
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
        match spice_refresh(bundle, clients, options.spice_timeout_minutes, reporter).await {
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

pub fn run(session: &Session, args: RunArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("run")?;
    let env = &bundle.env;
    let options = CycleOptions {
        parallelism: args.parallelism.unwrap_or(env.settings.refresh.parallelism) as usize,
        spice_timeout_minutes: args.timeout,
        lease_wait: args.lease.wait,
    };
    // Checks publish to CloudWatch: every cycle calls AWS.
    let cycle = with_clients(env, true, async |clients| {
        Ok(cycle(&bundle, clients, options, session.reporter.as_ref()).await)
    })?;
    session.printer.result(|| text(&cycle), &cycle);
    Ok(if cycle.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn status_word(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Ok => "ok",
        StepStatus::Failed => "FAILED",
        StepStatus::Skipped => "skipped",
    }
}

pub fn text(cycle: &Cycle) -> String {
    let mut lines = vec!["== refresh".to_string()];
    if let Some(r) = &cycle.refresh {
        lines.push(refresh::text(r));
    }
    lines.push("== check".into());
    if let Some(c) = &cycle.checks {
        lines.push(check::text(c));
    }
    lines.push("== dashboard".into());
    match &cycle.dashboard {
        Some(report) => lines.push(refresh_text(&cycle.env, Some(report))),
        None => lines.push(format!(
            "{} (see below)",
            status_word(cycle.dashboard_status)
        )),
    }
    lines.push("== cycle".into());
    lines.extend(cycle.problems.iter().map(|n| format!("  FAILED {n}")));
    lines.extend(cycle.notes.iter().map(|n| format!("  {n}")));
    lines.push(format!(
        "env {}: refresh {}, check {}, dashboard {} in {:.3}s",
        cycle.env,
        status_word(cycle.refresh_status),
        status_word(cycle.check_status),
        status_word(cycle.dashboard_status),
        cycle.seconds
    ));
    lines.join("\n")
}
