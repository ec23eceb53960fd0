//! An in-memory QuickSight for the reconciler's and the refresher's tests:
//! records every call, keeps assets, versions and permissions, and can be
//! told to fail a dashboard version, hit the ingestion limit, fail an
//! ingestion, or act like moto (no DescribeDataSet, no permission reads).

use std::collections::BTreeMap;
use std::sync::Mutex;

use pricewatch_core::dashboard::definition::parse;
use pricewatch_core::dashboard::quicksight::*;
use pricewatch_core::dashboard::spec::{self, version_description, Desired};

#[derive(Default)]
struct Dashboard {
    name: String,
    versions: Vec<DashboardState>,
    published: i64,
}

#[derive(Default)]
pub(super) struct State {
    calls: Vec<String>,
    data_sources: BTreeMap<String, DataSourceShape>,
    data_sets: BTreeMap<String, DataSetShape>,
    dashboards: BTreeMap<String, Dashboard>,
    permissions: BTreeMap<String, Permissions>,
    fail_next_version: Option<String>,
    /// Ingestion id → polls left before it ends, and how it ends.
    ingestions: BTreeMap<String, (usize, IngestionState)>,
}

#[derive(Default)]
pub(crate) struct FakeQuickSight {
    pub(super) state: Mutex<State>,
    pub(crate) cannot_describe_data_sets: bool,
    /// CreateIngestion answers LimitExceededException.
    pub(crate) ingestion_limit_reached: bool,
    /// Ingestions of this data set end FAILED.
    pub(crate) failing_data_set: Option<String>,
    /// Polls an ingestion stays RUNNING.
    pub(crate) ingestion_polls: usize,
}

fn key(asset: Asset<'_>) -> String {
    match asset {
        Asset::DataSource(id) => format!("datasource/{id}"),
        Asset::DataSet(id) => format!("dataset/{id}"),
        Asset::Dashboard(id) => format!("dashboard/{id}"),
    }
}

fn not_found(operation: &str, id: &str) -> AwsError {
    AwsError::new(operation, AwsErrorKind::NotFound, format!("{id} not found"))
}

impl FakeQuickSight {
    fn record(&self, call: impl Into<String>) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap();
        state.calls.push(call.into());
        state
    }

    /// Calls whose name contains `part` (`create`, `update_data_set`, ...).
    pub(crate) fn calls_named(&self, part: &str) -> usize {
        let state = self.state.lock().unwrap();
        state.calls.iter().filter(|c| c.contains(part)).count()
    }

    pub(crate) fn data_source(&self, id: &str) -> Option<DataSourceShape> {
        self.state.lock().unwrap().data_sources.get(id).cloned()
    }

    pub(crate) fn published_version(&self, id: &str) -> Option<i64> {
        let state = self.state.lock().unwrap();
        state.dashboards.get(id).map(|d| d.published)
    }

    pub(crate) fn fail_next_version(&self, error: &str) {
        self.state.lock().unwrap().fail_next_version = Some(error.into());
    }

    pub(crate) fn permissions_of(&self, asset: Asset<'_>) -> Permissions {
        let state = self.state.lock().unwrap();
        state
            .permissions
            .get(&key(asset))
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn set_permissions(&self, asset: Asset<'_>, change: impl FnOnce(&mut Permissions)) {
        let mut state = self.state.lock().unwrap();
        change(state.permissions.entry(key(asset)).or_default());
    }

    fn new_version(state: &mut State, id: &str, spec: &DashboardSpec) -> i64 {
        let failure = state.fail_next_version.take();
        let dashboard = state.dashboards.entry(id.to_string()).or_default();
        dashboard.name = spec.name.clone();
        let version = dashboard.versions.len() as i64 + 1;
        dashboard.versions.push(DashboardState {
            name: spec.name.clone(),
            version,
            status: if failure.is_some() {
                "CREATION_FAILED".into()
            } else {
                "CREATION_SUCCESSFUL".into()
            },
            description: Some(version_description(&spec.fingerprint)),
            errors: failure.into_iter().collect(),
        });
        version
    }
}

impl QuickSight for FakeQuickSight {
    async fn describe_data_source(&self, id: &str) -> AwsResult<Option<DataSourceShape>> {
        let state = self.record(format!("describe_data_source {id}"));
        Ok(state.data_sources.get(id).cloned())
    }

