//! `pricewatch check`: runs the env's data-quality checks in one warehouse
//! statement, prints the outcome, writes JUnit, and publishes each value and
//! failure flag to CloudWatch and the results to the warehouse history.
//! Exit 0 nothing failed, 1 a check failed (or warned, with
//! `--fail-on-warn`, or publishing failed), 2 the checks could not run.

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use super::{connect_warehouses, holding_lease, with_clients, Session, Warehouse};
use crate::aws::Clients;
use crate::checks::evaluate::{format_value, junit, Outcome, Status};
use crate::checks::run::{self, RunId};
use crate::checks::Check;
use crate::cli::CheckArgs;
use crate::config::names::METRICS_NAMESPACE;
use crate::config::{Dialect, Environment};
use crate::error::{ChecksNotRun, ExitStatus, UsageError};
use crate::output::Reporter;
use crate::render::Bundle;
use crate::warehouse::lease::LeaseError;
use crate::warehouse::Statements;

#[derive(Serialize)]
pub struct Report {
    env: String,
    run: RunId,
    seconds: f64,
    /// Metrics and history written (false with --no-publish).
    published: bool,
    /// Why publishing failed (the checks themselves ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    publish_error: Option<String>,
    pass: usize,
    warn: usize,
    fail: usize,
    checks: Vec<Outcome>,
}

impl Report {
    /// Names of the checks that failed (and warned, with `fail_on_warn`).
    pub fn failing(&self, fail_on_warn: bool) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|o| o.status == Status::Fail || (fail_on_warn && o.status == Status::Warn))
            .map(|o| o.check.as_str())
            .collect()
    }

    pub fn publish_error(&self) -> Option<&str> {
        self.publish_error.as_deref()
    }

    /// A check failed (or warned, with `fail_on_warn`), or publishing failed.
    pub fn needs_action(&self, fail_on_warn: bool) -> bool {
        self.fail > 0 || (fail_on_warn && self.warn > 0) || self.publish_error.is_some()
    }
}

pub fn run(session: &Session, args: CheckArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("check")?;
    let env = &bundle.env;
    let checks = run::select(&bundle.checks, &args.select).map_err(UsageError)?;
    let publish = !args.no_publish;
    let uses_aws = env.dialect() == Dialect::Redshift || publish;
    let reporter = session.reporter.as_ref();
    let report = with_clients(env, uses_aws, async |clients| {
        holding_lease(env, clients, "check", args.lease.wait, reporter, async {
            run_checks(&bundle, clients, &checks, publish, reporter).await
        })
        .await
    })
    .map_err(|e| {
        let busy = matches!(
            e.downcast_ref::<LeaseError>(),
            Some(LeaseError::Busy { .. })
        );
        if busy || e.downcast_ref::<ChecksNotRun>().is_some() {
            // Busy: another run holds the warehouse; exit 1 naming it.
            e
        } else {
            // No credentials or the wrong account: the checks did not run either.
            e.context(ChecksNotRun)
        }
    })?;
    if let Some(path) = &args.junit {
        std::fs::write(
            path,
            junit(&env.name, &report.checks, args.fail_on_warn, report.seconds),
        )
        .with_context(|| format!("cannot write the JUnit file {}", path.display()))?;
        session
            .reporter
            .info(&format!("wrote JUnit results to {}", path.display()));
    }
    session.printer.result(|| text(&report), &report);
    Ok(if report.needs_action(args.fail_on_warn) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// Runs `checks` in one warehouse statement and, with `publish`, sends the
/// values to CloudWatch and the history table. An error (marked
/// [`ChecksNotRun`]) means the checks could not run; a failed publish is a
/// warning in the report.
pub async fn run_checks(
    bundle: &Bundle,
    clients: &Clients,
    checks: &[Check],
    publish: bool,
    reporter: &dyn Reporter,
) -> anyhow::Result<Report> {
    let env = &bundle.env;
    if checks.is_empty() {
        return Err(anyhow::anyhow!(
            "env `{}` has no enabled checks in sql/checks.yaml",
            env.name
        )
        .context(ChecksNotRun));
    }
    let started = Instant::now();
    let run_id = RunId::now();
    let warehouse = connect_warehouses(env, clients, 1)
        .await
        .context(ChecksNotRun)?
        .remove(0);
    let outcomes = run::run(&warehouse, checks, env.dialect())
        .await
        .map_err(anyhow::Error::from)
        .context(ChecksNotRun)?;
    let publish_error = if publish {
        publish_results(clients, &warehouse, env, &run_id, &outcomes)
            .await
            .err()
            .map(|e| format!("{e:#}"))
    } else {
        None
    };
    if let Some(e) = &publish_error {
        reporter.warn(&format!(
            "the check results were not published: {e}; alarms will see missing data"
        ));
    }
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    Ok(Report {
        env: env.name.clone(),
        run: run_id,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        published: publish && publish_error.is_none(),
        publish_error,
        pass: count(Status::Pass),
        warn: count(Status::Warn),
        fail: count(Status::Fail),
        checks: outcomes,
    })
}

/// Metrics to CloudWatch, then the results to the history table.
async fn publish_results(
    clients: &Clients,
    warehouse: &Warehouse,
    env: &Environment,
    run_id: &RunId,
    outcomes: &[Outcome],
) -> anyhow::Result<()> {
    let points = run::metric_points(&env.name, outcomes);
    run::publish(&clients.metrics, METRICS_NAMESPACE, &points).await?;
    if let Some(sql) = run::history_sql(run_id, outcomes, warehouse.dialect()) {
        warehouse
            .execute("recording the check results", &sql)
            .await
            .context("run `pricewatch sql apply` if the history table is missing")?;
    }
    Ok(())
}

pub fn text(report: &Report) -> String {
    let mut lines = vec![format!(
        "{:<30} {:>12}  {:<18} {:<18} {}",
        "check", "observed", "warn when", "fail when", "status"
    )];
    for o in &report.checks {
        let status = match o.status {
            Status::Pass => "pass",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        lines.push(format!(
            "{:<30} {:>12}  {:<18} {:<18} {status}",
            o.check,
            format_value(o.observed),
            o.warn,
            o.fail
        ));
        if o.status != Status::Pass {
            lines.push(format!(
                "    {} (owner {}): {}",
                o.model, o.owner, o.runbook
            ));
        }
    }
    lines.push(format!(
        "env {}: {} pass, {} warn, {} fail ({} checks in one statement, {:.3}s){}",
        report.env,
        report.pass,
        report.warn,
        report.fail,
        report.checks.len(),
        report.seconds,
        if report.published {
            "; metrics and history published"
        } else {
            ""
        }
    ));
    lines.join("\n")
}
