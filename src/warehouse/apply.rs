//! `sql apply`: brings the warehouse's models to the rendered ones. Each
//! applied model's checksum is kept in `pricewatch_meta.applied_models`; a
//! model whose checksum changed is dropped and recreated together with
//! everything downstream of it (materialized views cannot be altered), in
//! DAG order; unchanged models are not touched; models no longer in the
//! project are dropped.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Statements, WarehouseError};
use crate::config::Dialect;
use crate::plan::Dag;
use crate::render::{sha256_hex, Bundle, Materialization, Model};

pub const METADATA_TABLE: &str = "pricewatch_meta.applied_models";

/// A model as the metadata table records it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedModel {
    pub checksum: String,
    pub materialized: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ApplyPlan {
    /// Models to create, in DAG order (changed, new, or downstream of a change).
    pub create: Vec<String>,
    /// Models dropped before creating, dependents first.
    pub drop: Vec<String>,
    /// Applied models no longer in the project.
    pub removed: Vec<String>,
    pub unchanged: Vec<String>,
}

impl ApplyPlan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.removed.is_empty()
    }
}

pub fn checksum(model: &Model) -> String {
    sha256_hex(model.ddl.as_bytes())
}

/// Decides what to drop and create; `models` come in DAG order.
pub fn plan(models: &[Model], applied: &BTreeMap<String, AppliedModel>) -> ApplyPlan {
    let mut dag = Dag::new();
    for model in models {
        dag.add(model.name.clone(), model.depends_on.clone());
    }
    let affected: BTreeSet<String> = models
        .iter()
        .filter(|m| applied.get(&m.name).map(|a| a.checksum.as_str()) != Some(checksum(m).as_str()))
        .flat_map(|m| dag.downstream(&m.name))
        .collect();
    let create: Vec<String> = models
        .iter()
        .filter(|m| affected.contains(&m.name))
        .map(|m| m.name.clone())
        .collect();
    ApplyPlan {
        drop: create
            .iter()
            .rev()
            .filter(|name| applied.contains_key(*name))
            .cloned()
            .collect(),
        removed: applied
            .keys()
            .filter(|name| !models.iter().any(|m| &m.name == *name))
            .cloned()
            .collect(),
        unchanged: models
            .iter()
            .filter(|m| !affected.contains(&m.name))
            .map(|m| m.name.clone())
            .collect(),
        create,
    }
}

fn drop_statement(name: &str, materialized: &str) -> String {
    let kind = if materialized == Materialization::View.to_string() {
        "VIEW"
    } else {
        "MATERIALIZED VIEW"
    };
    format!("DROP {kind} IF EXISTS {name} CASCADE;")
}

fn record_statement(dialect: Dialect, model: &Model) -> String {
    let now = match dialect {
        Dialect::Redshift => "GETDATE()",
        Dialect::Postgres => "CURRENT_TIMESTAMP",
    };
    let name = crate::render::sql_string(&model.name);
    format!(
        "DELETE FROM {METADATA_TABLE} WHERE model = {name};\nINSERT INTO {METADATA_TABLE} (model, checksum, materialized, applied_at) VALUES ({name}, '{}', '{}', {now});",
        checksum(model),
        model.materialized
    )
}

/// Reads what was applied; a warehouse never set up has nothing applied.
async fn applied(
    warehouse: &impl Statements,
    set_up: bool,
) -> Result<BTreeMap<String, AppliedModel>, WarehouseError> {
    let sql = format!("SELECT model, checksum, materialized FROM {METADATA_TABLE}");
    let rows = match warehouse.query("reading applied models", &sql).await {
        Ok(rows) => rows,
        Err(_) if !set_up => return Ok(BTreeMap::new()),
        Err(e) => return Err(e),
    };
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let mut values = row.into_iter();
            let model = values.next()??;
            let checksum = values.next()??;
            let materialized = values.next()??;
            Some((
                model,
                AppliedModel {
                    checksum,
                    materialized,
                },
            ))
        })
        .collect())
}

