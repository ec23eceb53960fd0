//! `pricewatch check`: runs the env's data-quality checks in one warehouse
//! statement, prints the outcome, writes JUnit, and publishes each value and
//! failure flag to CloudWatch and the results to the warehouse history.
//! Exit 0 nothing failed, 1 a check failed (or warned, with
//! `--fail-on-warn`, or publishing failed), 2 the checks could not run.

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use super::{connect_warehouses, with_clients, Session, Warehouse};
use crate::aws::Clients;
use crate::checks::evaluate::{format_value, junit, Outcome, Status};
use crate::checks::run::{self, RunId};
use crate::cli::CheckArgs;
use crate::config::names::METRICS_NAMESPACE;
use crate::config::{Dialect, Environment};
use crate::error::{ChecksNotRun, ExitStatus, UsageError};
use crate::warehouse::Statements;

#[derive(Serialize)]
struct Report {
    env: String,
    run: RunId,
    seconds: f64,
    /// Metrics and history written (false with --no-publish).
    published: bool,
    pass: usize,
    warn: usize,
    fail: usize,
    checks: Vec<Outcome>,
}

pub fn run(session: &Session, args: CheckArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("check")?;
    let env = &bundle.env;
    let checks = run::select(&bundle.checks, &args.select).map_err(UsageError)?;
    if checks.is_empty() {
        return Err(anyhow::anyhow!(
            "env `{}` has no enabled checks in sql/checks.yaml",
            env.name
        )
        .context(ChecksNotRun));
    }
    let publish = !args.no_publish;
    let uses_aws = env.dialect() == Dialect::Redshift || publish;
    let started = Instant::now();
    let run_id = RunId::now();
    let (outcomes, published) = with_clients(env, uses_aws, async |clients| {
        let warehouse = connect_warehouses(env, clients, 1).await?.remove(0);
        let outcomes = run::run(&warehouse, &checks, env.dialect()).await?;
        let published = if publish {
            Some(publish_results(clients, &warehouse, env, &run_id, &outcomes).await)
        } else {
            None
        };
        Ok((outcomes, published))
    })
    .context(ChecksNotRun)?;
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    let report = Report {
        env: env.name.clone(),
        run: run_id,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        published: matches!(published, Some(Ok(()))),
        pass: count(Status::Pass),
        warn: count(Status::Warn),
        fail: count(Status::Fail),
        checks: outcomes,
    };
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
    if let Some(Err(e)) = &published {
        session.reporter.warn(&format!(
            "the check results were not published: {e:#}; alarms will see missing data"
        ));
    }
    let failed = report.fail > 0 || (args.fail_on_warn && report.warn > 0);
    Ok(if failed || matches!(published, Some(Err(_))) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
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
    if let Some(sql) = run::history_sql(run_id, outcomes) {
        warehouse
            .execute("recording the check results", &sql)
            .await
            .context("run `pricewatch sql apply` if the history table is missing")?;
    }
    Ok(())
}

fn text(report: &Report) -> String {
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
