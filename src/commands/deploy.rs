//! `pricewatch deploy`: applies the env's stacks (or a reviewed plan).

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use anyhow::Context as _;

use super::{with_engine, Session};
use crate::cli::DeployArgs;
use crate::error::{ExitStatus, UsageError};
use crate::print;
use pricewatch_ops::deploy::{Options, PlanFile, Target};

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
                eprintln!("{}", print::plan(&preview));
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
        || print::stacks(&report, "deployed", &session.elapsed()),
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
