//! `sql apply`: brings the warehouse's models to the rendered ones. Each
//! applied model's checksum (its DDL, description excluded) is kept in
//! `pricewatch_meta.applied_models`; a model whose checksum changed is
//! dropped and recreated together with everything downstream of it
//! (materialized views cannot be altered), in DAG order; a model whose only
//! change is its description gets a new comment and keeps its data;
//! unchanged models are not touched; models no longer in the project are
//! dropped. A stateful model (a stream model, or one declared stateful) is
//! never dropped unless `--allow-replace` names it: recreating a streaming
//! view restarts it from what the stream still holds.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Statements, WarehouseError};
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::names::{Roles, READER_SCHEMAS};
use pricewatch_core::config::Dialect;
use pricewatch_core::dag::Dag;
use pricewatch_core::model::{Materialization, Model};
use pricewatch_core::render::incremental;
use pricewatch_core::sql_text::{literal, now_utc};

pub(crate) const METADATA_TABLE: &str = "pricewatch_meta.applied_models";

/// A model as the metadata table records it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedModel {
    pub checksum: String,
    pub description_checksum: String,
    pub materialized: String,
}

/// What `sql apply` does to one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelAction {
    /// New: created.
    Create,
    /// Changed, or downstream of a change: dropped and created again.
    Recreate,
    /// A stateful model dropped and created again: its history is lost.
    ReplaceStateful,
    /// Only the description changed: a new comment, the data stays.
    Comment,
    Unchanged,
    /// No longer in the project: dropped.
    Remove,
    /// A stateful model no longer in the project: dropped with its history.
    RemoveStateful,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub model: String,
    pub action: ModelAction,
    /// Why, when it is not the model's own change (e.g. `upstream
    /// silver.products changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ApplyPlan {
    /// Every model's step: removed models first, then the models in DAG order.
    pub steps: Vec<Step>,
    /// Models to create, in DAG order (changed, new, or downstream of a change).
    pub create: Vec<String>,
    /// Models dropped before creating, dependents first.
    pub drop: Vec<String>,
    /// Applied models no longer in the project.
    pub removed: Vec<String>,
    /// Models whose description alone changed.
    pub commented: Vec<String>,
    pub unchanged: Vec<String>,
}

impl ApplyPlan {
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.create.is_empty() && self.removed.is_empty() && self.commented.is_empty()
    }

    /// Stateful models the plan would drop (replace or remove).
    pub fn stateful_drops(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| {
                matches!(
                    s.action,
                    ModelAction::ReplaceStateful | ModelAction::RemoveStateful
                )
            })
            .map(|s| s.model.as_str())
            .collect()
    }
}

/// Why `sql apply` stopped before changing anything.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "sql apply would drop the stateful model(s) {models}: a recreated streaming view starts again from what the stream still holds (its retention: {retention_hours} h in env {env}), so every record older than that would be lost from bronze and from every model built on it. Nothing was changed. If that loss is intended, run again with {flags}"
    )]
    StatefulReplace {
        models: String,
        env: String,
        retention_hours: u32,
        flags: String,
    },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// Decides what to drop, create and comment; `models` come in DAG order.
pub fn plan(models: &[Model], applied: &BTreeMap<String, AppliedModel>) -> ApplyPlan {
    let mut dag = Dag::new();
    for model in models {
        dag.add(model.name.clone(), model.depends_on.clone());
    }
    let changed: Vec<&Model> = models
        .iter()
        .filter(|m| {
            applied.get(&m.name).map(|a| a.checksum.as_str()) != Some(m.checksum().as_str())
        })
        .collect();
    // Each affected model and the first changed model that affects it.
    let mut affected: BTreeMap<String, &str> = BTreeMap::new();
    for model in &changed {
        for name in dag.downstream(&model.name) {
            affected.entry(name).or_insert(&model.name);
        }
    }
    let mut plan = ApplyPlan::default();
    for (name, record) in applied {
        if models.iter().any(|m| &m.name == name) {
            continue;
        }
        // The materialization is all that is left of a removed model.
        let stateful = record.materialized == Materialization::Stream.to_string();
        plan.removed.push(name.clone());
        plan.steps.push(Step {
            model: name.clone(),
            action: if stateful {
                ModelAction::RemoveStateful
            } else {
                ModelAction::Remove
            },
            why: None,
        });
    }
    for model in models {
        let record = applied.get(&model.name);
        let step = |action, why: Option<String>| Step {
            model: model.name.clone(),
            action,
            why,
        };
        match (affected.get(&model.name), record) {
            (Some(_), None) => {
                plan.create.push(model.name.clone());
                plan.steps.push(step(ModelAction::Create, None));
            }
            (Some(cause), Some(_)) => {
                plan.create.push(model.name.clone());
                let why = (*cause != model.name).then(|| format!("upstream {cause} changed"));
                let action = if model.stateful {
                    ModelAction::ReplaceStateful
                } else {
                    ModelAction::Recreate
                };
                plan.steps.push(step(action, why));
            }
            (None, Some(r)) if r.description_checksum != model.description_checksum() => {
                plan.commented.push(model.name.clone());
                plan.steps.push(step(ModelAction::Comment, None));
            }
            (None, _) => {
                plan.unchanged.push(model.name.clone());
                plan.steps.push(step(ModelAction::Unchanged, None));
            }
        }
    }
    plan.drop = plan
        .create
        .iter()
        .rev()
        .filter(|name| applied.contains_key(*name))
        .cloned()
        .collect();
    plan
}