    async fn create_data_source(
        &self,
        spec: &DataSourceSpec,
        permissions: &Permissions,
    ) -> AwsResult<()> {
        let mut state = self.record(format!("create_data_source {}", spec.id));
        state
            .data_sources
            .insert(spec.id.clone(), spec.shape.clone());
        state
            .permissions
            .insert(key(Asset::DataSource(&spec.id)), permissions.clone());
        Ok(())
    }

    async fn update_data_source(&self, spec: &DataSourceSpec) -> AwsResult<()> {
        let mut state = self.record(format!("update_data_source {}", spec.id));
        match state.data_sources.get_mut(&spec.id) {
            Some(shape) => {
                *shape = spec.shape.clone();
                Ok(())
            }
            None => Err(not_found("UpdateDataSource", &spec.id)),
        }
    }

    async fn describe_data_set(&self, id: &str) -> AwsResult<Option<DataSetShape>> {
        let state = self.record(format!("describe_data_set {id}"));
        if self.cannot_describe_data_sets {
            return Err(AwsError::new(
                "quicksight:DescribeDataSet",
                AwsErrorKind::Unsupported,
                "the endpoint does not implement DescribeDataSet",
            ));
        }
        Ok(state.data_sets.get(id).cloned())
    }

    async fn create_data_set(
        &self,
        spec: &DataSetSpec,
        permissions: &Permissions,
    ) -> AwsResult<()> {
        let mut state = self.record(format!("create_data_set {}", spec.id));
        if state.data_sets.contains_key(&spec.id) {
            return Err(AwsError::new(
                "quicksight:CreateDataSet",
                AwsErrorKind::Conflict,
                format!("data set {} exists", spec.id),
            ));
        }
        state.data_sets.insert(spec.id.clone(), spec.shape.clone());
        state
            .permissions
            .insert(key(Asset::DataSet(&spec.id)), permissions.clone());
        Ok(())
    }

    async fn update_data_set(&self, spec: &DataSetSpec) -> AwsResult<()> {
        let mut state = self.record(format!("update_data_set {}", spec.id));
        match state.data_sets.get_mut(&spec.id) {
            Some(shape) => {
                *shape = spec.shape.clone();
                Ok(())
            }
            None => Err(not_found("UpdateDataSet", &spec.id)),
        }
    }

    async fn describe_dashboard(
        &self,
        id: &str,
        version: Option<i64>,
    ) -> AwsResult<Option<DashboardState>> {
        let state = self.record(format!("describe_dashboard {id}"));
        let Some(dashboard) = state.dashboards.get(id) else {
            return Ok(None);
        };
        let number = version.unwrap_or(dashboard.published);
        Ok(dashboard
            .versions
            .get((number - 1) as usize)
            .cloned()
            .map(|v| DashboardState {
                name: dashboard.name.clone(),
                ..v
            }))
    }

    async fn create_dashboard(
        &self,
        spec: &DashboardSpec,
        permissions: &Permissions,
    ) -> AwsResult<i64> {
        let mut state = self.record(format!("create_dashboard {}", spec.id));
        let version = Self::new_version(&mut state, &spec.id, spec);
        state.dashboards.get_mut(&spec.id).unwrap().published = version;
        state
            .permissions
            .insert(key(Asset::Dashboard(&spec.id)), permissions.clone());
        Ok(version)
    }

    async fn update_dashboard(&self, spec: &DashboardSpec) -> AwsResult<i64> {
        let mut state = self.record(format!("update_dashboard {}", spec.id));
        if !state.dashboards.contains_key(&spec.id) {
            return Err(not_found("UpdateDashboard", &spec.id));
        }
        Ok(Self::new_version(&mut state, &spec.id, spec))
    }

    async fn publish_dashboard_version(&self, id: &str, version: i64) -> AwsResult<()> {
        let mut state = self.record(format!("publish_dashboard_version {id} {version}"));
        let dashboard = state
            .dashboards
            .get_mut(id)
            .ok_or_else(|| not_found("UpdateDashboardPublishedVersion", id))?;
        dashboard.published = version;
        Ok(())
    }

