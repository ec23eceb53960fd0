//! What the dashboard reads the warehouse with, and the SPICE ingestions
//! after a refresh.

use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use pricewatch_aws::QuickSightApi;
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::{Dialect, ImportMode};
use pricewatch_core::dashboard::quicksight::Connection;
use pricewatch_core::dashboard::spec;
use pricewatch_core::reporter::Reporter;

use super::refresh::{self, RefreshReport};
use crate::checks_run::RunId;
use crate::services::{postgres_url, Services};
use crate::wait::Polling;

/// QuickSight's port to Redshift Serverless.
const REDSHIFT_PORT: i32 = 5439;

/// How QuickSight reaches the env's warehouse, and the secret with its
/// credentials (none for the local PostgreSQL, which trusts loopback).
pub(crate) async fn warehouse_access(
    services: &Services<'_>,
) -> anyhow::Result<(Connection, Option<String>)> {
    let env = services.env;
    match env.dialect() {
        Dialect::Postgres => {
            let url = postgres_url(env)?;
            let config = tokio_postgres::Config::from_str(&url).with_context(|| {
                format!("env `{}`: the PostgreSQL URL does not parse", env.name)
            })?;
            let host = match config.get_hosts().first() {
                Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
                _ => anyhow::bail!(
                    "env `{}`: the PostgreSQL URL names no TCP host QuickSight could reach",
                    env.name
                ),
            };
            Ok((
                Connection::Postgres {
                    host,
                    port: config.get_ports().first().copied().unwrap_or(5432).into(),
                    database: config
                        .get_dbname()
                        .map(str::to_string)
                        .or_else(|| config.get_user().map(str::to_string))
                        .unwrap_or_else(|| "postgres".into()),
                },
                None,
            ))
        }
        Dialect::Redshift => {
            let outputs = services.warehouse_outputs().await?;
            let vpc_connection_arn =
                outputs.get("QuickSightVpcConnectionArn").with_context(|| {
                    format!(
                    "QuickSight reaches the private workgroup through a VPC connection, which the \
                     warehouse stack creates when env `{}` sets warehouse.subnet_ids and \
                     warehouse.security_group_ids",
                    env.name
                )
                })?;
            Ok((
                Connection::Redshift {
                    host: outputs.get("WorkgroupEndpoint")?,
                    port: REDSHIFT_PORT,
                    database: outputs.get("Database")?,
                    vpc_connection_arn,
                },
                // QuickSight's own read-only login, never the admin's.
                Some(outputs.get("QuickSightSecretArn")?),
            ))
        }
    }
}

/// SPICE ingestion of every data set, waited for up to `timeout_minutes`;
/// None for an env whose dashboard queries the warehouse directly.
pub async fn spice_refresh(
    bundle: &Bundle,
    services: &Services<'_>,
    timeout_minutes: u64,
    reporter: &dyn Reporter,
) -> anyhow::Result<Option<RefreshReport>> {
    let env = &bundle.env;
    if env.settings.quicksight.import_mode == ImportMode::DirectQuery {
        return Ok(None);
    }
    let data_sets = spec::data_sets(env, &bundle.dashboard);
    let ingestion_id = format!("pricewatch-{}", RunId::now().id);
    let api = QuickSightApi::new(
        services.aws.quicksight().await?.clone(),
        &env.settings.account_id,
    );
    let polling = Polling::standard(Duration::from_secs(timeout_minutes * 60));
    let report = refresh::refresh(&api, &data_sets, &ingestion_id, polling, reporter)
        .await
        .with_context(|| format!("dashboard refresh for env `{}` failed", env.name))?;
    Ok(Some(report))
}
