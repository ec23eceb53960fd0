//! `pricewatch plan`: what deploy would change, per stack.

use anyhow::Context as _;

use super::{with_engine, Session};
use crate::cli::PlanArgs;
use crate::error::ExitStatus;
use crate::print;
use pricewatch_ops::deploy::{Options, Target};

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
    session.printer.result(|| print::plan(&plan), &plan);
    Ok(if plan.has_blocked() {
        ExitStatus::Failure
    } else if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
