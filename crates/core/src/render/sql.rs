//! SQL models: discovers `sql/<schema>/<name>.sql`, renders each with the
//! env's dialect, records its `ref()`s and `config()`, builds the model DAG
//! (unknown refs and cycles are errors) and wraps each query in the DDL its
//! materialization needs.

use std::collections::{BTreeMap, HashMap};

use tera::{Context, Tera, Value};

use super::functions::Recorder;
use crate::config::Dialect;
use crate::dag::Dag;
use crate::diag::Problem;
use crate::model::{Materialization, Model};
use crate::project::ModelFile;

/// Renders every model and returns them in DAG order.
pub(crate) fn render_models(
    tera: &Tera,
    context: &Context,
    recorder: &Recorder,
    files: &[ModelFile],
    dialect: Dialect,
) -> Result<Vec<Model>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut models = BTreeMap::new();
    let mut dag = Dag::new();
    for file in files {
        let source = file.source.clone();
        recorder.take();
        let rendered = tera.render(&file.template, context);
        let recorded = recorder.take();
        let query = match rendered {
            Ok(text) => text.trim().trim_end_matches(';').trim_end().to_string(),
            Err(e) => {
                problems.push(Problem::new(&source, super::tera_message(&e)));
                continue;
            }
        };
        let (materialized, stateful, full_refresh, description) =
            match model_config(&recorded.configs) {
                Ok(config) => config,
                Err(message) => {
                    problems.push(Problem::new(&source, message));
                    continue;
                }
            };
        let head = query
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if head != "SELECT" && head != "WITH" {
            problems.push(Problem::new(&source, "a model is one query starting with SELECT or WITH; pricewatch writes the CREATE statement"));
            continue;
        }
        let columns = match super::columns::output_columns(&query, dialect) {
            Ok(columns) => columns,
            Err(message) => {
                problems.push(Problem::new(&source, message));
                continue;
            }
        };
        let mut depends_on = recorded.refs;
        depends_on.sort();
        depends_on.dedup();
        for target in &depends_on {
            if !files.iter().any(|f| &f.name == target) {
                problems.push(Problem::new(&source, format!(
                    "model {} refers to ref(model=\"{target}\"), which is not a model (expected sql/{}.sql)",
                    file.name,
                    target.replacen('.', "/", 1)
                )));
            }
        }
        dag.add(file.name.clone(), depends_on.clone());
        // An incremental model's DDL needs its inputs' materializations:
        // written once every model is read.
        let ddl = ddl(dialect, &file.name, materialized, &depends_on, &query);
        models.insert(
            file.name.clone(),
            Model {
                name: file.name.clone(),
                source,
                materialized,
                stateful: stateful || materialized == Materialization::Stream,
                full_refresh,
                description,
                depends_on,
                columns,
                query,
                ddl,
            },
        );
    }
    let kinds: BTreeMap<String, Materialization> = models
        .iter()
        .map(|(name, m)| (name.clone(), m.materialized))
        .collect();
    for model in models.values_mut() {
        let own_scope = format!("'{}'", super::incremental::scope_model(&model.name));
        let foreign = model.query.contains(":rewriting'")
            && (model.materialized != Materialization::Incremental
                || model.query.replace(&own_scope, "").contains(":rewriting'"));
        if foreign {
            problems.push(Problem::new(
                &model.source,
                format!(
                    "rewritten_since(model=...) names the incremental model being rendered ({}), which must be materialized=\"incremental\"",
                    model.name
                ),
            ));
            continue;
        }
        if model.materialized == Materialization::Incremental {
            match incremental_ddl(model, &kinds, dialect) {
                Ok(ddl) => model.ddl = ddl,
                Err(message) => problems.push(Problem::new(&model.source, message)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let order = dag
        .order()
        .map_err(|e| vec![Problem::new("sql/", format!("model graph: {e}"))])?;
    Ok(order
        .into_iter()
        .map(|name| models.remove(&name).expect("ordered models were rendered"))
        .collect())
}

/// An incremental model's header and statements (see
/// [`super::incremental`]), or why it cannot be one.
fn incremental_ddl(
    model: &Model,
    kinds: &BTreeMap<String, Materialization>,
    dialect: Dialect,
) -> Result<String, String> {
    use super::incremental::{self, KEY, SNAPSHOTS_MODEL};
    if !model.columns.iter().any(|c| c == KEY) {
        return Err(format!(
            "an incremental model returns a {KEY} column (its rows are replaced per snapshot); {} returns {}",
            model.name,
            model.columns.join(", ")
        ));
    }
    if model.query.contains("$$") {
        return Err(
            "an incremental model's query cannot contain $$ (its procedure body is dollar-quoted)"
                .into(),
        );
    }
    // A query bounded by the snapshots its refresh rewrites (its own
    // `rewritten_since`) reads earlier snapshots: a change rewrites every
    // later snapshot too.
    let scope = incremental::scope_model(&model.name);
    let reads_earlier = model.query.contains(&format!("'{scope}'"));
    // The model that tells the others which snapshots changed follows the
    // records' arrival instead.
    if model.name == SNAPSHOTS_MODEL {
        return Ok(format!(
            "{}{}",
            header(&model.name, model.materialized, &model.depends_on),
            incremental::arrival_ddl(dialect, &model.query)
        ));
    }
    let inputs: Vec<(&str, bool)> = model
        .depends_on
        .iter()
        .map(|d| {
            (
                d.as_str(),
                kinds.get(d) == Some(&Materialization::Incremental),
            )
        })
        .collect();
    let input = incremental::input_state(&inputs, dialect).ok_or_else(|| {
        format!(
            "an incremental model reads {SNAPSHOTS_MODEL} or an incremental model, which tell it the snapshots that changed; {} reads {}",
            model.name,
            model.depends_on.join(", ")
        )
    })?;
    Ok(format!(
        "{}{}",
        header(&model.name, model.materialized, &model.depends_on),
        incremental::ddl(
            dialect,
            &model.name,
            &input,
            &model.query,
            reads_earlier,
            model.columns.iter().any(|c| c == "observed_at"),
        )
    ))
}

type Config = (Materialization, bool, Option<String>, String);

/// Reads the one `config(materialized=..., description=..., stateful=...,
/// full_refresh=...)` call of a model. A materialized view says why it is
/// recomputed from all history (`full_refresh`); nothing else may.
fn model_config(configs: &[HashMap<String, Value>]) -> Result<Config, String> {
    let [config] = configs else {
        return Err(format!(
            "a model calls config(materialized=..., description=...) exactly once; found {} calls",
            configs.len()
        ));
    };
    if let Some(unknown) = config.keys().find(|k| {
        !["materialized", "description", "stateful", "full_refresh"].contains(&k.as_str())
    }) {
        return Err(format!(
            "config(): unknown argument `{unknown}` (expected materialized, description, stateful, full_refresh)"
        ));
    }
    let stateful = match config.get("stateful") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "config(): stateful must be true or false, got {other}"
            ))
        }
    };
    let materialized = config
        .get("materialized")
        .and_then(Value::as_str)
        .and_then(Materialization::parse)
        .ok_or(
            "config(): materialized must be one of stream, view, materialized_view, incremental",
        )?;
    let full_refresh = match (config.get("full_refresh"), materialized) {
        (Some(Value::String(why)), Materialization::MaterializedView) if !why.trim().is_empty() => {
            Some(why.clone())
        }
        (_, Materialization::MaterializedView) => {
            return Err("config(): a materialized view is recomputed from all history on every refresh: say why in full_refresh=\"...\", or make it incremental".into())
        }
        (Some(_), other) => {
            return Err(format!(
                "config(): full_refresh is for materialized views only, not {other}"
            ))
        }
        (None, _) => None,
    };
    let description = config
        .get("description")
        .and_then(Value::as_str)
        .filter(|d| !d.trim().is_empty())
        .ok_or("config(): description is required (it feeds the data catalog)")?;
    Ok((
        materialized,
        stateful,
        full_refresh,
        description.to_string(),
    ))
}

