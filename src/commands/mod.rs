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

use crate::aws::{self, CfnStacks, Clients, RedshiftDataApi, S3Objects};
use crate::cli::{Cli, Command, OutputFormat};
use crate::config::{Dialect, Environment, Environments};
use crate::deploy::api::Stacks as _;
use crate::deploy::artifacts::{self, Artifact};
use crate::deploy::{Engine, Options};
use crate::error::{ExitStatus, UsageError};
use crate::output::{Printer, ProgressReporter, Reporter, StderrReporter};
use crate::render::Bundle;
use crate::warehouse::lease::{self, LeaseOptions};
use crate::warehouse::postgres::{self, Postgres};
use crate::warehouse::redshift::{Limits, Redshift};
use crate::warehouse::{Statements, WarehouseError};

/// What every command gets: the project, where results and logs go, and the env asked for.
pub struct Session {
    pub project_dir: PathBuf,
    pub env_name: Option<String>,
    pub printer: Printer,
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

    /// ` in 12.3s`: the command's wall time, for summaries.
    pub fn elapsed(&self) -> String {
        format!(" in {:.1}s", self.started.elapsed().as_secs_f64())
    }

    pub fn environments(&self) -> Environments {
        Environments::new(&self.project_dir)
    }

    /// The env named by `--env`; a usage error (listing the envs) when missing.
    pub fn env_name(&self, command: &str) -> anyhow::Result<&str> {
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
    pub fn load_bundle(&self, command: &str) -> anyhow::Result<Bundle> {
        let env = self.load_env(command)?;
        Ok(crate::render::render(&self.project_dir, &env)?)
    }

    /// Packs the artifacts the bundle's stacks need from `dir` (default
    /// `build/artifacts`).
    pub fn artifacts(
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
    pub fn load_env(&self, command: &str) -> anyhow::Result<Environment> {
        let name = self.env_name(command)?;
        self.environments()
            .load(name)
            .with_context(|| format!("cannot load env `{name}`"))
    }
}

pub use run::{cycle, Cycle, CycleOptions};

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
pub fn with_engine<T>(
    session: &Session,
    env: &Environment,
    options: &Options,
    work: impl AsyncFnOnce(&Engine<'_, CfnStacks, S3Objects>, &Clients) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_aws(env, async |clients| {
        let engine = Engine::new(
            &clients.stacks,
            &clients.objects,
            session.reporter.as_ref(),
            options,
        );
        work(&engine, clients).await
    })
}

/// The env's warehouse: PostgreSQL (`local`) or Redshift Serverless
/// through the Data API.
pub enum Warehouse {
    Postgres(Postgres),
    Redshift(Redshift<RedshiftDataApi>),
}

impl Statements for Warehouse {
    fn dialect(&self) -> Dialect {
        match self {
            Warehouse::Postgres(_) => Dialect::Postgres,
            Warehouse::Redshift(_) => Dialect::Redshift,
        }
    }

    async fn execute(&self, context: &str, sql: &str) -> Result<(), WarehouseError> {
        match self {
            Warehouse::Postgres(w) => w.execute(context, sql).await,
            Warehouse::Redshift(w) => w.execute(context, sql).await,
        }
    }

