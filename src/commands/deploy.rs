//! `pricewatch deploy`: applies the env's stacks (or a reviewed plan).

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use anyhow::Context as _;

use super::{with_engine, Session};
use crate::cli::DeployArgs;
use crate::error::{ExitStatus, UsageError};
use pricewatch_ops::deploy::{DeployReport, Options, PlanFile, StackOutcome, Target};

pub(super) fn run(session: &Session, args: DeployArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("deploy")?;
    let artifacts = session.artifacts(&bundle, args.artifacts.artifacts.as_deref())?;
    let env = &bundle.env;
    let plan = match &args.plan {
        Some(path) => Some(read_plan(path, &env.name)?),
        None => None,
    };
    let interactive = std::io::stdin().is_terminal();
    if !args.yes && !interactive {
        return Err(UsageError(format!(
            "refusing to deploy env `{}` without --yes when not on a terminal (nobody can confirm)",
            env.name
        ))
        .into());
    }
    let options = Options {
        allow_replace: args.artifacts.allow_replace.clone(),
        recover: args.recover,
        ..Options::for_env(env, Duration::from_secs(args.timeout * 60))
    };
    let target = Target {
        env,
        bundle: &bundle,
        artifacts: &artifacts,
    };
    let report = with_engine(session, env, &options, async |engine, _| {
        if !args.yes {
            let preview = match &plan {
                Some(plan) => plan.clone(),
                None => engine.plan(&target, false).await?,
            };
            let mut answer = Ok(true);
            session.reporter.suspended(&mut || {
                eprintln!("{}", super::plan::plan_text(&preview));
                answer = if preview.has_changes() {
                    confirm(&format!(
                        "Deploy env {} to account {}?",
                        env.name, env.settings.account_id
                    ))
                } else {
                    eprintln!("Nothing to deploy.");
                    Ok(true)
                };
            });
            if !answer? {
                anyhow::bail!("deploy cancelled; nothing was changed");
            }
        }
        let planned = plan.as_ref().map(|p| p.stacks.as_slice());
        Ok(engine.deploy(&target, planned).await)
    })?;
    session.printer.result(
        || report_text(&report, "deployed", &session.elapsed()),
        &report,
    );
    Ok(if report.ok() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn read_plan(path: &std::path::Path, env: &str) -> anyhow::Result<PlanFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read plan {}", path.display()))?;
    let plan: PlanFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a pricewatch plan", path.display()))?;
    if plan.env != env {
        return Err(UsageError(format!(
            "plan {} is for env `{}`, not `{env}`",
            path.display(),
            plan.env
        ))
        .into());
    }
    Ok(plan)
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// The per-stack table and a one-line summary (`elapsed`: ` in 12.3s`).
pub(super) fn report_text(report: &DeployReport, verb: &str, elapsed: &str) -> String {
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