/// The CREATE statement for a model, with a header saying what it is.
pub(crate) fn ddl(
    dialect: Dialect,
    name: &str,
    materialized: Materialization,
    depends_on: &[String],
    query: &str,
) -> String {
    let create = match (materialized, dialect) {
        (Materialization::View, _) => format!("CREATE VIEW {name} AS"),
        (Materialization::Stream, Dialect::Redshift) => {
            format!("CREATE MATERIALIZED VIEW {name}\nAUTO REFRESH YES\nAS")
        }
        // pricewatch orchestrates refreshes in DAG order; Redshift must not
        // refresh on its own schedule in between.
        (Materialization::MaterializedView, Dialect::Redshift) => {
            format!("CREATE MATERIALIZED VIEW {name}\nAUTO REFRESH NO\nAS")
        }
        (Materialization::Incremental, _) => format!("CREATE TABLE {name} AS"),
        (_, Dialect::Postgres) => format!("CREATE MATERIALIZED VIEW {name} AS"),
    };
    // PostgreSQL's stand-in for a streaming view holds every record: an
    // incremental refresh finds the new ones by arrival (silver.snapshots),
    // a snapshot's by its id (the silver models) and the unloadable ones
    // (silver.quarantine) through indexes. (Redshift's streaming view
    // appends each refresh's records, so its blocks are in arrival order
    // already.)
    let indexes = match (materialized, dialect) {
        (Materialization::Stream, Dialect::Postgres) => format!(
            "CREATE INDEX ON {name} (approximate_arrival_timestamp);\nCREATE INDEX ON {name} (({}));\nCREATE INDEX ON {name} (approximate_arrival_timestamp) WHERE load_error IS NOT NULL;\n",
            super::functions::json_text(dialect, "payload", super::incremental::KEY)
        ),
        _ => String::new(),
    };
    format!(
        "{}{create}\n{query};\n{indexes}",
        header(name, materialized, depends_on)
    )
}

