//! `pricewatch dashboard publish | refresh`: the QuickSight dashboard of an
//! env. Publish reconciles the data source, data sets, dashboard and
//! permissions with `templates/dashboard.json.tera`; refresh runs SPICE
//! ingestions. Exit 0 done (or nothing to do), 1 something failed.

use std::time::Duration;

use pricewatch_core::config::ImportMode;
use pricewatch_ops::dashboard::publish;
use pricewatch_ops::dashboard::reconcile::{AssetAction, PermissionStatus, PublishReport};
use pricewatch_ops::dashboard::refresh::RefreshReport;
use pricewatch_ops::dashboard::spice::spice_refresh;
use serde::Serialize;

use super::{with_services, Session};
use crate::cli::{DashboardArgs, DashboardCommand, DashboardPublishArgs, DashboardRefreshArgs};
use crate::error::ExitStatus;
use crate::print;

pub(super) fn run(session: &Session, args: DashboardArgs) -> anyhow::Result<ExitStatus> {
    match args.command {
        DashboardCommand::Publish(args) => publish(session, args),
        DashboardCommand::Refresh(args) => refresh(session, args),
    }
}

#[derive(Serialize)]
struct PublishResult<'a> {
    env: &'a str,
    dashboard_id: &'a str,
    #[serde(flatten)]
    report: &'a PublishReport,
}

fn publish(session: &Session, args: DashboardPublishArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("dashboard publish")?;
    let env = &bundle.env;
    let (desired, report) = with_services(env, async |services| {
        publish::publish(
            services,
            &bundle,
            Duration::from_secs(args.timeout * 60),
            args.dry_run,
            session.reporter.as_ref(),
        )
        .await
    })?;
    let not_checked: Vec<String> = report
        .permissions
        .iter()
        .filter(|p| matches!(p.status, PermissionStatus::NotChecked { .. }))
        .map(|p| format!("{} {}", p.kind, p.id))
        .collect();
    if !not_checked.is_empty() {
        session.reporter.warn(&format!(
            "permissions not checked (the endpoint cannot describe them) for: {}",
            not_checked.join(", ")
        ));
    }
    let result = PublishResult {
        env: &env.name,
        dashboard_id: &desired.dashboard.id,
        report: &report,
    };
    session.printer.result(
        || publish_text(&env.name, &report, &session.elapsed()),
        &result,
    );
    Ok(ExitStatus::Success)
}

fn publish_text(env: &str, report: &PublishReport, elapsed: &str) -> String {
    let verb = |action: AssetAction| match (report.dry_run, action) {
        (false, AssetAction::Create) => "created",
        (false, AssetAction::Update) => "updated",
        (false, AssetAction::Write) => "written",
        (true, AssetAction::Create) => "would create",
        (true, AssetAction::Update) => "would update",
        (true, AssetAction::Write) => "would write",
        (_, AssetAction::Unchanged) => "unchanged",
    };
    let mut lines = Vec::new();
    for change in &report.changes {
        // A blind write's reason is the same for every data set: said once below.
        let detail = change
            .detail
            .as_ref()
            .filter(|_| change.action != AssetAction::Write);
        lines.push(format!(
            "{:<12} {:<44} {}{}",
            change.kind,
            change.id,
            verb(change.action),
            detail.map(|d| format!(" ({d})")).unwrap_or_default()
        ));
    }
    if let Some(reason) = report
        .changes
        .iter()
        .find(|c| c.action == AssetAction::Write)
        .and_then(|c| c.detail.as_ref())
    {
        lines.push(format!("note: {reason}"));
    }
    for p in &report.permissions {
        let status = match &p.status {
            PermissionStatus::SetOnCreate | PermissionStatus::Unchanged => continue,
            PermissionStatus::Changed { changes } => format!(
                "{}: {} principal(s) granted, {} revoked",
                if report.dry_run {
                    "would change"
                } else {
                    "changed"
                },
                changes.grant.len(),
                changes.revoke.len()
            ),
            // Warned about on stderr (see `publish`).
            PermissionStatus::NotChecked { .. } => continue,
        };
        lines.push(format!("permissions of {} {}: {status}", p.kind, p.id));
    }
    let mut summary = format!(
        "env {env}: {} created, {} updated, {} unchanged",
        report.count(AssetAction::Create),
        report.count(AssetAction::Update),
        report.count(AssetAction::Unchanged)
    );
    if report.count(AssetAction::Write) > 0 {
        summary.push_str(&format!(", {} written", report.count(AssetAction::Write)));
    }
    if report.dry_run {
        summary.push_str(" (dry run: nothing was changed)");
    }
    if let Some(version) = report.published_version {
        summary.push_str(&format!("; dashboard version {version} published"));
    }
    lines.push(format!("{summary}{elapsed}"));
    lines.join("\n")
}

#[derive(Serialize)]
struct RefreshResult<'a> {
    env: &'a str,
    import_mode: ImportMode,
    /// None when the env reads the warehouse live.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh: Option<&'a RefreshReport>,
}

fn refresh(session: &Session, args: DashboardRefreshArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("dashboard refresh")?;
    let env = &bundle.env;
    let mode = env.settings.quicksight.import_mode;
    let report = if mode == ImportMode::DirectQuery {
        None
    } else {
        with_services(env, async |services| {
            spice_refresh(&bundle, services, args.timeout, session.reporter.as_ref()).await
        })?
    };
    let result = RefreshResult {
        env: &env.name,
        import_mode: mode,
        refresh: report.as_ref(),
    };
    session
        .printer
        .result(|| print::spice_refresh(&env.name, report.as_ref()), &result);
    Ok(if report.as_ref().is_none_or(RefreshReport::succeeded) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
