//! How operations reach an env: its AWS [`Context`] (each client built on
//! first use, the account checked before any), the warehouse stack's
//! outputs read once, sessions on the warehouse, the administrator's
//! session, and the warehouse lease.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

// The administrator's session (feature `bootstrap`) needs these only.
#[cfg(feature = "bootstrap")]
use {
    anyhow::Context as _,
    pricewatch_aws::{redshift_serverless, secrets},
    pricewatch_core::cloud::Login,
};

use pricewatch_aws::{Context, RedshiftDataApi};
use pricewatch_core::cloud::stacks::Stacks as _;
use pricewatch_core::config::{Dialect, Environment};
use pricewatch_core::reporter::Reporter;

use crate::warehouse::lease::{self, LeaseOptions};
use crate::warehouse::postgres::{self, Postgres};
use crate::warehouse::redshift::{Limits, Redshift};
use crate::warehouse::{Statements, WarehouseError};

/// One command's (or invocation's) reach into its env.
pub struct Services<'a> {
    pub env: &'a Environment,
    pub aws: &'a Context,
    outputs: tokio::sync::OnceCell<WarehouseOutputs>,
}

impl<'a> Services<'a> {
    pub fn new(env: &'a Environment, aws: &'a Context) -> Services<'a> {
        Services {
            env,
            aws,
            outputs: tokio::sync::OnceCell::new(),
        }
    }

    /// The warehouse stack's outputs, read on first use only.
    pub(crate) async fn warehouse_outputs(&self) -> anyhow::Result<&WarehouseOutputs> {
        self.outputs
            // Boxed: SDK futures are deep, and every command awaits this one.
            .get_or_try_init(|| Box::pin(WarehouseOutputs::read(self.env, self.aws)))
            .await
    }

    /// `count` sessions on the env's warehouse, one per concurrent
    /// statement. Redshift's workgroup and database come from the
    /// warehouse stack; PostgreSQL needs no AWS call.
    pub async fn connect(&self, count: usize) -> anyhow::Result<Vec<Warehouse>> {
        let count = count.max(1);
        match self.env.dialect() {
            Dialect::Postgres => {
                let url = postgres_url(self.env)?;
                let mut sessions = Vec::with_capacity(count);
                for _ in 0..count {
                    sessions.push(Warehouse::Postgres(
                        Postgres::connect(&url, &self.env.settings.timeouts).await?,
                    ));
                }
                Ok(sessions)
            }
            Dialect::Redshift => {
                let api = self.data_api().await?;
                let outputs = self.warehouse_outputs().await?;
                let (workgroup, database) =
                    (outputs.get("WorkgroupName")?, outputs.get("Database")?);
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

    /// One session on the env's warehouse.
    pub async fn connect_one(&self) -> anyhow::Result<Warehouse> {
        Ok(self.connect(1).await?.remove(0))
    }

    async fn data_api(&self) -> anyhow::Result<RedshiftDataApi> {
        let outputs = self.warehouse_outputs().await?;
        Ok(RedshiftDataApi::new(
            self.aws.redshift_data().await?.clone(),
            &outputs.get("WorkgroupName")?,
            &outputs.get("Database")?,
        ))
    }

    /// A session as the warehouse's administrator, for `sql apply
    /// --bootstrap`, and the login the bootstrap sets up for QuickSight
    /// (Redshift): the URL's user on PostgreSQL; on Redshift the namespace
    /// admin, through the secret Redshift keeps for it.
    #[cfg(feature = "bootstrap")]
    pub(crate) async fn connect_admin(&self) -> anyhow::Result<(Warehouse, Option<Login>)> {
        match self.env.dialect() {
            Dialect::Postgres => Ok((self.connect_one().await?, None)),
            Dialect::Redshift => {
                let outputs = self.warehouse_outputs().await?;
                let (workgroup, database) =
                    (outputs.get("WorkgroupName")?, outputs.get("Database")?);
                let admin_secret = redshift_serverless::admin_secret_arn(
                    self.aws.redshift_serverless().await?,
                    &outputs.get("NamespaceName")?,
                )
                .await?;
                let login = secrets::login(
                    self.aws.secrets().await?,
                    &outputs.get("QuickSightSecretArn")?,
                )
                .await
                .context("reading QuickSight's database login (the warehouse stack's secret)")?;
                let api = self.data_api().await?.with_secret(&admin_secret);
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

    /// Runs `work` holding the env's warehouse lease (taken on a session of
    /// its own, waiting up to `wait` for another holder).
    pub async fn holding_lease<T>(
        &self,
        command: &str,
        wait: Duration,
        reporter: &dyn Reporter,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let session = self.connect_one().await?;
        let log = |message: &str| reporter.info(message);
        lease::with_lease(&session, command, LeaseOptions::new(wait), &log, work).await?
    }
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

/// The env's PostgreSQL URL; an error naming both places to set it.
pub(crate) fn postgres_url(env: &Environment) -> anyhow::Result<String> {
    postgres::database_url(env).ok_or_else(|| {
        anyhow::anyhow!(
            "env `{}` names no PostgreSQL database: set {} or warehouse.postgres_url",
            env.name,
            postgres::DATABASE_URL_VARIABLE
        )
    })
}

/// The outputs of the env's deployed warehouse stack.
pub(crate) struct WarehouseOutputs {
    env: String,
    stack: String,
    outputs: BTreeMap<String, String>,
}

impl WarehouseOutputs {
    async fn read(env: &Environment, aws: &Context) -> anyhow::Result<WarehouseOutputs> {
        let stack = env.names().stack("warehouse");
        let state = aws.stacks().await?.describe(&stack).await?.ok_or_else(|| {
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

    pub(crate) fn get(&self, key: &str) -> anyhow::Result<String> {
        self.outputs.get(key).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "stack {} has no output {key}: run `pricewatch deploy --env {}` first",
                self.stack,
                self.env
            )
        })
    }
}
