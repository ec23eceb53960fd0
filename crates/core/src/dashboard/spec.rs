//! The desired QuickSight assets of an env, derived from its config and the
//! rendered dashboard definition: ids, ARNs, shapes and permissions. Pure:
//! the only outside input is how to reach the warehouse ([`Connection`]).

use std::collections::{BTreeMap, BTreeSet};

use super::definition::Definition;
use super::quicksight::{
    Connection, DashboardSpec, DataSetShape, DataSetSpec, DataSourceShape, DataSourceSpec,
    Permissions,
};
use crate::config::names::partition;
use crate::config::Environment;
use crate::hash::sha256_hex;

const DATA_SOURCE_OWNER: &[&str] = &[
    "quicksight:DeleteDataSource",
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:UpdateDataSourcePermissions",
];

const DATA_SET_OWNER: &[&str] = &[
    "quicksight:CancelIngestion",
    "quicksight:CreateIngestion",
    "quicksight:DeleteDataSet",
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:PassDataSet",
    "quicksight:UpdateDataSet",
    "quicksight:UpdateDataSetPermissions",
];

const DASHBOARD_VIEWER: &[&str] = &[
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
];

const DASHBOARD_OWNER_EXTRA: &[&str] = &[
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboard",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
];

/// Everything `dashboard publish` makes true for an env.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub data_source: DataSourceSpec,
    pub data_sets: Vec<DataSetSpec>,
    pub dashboard: DashboardSpec,
    pub data_source_permissions: Permissions,
    pub data_set_permissions: Permissions,
    pub dashboard_permissions: Permissions,
}

pub fn desired(
    env: &Environment,
    definition: &Definition,
    connection: Connection,
    secret_arn: Option<String>,
) -> Desired {
    let names = env.names();
    let settings = &env.settings;
    let data_source_id = data_source_id(env);
    let data_source_arn = arn(env, "datasource", &data_source_id);
    let data_sets = data_sets(env, definition);
    let data_set_arns: BTreeMap<String, String> = data_sets
        .iter()
        .map(|d| (d.key.clone(), d.arn.clone()))
        .collect();
    let name = definition.name.clone();
    let fingerprint = fingerprint(&(&name, definition, &data_set_arns));
    let owners = &settings.quicksight.owners;
    let viewers = &settings.quicksight.principals;
    let mut dashboard_permissions = grant(viewers, DASHBOARD_VIEWER);
    for (principal, actions) in grant(owners, &[DASHBOARD_VIEWER, DASHBOARD_OWNER_EXTRA].concat()) {
        dashboard_permissions
            .entry(principal)
            .or_default()
            .extend(actions);
    }
    Desired {
        data_source: DataSourceSpec {
            id: data_source_id,
            arn: data_source_arn,
            shape: DataSourceShape {
                name: format!("{} warehouse", names.base),
                connection,
            },
            secret_arn,
        },
        data_sets,
        dashboard: DashboardSpec {
            id: format!("{}-pricing", names.base),
            name,
            definition: definition.clone(),
            data_set_arns,
            fingerprint,
        },
        data_source_permissions: grant(owners, DATA_SOURCE_OWNER),
        data_set_permissions: grant(owners, DATA_SET_OWNER),
        dashboard_permissions,
    }
}

/// The data sets of the definition, on the env's data source.
pub fn data_sets(env: &Environment, definition: &Definition) -> Vec<DataSetSpec> {
    let names = env.names();
    let data_source_arn = arn(env, "datasource", &data_source_id(env));
    definition
        .data_sets
        .iter()
        .map(|d| {
            let id = format!("{}-{}", names.base, d.id);
            let (schema, table) = d.model.split_once('.').unwrap_or(("public", &d.model));
            DataSetSpec {
                key: d.id.clone(),
                arn: arn(env, "dataset", &id),
                id,
                shape: DataSetShape {
                    name: format!("{} {}", names.base, d.model),
                    import_mode: env.settings.quicksight.import_mode,
                    data_source_arn: data_source_arn.clone(),
                    schema: schema.to_string(),
                    table: table.to_string(),
                    columns: d.columns.iter().map(|c| (c.name.clone(), c.kind)).collect(),
                },
            }
        })
        .collect()
}