    async fn permissions(&self, asset: Asset<'_>) -> AwsResult<Permissions> {
        let state = self.record(format!("permissions {}", key(asset)));
        if self.cannot_describe_data_sets && matches!(asset, Asset::DataSet(_)) {
            return Err(AwsError::new(
                "quicksight:DescribeDataSetPermissions",
                AwsErrorKind::Unsupported,
                "the endpoint does not implement DescribeDataSetPermissions",
            ));
        }
        Ok(state
            .permissions
            .get(&key(asset))
            .cloned()
            .unwrap_or_default())
    }

    async fn update_permissions(
        &self,
        asset: Asset<'_>,
        changes: &PermissionChanges,
    ) -> AwsResult<()> {
        let mut state = self.record(format!("update_permissions {}", key(asset)));
        let permissions = state.permissions.entry(key(asset)).or_default();
        for (principal, actions) in &changes.revoke {
            if let Some(have) = permissions.get_mut(principal) {
                have.retain(|a| !actions.contains(a));
                if have.is_empty() {
                    permissions.remove(principal);
                }
            }
        }
        for (principal, actions) in &changes.grant {
            permissions
                .entry(principal.clone())
                .or_default()
                .extend(actions.iter().cloned());
        }
        Ok(())
    }

    async fn create_ingestion(&self, data_set_id: &str, ingestion_id: &str) -> AwsResult<()> {
        let mut state = self.record(format!("create_ingestion {data_set_id}"));
        if self.ingestion_limit_reached {
            return Err(AwsError::new(
                "quicksight:CreateIngestion",
                AwsErrorKind::LimitExceeded,
                "You have reached the maximum number of refreshes for this dataset",
            ));
        }
        let failed = self.failing_data_set.as_deref() == Some(data_set_id);
        let end = IngestionState {
            status: if failed { "FAILED" } else { "COMPLETED" }.into(),
            error: failed.then(|| "CONNECTION_FAILURE: cannot reach the workgroup".into()),
            rows_ingested: (!failed).then_some(42),
        };
        state.ingestions.insert(
            format!("{data_set_id}/{ingestion_id}"),
            (self.ingestion_polls, end),
        );
        Ok(())
    }

    async fn describe_ingestion(
        &self,
        data_set_id: &str,
        ingestion_id: &str,
    ) -> AwsResult<IngestionState> {
        let mut state = self.record(format!("describe_ingestion {data_set_id}"));
        let (polls_left, end) = state
            .ingestions
            .get_mut(&format!("{data_set_id}/{ingestion_id}"))
            .ok_or_else(|| not_found("DescribeIngestion", ingestion_id))?;
        if *polls_left > 0 {
            *polls_left -= 1;
            return Ok(IngestionState {
                status: "RUNNING".into(),
                error: None,
                rows_ingested: None,
            });
        }
        Ok(end.clone())
    }
}

/// The dev env with one dashboard viewer (a group) and one owner (a user).
pub(crate) fn env_for_tests() -> pricewatch_core::config::Environment {
    let mut env = pricewatch_core::config::Environments::new(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../.."
    )))
    .load("dev")
    .unwrap();
    env.settings.quicksight.principals =
        vec!["arn:aws:quicksight:eu-west-1:111111111111:group/default/analysts".into()];
    env.settings.quicksight.owners =
        vec!["arn:aws:quicksight:eu-west-1:111111111111:user/default/ops".into()];
    env
}

/// A small desired state: two data sets, one viewer, one owner.
pub(crate) fn desired_for_tests() -> Desired {
    let env = env_for_tests();
    let definition = parse(
        r#"{"name": "Pricing",
            "data_sets": [
              {"id": "prices", "model": "gold.price_evolution", "columns": [{"name": "item", "type": "STRING"}]},
              {"id": "scores", "model": "gold.vendor_scorecard", "columns": [{"name": "vendor", "type": "STRING"}]}
            ],
            "sheets": [{"id": "s", "title": "S", "visuals": []}]}"#,
    )
    .unwrap();
    spec::desired(
        &env,
        &definition,
        Connection::Postgres {
            host: "127.0.0.1".into(),
            port: 5432,
            database: "pricewatch".into(),
        },
        None,
    )
}
