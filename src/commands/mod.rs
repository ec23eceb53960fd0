//! One module per command. Each takes the resolved global settings and its
//! own arguments and returns an [`ExitStatus`]; errors carry context for
//! the user and are classified into exit codes in `main`.

mod backfill;
mod check;
mod dashboard;
mod deploy;
mod destroy;
mod docs;
mod explain_check;
mod ingest;
mod package;
mod plan;
mod refresh;
mod render;
mod report;
mod run;
mod sql;
mod status;
mod validate;

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use pricewatch_aws::{CfnStacks, Context, S3Objects};
use pricewatch_core::bundle::Bundle;
use pricewatch_core::catalog::Facts;
use pricewatch_core::config::{Environment, Environments};
use pricewatch_ops::deploy::artifacts::{self, Artifact};
use pricewatch_ops::deploy::{Engine, Options};
use pricewatch_ops::services::Services;
use pricewatch_ops::warehouse::Statements;

use crate::cli::{Cli, Command, OutputFormat};
use crate::error::{ExitStatus, UsageError};
use crate::output::{Printer, ProgressReporter, Reporter, StderrReporter};

/// What every command gets: the project, where results and logs go, and the env asked for.
pub(crate) struct Session {
    pub project_dir: PathBuf,
    pub env_name: Option<String>,
    pub(crate) printer: Printer,
    pub reporter: Box<dyn Reporter>,
    pub started: Instant,
}

impl Session {
    fn from_cli(cli: &Cli) -> Session {
        let g = &cli.global;
        let level = if g.quiet { 0 } else { 1 + g.verbose };
        // A spinner only for a person at a terminal: never in CI logs, quiet
        // or JSON runs, or with --no-progress.
        let spinner = !g.no_progress
            && !g.quiet
            && g.output == OutputFormat::Text
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none();
        let (reporter, progress): (Box<dyn Reporter>, _) = if spinner {
            let reporter = ProgressReporter::new(level);
            let bar = reporter.bar();
            (Box::new(reporter), Some(bar))
        } else {
            (Box::new(StderrReporter { level }), None)
        };
        Session {
            project_dir: g.project_dir.clone(),
            env_name: g.env.clone(),
            printer: Printer {
                format: g.output,
                progress,
            },
            reporter,
            started: Instant::now(),
        }
    }

    /// Reads the facts; a warehouse that does not answer is a warning, not a
    /// failure: the catalog is useful without it.
    pub(crate) async fn catalog_facts(&self, warehouse: &impl Statements) -> Option<Facts> {
        match pricewatch_ops::catalog_facts::facts(warehouse).await {
            Ok(facts) => Some(facts),
            Err(e) => {
                self.reporter.warn(&format!(
                    "the catalog has no column types or check results: {e}"
                ));
                None
            }
        }
    }

    /// ` in 12.3s`: the command's wall time, for summaries.
    pub(crate) fn elapsed(&self) -> String {
        format!(" in {:.1}s", self.started.elapsed().as_secs_f64())
    }

    pub(crate) fn environments(&self) -> Environments {
        Environments::new(&self.project_dir)
    }

    /// The env named by `--env`; a usage error (listing the envs) when missing.
    pub(crate) fn env_name(&self, command: &str) -> anyhow::Result<&str> {
        match &self.env_name {
            Some(name) => Ok(name),
            None => {
                let available = self.environments().list().unwrap_or_default();
                Err(UsageError(format!(
                    "`pricewatch {command}` needs --env <NAME>; environments: {}",
                    if available.is_empty() {
                        "none found".into()
                    } else {
                        available.join(", ")
                    }
                ))
                .into())
            }
        }
    }

    /// Loads the env and renders it: every input is checked here, before
    /// any AWS call.
    pub(crate) fn load_bundle(&self, command: &str) -> anyhow::Result<Bundle> {
        let env = self.load_env(command)?;
        Ok(pricewatch_core::bundle::load(&self.project_dir, &env)?)
    }

    /// Packs the artifacts the bundle's stacks need from `dir` (default
    /// `build/artifacts`).
    pub(crate) fn artifacts(
        &self,
        bundle: &Bundle,
        dir: Option<&Path>,
    ) -> anyhow::Result<BTreeMap<String, Artifact>> {
        let dir = dir.map_or_else(
            || self.project_dir.join("build/artifacts"),
            Path::to_path_buf,
        );
        Ok(artifacts::collect(bundle, &dir, &self.project_dir)?)
    }

    /// Loads and validates the env named by `--env`.
    pub(crate) fn load_env(&self, command: &str) -> anyhow::Result<Environment> {
        let name = self.env_name(command)?;
        self.environments()
            .load(name)
            .with_context(|| format!("cannot load env `{name}`"))
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let session = Session::from_cli(&cli);
    match cli.command {
        Command::Render(args) => render::run(&session, args),
        Command::Validate(args) => validate::run(&session, args),
        Command::Plan(args) => plan::run(&session, args),
        Command::Deploy(args) => deploy::run(&session, args),
        Command::Destroy(args) => destroy::run(&session, args),
        Command::Status(args) => status::run(&session, args),
        Command::Ingest(args) => ingest::run(&session, args),
        Command::Backfill(args) => backfill::run(&session, args),
        Command::Package(args) => package::run(&session, args),
        Command::Sql(args) => sql::run(&session, args),
        Command::Refresh(args) => refresh::run(&session, args),
        Command::Check(args) => check::run(&session, args),
        Command::ExplainCheck(args) => explain_check::run(&session, args),
        Command::Dashboard(args) => dashboard::run(&session, args),
        Command::Report(args) => report::run(&session, args),
        Command::Docs(args) => docs::run(&session, args),
        Command::Run(args) => run::run(&session, args),
    }
}

/// Runs the deploy engine with the env's AWS clients (account checked first).
pub(crate) fn with_engine<T>(
    session: &Session,
    env: &Environment,
    options: &Options,
    work: impl AsyncFnOnce(&Engine<'_, CfnStacks, S3Objects>, &Services<'_>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_services(env, async |services| {
        let engine = Engine::new(
            services.aws.stacks().await?,
            services.aws.objects().await?,
            session.reporter.as_ref(),
            options,
        );
        work(&engine, services).await
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs async work with the env's services: AWS clients are built on
/// first use, after the account check (so work that makes no AWS call, like
/// the local env's PostgreSQL, needs no credentials, and no AWS call can
/// skip the check); the warehouse stack is read at most once.
pub(crate) fn with_services<T>(
    env: &Environment,
    work: impl AsyncFnOnce(&Services<'_>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    runtime()?.block_on(async {
        let aws = Context::for_env(env).await;
        work(&Services::new(env, &aws)).await
    })
}
