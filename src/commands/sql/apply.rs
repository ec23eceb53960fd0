//! `pricewatch sql apply`: brings the warehouse's models to the rendered
//! ones, as the owner and holding the warehouse lease; `--bootstrap` sets
//! the warehouse up as an administrator; `--dry-run` prints the plan.

use serde::Serialize;

use super::super::{with_services, Session};
use crate::cli::SqlApplyArgs;
use crate::error::{ExitStatus, UsageError};
use pricewatch_ops::sql_apply;
use pricewatch_ops::warehouse::apply::{self, ApplyPlan, ModelAction};

#[derive(Serialize)]
struct Applied<'a> {
    env: &'a str,
    dry_run: bool,
    plan: &'a ApplyPlan,
    /// Why the plan is refused (dry run only; a real run exits with the error).
    refused: Option<String>,
    statements: Vec<Statement<'a>>,
}

#[derive(Serialize)]
struct Statement<'a> {
    context: &'a str,
    sql: &'a str,
}

#[derive(Serialize)]
struct Bootstrapped<'a> {
    env: &'a str,
    bootstrapped: bool,
    statements: &'a [String],
}

pub(super) fn run(session: &Session, args: SqlApplyArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("sql apply")?;
    let env = &bundle.env;
    let unknown = apply::unknown_models(&bundle, &args.allow_replace);
    if !unknown.is_empty() {
        return Err(UsageError(format!(
            "--allow-replace names no model: {} (models: {})",
            unknown.join(", "),
            bundle
                .models
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    }
    if args.bootstrap {
        return bootstrap(session, &bundle);
    }
    let reporter = session.reporter.as_ref();
    let outcome = with_services(env, async |services| {
        if args.dry_run {
            sql_apply::dry_run(services, &bundle, &args.allow_replace).await
        } else {
            let applied = sql_apply::apply(
                services,
                &bundle,
                &args.allow_replace,
                args.lease.wait,
                reporter,
            )
            .await?;
            Ok((applied, None))
        }
    })?;
    let ((plan, statements), refused) = outcome;
    for name in &args.allow_replace {
        if !plan.stateful_drops().contains(&name.as_str()) {
            reporter.warn(&format!(
                "--allow-replace {name}: the plan does not drop {name}, so the flag changes nothing"
            ));
        }
    }
    let result = Applied {
        env: &env.name,
        dry_run: args.dry_run,
        plan: &plan,
        refused: refused.clone(),
        statements: statements
            .iter()
            .map(|(context, sql)| Statement { context, sql })
            .collect(),
    };
    session.printer.result(
        || {
            text(
                &env.name,
                args.dry_run,
                &plan,
                &statements,
                refused.as_deref(),
                &session.elapsed(),
            )
        },
        &result,
    );
    Ok(if refused.is_some() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn bootstrap(
    session: &Session,
    bundle: &pricewatch_core::bundle::Bundle,
) -> anyhow::Result<ExitStatus> {
    let env = &bundle.env;
    let statements = with_services(env, async |services| {
        sql_apply::bootstrap_as_admin(services, bundle).await
    })?;
    session.printer.result(
        || {
            format!(
                "env {}: warehouse bootstrapped ({} statement(s)): roles {}, owner {}{}\nnext: `pricewatch sql apply --env {}` as a deployer",
                env.name,
                statements.len(),
                env.names().roles(env.dialect()).all().join(", "),
                env.names().roles(env.dialect()).owner_user,
                session.elapsed(),
                env.name
            )
        },
        &Bootstrapped {
            env: &env.name,
            bootstrapped: true,
            statements: &statements,
        },
    );
    Ok(ExitStatus::Success)
}

fn action_label(action: ModelAction) -> &'static str {
    match action {
        ModelAction::Create => "create",
        ModelAction::Recreate => "recreate",
        ModelAction::ReplaceStateful => "replace-stateful",
        ModelAction::Comment => "comment",
        ModelAction::Unchanged => "unchanged",
        ModelAction::Remove => "remove",
        ModelAction::RemoveStateful => "remove-stateful",
    }
}

fn text(
    env: &str,
    dry_run: bool,
    plan: &ApplyPlan,
    statements: &[(String, String)],
    refused: Option<&str>,
    elapsed: &str,
) -> String {
    let mut lines = Vec::new();
    if dry_run {
        lines.push(format!("{:<18} {:<36} why", "action", "model"));
        for step in &plan.steps {
            lines.push(
                format!(
                    "{:<18} {:<36} {}",
                    action_label(step.action),
                    step.model,
                    step.why.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_string(),
            );
        }
        for (context, sql) in statements {
            lines.push(format!("-- {context}\n{}", sql.trim_end()));
        }
    }
    if let Some(refused) = refused {
        lines.push(format!("REFUSED: {refused}"));
    }
    let verb = if dry_run { "would create" } else { "created" };
    lines.push(format!(
        "env {env}: {verb} {} model(s) ({} dropped first), {} removed, {} re-described, {} unchanged{elapsed}",
        plan.create.len(),
        plan.drop.len(),
        plan.removed.len(),
        plan.commented.len(),
        plan.unchanged.len(),
    ));
    lines.join("\n")
}
