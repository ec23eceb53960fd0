//! `refresh`: load the local streams, refresh the selected models in DAG
//! order through the owner's procedure, then rewrite the item clusters.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context as _;
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::{Dialect, Environment};
use pricewatch_core::model::{Materialization, Model};
use pricewatch_core::reporter::Reporter;
use serde::Serialize;

use crate::checks_run::RunId;
use crate::services::Services;
use crate::warehouse::refresh::{self, ModelResult, RefreshStatus};
use crate::warehouse::{stream_load, Statements};

#[derive(Serialize)]
pub struct Refreshed {
    pub env: String,
    /// Records loaded from each stream (local env only).
    pub loaded: Vec<(String, usize)>,
    /// Wall time of the model refreshes (loading excluded).
    pub seconds: f64,
    pub parallelism: usize,
    pub models: Vec<ModelResult>,
    /// The k-means segments rewritten after the refresh (None when a model
    /// failed: clusters are never computed from stale input).
    pub clusters: Option<ClustersWritten>,
}

#[derive(Serialize)]
pub struct ClustersWritten {
    pub items: usize,
    pub clusters: usize,
    pub seconds: f64,
}

/// PostgreSQL has no streaming ingestion: pricewatch loads what arrived in
/// each selected bronze stream before refreshing it.
fn streams_to_load<'b>(bundle: &'b Bundle, selected: &BTreeSet<String>) -> Vec<&'b Model> {
    match bundle.env.dialect() {
        Dialect::Postgres => bundle
            .models
            .iter()
            .filter(|m| m.materialized == Materialization::Stream && selected.contains(&m.name))
            .collect(),
        Dialect::Redshift => Vec::new(),
    }
}

impl Refreshed {
    pub fn succeeded(&self) -> bool {
        self.models
            .iter()
            .all(|m| m.status == RefreshStatus::Refreshed)
    }

    pub(crate) fn failed_models(&self) -> Vec<&str> {
        self.models
            .iter()
            .filter(|m| m.status == RefreshStatus::Failed)
            .map(|m| m.model.as_str())
            .collect()
    }
}

/// Loads the streams (local), refreshes the selected models in DAG order,
/// then rewrites the item clusters when every model refreshed. Failed
/// models are logged as warnings and reported, not returned as errors.
/// `full` rebuilds incremental models from all history.
pub async fn refresh_models(
    bundle: &Bundle,
    services: &Services<'_>,
    selected: &BTreeSet<String>,
    parallelism: usize,
    full: bool,
    reporter: &dyn Reporter,
) -> anyhow::Result<Refreshed> {
    let env = &bundle.env;
    let pool = services.connect(parallelism).await?;
    let mut loaded = Vec::new();
    let names = env.names();
    for model in streams_to_load(bundle, selected) {
        let source = model
            .name
            .split_once('.')
            .map(|(_, t)| t)
            .unwrap_or_default();
        let Some(stream) = names.stream(source) else {
            anyhow::bail!(
                "stream model {} is not named after an enabled source ({})",
                model.name,
                names.source_list()
            );
        };
        let table = format!("pricewatch_meta.kinesis_{source}");
        let count =
            stream_load::load(services.aws.streams().await?, &pool[0], stream, &table).await?;
        reporter.info(&format!("loaded {count} new record(s) from {stream}"));
        loaded.push((stream.to_string(), count));
    }
    let started = Instant::now();
    // Each running refresh has a session of its own.
    let free = Mutex::new((0..pool.len()).collect::<Vec<usize>>());
    let (free, pool) = (&free, &pool);
    let models = refresh::refresh(&bundle.models, selected, parallelism, |model| async move {
        let session = free
            .lock()
            .expect("session list")
            .pop()
            .expect("one session per concurrent refresh");
        reporter.info(&format!("refreshing {}", model.name));
        let began = Instant::now();
        let outcome = refresh::refresh_statement(&pool[session], model, full).await;
        free.lock().expect("session list").push(session);
        if outcome.is_ok() {
            reporter.debug(&format!(
                "refreshed {} in {:.3}s",
                model.name,
                began.elapsed().as_secs_f64()
            ));
        }
        outcome
    })
    .await;
    let seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    let clusters = if models.iter().all(|m| m.status == RefreshStatus::Refreshed) {
        Some(write_clusters(env, &pool[0]).await?)
    } else {
        None
    };
    for failed in models.iter().filter(|m| m.status == RefreshStatus::Failed) {
        reporter.warn(&format!(
            "{}: {}",
            failed.model,
            failed.detail.as_deref().unwrap_or("failed")
        ));
    }
    Ok(Refreshed {
        env: env.name.clone(),
        loaded,
        seconds,
        parallelism,
        models,
        clusters,
    })
}

/// Recomputes `gold.item_clusters` from the refreshed features.
async fn write_clusters(
    env: &Environment,
    warehouse: &impl Statements,
) -> anyhow::Result<ClustersWritten> {
    let started = Instant::now();
    let k = env.settings.pricing.clusters as usize;
    let written = crate::clusters::recompute(warehouse, k, &RunId::now().checked_at)
        .await
        .context("the models refreshed, but the item clusters were not rewritten")?;
    let mut numbers: Vec<u32> = written.iter().map(|c| c.cluster).collect();
    numbers.sort_unstable();
    numbers.dedup();
    Ok(ClustersWritten {
        items: written.len(),
        clusters: numbers.len(),
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    })
}