/// The comment lines every model's DDL starts with.
fn header(name: &str, materialized: Materialization, depends_on: &[String]) -> String {
    let deps = if depends_on.is_empty() {
        "(stream)".to_string()
    } else {
        depends_on.join(", ")
    };
    format!("-- {name} ({materialized})\n-- depends on: {deps}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_required_once_and_checked() {
        let ok = HashMap::from([
            ("materialized".to_string(), Value::String("view".into())),
            ("description".to_string(), Value::String("d".into())),
        ]);
        assert_eq!(
            model_config(std::slice::from_ref(&ok)).unwrap(),
            (Materialization::View, false, None, "d".to_string())
        );
        let mut full = ok.clone();
        full.insert(
            "materialized".into(),
            Value::String("materialized_view".into()),
        );
        assert!(model_config(std::slice::from_ref(&full))
            .unwrap_err()
            .contains("say why in full_refresh"));
        full.insert("full_refresh".into(), Value::String("windows".into()));
        assert_eq!(
            model_config(std::slice::from_ref(&full))
                .unwrap()
                .2
                .as_deref(),
            Some("windows")
        );
        let mut incremental = full.clone();
        incremental.insert("materialized".into(), Value::String("incremental".into()));
        assert!(model_config(&[incremental])
            .unwrap_err()
            .contains("full_refresh is for materialized views only, not incremental"));
        let mut stateful = ok.clone();
        stateful.insert("stateful".into(), Value::Bool(true));
        assert!(model_config(&[stateful.clone()]).unwrap().1);
        stateful.insert("stateful".into(), Value::String("yes".into()));
        assert!(model_config(&[stateful])
            .unwrap_err()
            .contains("true or false"));
        assert!(model_config(&[]).unwrap_err().contains("found 0"));
        assert!(model_config(&[ok.clone(), ok.clone()])
            .unwrap_err()
            .contains("found 2"));
        let mut bad = ok.clone();
        bad.insert("materialized".into(), Value::String("table".into()));
        assert!(model_config(&[bad])
            .unwrap_err()
            .contains("materialized must be"));
        let mut extra = ok.clone();
        extra.insert("sort".into(), Value::String("x".into()));
        assert!(model_config(&[extra])
            .unwrap_err()
            .contains("unknown argument `sort`"));
        let mut no_description = ok;
        no_description.remove("description");
        assert!(model_config(&[no_description])
            .unwrap_err()
            .contains("description"));
    }

    #[test]
    fn an_incremental_model_needs_a_snapshot_key_and_a_change_detector() {
        let kinds = BTreeMap::from([
            ("bronze.p".to_string(), Materialization::Stream),
            (
                "silver.snapshots".to_string(),
                Materialization::MaterializedView,
            ),
            ("silver.i".to_string(), Materialization::Incremental),
        ]);
        let mut m = Model::stub("gold.g", &["silver.i"], &["item", "snapshot_id"]);
        m.materialized = Materialization::Incremental;
        m.query = "SELECT item, snapshot_id FROM silver.i".into();
        let ddl = incremental_ddl(&m, &kinds, Dialect::Postgres).unwrap();
        assert!(
            ddl.starts_with(
                "-- gold.g (incremental)\n-- depends on: silver.i\nCREATE TABLE gold.g AS\n"
            ),
            "{ddl}"
        );
        assert!(ddl.contains("FROM pricewatch_meta.incremental_state WHERE model = 'silver.i'"));

        let mut no_key = m.clone();
        no_key.columns = vec!["item".into()];
        assert!(incremental_ddl(&no_key, &kinds, Dialect::Postgres)
            .unwrap_err()
            .contains("returns a snapshot_id column"));
        let mut stream_only = m.clone();
        stream_only.depends_on = vec!["bronze.p".into()];
        assert!(incremental_ddl(&stream_only, &kinds, Dialect::Postgres)
            .unwrap_err()
            .contains("reads silver.snapshots or an incremental model"));
        let mut dollars = m;
        dollars.query = "SELECT $$x$$ AS item, snapshot_id FROM silver.i".into();
        assert!(incremental_ddl(&dollars, &kinds, Dialect::Redshift)
            .unwrap_err()
            .contains("$$"));
    }

    #[test]
    fn the_description_is_not_part_of_the_checksum() {
        let mut model = Model::stub("gold.x", &[], &[]);
        model.ddl = ddl(
            Dialect::Postgres,
            "gold.x",
            Materialization::MaterializedView,
            &[],
            "SELECT 1",
        );
        let before = model.checksum();
        model.description = "a new description".into();
        assert_eq!(model.checksum(), before);
        assert!(model
            .file_text()
            .starts_with("-- a new description\n-- gold.x"));
    }

    #[test]
    fn ddl_per_dialect_and_materialization() {
        let deps = vec!["bronze.products".to_string()];
        let mv = ddl(
            Dialect::Redshift,
            "silver.p",
            Materialization::MaterializedView,
            &deps,
            "SELECT 1",
        );
        assert!(
            mv.contains("CREATE MATERIALIZED VIEW silver.p\nAUTO REFRESH NO\nAS\nSELECT 1;\n"),
            "{mv}"
        );
        assert!(mv.starts_with("-- silver.p (materialized_view)\n-- depends on: bronze.products\n"));
        let stream = ddl(
            Dialect::Redshift,
            "bronze.p",
            Materialization::Stream,
            &[],
            "SELECT 1",
        );
        assert!(stream.contains("AUTO REFRESH YES") && !stream.contains("INDEX"));
        let pg = ddl(
            Dialect::Postgres,
            "bronze.p",
            Materialization::Stream,
            &[],
            "SELECT 1",
        );
        assert!(pg.contains("CREATE MATERIALIZED VIEW bronze.p AS\nSELECT 1;"));
        // New records by arrival, a snapshot's by its id, as the silver
        // queries spell it.
        assert!(pg.ends_with(
            ";\nCREATE INDEX ON bronze.p (approximate_arrival_timestamp);\nCREATE INDEX ON bronze.p ((LEFT(payload ->> 'snapshot_id', 1000)));\nCREATE INDEX ON bronze.p (approximate_arrival_timestamp) WHERE load_error IS NOT NULL;\n"
        ), "{pg}");
        let view = ddl(
            Dialect::Postgres,
            "gold.v",
            Materialization::View,
            &deps,
            "SELECT 1",
        );
        assert!(view.contains("CREATE VIEW gold.v AS\nSELECT 1;"));
    }
}
