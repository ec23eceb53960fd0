//! `pricewatch run`: one operational cycle — refresh every model, run the
//! checks (metrics and history published), then refresh the dashboard's
//! SPICE data sets (SPICE envs, only after a complete refresh). The
//! scheduled operator Lambda runs the same `cycle` (pricewatch-ops) in AWS.
//! Exit 0 when every step succeeded and no check failed, else 1.

use pricewatch_ops::cycle::{cycle, Cycle, CycleOptions, StepStatus};

use super::{with_services, Session};
use crate::cli::RunArgs;
use crate::error::ExitStatus;
use crate::print;

pub(super) fn run(session: &Session, args: RunArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("run")?;
    let env = &bundle.env;
    let options = CycleOptions {
        parallelism: args.parallelism.unwrap_or(env.settings.refresh.parallelism) as usize,
        spice_timeout_minutes: args.timeout,
        lease_wait: args.lease.wait,
    };
    let cycle = with_services(env, async |services| {
        Ok(cycle(&bundle, services, options, session.reporter.as_ref()).await)
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

fn text(cycle: &Cycle) -> String {
    let mut lines = vec!["== refresh".to_string()];
    if let Some(r) = &cycle.refresh {
        lines.push(print::refresh(r));
    }
    lines.push("== check".into());
    if let Some(c) = &cycle.checks {
        lines.push(print::checks(c));
    }
    lines.push("== dashboard".into());
    match &cycle.dashboard {
        Some(report) => lines.push(print::spice_refresh(&cycle.env, Some(report))),
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
