//! `pricewatch status`: the env's stacks and what to do about stuck ones.

use std::time::Duration;

use super::{with_engine, Session};
use crate::deploy::{Options, StatusReport, Target};
use crate::error::ExitStatus;

pub fn run(session: &Session) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("status")?;
    let env = &bundle.env;
    let options = Options::for_env(env, Duration::from_secs(60));
    let no_artifacts = Default::default();
    let target = Target {
        env,
        bundle: &bundle,
        artifacts: &no_artifacts,
    };
    let report = with_engine(session, env, &options, async |engine| {
        Ok(engine.status(&target).await?)
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
        "{:<12} {:<28} {:<22} {:<10} {}",
        "stack", "name", "status", "drift", "last update"
    )];
    for s in &report.stacks {
        lines.push(format!(
            "{:<12} {:<28} {:<22} {:<10} {}{}",
            s.stack,
            s.stack_name,
            s.status,
            s.drift.as_deref().unwrap_or("-"),
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
