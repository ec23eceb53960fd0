//! `pricewatch plan`: what deploy would change, per stack.

use anyhow::Context as _;

use super::{with_engine, Session};
use crate::cli::PlanArgs;
use crate::error::ExitStatus;
use pricewatch_ops::deploy::{Options, PlanFile, StackAction, Target};

pub(super) fn run(session: &Session, args: PlanArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("plan")?;
    let artifacts = session.artifacts(&bundle, args.artifacts.artifacts.as_deref())?;
    let env = &bundle.env;
    let options = Options {
        allow_replace: args.artifacts.allow_replace.clone(),
        ..Options::for_env(env, std::time::Duration::from_secs(600))
    };
    let target = Target {
        env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let plan = with_engine(session, env, &options, async |engine, _| {
        Ok(engine.plan(&target, args.out.is_some()).await?)
    })?;
    if let Some(path) = &args.out {
        let json = serde_json::to_string_pretty(&plan).expect("plans serialize");
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        session.reporter.info(&format!(
            "plan written to {}; apply it with `pricewatch deploy --env {} --plan {}`",
            path.display(),
            env.name,
            path.display()
        ));
    }
    session.printer.result(|| plan_text(&plan), &plan);
    Ok(if plan.has_blocked() {
        ExitStatus::Failure
    } else if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

pub(super) fn plan_text(plan: &PlanFile) -> String {
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
