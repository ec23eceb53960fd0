//! The QuickSight interface the dashboard reconciler needs, as plain data
//! and a trait. `aws/quicksight.rs` implements it with the SDK; tests use
//! the operations' fake.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::definition::{ColumnType, Definition};
pub use crate::cloud::{AwsError, AwsErrorKind, AwsResult};
/// `DIRECT_QUERY` reads the warehouse live; `SPICE` imports on refresh.
pub use crate::config::ImportMode;

/// Principal ARN → the actions granted to it.
pub type Permissions = BTreeMap<String, BTreeSet<String>>;

/// How QuickSight reaches the warehouse.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "engine", rename_all = "snake_case")]
pub enum Connection {
    /// Redshift Serverless: the workgroup endpoint inside the VPC, through a
    /// QuickSight VPC connection.
    Redshift {
        host: String,
        port: i32,
        database: String,
        vpc_connection_arn: String,
    },
    /// The local PostgreSQL (trust authentication on loopback: no secret).
    Postgres {
        host: String,
        port: i32,
        database: String,
    },
}

/// What a data source is, as far as pricewatch manages it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSourceShape {
    pub name: String,
    pub connection: Connection,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSourceSpec {
    pub id: String,
    pub arn: String,
    pub shape: DataSourceShape,
    /// The Secrets Manager secret holding the database credentials (Redshift).
    /// QuickSight never returns credentials, so this is written on every
    /// create and update but not compared.
    pub secret_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSetShape {
    pub name: String,
    pub import_mode: ImportMode,
    pub data_source_arn: String,
    pub schema: String,
    pub table: String,
    pub columns: Vec<(String, ColumnType)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSetSpec {
    /// The short id visuals use (`price_evolution`).
    pub key: String,
    /// The QuickSight DataSetId (`pricewatch-dev-price_evolution`).
    pub id: String,
    pub arn: String,
    pub shape: DataSetShape,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardSpec {
    pub id: String,
    pub name: String,
    pub definition: Definition,
    /// Data set key → ARN, declared in the definition.
    pub data_set_arns: BTreeMap<String, String>,
    /// Short hash of everything above; stored as the version description,
    /// so "changed?" is one DescribeDashboard.
    pub fingerprint: String,
}

/// A dashboard version as DescribeDashboard reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardState {
    pub name: String,
    pub version: i64,
    /// `CREATION_SUCCESSFUL`, `CREATION_IN_PROGRESS`, `CREATION_FAILED`, ...
    pub status: String,
    pub description: Option<String>,
    pub errors: Vec<String>,
}

/// Which asset a permission call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset<'a> {
    DataSource(&'a str),
    DataSet(&'a str),
    Dashboard(&'a str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct IngestionState {
    /// `INITIALIZED`, `QUEUED`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`.
    pub status: String,
    pub error: Option<String>,
    pub rows_ingested: Option<i64>,
}

/// Grants and revocations that turn actual permissions into desired ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PermissionChanges {
    pub grant: Permissions,
    pub revoke: Permissions,
}

impl PermissionChanges {
    pub fn is_empty(&self) -> bool {
        self.grant.is_empty() && self.revoke.is_empty()
    }
}

#[allow(async_fn_in_trait)]
pub trait QuickSight {
    async fn describe_data_source(&self, id: &str) -> AwsResult<Option<DataSourceShape>>;
    async fn create_data_source(
        &self,
        spec: &DataSourceSpec,
        permissions: &Permissions,
    ) -> AwsResult<()>;
    async fn update_data_source(&self, spec: &DataSourceSpec) -> AwsResult<()>;

    async fn describe_data_set(&self, id: &str) -> AwsResult<Option<DataSetShape>>;
    /// A `Conflict` error when the data set exists.
    async fn create_data_set(&self, spec: &DataSetSpec, permissions: &Permissions)
        -> AwsResult<()>;
    async fn update_data_set(&self, spec: &DataSetSpec) -> AwsResult<()>;

    /// The latest version, or the given one.
    async fn describe_dashboard(
        &self,
        id: &str,
        version: Option<i64>,
    ) -> AwsResult<Option<DashboardState>>;
    /// Returns the new version number.
    async fn create_dashboard(
        &self,
        spec: &DashboardSpec,
        permissions: &Permissions,
    ) -> AwsResult<i64>;
    /// Creates a new version; returns its number.
    async fn update_dashboard(&self, spec: &DashboardSpec) -> AwsResult<i64>;
    async fn publish_dashboard_version(&self, id: &str, version: i64) -> AwsResult<()>;

    async fn permissions(&self, asset: Asset<'_>) -> AwsResult<Permissions>;
    async fn update_permissions(
        &self,
        asset: Asset<'_>,
        changes: &PermissionChanges,
    ) -> AwsResult<()>;

    async fn create_ingestion(&self, data_set_id: &str, ingestion_id: &str) -> AwsResult<()>;
    async fn describe_ingestion(
        &self,
        data_set_id: &str,
        ingestion_id: &str,
    ) -> AwsResult<IngestionState>;
}