/// Refuses a plan that drops a stateful model `allowed` does not name.
pub(crate) fn refuse_stateful(
    plan: &ApplyPlan,
    allowed: &[String],
    bundle: &Bundle,
) -> Result<(), ApplyError> {
    let refused: Vec<&str> = plan
        .stateful_drops()
        .into_iter()
        .filter(|m| !allowed.iter().any(|a| a == m))
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(ApplyError::StatefulReplace {
        models: refused.join(", "),
        env: bundle.env.name.clone(),
        retention_hours: bundle.env.settings.streams.retention_hours,
        flags: refused
            .iter()
            .map(|m| format!("--allow-replace {m}"))
            .collect::<Vec<_>>()
            .join(" "),
    })
}

fn drop_statement(name: &str, materialized: &str) -> String {
    let kind = if materialized == Materialization::View.to_string() {
        "VIEW"
    } else if materialized == Materialization::Incremental.to_string() {
        "TABLE"
    } else {
        "MATERIALIZED VIEW"
    };
    format!("DROP {kind} IF EXISTS {name} CASCADE;")
}

/// What a removed incremental model leaves besides its table: its refresh
/// procedure and its watermark.
fn forget_incremental(name: &str, dialect: Dialect) -> String {
    format!(
        "DROP PROCEDURE IF EXISTS {};\nDELETE FROM {} WHERE model = {};",
        incremental::procedure_signature(name),
        incremental::STATE_TABLE,
        literal(name, dialect)
    )
}

/// The model's description where the dialect can hold it: PostgreSQL
/// comments on views and materialized views, Redshift on views only (its
/// COMMENT has no materialized-view form); the catalog always has it.
fn comment_statement(dialect: Dialect, model: &Model) -> Option<String> {
    let kind = match (dialect, model.materialized) {
        (_, Materialization::View) => "VIEW",
        (_, Materialization::Incremental) => "TABLE",
        (Dialect::Postgres, _) => "MATERIALIZED VIEW",
        (Dialect::Redshift, _) => return None,
    };
    Some(format!(
        "COMMENT ON {kind} {} IS {};",
        model.name,
        literal(&model.description, dialect)
    ))
}

/// SELECT for the roles that read the model's schema: the operator reads
/// every model (checks, clusters), the reader silver and gold only.
fn grant_statements(roles: &Roles, model: &Model) -> String {
    let schema = model.name.split('.').next().unwrap_or_default();
    let mut readers = vec![roles.operator];
    if READER_SCHEMAS.contains(&schema) {
        readers.push(roles.reader);
    }
    let mut grants: Vec<String> = readers
        .iter()
        .map(|role| format!("GRANT SELECT ON {} TO {}{role};", model.name, roles.grantee))
        .collect();
    // The operator refreshes an incremental model through its procedure
    // only (it runs with the owner's rights), as a materialized view
    // through pricewatch_meta.refresh_model.
    if model.materialized == Materialization::Incremental {
        let procedure = incremental::procedure_signature(&model.name);
        grants.push(format!(
            "REVOKE EXECUTE ON PROCEDURE {procedure} FROM PUBLIC;"
        ));
        grants.push(format!(
            "GRANT EXECUTE ON PROCEDURE {procedure} TO {}{};",
            roles.grantee, roles.operator
        ));
    }
    grants.join("\n")
}

fn record_statement(dialect: Dialect, model: &Model) -> String {
    let name = literal(&model.name, dialect);
    format!(
        "DELETE FROM {METADATA_TABLE} WHERE model = {name};\nINSERT INTO {METADATA_TABLE} (model, checksum, description_checksum, materialized, applied_at) VALUES ({name}, '{}', '{}', '{}', {});",
        model.checksum(),
        model.description_checksum(),
        model.materialized,
        now_utc(dialect)
    )
}