fn data_source_id(env: &Environment) -> String {
    format!("{}-warehouse", env.names().base)
}

fn arn(env: &Environment, kind: &str, id: &str) -> String {
    let settings = &env.settings;
    format!(
        "arn:{}:quicksight:{}:{}:{kind}/{id}",
        partition(&settings.region),
        settings.region,
        settings.account_id
    )
}

fn grant(principals: &[String], actions: &[&str]) -> Permissions {
    principals
        .iter()
        .map(|p| {
            (
                p.clone(),
                actions
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<BTreeSet<_>>(),
            )
        })
        .collect()
}

/// The version description that marks which definition a version holds.
pub fn version_description(fingerprint: &str) -> String {
    format!("pricewatch definition {fingerprint}")
}

fn fingerprint(value: &impl serde::Serialize) -> String {
    let json = serde_json::to_string(value).expect("the definition serializes");
    format!("sha256:{}", &sha256_hex(json.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::definition::parse;

    fn env() -> Environment {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut env = crate::config::Environments::new(std::path::Path::new(dir))
            .load("dev")
            .unwrap();
        env.settings.quicksight.principals =
            vec!["arn:aws:quicksight:eu-west-1:111111111111:group/default/analysts".into()];
        env.settings.quicksight.owners =
            vec!["arn:aws:quicksight:eu-west-1:111111111111:user/default/ops".into()];
        env
    }

    fn definition() -> Definition {
        parse(
            r#"{"name": "Pricing", "data_sets": [{"id": "prices", "model": "gold.price_evolution",
                "columns": [{"name": "item", "type": "STRING"}]}],
                "sheets": [{"id": "s", "title": "S", "visuals": []}]}"#,
        )
        .unwrap()
    }

    fn postgres() -> Connection {
        Connection::Postgres {
            host: "127.0.0.1".into(),
            port: 5432,
            database: "pricewatch".into(),
        }
    }

    #[test]
    fn ids_and_arns_derive_from_the_env() {
        let d = desired(&env(), &definition(), postgres(), None);
        assert_eq!(d.data_source.id, "pricewatch-dev-warehouse");
        assert_eq!(
            d.data_sets[0].arn,
            "arn:aws:quicksight:eu-west-1:111111111111:dataset/pricewatch-dev-prices"
        );
        assert_eq!(d.data_sets[0].shape.schema, "gold");
        assert_eq!(d.data_sets[0].shape.table, "price_evolution");
        assert_eq!(d.data_sets[0].shape.data_source_arn, d.data_source.arn);
        assert_eq!(d.dashboard.id, "pricewatch-dev-pricing");
    }

    #[test]
    fn viewers_can_only_read_and_owners_manage() {
        let d = desired(&env(), &definition(), postgres(), None);
        let viewer = &d.dashboard_permissions
            ["arn:aws:quicksight:eu-west-1:111111111111:group/default/analysts"];
        assert!(viewer.contains("quicksight:QueryDashboard"));
        assert!(!viewer
            .iter()
            .any(|a| a.contains("Update") || a.contains("Delete")));
        let owner =
            &d.dashboard_permissions["arn:aws:quicksight:eu-west-1:111111111111:user/default/ops"];
        assert!(owner.contains("quicksight:UpdateDashboardPublishedVersion"));
        assert_eq!(
            d.data_source_permissions.len(),
            1,
            "viewers get no data source"
        );
    }

    #[test]
    fn the_fingerprint_follows_the_definition() {
        let a = desired(&env(), &definition(), postgres(), None)
            .dashboard
            .fingerprint;
        let mut changed = definition();
        changed.name = "Pricing v2".into();
        let b = desired(&env(), &changed, postgres(), None)
            .dashboard
            .fingerprint;
        assert_ne!(a, b);
        assert_eq!(
            a,
            desired(&env(), &definition(), postgres(), None)
                .dashboard
                .fingerprint
        );
    }
}
