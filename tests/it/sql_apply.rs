//! `pricewatch sql apply` on PostgreSQL: a first apply creates every model,
//! a second changes nothing, a changed model is recreated with exactly its
//! downstream (the others keep their identity), and a dry run changes
//! nothing.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

use crate::support::Postgres;

fn apply(project: &Path, pg: &Postgres, extra: &[&str]) -> (Output, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(project)
        .args(["--env", "local", "--output", "json", "sql", "apply"])
        .args(extra)
        .env("PRICEWATCH_DATABASE_URL", pg.url())
        .output()
        .expect("run pricewatch");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, json)
}

fn names(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The OID of each materialized view and incremental model's table: it
/// changes when the model is recreated.
fn identities(pg: &Postgres) -> std::collections::BTreeMap<String, u32> {
    let mut client = pg.connect("pricewatch");
    client
        .query(
            "SELECT n.nspname || '.' || c.relname, c.oid FROM pg_class AS c \
             INNER JOIN pg_namespace AS n ON n.oid = c.relnamespace \
             WHERE n.nspname IN ('bronze', 'silver', 'gold') AND c.relkind IN ('m', 'r') \
             AND c.relname <> 'item_clusters'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

pub(crate) fn apply_creates_then_changes_only_what_changed() {
    let pg = Postgres::start();
    let project = support::project_copy();

    let models = support::bundle("local").models.len();
    let (out, first) = apply(project.path(), &pg, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = names(&first["plan"]["create"]);
    assert_eq!(created.len(), models, "{created:?}");
    assert_eq!(created[0], "bronze.products");
    let materialized = support::bundle("local")
        .models
        .iter()
        .filter(|m| m.materialized.is_materialized())
        .count();
    assert_eq!(identities(&pg).len(), materialized);
    let mut client = pg.connect("pricewatch");
    let recorded: i64 = client
        .query_one("SELECT COUNT(*) FROM pricewatch_meta.applied_models", &[])
        .unwrap()
        .get(0);
    assert_eq!(recorded as usize, models);

    // The columns pricewatch reads from each query are the ones PostgreSQL made.
    for model in &support::bundle("local").models {
        let actual: Vec<String> = client
            .query(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = CAST($1::text AS regclass) \
                 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                &[&model.name],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(model.columns, actual, "{}", model.name);
    }

    // The dashboard's declared QuickSight column types fit PostgreSQL's.
    use pricewatch_core::dashboard::definition::ColumnType;
    for data_set in &support::bundle("local").dashboard.data_sets {
        for column in &data_set.columns {
            let pg_type: String = client
                .query_one(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
                     WHERE attrelid = CAST($1::text AS regclass) AND attname = $2",
                    &[&data_set.model, &column.name],
                )
                .unwrap()
                .get(0);
            let fits = match column.kind {
                ColumnType::String => pg_type == "text" || pg_type.starts_with("character"),
                ColumnType::Integer => {
                    ["integer", "bigint", "smallint"].contains(&pg_type.as_str())
                }
                ColumnType::Decimal => {
                    pg_type.starts_with("numeric") || pg_type == "double precision"
                }
                ColumnType::Datetime => pg_type.starts_with("timestamp"),
                ColumnType::Boolean => pg_type == "boolean",
            };
            assert!(
                fits,
                "{}.{} is {pg_type} in PostgreSQL but {:?} on the dashboard",
                data_set.model, column.name, column.kind
            );
        }
    }

    let before = identities(&pg);
    let (out, second) = apply(project.path(), &pg, &[]);
    assert!(out.status.success());
    assert!(names(&second["plan"]["create"]).is_empty(), "{second}");
    assert_eq!(names(&second["plan"]["unchanged"]).len(), models);
    assert_eq!(identities(&pg), before, "a second apply touches nothing");

    let model = project.path().join("sql/silver/products_validated.sql");
    let text = std::fs::read_to_string(&model).unwrap().replace(
        "'few left', 'limited'",
        "'few left', 'limited', 'last items'",
    );
    std::fs::write(&model, text).unwrap();

    let (out, dry) = apply(project.path(), &pg, &["--dry-run"]);
    assert!(out.status.success());
    assert_eq!(identities(&pg), before, "a dry run changes nothing");
    let expected_downstream = [
        "silver.products_validated",
        "silver.products",
        "silver.quarantine",
        "gold.hourly_prices",
        "gold.item_features",
        "gold.item_price_range",
        "gold.price_evolution",
        "gold.price_recommendations",
        "gold.price_anomalies",
        "gold.price_trends",
        "gold.vendor_scorecard",
        "gold.vendor_stock_latest",
        "gold.vendor_stock_status",
    ];
    let mut planned = names(&dry["plan"]["create"]);
    planned.sort();
    let mut expected: Vec<String> = expected_downstream.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(planned, expected);
    assert!(dry["statements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["sql"].as_str().unwrap().contains("'last items'")));

    let (out, third) = apply(project.path(), &pg, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        names(&third["plan"]["create"]).len(),
        expected_downstream.len()
    );
    let after = identities(&pg);
    for (view, oid) in &before {
        let recreated = expected_downstream.contains(&view.as_str());
        assert_eq!(
            after[view] != *oid,
            recreated,
            "{view} recreated: {}",
            after[view] != *oid
        );
    }
}

pub(crate) fn a_redshift_env_without_its_warehouse_stack_says_to_deploy_first() {
    let moto = support::Moto::start();
    // dev, pointed at moto's account: the warehouse stack was never deployed.
    let project = support::project_copy();
    let dev = project.path().join("environments/dev.yaml");
    let text = std::fs::read_to_string(&dev)
        .unwrap()
        .replace("111111111111", "123456789012");
    std::fs::write(&dev, text).unwrap();
    moto.start_recording();
    let out = support::pricewatch_on(project.path(), &moto, &["--env", "dev", "sql", "apply"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stack pricewatch-dev-warehouse does not exist")
            && err.contains("pricewatch deploy --env dev"),
        "{err}"
    );
    let actions = moto.recorded_actions();
    assert!(
        actions.iter().all(|a| !a.starts_with("RedshiftData.")),
        "no statement was sent: {actions:?}"
    );
    assert!(
        actions.contains(&"DescribeStacks".to_string()),
        "{actions:?}"
    );
}

pub(crate) fn an_unreachable_database_is_named_without_its_password() {
    let out = Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(support::project_dir())
        .args(["--env", "local", "sql", "apply"])
        .env(
            "PRICEWATCH_DATABASE_URL",
            format!("postgres://u:hunter2@127.0.0.1:{}/x", support::free_port()),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the warehouse (postgres://…@127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}
