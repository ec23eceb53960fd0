//! `dashboard publish`: makes QuickSight match the desired assets. Each
//! asset is described first; what is missing is created, what differs is
//! updated, what is equal is left alone, and permissions are brought to the
//! env's principals (grants and revocations). Dashboard changes become a new
//! version that is published once QuickSight has built it.

use serde::Serialize;

use super::DashboardError;
use crate::wait::Polling;
use pricewatch_core::dashboard::quicksight::{
    Asset, AwsError, AwsErrorKind, DashboardSpec, PermissionChanges, Permissions, QuickSight,
};
use pricewatch_core::dashboard::spec::{version_description, Desired};
use pricewatch_core::reporter::Reporter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetAction {
    Create,
    Update,
    Unchanged,
    /// The endpoint cannot describe this kind of asset (moto and data sets):
    /// it is written without comparing.
    Write,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// `data source`, `data set` or `dashboard`.
    pub kind: &'static str,
    pub id: String,
    pub action: AssetAction,
    /// What differs, or why it was written blind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PermissionStatus {
    /// Set with the create call.
    SetOnCreate,
    Unchanged,
    Changed {
        changes: PermissionChanges,
    },
    /// The endpoint cannot read this asset's permissions.
    NotChecked {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PermissionOutcome {
    pub kind: &'static str,
    pub id: String,
    #[serde(flatten)]
    pub status: PermissionStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishReport {
    pub dry_run: bool,
    pub changes: Vec<Change>,
    pub permissions: Vec<PermissionOutcome>,
    /// The dashboard version now published, when this run made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_version: Option<i64>,
}

impl PublishReport {
    pub fn count(&self, action: AssetAction) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }
}

/// Create when missing, update when different (naming what differs).
pub(crate) fn decide<T: Serialize + PartialEq>(
    desired: &T,
    actual: Option<&T>,
) -> (AssetAction, Option<String>) {
    match actual {
        None => (AssetAction::Create, None),
        Some(actual) if actual == desired => (AssetAction::Unchanged, None),
        Some(actual) => (AssetAction::Update, Some(differences(desired, actual))),
    }
}

/// The top-level fields whose values differ, e.g. `changed: connection, name`.
fn differences<T: Serialize>(desired: &T, actual: &T) -> String {
    let (desired, actual) = (
        serde_json::to_value(desired).expect("specs serialize"),
        serde_json::to_value(actual).expect("specs serialize"),
    );
    let fields: Vec<&str> = match (desired.as_object(), actual.as_object()) {
        (Some(d), Some(a)) => d
            .iter()
            .filter(|(k, v)| a.get(*k) != Some(v))
            .map(|(k, _)| k.as_str())
            .collect(),
        _ => vec![],
    };
    format!("changed: {}", fields.join(", "))
}

/// The dashboard's published version either holds this definition or not.
pub(crate) fn decide_dashboard(
    desired: &DashboardSpec,
    actual: Option<&pricewatch_core::dashboard::quicksight::DashboardState>,
) -> (AssetAction, Option<String>) {
    let Some(actual) = actual else {
        return (AssetAction::Create, None);
    };
    let mut reasons = Vec::new();
    if actual.description.as_deref() != Some(&version_description(&desired.fingerprint)) {
        reasons.push("definition".to_string());
    }
    if actual.name != desired.name {
        reasons.push("name".to_string());
    }
    if actual.status != "CREATION_SUCCESSFUL" {
        reasons.push(format!(
            "published version {} is {}",
            actual.version, actual.status
        ));
    }
    if reasons.is_empty() {
        (AssetAction::Unchanged, None)
    } else {
        (
            AssetAction::Update,
            Some(format!("changed: {}", reasons.join(", "))),
        )
    }
}

/// Grants for what is missing, revocations for what is extra.
pub(crate) fn permission_changes(desired: &Permissions, actual: &Permissions) -> PermissionChanges {
    let mut changes = PermissionChanges::default();
    for (principal, actions) in desired {
        let missing: std::collections::BTreeSet<String> = match actual.get(principal) {
            Some(have) => actions.difference(have).cloned().collect(),
            None => actions.clone(),
        };
        if !missing.is_empty() {
            changes.grant.insert(principal.clone(), missing);
        }
    }
    for (principal, actions) in actual {
        let extra: std::collections::BTreeSet<String> = match desired.get(principal) {
            Some(want) => actions.difference(want).cloned().collect(),
            None => actions.clone(),
        };
        if !extra.is_empty() {
            changes.revoke.insert(principal.clone(), extra);
        }
    }
    changes
}

pub(crate) struct Publisher<'a, Q> {
    pub api: &'a Q,
    pub reporter: &'a dyn Reporter,
    pub(crate) polling: Polling,
    pub dry_run: bool,
}

impl<Q: QuickSight> Publisher<'_, Q> {
    pub(crate) async fn publish(&self, desired: &Desired) -> Result<PublishReport, DashboardError> {
        let mut report = PublishReport {
            dry_run: self.dry_run,
            changes: Vec::new(),
            permissions: Vec::new(),
            published_version: None,
        };
        self.data_source(desired, &mut report).await?;
        for data_set in &desired.data_sets {
            self.data_set(desired, data_set, &mut report).await?;
        }
        self.dashboard(desired, &mut report).await?;
        Ok(report)
    }

    async fn data_source(
        &self,
        desired: &Desired,
        report: &mut PublishReport,
    ) -> Result<(), DashboardError> {
        let spec = &desired.data_source;
        let actual = self.api.describe_data_source(&spec.id).await?;
        let (action, detail) = decide(&spec.shape, actual.as_ref());
        if !self.dry_run {
            match action {
                AssetAction::Create => {
                    self.reporter
                        .info(&format!("creating data source {}", spec.id));
                    self.api
                        .create_data_source(spec, &desired.data_source_permissions)
                        .await?;
                }
                AssetAction::Update => {
                    self.reporter
                        .info(&format!("updating data source {}", spec.id));
                    self.api.update_data_source(spec).await?;
                }
                AssetAction::Unchanged | AssetAction::Write => {}
            }
        }
        self.record(
            report,
            Change {
                kind: "data source",
                id: spec.id.clone(),
                action,
                detail,
            },
            Asset::DataSource(&spec.id),
            &desired.data_source_permissions,
        )
        .await
    }

    async fn data_set(
        &self,
        desired: &Desired,
        spec: &pricewatch_core::dashboard::quicksight::DataSetSpec,
        report: &mut PublishReport,
    ) -> Result<(), DashboardError> {
        let (action, detail) = match self.api.describe_data_set(&spec.id).await {
            Ok(actual) => decide(&spec.shape, actual.as_ref()),
            Err(e) if e.kind == AwsErrorKind::Unsupported => (
                AssetAction::Write,
                Some("the endpoint cannot describe data sets: written without comparing".into()),
            ),
            Err(e) => return Err(e.into()),
        };
        if !self.dry_run {
            match action {
                AssetAction::Create => {
                    self.reporter
                        .info(&format!("creating data set {}", spec.id));
                    self.api
                        .create_data_set(spec, &desired.data_set_permissions)
                        .await?;
                }
                AssetAction::Update => {
                    self.reporter
                        .info(&format!("updating data set {}", spec.id));
                    self.api.update_data_set(spec).await?;
                }
                AssetAction::Write => {
                    self.reporter.info(&format!("writing data set {}", spec.id));
                    match self
                        .api
                        .create_data_set(spec, &desired.data_set_permissions)
                        .await
                    {
                        Err(e) if e.kind == AwsErrorKind::Conflict => {
                            self.api.update_data_set(spec).await?
                        }
                        other => other?,
                    }
                }
                AssetAction::Unchanged => {}
            }
        }
        self.record(
            report,
            Change {
                kind: "data set",
                id: spec.id.clone(),
                action,
                detail,
            },
            Asset::DataSet(&spec.id),
            &desired.data_set_permissions,
        )
        .await
    }

    async fn dashboard(
        &self,
        desired: &Desired,
        report: &mut PublishReport,
    ) -> Result<(), DashboardError> {
        let spec = &desired.dashboard;
        let actual = self.api.describe_dashboard(&spec.id, None).await?;
        let (action, detail) = decide_dashboard(spec, actual.as_ref());
        if !self.dry_run {
            match action {
                AssetAction::Create => {
                    self.reporter
                        .info(&format!("creating dashboard {}", spec.id));
                    let version = self
                        .api
                        .create_dashboard(spec, &desired.dashboard_permissions)
                        .await?;
                    // The first version is published by its creation.
                    self.wait_for_version(&spec.id, version).await?;
                    report.published_version = Some(version);
                }
                AssetAction::Update => {
                    self.reporter
                        .info(&format!("updating dashboard {}", spec.id));
                    let version = self.api.update_dashboard(spec).await?;
                    self.wait_for_version(&spec.id, version).await?;
                    self.api
                        .publish_dashboard_version(&spec.id, version)
                        .await?;
                    self.reporter.info(&format!(
                        "published version {version} of dashboard {}",
                        spec.id
                    ));
                    report.published_version = Some(version);
                }
                AssetAction::Unchanged | AssetAction::Write => {}
            }
        }
        self.record(
            report,
            Change {
                kind: "dashboard",
                id: spec.id.clone(),
                action,
                detail,
            },
            Asset::Dashboard(&spec.id),
            &desired.dashboard_permissions,
        )
        .await
    }

    /// Waits until QuickSight has built a dashboard version; a failed build
    /// is an error listing QuickSight's reasons.
    async fn wait_for_version(&self, id: &str, version: i64) -> Result<(), DashboardError> {
        let mut poller = self.polling.start();
        loop {
            let state = self.api.describe_dashboard(id, Some(version)).await?;
            match state {
                Some(state) if state.status == "CREATION_SUCCESSFUL" => return Ok(()),
                Some(state) if state.status.ends_with("_FAILED") => {
                    return Err(DashboardError::VersionFailed {
                        id: id.to_string(),
                        version,
                        errors: state.errors,
                    })
                }
                _ => {}
            }
            if !poller.next().await {
                return Err(DashboardError::Timeout {
                    what: format!("version {version} of dashboard {id}"),
                    waited: poller.waited(),
                });
            }
        }
    }

    /// Adds an asset's change to the report, then brings its permissions
    /// in line.
    async fn record(
        &self,
        report: &mut PublishReport,
        change: Change,
        asset: Asset<'_>,
        desired: &Permissions,
    ) -> Result<(), DashboardError> {
        let status = self.permissions(change.action, asset, desired).await?;
        report.permissions.push(PermissionOutcome {
            kind: change.kind,
            id: change.id.clone(),
            status,
        });
        report.changes.push(change);
        Ok(())
    }

    /// Created assets got their permissions with the create call; existing
    /// ones are compared and corrected.
    async fn permissions(
        &self,
        action: AssetAction,
        asset: Asset<'_>,
        desired: &Permissions,
    ) -> Result<PermissionStatus, AwsError> {
        if action == AssetAction::Create {
            return Ok(PermissionStatus::SetOnCreate);
        }
        let actual = match self.api.permissions(asset).await {
            Ok(actual) => actual,
            Err(e) if e.kind == AwsErrorKind::Unsupported => {
                return Ok(PermissionStatus::NotChecked { reason: e.message })
            }
            Err(e) => return Err(e),
        };
        let changes = permission_changes(desired, &actual);
        if changes.is_empty() {
            return Ok(PermissionStatus::Unchanged);
        }
        if !self.dry_run {
            self.api.update_permissions(asset, &changes).await?;
        }
        Ok(PermissionStatus::Changed { changes })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeQuickSight;
    use super::*;
    use pricewatch_core::dashboard::quicksight::{Connection, DashboardState, DataSourceShape};
    use pricewatch_core::reporter::SilentReporter;

    fn desired() -> Desired {
        super::super::fake::desired_for_tests()
    }

    fn publisher<'a>(api: &'a FakeQuickSight, dry_run: bool) -> Publisher<'a, FakeQuickSight> {
        Publisher {
            api,
            reporter: &SilentReporter,
            polling: Polling::immediate(),
            dry_run,
        }
    }

    fn actions(report: &PublishReport) -> Vec<(&'static str, AssetAction)> {
        report.changes.iter().map(|c| (c.kind, c.action)).collect()
    }

    #[tokio::test]
    async fn first_publish_creates_everything_then_nothing_changes() {
        let api = FakeQuickSight::default();
        let desired = desired();
        let first = publisher(&api, false).publish(&desired).await.unwrap();
        assert_eq!(
            first.count(AssetAction::Create),
            2 + desired.data_sets.len()
        );
        assert_eq!(first.published_version, Some(1));
        assert!(first
            .permissions
            .iter()
            .all(|p| p.status == PermissionStatus::SetOnCreate));

        let second = publisher(&api, false).publish(&desired).await.unwrap();
        assert_eq!(second.count(AssetAction::Unchanged), second.changes.len());
        assert!(second
            .permissions
            .iter()
            .all(|p| p.status == PermissionStatus::Unchanged));
        assert_eq!(api.calls_named("create"), 2 + desired.data_sets.len());
        assert_eq!(api.calls_named("update"), 0);
    }

    #[tokio::test]
    async fn a_changed_connection_updates_only_the_data_source() {
        let api = FakeQuickSight::default();
        let mut desired = desired();
        publisher(&api, false).publish(&desired).await.unwrap();
        desired.data_source.shape.connection = Connection::Postgres {
            host: "10.0.0.9".into(),
            port: 5432,
            database: "pricewatch".into(),
        };
        let report = publisher(&api, false).publish(&desired).await.unwrap();
        assert_eq!(report.changes[0].action, AssetAction::Update);
        assert_eq!(
            report.changes[0].detail.as_deref(),
            Some("changed: connection")
        );
        assert_eq!(report.count(AssetAction::Update), 1);
        assert_eq!(
            api.data_source(&desired.data_source.id).unwrap(),
            desired.data_source.shape
        );
    }

    #[tokio::test]
    async fn a_changed_definition_makes_and_publishes_a_new_version() {
        let api = FakeQuickSight::default();
        let mut desired = desired();
        publisher(&api, false).publish(&desired).await.unwrap();
        desired.dashboard.fingerprint = "sha256:changed".into();
        let report = publisher(&api, false).publish(&desired).await.unwrap();
        let dashboard = report.changes.last().unwrap();
        assert_eq!(
            (dashboard.kind, dashboard.action),
            ("dashboard", AssetAction::Update)
        );
        assert_eq!(report.published_version, Some(2));
        assert_eq!(api.published_version(&desired.dashboard.id), Some(2));
    }

    #[tokio::test]
    async fn a_failed_version_is_reported_with_quicksights_reasons_and_not_published() {
        let api = FakeQuickSight::default();
        let mut desired = desired();
        publisher(&api, false).publish(&desired).await.unwrap();
        api.fail_next_version("COLUMN_NOT_FOUND: sale_price");
        desired.dashboard.fingerprint = "sha256:changed".into();
        let error = publisher(&api, false)
            .publish(&desired)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("COLUMN_NOT_FOUND: sale_price"), "{error}");
        assert_eq!(api.published_version(&desired.dashboard.id), Some(1));
    }

    #[tokio::test]
    async fn permission_drift_is_granted_and_revoked() {
        let api = FakeQuickSight::default();
        let desired = desired();
        publisher(&api, false).publish(&desired).await.unwrap();
        let dashboard = Asset::Dashboard(&desired.dashboard.id);
        let stranger = "arn:aws:quicksight:eu-west-1:111111111111:user/default/stranger";
        api.set_permissions(dashboard, |p| {
            p.insert(
                stranger.into(),
                ["quicksight:QueryDashboard".to_string()].into(),
            );
            p.values_mut()
                .next()
                .unwrap()
                .remove("quicksight:QueryDashboard");
        });
        let report = publisher(&api, false).publish(&desired).await.unwrap();
        let outcome = report.permissions.last().unwrap();
        let PermissionStatus::Changed { changes } = &outcome.status else {
            panic!("expected a change, got {outcome:?}");
        };
        assert_eq!(changes.revoke.keys().collect::<Vec<_>>(), vec![stranger]);
        assert_eq!(changes.grant.values().next().unwrap().len(), 1);
        assert_eq!(api.permissions_of(dashboard), desired.dashboard_permissions);
    }

    #[tokio::test]
    async fn dry_run_describes_and_changes_nothing() {
        let api = FakeQuickSight::default();
        let report = publisher(&api, true).publish(&desired()).await.unwrap();
        assert!(report.dry_run);
        assert!(actions(&report)
            .iter()
            .all(|(_, a)| *a == AssetAction::Create));
        assert_eq!(api.calls_named("create"), 0);
        assert!(api.data_source(&desired().data_source.id).is_none());
    }

    #[tokio::test]
    async fn data_sets_that_cannot_be_described_are_written_and_permissions_not_checked() {
        let api = FakeQuickSight {
            cannot_describe_data_sets: true,
            ..Default::default()
        };
        let desired = desired();
        publisher(&api, false).publish(&desired).await.unwrap();
        let second = publisher(&api, false).publish(&desired).await.unwrap();
        let data_sets: Vec<_> = second
            .changes
            .iter()
            .filter(|c| c.kind == "data set")
            .collect();
        assert!(data_sets.iter().all(|c| c.action == AssetAction::Write));
        assert!(second
            .permissions
            .iter()
            .filter(|p| p.kind == "data set")
            .all(|p| matches!(p.status, PermissionStatus::NotChecked { .. })));
        // Written through create, then update when create says it exists.
        assert_eq!(api.calls_named("update_data_set"), desired.data_sets.len());
    }

    #[test]
    fn decisions() {
        let shape = DataSourceShape {
            name: "w".into(),
            connection: Connection::Postgres {
                host: "h".into(),
                port: 1,
                database: "d".into(),
            },
        };
        assert_eq!(decide(&shape, None).0, AssetAction::Create);
        assert_eq!(decide(&shape, Some(&shape)).0, AssetAction::Unchanged);
        let mut renamed = shape.clone();
        renamed.name = "x".into();
        assert_eq!(
            decide(&shape, Some(&renamed)),
            (AssetAction::Update, Some("changed: name".into()))
        );

        let spec = desired().dashboard;
        let state = DashboardState {
            name: spec.name.clone(),
            version: 3,
            status: "CREATION_SUCCESSFUL".into(),
            description: Some(version_description(&spec.fingerprint)),
            errors: vec![],
        };
        assert_eq!(
            decide_dashboard(&spec, Some(&state)).0,
            AssetAction::Unchanged
        );
        let failed = DashboardState {
            status: "CREATION_FAILED".into(),
            ..state
        };
        assert_eq!(
            decide_dashboard(&spec, Some(&failed)).0,
            AssetAction::Update
        );
    }

    #[test]
    fn permission_changes_grant_missing_and_revoke_extra() {
        let desired: Permissions =
            [("a".to_string(), ["x".to_string(), "y".to_string()].into())].into();
        let actual: Permissions = [
            ("a".to_string(), ["x".to_string(), "z".to_string()].into()),
            ("b".to_string(), ["x".to_string()].into()),
        ]
        .into();
        let changes = permission_changes(&desired, &actual);
        assert_eq!(
            changes.grant,
            [("a".to_string(), ["y".to_string()].into())].into()
        );
        assert_eq!(
            changes.revoke,
            [
                ("a".to_string(), ["z".to_string()].into()),
                ("b".to_string(), ["x".to_string()].into())
            ]
            .into()
        );
        assert!(permission_changes(&desired, &desired).is_empty());
    }
}