/// The statements `apply` runs for a plan, in order.
pub fn statements(
    bundle: &Bundle,
    plan: &ApplyPlan,
    applied: &BTreeMap<String, AppliedModel>,
) -> Vec<(String, String)> {
    let mut statements = Vec::new();
    for name in &plan.removed {
        statements.push((
            format!("drop removed model {name}"),
            drop_statement(name, &applied[name].materialized),
        ));
        statements.push((
            format!("forget removed model {name}"),
            format!(
                "DELETE FROM {METADATA_TABLE} WHERE model = {};",
                crate::render::sql_string(name)
            ),
        ));
    }
    for name in &plan.drop {
        statements.push((
            format!("drop model {name}"),
            drop_statement(name, &applied[name].materialized),
        ));
    }
    for name in &plan.create {
        let model = bundle
            .models
            .iter()
            .find(|m| &m.name == name)
            .expect("planned models are rendered");
        statements.push((
            format!("create model {name} ({})", model.source),
            model.ddl.clone(),
        ));
        statements.push((
            format!("record model {name}"),
            record_statement(bundle.env.dialect(), model),
        ));
    }
    statements
}

/// Applies the bundle's models; with `dry_run` changes nothing and only
/// returns the plan and the statements it would run.
pub async fn apply(
    warehouse: &impl Statements,
    bundle: &Bundle,
    dry_run: bool,
) -> Result<(ApplyPlan, Vec<(String, String)>), WarehouseError> {
    if !dry_run {
        warehouse
            .execute("setup (sql/setup.sql)", &bundle.setup_sql)
            .await?;
    }
    let applied = applied(warehouse, !dry_run).await?;
    let plan = plan(&bundle.models, &applied);
    let statements = statements(bundle, &plan, &applied);
    if !dry_run {
        for (context, sql) in &statements {
            warehouse.execute(context, sql).await?;
        }
    }
    Ok((plan, statements))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, deps: &[&str], body: &str) -> Model {
        Model {
            name: name.into(),
            source: format!("sql/{name}.sql"),
            materialized: Materialization::MaterializedView,
            description: "d".into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            columns: Vec::new(),
            query: body.into(),
            ddl: format!("CREATE MATERIALIZED VIEW {name} AS {body};"),
        }
    }

    fn models() -> Vec<Model> {
        vec![
            model("bronze.p", &[], "SELECT 1"),
            model("silver.p", &["bronze.p"], "SELECT 2"),
            model("silver.v", &[], "SELECT 3"),
            model("gold.a", &["silver.p"], "SELECT 4"),
            model("gold.b", &["silver.v"], "SELECT 5"),
        ]
    }

    fn applied_all(models: &[Model]) -> BTreeMap<String, AppliedModel> {
        models
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    AppliedModel {
                        checksum: checksum(m),
                        materialized: "materialized_view".into(),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_first_apply_creates_everything_in_dag_order() {
        let plan = plan(&models(), &BTreeMap::new());
        assert_eq!(
            plan.create,
            ["bronze.p", "silver.p", "silver.v", "gold.a", "gold.b"]
        );
        assert!(plan.drop.is_empty() && plan.unchanged.is_empty());
    }

    #[test]
    fn nothing_changed_means_nothing_to_do() {
        let m = models();
        let plan = plan(&m, &applied_all(&m));
        assert!(plan.is_empty());
        assert_eq!(plan.unchanged.len(), 5);
    }

    #[test]
    fn a_changed_model_is_recreated_with_its_downstream_only() {
        let before = models();
        let applied = applied_all(&before);
        let mut after = before.clone();
        after[1] = model("silver.p", &["bronze.p"], "SELECT 22");
        let plan = plan(&after, &applied);
        assert_eq!(plan.create, ["silver.p", "gold.a"]);
        assert_eq!(
            plan.drop,
            ["gold.a", "silver.p"],
            "dependents are dropped first"
        );
        assert_eq!(plan.unchanged, ["bronze.p", "silver.v", "gold.b"]);
    }

    #[test]
    fn removed_models_are_dropped() {
        let before = models();
        let applied = applied_all(&before);
        let after: Vec<Model> = before
            .iter()
            .filter(|m| m.name != "gold.b")
            .cloned()
            .collect();
        let plan = plan(&after, &applied);
        assert_eq!(plan.removed, ["gold.b"]);
        assert!(plan.create.is_empty());
    }

    #[test]
    fn drop_statements_match_the_materialization() {
        assert_eq!(
            drop_statement("gold.v", "view"),
            "DROP VIEW IF EXISTS gold.v CASCADE;"
        );
        assert_eq!(
            drop_statement("gold.m", "materialized_view"),
            "DROP MATERIALIZED VIEW IF EXISTS gold.m CASCADE;"
        );
        assert_eq!(
            drop_statement("bronze.s", "stream"),
            "DROP MATERIALIZED VIEW IF EXISTS bronze.s CASCADE;"
        );
    }
}