/// Reads what was applied; a warehouse never set up has nothing applied.
pub(crate) async fn applied(
    warehouse: &impl Statements,
    set_up: bool,
) -> Result<BTreeMap<String, AppliedModel>, WarehouseError> {
    let sql =
        format!("SELECT model, checksum, description_checksum, materialized FROM {METADATA_TABLE}");
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
            Some((
                model,
                AppliedModel {
                    checksum: values.next()??,
                    description_checksum: values.next()??,
                    materialized: values.next()??,
                },
            ))
        })
        .collect())
}

/// The statements `apply` runs for a plan, in order, each with what it is for.
pub(crate) fn statements(
    bundle: &Bundle,
    plan: &ApplyPlan,
    applied: &BTreeMap<String, AppliedModel>,
) -> Vec<(String, String)> {
    let dialect = bundle.env.dialect();
    let roles = bundle.env.names().roles(dialect);
    let model = |name: &str| {
        bundle
            .models
            .iter()
            .find(|m| m.name == name)
            .expect("planned models are rendered")
    };
    let mut statements = Vec::new();
    for name in &plan.removed {
        statements.push((
            format!("drop removed model {name}"),
            drop_statement(name, &applied[name].materialized),
        ));
        if applied[name].materialized == Materialization::Incremental.to_string() {
            statements.push((
                format!("drop the refresh procedure of removed model {name}"),
                forget_incremental(name, dialect),
            ));
        }
        statements.push((
            format!("forget removed model {name}"),
            format!(
                "DELETE FROM {METADATA_TABLE} WHERE model = {};",
                literal(name, dialect)
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
        let model = model(name);
        statements.push((
            format!("create model {name} ({})", model.source),
            model.ddl.clone(),
        ));
        statements.push((
            format!("grant reads on {name}"),
            grant_statements(&roles, model),
        ));
    }
    for name in plan.create.iter().chain(&plan.commented) {
        let model = model(name);
        if let Some(comment) = comment_statement(dialect, model) {
            statements.push((format!("describe model {name}"), comment));
        }
        statements.push((
            format!("record model {name}"),
            record_statement(dialect, model),
        ));
    }
    statements
}

/// Plans against what the warehouse recorded; unless `dry_run`, refuses
/// unallowed stateful drops and runs the statements (a dry run returns the
/// plan whatever it drops: see [`refuse_stateful`]). The caller has made
/// the session the owner's and holds the warehouse lease.
pub async fn apply(
    warehouse: &impl Statements,
    bundle: &Bundle,
    allow_replace: &[String],
    dry_run: bool,
) -> Result<(ApplyPlan, Vec<(String, String)>), ApplyError> {
    let applied = applied(warehouse, !dry_run).await?;
    let plan = plan(&bundle.models, &applied);
    let statements = statements(bundle, &plan, &applied);
    if !dry_run {
        refuse_stateful(&plan, allow_replace, bundle)?;
        for (context, sql) in &statements {
            warehouse.execute(context, sql).await?;
        }
    }
    Ok((plan, statements))
}

/// The models `--allow-replace` names that are not models at all.
pub fn unknown_models<'a>(bundle: &Bundle, names: &'a [String]) -> Vec<&'a str> {
    let known: BTreeSet<&str> = bundle.models.iter().map(|m| m.name.as_str()).collect();
    names
        .iter()
        .map(String::as_str)
        .filter(|n| !known.contains(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, deps: &[&str], body: &str) -> Model {
        let mut m = Model::stub(name, deps, &[]);
        m.description = "d".into();
        m.ddl = format!("CREATE MATERIALIZED VIEW {name} AS {body};");
        m
    }

    fn stream(name: &str, body: &str) -> Model {
        let mut m = model(name, &[], body);
        m.materialized = Materialization::Stream;
        m.stateful = true;
        m
    }

    fn models() -> Vec<Model> {
        vec![
            stream("bronze.p", "SELECT 1"),
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
                        checksum: m.checksum(),
                        description_checksum: m.description_checksum(),
                        materialized: m.materialized.to_string(),
                    },
                )
            })
            .collect()
    }

    fn actions(plan: &ApplyPlan) -> Vec<(&str, ModelAction)> {
        plan.steps
            .iter()
            .map(|s| (s.model.as_str(), s.action))
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
        assert!(plan.stateful_drops().is_empty(), "creating loses nothing");
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
        assert_eq!(
            plan.steps[3],
            Step {
                model: "gold.a".into(),
                action: ModelAction::Recreate,
                why: Some("upstream silver.p changed".into())
            }
        );
    }

    #[test]
    fn a_new_description_only_comments() {
        let before = models();
        let applied = applied_all(&before);
        let mut after = before.clone();
        after[0].description = "Raw products, now better described".into();
        let plan = plan(&after, &applied);
        assert!(plan.create.is_empty() && plan.drop.is_empty());
        assert_eq!(plan.commented, ["bronze.p"]);
        assert!(plan.stateful_drops().is_empty());
    }

    #[test]
    fn a_changed_stream_model_is_a_stateful_replacement() {
        let before = models();
        let applied = applied_all(&before);
        let mut after = before.clone();
        after[0] = stream("bronze.p", "SELECT 11");
        let plan = plan(&after, &applied);
        assert_eq!(
            actions(&plan)[..2],
            [
                ("bronze.p", ModelAction::ReplaceStateful),
                ("silver.p", ModelAction::Recreate)
            ]
        );
        assert_eq!(plan.stateful_drops(), ["bronze.p"]);
    }

    #[test]
    fn removed_models_are_dropped_and_removed_streams_are_stateful() {
        let before = models();
        let applied = applied_all(&before);
        let after: Vec<Model> = before[1..]
            .iter()
            .filter(|m| m.name != "gold.b")
            .cloned()
            .collect();
        let mut after = after;
        after[0].depends_on.clear();
        let plan = plan(&after, &applied);
        assert_eq!(plan.removed, ["bronze.p", "gold.b"]);
        assert_eq!(plan.stateful_drops(), ["bronze.p"]);
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

    #[test]
    fn comments_and_grants_per_dialect() {
        let mut m = model("gold.a", &[], "SELECT 1");
        m.description = "It's a \\ thing".into();
        assert_eq!(
            comment_statement(Dialect::Postgres, &m).unwrap(),
            "COMMENT ON MATERIALIZED VIEW gold.a IS 'It''s a \\ thing';"
        );
        assert_eq!(comment_statement(Dialect::Redshift, &m), None);
        m.materialized = Materialization::View;
        assert_eq!(
            comment_statement(Dialect::Redshift, &m).unwrap(),
            "COMMENT ON VIEW gold.a IS 'It''s a \\\\ thing';"
        );
        let names = pricewatch_core::config::Names {
            deploy_role: "p-dev-github-deploy".into(),
            ..pricewatch_core::config::Environments::new(std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../.."
            )))
            .load("dev")
            .unwrap()
            .names()
        };
        assert_eq!(
            grant_statements(&names.roles(Dialect::Redshift), &m),
            "GRANT SELECT ON gold.a TO ROLE pricewatch_operator;\nGRANT SELECT ON gold.a TO ROLE pricewatch_reader;"
        );
        let bronze = stream("bronze.p", "SELECT 1");
        assert_eq!(
            grant_statements(&names.roles(Dialect::Postgres), &bronze),
            "GRANT SELECT ON bronze.p TO pricewatch_operator;",
            "raw records are the pipeline's, not the readers'"
        );
        let mut incremental = model("silver.i", &[], "SELECT 1");
        incremental.materialized = Materialization::Incremental;
        assert_eq!(
            grant_statements(&names.roles(Dialect::Redshift), &incremental),
            "GRANT SELECT ON silver.i TO ROLE pricewatch_operator;\n\
             GRANT SELECT ON silver.i TO ROLE pricewatch_reader;\n\
             REVOKE EXECUTE ON PROCEDURE pricewatch_meta.incremental__silver__i(BOOLEAN) FROM PUBLIC;\n\
             GRANT EXECUTE ON PROCEDURE pricewatch_meta.incremental__silver__i(BOOLEAN) TO ROLE pricewatch_operator;",
            "the operator refreshes it through its procedure only"
        );
        assert_eq!(
            comment_statement(Dialect::Redshift, &incremental).unwrap(),
            "COMMENT ON TABLE silver.i IS 'd';"
        );
    }

    #[test]
    fn a_removed_incremental_model_takes_its_procedure_and_watermark_along() {
        assert_eq!(
            drop_statement("silver.i", "incremental"),
            "DROP TABLE IF EXISTS silver.i CASCADE;"
        );
        assert_eq!(
            forget_incremental("silver.i", Dialect::Redshift),
            "DROP PROCEDURE IF EXISTS pricewatch_meta.incremental__silver__i(BOOLEAN);\n\
             DELETE FROM pricewatch_meta.incremental_state WHERE model = 'silver.i';"
        );
    }
}
