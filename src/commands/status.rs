//! `pricewatch status`: the env's stacks and what to do about stuck ones,
//! and who holds the warehouse lease; `--detect-drift` checks each deployed
//! stack against its template first.

use std::time::Duration;

use serde::Serialize;

use super::{with_engine, Session};
use crate::cli::StatusArgs;
use crate::error::ExitStatus;
use pricewatch_ops::deploy::{Options, StatusReport, Target};
use pricewatch_ops::services::Services;
use pricewatch_ops::warehouse::lease::{self, Holder};

#[derive(Serialize)]
struct Status {
    #[serde(flatten)]
    stacks: StatusReport,
    /// Who holds the warehouse lease (None: nobody).
    lease: Option<Holder>,
    /// Why the lease could not be read, if it could not.
    lease_unknown: Option<String>,
}

/// The warehouse lease, or why it cannot be read (status reports, never fails on it).
async fn lease_state(services: &Services<'_>) -> Result<Option<Holder>, String> {
    let warehouse = services
        .connect(1)
        .await
        .map_err(|e| format!("{e:#}"))?
        .remove(0);
    lease::current(&warehouse).await.map_err(|e| e.to_string())
}

pub(super) fn run(session: &Session, args: StatusArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("status")?;
    let env = &bundle.env;
    let options = Options::for_env(env, Duration::from_secs(args.drift_timeout * 60));
    let no_artifacts = Default::default();
    let target = Target {
        env,
        bundle: &bundle,
        artifacts: &no_artifacts,
    };
    let (report, lease) = with_engine(session, env, &options, async |engine, services| {
        let mut report = engine.status(&target).await?;
        if args.detect_drift {
            engine.detect_drift(&mut report).await?;
        }
        Ok((report, lease_state(services).await))
    })?;
    let status = Status {
        stacks: report,
        lease_unknown: lease.as_ref().err().cloned(),
        lease: lease.ok().flatten(),
    };
    session.printer.result(|| status_text(&status), &status);
    let report = &status.stacks;
    Ok(if report.healthy() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn status_text(status: &Status) -> String {
    let report = &status.stacks;
    let mut lines = vec![format!(
        "{:<12} {:<28} {:<22} {:<21} {}",
        "stack", "name", "status", "drift", "last update"
    )];
    let mut last_note: Option<&String> = None;
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
        // The same reason for every stack (an endpoint without drift
        // detection) is said once.
        if let Some(note) = s.drift_note.as_ref().filter(|n| Some(*n) != last_note) {
            lines.push(format!("    drift: {note}"));
        }
        last_note = s.drift_note.as_ref().or(last_note);
        if let Some(next) = &s.next {
            lines.push(format!("    next: {next}"));
        }
    }
    lines.push(match (&status.lease, &status.lease_unknown) {
        (Some(h), _) if h.expired => format!(
            "warehouse lease: expired lease of {} (`{}` since {} UTC); the next run takes it over",
            h.holder, h.command, h.acquired_at
        ),
        (Some(h), _) => format!(
            "warehouse lease: held by {} for `{}` since {} UTC, until {} UTC",
            h.holder, h.command, h.acquired_at, h.expires_at
        ),
        (None, Some(why)) => format!("warehouse lease: unknown ({why})"),
        (None, None) => "warehouse lease: free".into(),
    });
    lines.push(if report.healthy() {
        format!("env {}: all stacks deployed and stable", report.env)
    } else {
        format!(
            "env {}: needs action (see `next` and `drift` above)",
            report.env
        )
    });
    lines.join("\n")
}

/// `DRIFTED (2)`: the drift status, with the number of drifted resources
/// after a detection.
fn drift_column(stack: &pricewatch_ops::deploy::StackStatus) -> String {
    match (stack.drift.as_deref(), stack.drifted_resources) {
        (Some("DRIFTED"), Some(n)) => format!("DRIFTED ({n})"),
        (Some(drift), _) => drift.to_string(),
        (None, _) => "-".into(),
    }
}
