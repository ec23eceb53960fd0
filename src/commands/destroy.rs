//! `pricewatch destroy`: deletes the env's stacks, last wave first.

use std::time::Duration;

use super::{with_engine, Session};
use crate::cli::DestroyArgs;
use crate::error::{ExitStatus, UsageError};
use crate::print;
use pricewatch_ops::deploy::{Options, Target};

pub(super) fn run(session: &Session, args: DestroyArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("destroy")?;
    let env = &bundle.env;
    if !args.yes {
        return Err(UsageError(format!(
            "`destroy` deletes every stack of env `{}`; confirm with --yes",
            env.name
        ))
        .into());
    }
    if env.settings.deploy.protect_stacks && !args.i_mean_prod {
        return Err(UsageError(format!(
            "env `{}` is protected (deploy.protect_stacks); destroying it also needs --i-mean-prod",
            env.name
        ))
        .into());
    }
    let options = Options::for_env(env, Duration::from_secs(3600));
    let no_artifacts = Default::default();
    let target = Target {
        env,
        bundle: &bundle,
        artifacts: &no_artifacts,
    };
    let report = with_engine(session, env, &options, async |engine, _| {
        Ok(engine.destroy(&target, args.force).await)
    })?;
    session.printer.result(
        || print::stacks(&report, "destroyed", &session.elapsed()),
        &report,
    );
    Ok(if report.ok() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
