//! `pricewatch check`: runs the env's data-quality checks in one warehouse
//! statement, prints the outcome, writes JUnit, and publishes each value and
//! failure flag to CloudWatch and the results to the warehouse history.
//! Exit 0 nothing failed, 1 a check failed (or warned, with
//! `--fail-on-warn`, or publishing failed), 2 the checks could not run.

use anyhow::Context as _;
use pricewatch_core::checks::evaluate::junit;
use pricewatch_ops::checks_run::{self as run, run_checks};
use pricewatch_ops::warehouse::lease::LeaseError;

use super::{with_services, Session};
use crate::cli::CheckArgs;
use crate::error::{ChecksNotRun, ExitStatus, UsageError};
use crate::print;

pub(super) fn run(session: &Session, args: CheckArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("check")?;
    let env = &bundle.env;
    let checks = run::select(&bundle.checks, &args.select).map_err(UsageError)?;
    let publish = !args.no_publish;
    let reporter = session.reporter.as_ref();
    let report = with_services(env, async |services| {
        services
            .holding_lease("check", args.lease.wait, reporter, async {
                run_checks(&bundle, services, &checks, publish, reporter).await
            })
            .await
    })
    .map_err(|e| {
        let busy = matches!(
            e.downcast_ref::<LeaseError>(),
            Some(LeaseError::Busy { .. })
        );
        if busy || e.downcast_ref::<ChecksNotRun>().is_some() {
            // Busy: another run holds the warehouse; exit 1 naming it.
            e
        } else {
            // No credentials or the wrong account: the checks did not run either.
            e.context(ChecksNotRun)
        }
    })?;
    if let Some(path) = &args.junit {
        std::fs::write(
            path,
            junit(&env.name, &report.checks, args.fail_on_warn, report.seconds),
        )
        .with_context(|| format!("cannot write the JUnit file {}", path.display()))?;
        session
            .reporter
            .info(&format!("wrote JUnit results to {}", path.display()));
    }
    session.printer.result(|| print::checks(&report), &report);
    Ok(if report.needs_action(args.fail_on_warn) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
