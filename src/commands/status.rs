//! `pricewatch status`: the env's stacks and what to do about stuck ones;
//! `--detect-drift` checks each deployed stack against its template first.

use std::time::Duration;

use super::{with_engine, Session};
use crate::cli::StatusArgs;
use crate::deploy::{Options, StatusReport, Target};
use crate::error::ExitStatus;

pub fn run(session: &Session, args: StatusArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("status")?;
    let env = &bundle.env;
    let options = Options::for_env(env, Duration::from_secs(args.drift_timeout * 60));
    let no_artifacts = Default::default();
    let target = Target {
        env,
        bundle: &bundle,
        artifacts: &no_artifacts,
    };
    let report = with_engine(session, env, &options, async |engine| {
        let mut report = engine.status(&target).await?;
        if args.detect_drift {
            engine.detect_drift(&mut report).await?;
        }
        Ok(report)
    })?;
    session.printer.result(|| status_text(&report), &report);
    Ok(if report.healthy() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn status_text(report: &StatusReport) -> String {
    let mut lines = vec![format!(
        "{:<12} {:<28} {:<22} {:<21} {}",
        "stack", "name", "status", "drift", "last update"
    )];
    for s in &report.stacks {
        lines.push(format!(
            "{:<12} {:<28} {:<22} {:<21} {}{}",
            s.stack,
            s.stack_name,
            s.status,
            drift_column(s),
            s.last_updated.as_deref().unwrap_or("-"),
            if s.termination_protection {
                "  [protected]"
            } else {
                ""
            }
        ));
        if let Some(failure) = &s.failure {
            lines.push(format!("    last failure: {failure}"));
        }
        if let Some(note) = &s.drift_note {
            lines.push(format!("    drift: {note}"));
        }
        if let Some(next) = &s.next {
            lines.push(format!("    next: {next}"));
        }
    }
    lines.push(if report.healthy() {
        format!("env {}: all stacks deployed and stable", report.env)
    } else {
        format!("env {}: needs action (see `next` above)", report.env)
    });
    lines.join("\n")
}

/// `DRIFTED (2)`: the drift status, with the number of drifted resources
/// after a detection.
fn drift_column(stack: &crate::deploy::StackStatus) -> String {
    match (stack.drift.as_deref(), stack.drifted_resources) {
        (Some("DRIFTED"), Some(n)) => format!("DRIFTED ({n})"),
        (Some(drift), _) => drift.to_string(),
        (None, _) => "-".into(),
    }
}