    async fn query(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, WarehouseError> {
        match self {
            Warehouse::Postgres(w) => w.query(context, sql).await,
            Warehouse::Redshift(w) => w.query(context, sql).await,
        }
    }
}

/// Runs async work on the env's warehouse. Redshift envs check the
/// account first; PostgreSQL needs no AWS call.
pub fn with_warehouse<T>(
    env: &Environment,
    work: impl AsyncFnOnce(&Warehouse) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_clients(env, env.dialect() == Dialect::Redshift, async |clients| {
        let warehouse = connect_warehouses(env, clients, 1).await?.remove(0);
        work(&warehouse).await
    })
}

/// The env's PostgreSQL URL; an error naming both places to set it.
pub fn postgres_url(env: &Environment) -> anyhow::Result<String> {
    postgres::database_url(env).ok_or_else(|| {
        anyhow::anyhow!(
            "env `{}` names no PostgreSQL database: set {} or warehouse.postgres_url",
            env.name,
            postgres::DATABASE_URL_VARIABLE
        )
    })
}

/// `count` sessions on the env's warehouse, one per concurrent statement.
/// Redshift's workgroup and database come from the warehouse stack.
pub async fn connect_warehouses(
    env: &Environment,
    clients: &Clients,
    count: usize,
) -> anyhow::Result<Vec<Warehouse>> {
    let count = count.max(1);
    match env.dialect() {
        Dialect::Postgres => {
            let url = postgres_url(env)?;
            let mut sessions = Vec::with_capacity(count);
            for _ in 0..count {
                sessions.push(Warehouse::Postgres(Postgres::connect(&url).await?));
            }
            Ok(sessions)
        }
        Dialect::Redshift => {
            let outputs = WarehouseOutputs::read(env, clients).await?;
            let (workgroup, database) = (outputs.get("WorkgroupName")?, outputs.get("Database")?);
            let api = RedshiftDataApi::new(clients.redshift_data.clone(), &workgroup, &database);
            Ok((0..count)
                .map(|_| {
                    Warehouse::Redshift(Redshift::new(
                        api.clone(),
                        &workgroup,
                        &database,
                        Limits::standard(),
                    ))
                })
                .collect())
        }
    }
}

/// A session as the warehouse's administrator, for `sql apply --bootstrap`,
/// and the login the bootstrap sets up for QuickSight (Redshift): the URL's
/// user on PostgreSQL; on Redshift the namespace admin, through the secret
/// Redshift keeps for it.
pub async fn connect_admin(
    env: &Environment,
    clients: &Clients,
) -> anyhow::Result<(Warehouse, Option<crate::warehouse::bootstrap::Login>)> {
    match env.dialect() {
        Dialect::Postgres => Ok((connect_warehouses(env, clients, 1).await?.remove(0), None)),
        Dialect::Redshift => {
            let outputs = WarehouseOutputs::read(env, clients).await?;
            let (workgroup, database) = (outputs.get("WorkgroupName")?, outputs.get("Database")?);
            let admin_secret = aws::redshift_serverless::admin_secret_arn(
                &clients.redshift_serverless,
                &outputs.get("NamespaceName")?,
            )
            .await?;
            let login = aws::secrets::login(&clients.secrets, &outputs.get("QuickSightSecretArn")?)
                .await
                .context("reading QuickSight's database login (the warehouse stack's secret)")?;
            let api = RedshiftDataApi::new(clients.redshift_data.clone(), &workgroup, &database)
                .with_secret(&admin_secret);
            Ok((
                Warehouse::Redshift(Redshift::new(
                    api,
                    &workgroup,
                    &database,
                    Limits::standard(),
                )),
                Some(login),
            ))
        }
    }
}

/// Runs `work` holding the env's warehouse lease (taken on a session of its
/// own, waiting up to `wait` for another holder).
pub async fn holding_lease<T>(
    env: &Environment,
    clients: &Clients,
    command: &str,
    wait: std::time::Duration,
    reporter: &dyn Reporter,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let session = connect_warehouses(env, clients, 1).await?.remove(0);
    let log = |message: &str| reporter.info(message);
    lease::with_lease(&session, command, LeaseOptions::new(wait), &log, work).await?
}

/// The outputs of the env's deployed warehouse stack.
pub struct WarehouseOutputs {
    env: String,
    stack: String,
    outputs: BTreeMap<String, String>,
}

impl WarehouseOutputs {
    pub async fn read(env: &Environment, clients: &Clients) -> anyhow::Result<WarehouseOutputs> {
        let stack = env.names().stack("warehouse");
        let state = clients.stacks.describe(&stack).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "stack {stack} does not exist: run `pricewatch deploy --env {}` first",
                env.name
            )
        })?;
        Ok(WarehouseOutputs {
            env: env.name.clone(),
            stack,
            outputs: state.outputs,
        })
    }

    pub fn get(&self, key: &str) -> anyhow::Result<String> {
        self.outputs.get(key).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "stack {} has no output {key}: run `pricewatch deploy --env {}` first",
                self.stack,
                self.env
            )
        })
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs async AWS work: builds the clients and checks the account first.
pub fn with_aws<T>(
    env: &Environment,
    work: impl AsyncFnOnce(&Clients) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_clients(env, true, work)
}

/// Runs async work with the env's clients; `uses_aws` checks the account
/// first (work that makes no AWS call needs no credentials).
pub fn with_clients<T>(
    env: &Environment,
    uses_aws: bool,
    work: impl AsyncFnOnce(&Clients) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    runtime()?.block_on(async {
        let clients = Clients::new(env).await;
        if uses_aws {
            aws::guard_account(&clients.identity, env).await?;
        }
        work(&clients).await
    })
}
