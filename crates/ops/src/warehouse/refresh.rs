//! `refresh`: refreshes materialized models in DAG order — each model as
//! soon as everything it depends on is refreshed, independent ones at the
//! same time (up to a parallelism), each REFRESH its own statement. A failed
//! model's downstream is skipped, never refreshed on stale input.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use super::{Statements, WarehouseError};
use pricewatch_core::dag::Dag;
use pricewatch_core::model::{Materialization, Model};
use pricewatch_core::render::incremental;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshStatus {
    Refreshed,
    Failed,
    /// Not run: something it depends on failed.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub status: RefreshStatus,
    pub seconds: f64,
    pub detail: Option<String>,
}

/// The models `--select` names: each `MODEL` alone, or `MODEL+` with
/// everything downstream. No selector selects every model.
pub fn select(models: &[Model], selectors: &[String]) -> Result<BTreeSet<String>, String> {
    if selectors.is_empty() {
        return Ok(models.iter().map(|m| m.name.clone()).collect());
    }
    let mut dag = Dag::new();
    for model in models {
        dag.add(model.name.clone(), model.depends_on.clone());
    }
    let mut selected = BTreeSet::new();
    for selector in selectors {
        let (name, downstream) = match selector.strip_suffix('+') {
            Some(name) => (name, true),
            None => (selector.as_str(), false),
        };
        if !models.iter().any(|m| m.name == name) {
            let known: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
            return Err(format!("no model `{name}`; models: {}", known.join(", ")));
        }
        if downstream {
            selected.extend(dag.downstream(name));
        } else {
            selected.insert(name.to_string());
        }
    }
    Ok(selected)
}

/// Runs `refresh_one` for every selected materialized model, in dependency
/// order, at most `parallelism` at once. `models` come in DAG order.
pub async fn refresh<'m, F, Fut>(
    models: &'m [Model],
    selected: &BTreeSet<String>,
    parallelism: usize,
    refresh_one: F,
) -> Vec<ModelResult>
where
    F: Fn(&'m Model) -> Fut,
    Fut: std::future::Future<Output = Result<(), WarehouseError>>,
{
    let targets: Vec<&'m Model> = models
        .iter()
        .filter(|m| selected.contains(&m.name) && m.materialized.is_materialized())
        .collect();
    let target_names: BTreeSet<&str> = targets.iter().map(|m| m.name.as_str()).collect();
    // Dependencies that are refreshed in this run (others are taken as they are).
    let waits_for: BTreeMap<&str, Vec<&str>> = targets
        .iter()
        .map(|m| {
            let deps = upstream_targets(models, &m.name, &target_names);
            (m.name.as_str(), deps)
        })
        .collect();
    let mut results: BTreeMap<String, ModelResult> = BTreeMap::new();
    let mut running = FuturesUnordered::new();
    let mut started: BTreeSet<&str> = BTreeSet::new();
    loop {
        for &model in &targets {
            let name = model.name.as_str();
            if started.contains(name) || running.len() >= parallelism.max(1) {
                continue;
            }
            let deps = &waits_for[name];
            if let Some(failed) = deps.iter().find(|d| {
                results
                    .get(**d)
                    .is_some_and(|r| r.status != RefreshStatus::Refreshed)
            }) {
                started.insert(name);
                results.insert(
                    name.to_string(),
                    ModelResult {
                        model: name.to_string(),
                        status: RefreshStatus::Skipped,
                        seconds: 0.0,
                        detail: Some(format!("{failed} did not refresh")),
                    },
                );
                continue;
            }
            if deps.iter().all(|d| results.contains_key(*d)) {
                started.insert(name);
                let run = &refresh_one;
                running.push(async move {
                    let start = Instant::now();
                    let outcome = run(model).await;
                    (name, outcome, start.elapsed().as_secs_f64())
                });
            }
        }
        let Some((name, outcome, seconds)) = running.next().await else {
            break;
        };
        results.insert(
            name.to_string(),
            ModelResult {
                model: name.to_string(),
                status: if outcome.is_ok() {
                    RefreshStatus::Refreshed
                } else {
                    RefreshStatus::Failed
                },
                seconds: (seconds * 1000.0).round() / 1000.0,
                detail: outcome.err().map(|e| e.to_string()),
            },
        );
    }
    targets
        .iter()
        .filter_map(|m| results.remove(&m.name))
        .collect()
}

/// The nearest refreshed-in-this-run models `name` depends on, looking
/// through models that are not refreshed (views, unselected).
fn upstream_targets<'m>(models: &'m [Model], name: &str, targets: &BTreeSet<&str>) -> Vec<&'m str> {
    let mut found = Vec::new();
    let mut pending: Vec<&str> = vec![name];
    let mut seen = BTreeSet::new();
    while let Some(current) = pending.pop() {
        let Some(model) = models.iter().find(|m| m.name == current) else {
            continue;
        };
        for dep in &model.depends_on {
            if !seen.insert(dep.as_str()) {
                continue;
            }
            match models.iter().find(|m| &m.name == dep) {
                Some(m) if targets.contains(m.name.as_str()) => found.push(m.name.as_str()),
                Some(m) => pending.push(m.name.as_str()),
                None => {}
            }
        }
    }
    found
}

