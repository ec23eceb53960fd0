//! Text printers more than one command uses: a plan, a stack table, a
//! refresh, a check run and a SPICE refresh are printed alike by their own
//! command and by the commands that include them (`deploy` previews its
//! plan, `destroy` prints the stack table, `run` prints all three steps).
//! A printer only one command uses stays in that command's module, and no
//! command imports another (`scripts/module-cycles.py` checks it).

use pricewatch_core::checks::evaluate::{format_value, CheckStatus};
use pricewatch_core::clusters::CLUSTERS_TABLE;
use pricewatch_ops::checks_run::Report;
use pricewatch_ops::dashboard::refresh::{IngestionResult, RefreshReport};
use pricewatch_ops::deploy::{DeployReport, PlanFile, StackAction, StackOutcome};
use pricewatch_ops::refresh_run::Refreshed;
use pricewatch_ops::warehouse::refresh::RefreshStatus;

/// The plan of a deploy: per stack its action and resource changes.
pub(crate) fn plan(plan: &PlanFile) -> String {
    let mut lines = vec![format!(
        "env {} (account {}, {})",
        plan.env, plan.account_id, plan.region
    )];
    let count = |action: StackAction| plan.stacks.iter().filter(|s| s.action == action).count();
    for stack in &plan.stacks {
        let action = match stack.action {
            StackAction::Create => "create",
            StackAction::Update => "update",
            StackAction::Unchanged => "unchanged",
            StackAction::Blocked => "BLOCKED",
        };
        let detail = match stack.action {
            StackAction::Create | StackAction::Update => {
                format!("{} resource change(s)", stack.changes.len())
            }
            _ => String::new(),
        };
        lines.push(format!("  {:<12} {:<10} {detail}", stack.name, action));
        for change in &stack.changes {
            let sign = match change.action.as_str() {
                "Add" => "+",
                "Remove" => "-",
                _ => "~",
            };
            lines.push(format!("      {sign} {change}"));
        }
        for refusal in &stack.refusals {
            lines.push(format!(
                "      ! refused: {refusal} (allow with --allow-replace)"
            ));
        }
        if let Some(note) = &stack.note {
            lines.push(format!("      note: {note}"));
        }
    }
    lines.push(format!(
        "Plan: {} to create, {} to update, {} unchanged{}.",
        count(StackAction::Create),
        count(StackAction::Update),
        count(StackAction::Unchanged),
        match count(StackAction::Blocked) {
            0 => String::new(),
            n => format!(", {n} blocked"),
        }
    ));
    lines.join("\n")
}

/// The per-stack table and a one-line summary (`elapsed`: ` in 12.3s`).
pub(crate) fn stacks(report: &DeployReport, verb: &str, elapsed: &str) -> String {
    let mut lines = vec![format!(
        "{:<12} {:<11} {:>8}",
        "stack", "outcome", "seconds"
    )];
    for stack in &report.stacks {
        lines.push(format!(
            "{:<12} {:<11} {:>8.1}",
            stack.stack,
            pricewatch_ops::deploy::engine_outcome_text(stack.outcome),
            stack.seconds
        ));
        if let Some(detail) = &stack.detail {
            for line in detail.lines() {
                lines.push(format!("    {line}"));
            }
        }
    }
    let count = |o: StackOutcome| report.stacks.iter().filter(|s| s.outcome == o).count();
    let summary = if report.ok() {
        format!(
            "{verb} env {}: {} created, {} updated, {} deleted, {} unchanged",
            report.env,
            count(StackOutcome::Created),
            count(StackOutcome::Updated),
            count(StackOutcome::Deleted),
            count(StackOutcome::Unchanged)
        )
    } else {
        format!(
            "env {} FAILED: {} failed, {} not started (see above)",
            report.env,
            count(StackOutcome::Failed),
            count(StackOutcome::NotStarted)
        )
    };
    lines.push(format!("{summary}{elapsed}"));
    lines.join("\n")
}

/// A refresh run: per model its status and time.
pub(crate) fn refresh(report: &Refreshed) -> String {
    let mut lines: Vec<String> = report
        .loaded
        .iter()
        .map(|(stream, count)| format!("loaded {count} record(s) from {stream}"))
        .collect();
    lines.push(format!("{:<28} {:<10} {:>8}", "model", "status", "seconds"));
    for m in &report.models {
        let status = match m.status {
            RefreshStatus::Refreshed => "refreshed",
            RefreshStatus::Failed => "FAILED",
            RefreshStatus::Skipped => "skipped",
        };
        lines.push(format!("{:<28} {:<10} {:>8.3}", m.model, status, m.seconds));
        if let Some(detail) = &m.detail {
            lines.push(format!("    {detail}"));
        }
    }
    if let Some(c) = &report.clusters {
        lines.push(format!(
            "{}: {} item(s) in {} cluster(s) in {:.3}s",
            CLUSTERS_TABLE, c.items, c.clusters, c.seconds
        ));
    }
    let count = |s: RefreshStatus| report.models.iter().filter(|m| m.status == s).count();
    lines.push(format!(
        "env {}: {} refreshed, {} failed, {} skipped in {:.3}s ({} at once)",
        report.env,
        count(RefreshStatus::Refreshed),
        count(RefreshStatus::Failed),
        count(RefreshStatus::Skipped),
        report.seconds,
        report.parallelism
    ));
    lines.join("\n")
}

/// A check run: per check its observed value and status.
pub(crate) fn checks(report: &Report) -> String {
    let mut lines = vec![format!(
        "{:<30} {:>12}  {:<18} {:<18} {}",
        "check", "observed", "warn when", "fail when", "status"
    )];
    for o in &report.checks {
        let status = match o.status {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
        };
        lines.push(format!(
            "{:<30} {:>12}  {:<18} {:<18} {status}",
            o.check,
            format_value(o.observed),
            o.warn,
            o.fail
        ));
        if o.status != CheckStatus::Pass {
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

/// The SPICE refresh in words; None: the env has nothing to refresh.
pub(crate) fn spice_refresh(env: &str, report: Option<&RefreshReport>) -> String {
    let Some(report) = report else {
        return format!(
            "env {env}: the dashboard queries the warehouse directly (DIRECT_QUERY); no SPICE data set to refresh"
        );
    };
    let mut lines: Vec<String> = report
        .data_sets
        .iter()
        .map(|d| {
            let result = match d.result {
                IngestionResult::Completed => "completed",
                IngestionResult::Failed => "FAILED",
                IngestionResult::Cancelled => "CANCELLED",
                IngestionResult::LimitReached => "LIMIT REACHED",
                IngestionResult::AlreadyRunning => "ALREADY RUNNING",
                IngestionResult::TimedOut => "TIMED OUT",
            };
            let mut line = format!("{:<44} {result}", d.data_set);
            if let Some(rows) = d.rows_ingested {
                line.push_str(&format!(" ({rows} rows)"));
            }
            if let Some(message) = &d.message {
                line.push_str(&format!("\n    {message}"));
            }
            line
        })
        .collect();
    let ok = report.succeeded();
    lines.push(format!(
        "env {env}: SPICE ingestion {} {}",
        report.ingestion_id,
        if ok {
            "completed for every data set"
        } else {
            "did not complete for every data set (see above)"
        }
    ));
    lines.join("\n")
}