/// The statement that refreshes one model: through the owner's procedure,
/// since only a materialized view's owner may refresh it (sql/setup.sql),
/// or an incremental model's own procedure (only the changed snapshots, or
/// everything when `full`). A materialized view is always recomputed whole.
pub(crate) fn refresh_sql(
    model: &Model,
    dialect: pricewatch_core::config::Dialect,
    full: bool,
) -> String {
    match model.materialized {
        Materialization::Incremental => incremental::refresh_call(&model.name, full),
        _ => format!(
            "CALL pricewatch_meta.refresh_model({});",
            pricewatch_core::sql_text::literal(&model.name, dialect)
        ),
    }
}

/// Refreshes one model with its own statement.
pub(crate) async fn refresh_statement(
    warehouse: &impl Statements,
    model: &Model,
    full: bool,
) -> Result<(), WarehouseError> {
    warehouse
        .execute(
            &format!("refresh {}", model.name),
            &refresh_sql(model, warehouse.dialect(), full),
        )
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use pricewatch_core::config::Dialect;

    #[test]
    fn incremental_models_refresh_through_their_own_procedure() {
        let mut m = model("silver.p", &[]);
        assert_eq!(
            refresh_sql(&m, Dialect::Redshift, true),
            "CALL pricewatch_meta.refresh_model('silver.p');",
            "a materialized view is always recomputed whole"
        );
        m.materialized = Materialization::Incremental;
        assert_eq!(
            refresh_sql(&m, Dialect::Redshift, false),
            "CALL pricewatch_meta.incremental__silver__p(FALSE);"
        );
        assert_eq!(
            refresh_sql(&m, Dialect::Postgres, true),
            "CALL pricewatch_meta.incremental__silver__p(TRUE);"
        );
    }

    fn model(name: &str, deps: &[&str]) -> Model {
        Model::stub(name, deps, &[])
    }

    fn graph() -> Vec<Model> {
        vec![
            model("bronze.p", &[]),
            model("bronze.v", &[]),
            model("silver.p", &["bronze.p"]),
            model("silver.v", &["bronze.v"]),
            model("gold.a", &["silver.p"]),
            model("gold.b", &["silver.p", "silver.v"]),
        ]
    }

    /// Records start/end order; fails chosen models.
    struct Log {
        events: Mutex<Vec<String>>,
        fail: Vec<&'static str>,
    }

    impl Log {
        async fn run(&self, model: &Model) -> Result<(), WarehouseError> {
            self.events
                .lock()
                .unwrap()
                .push(format!("start {}", model.name));
            tokio::time::sleep(Duration::from_millis(
                if model.name.starts_with("bronze.v") {
                    30
                } else {
                    5
                },
            ))
            .await;
            self.events
                .lock()
                .unwrap()
                .push(format!("end {}", model.name));
            if self.fail.contains(&model.name.as_str()) {
                Err(WarehouseError::Statement {
                    context: model.name.clone(),
                    message: "boom".into(),
                })
            } else {
                Ok(())
            }
        }
    }

    fn run(
        models: &[Model],
        selected: &BTreeSet<String>,
        parallelism: usize,
        log: &Log,
    ) -> Vec<ModelResult> {
        crate::block_on(refresh(models, selected, parallelism, |m| log.run(m)))
    }

    fn position(events: &[String], event: &str) -> usize {
        events
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("{event} not in {events:?}"))
    }

    #[test]
    fn every_model_runs_after_its_dependencies_and_independent_ones_overlap() {
        let log = Log {
            events: Mutex::new(Vec::new()),
            fail: vec![],
        };
        let models = graph();
        let results = run(&models, &select(&models, &[]).unwrap(), 4, &log);
        assert!(results.iter().all(|r| r.status == RefreshStatus::Refreshed));
        let events = log.events.lock().unwrap().clone();
        for (model, deps) in [
            ("silver.p", vec!["bronze.p"]),
            ("gold.b", vec!["silver.p", "silver.v"]),
        ] {
            for dep in deps {
                assert!(
                    position(&events, &format!("end {dep}"))
                        < position(&events, &format!("start {model}")),
                    "{events:?}"
                );
            }
        }
        // silver.p does not wait for the slow bronze.v.
        assert!(
            position(&events, "start silver.p") < position(&events, "end bronze.v"),
            "{events:?}"
        );
    }

    #[test]
    fn parallelism_one_runs_one_at_a_time() {
        let log = Log {
            events: Mutex::new(Vec::new()),
            fail: vec![],
        };
        let models = graph();
        run(&models, &select(&models, &[]).unwrap(), 1, &log);
        let events = log.events.lock().unwrap().clone();
        for pair in events.chunks(2) {
            assert!(
                pair[0].starts_with("start")
                    && pair[1].starts_with("end")
                    && pair[0][6..] == pair[1][4..],
                "{events:?}"
            );
        }
    }

    #[test]
    fn a_failed_model_skips_its_downstream_only() {
        let log = Log {
            events: Mutex::new(Vec::new()),
            fail: vec!["silver.p"],
        };
        let models = graph();
        let results = run(&models, &select(&models, &[]).unwrap(), 2, &log);
        let status: BTreeMap<&str, RefreshStatus> = results
            .iter()
            .map(|r| (r.model.as_str(), r.status))
            .collect();
        assert_eq!(status["silver.p"], RefreshStatus::Failed);
        assert_eq!(status["gold.a"], RefreshStatus::Skipped);
        assert_eq!(status["gold.b"], RefreshStatus::Skipped);
        assert_eq!(status["silver.v"], RefreshStatus::Refreshed);
        assert!(!log
            .events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.contains("gold.")));
        let skipped = results.iter().find(|r| r.model == "gold.b").unwrap();
        assert_eq!(skipped.detail.as_deref(), Some("silver.p did not refresh"));
    }

    #[test]
    fn select_one_model_or_its_downstream() {
        let models = graph();
        assert_eq!(
            select(&models, &["silver.p".into()]).unwrap(),
            BTreeSet::from(["silver.p".to_string()])
        );
        let down = select(&models, &["silver.p+".into()]).unwrap();
        assert_eq!(
            down,
            BTreeSet::from(["silver.p".to_string(), "gold.a".into(), "gold.b".into()])
        );
        assert_eq!(
            select(&models, &["silver.p".into(), "silver.v+".into()]).unwrap(),
            BTreeSet::from(["silver.p".to_string(), "silver.v".into(), "gold.b".into()]),
            "selectors add up"
        );
        assert!(select(&models, &["gold.nope".into()])
            .unwrap_err()
            .contains("no model `gold.nope`"));
    }

    #[test]
    fn views_are_not_refreshed_but_order_still_holds_through_them() {
        let mut models = graph();
        models[2].materialized = Materialization::View;
        let log = Log {
            events: Mutex::new(Vec::new()),
            fail: vec![],
        };
        let results = run(&models, &select(&models, &[]).unwrap(), 4, &log);
        assert!(!results.iter().any(|r| r.model == "silver.p"));
        let events = log.events.lock().unwrap().clone();
        assert!(
            position(&events, "end bronze.p") < position(&events, "start gold.a"),
            "{events:?}"
        );
    }
}
