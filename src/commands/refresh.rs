//! `pricewatch refresh`: refreshes the warehouse's materialized models.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use super::{connect_warehouses, holding_lease, with_clients, Session};
use crate::aws::Clients;
use crate::checks::run::RunId;
use crate::cli::RefreshArgs;
use crate::clusters;
use crate::config::{names::SOURCES, Dialect, Environment};
use crate::error::{ExitStatus, UsageError};
use crate::output::Reporter;
use crate::render::{Bundle, Materialization, Model};
use crate::warehouse::refresh::{self, ModelResult, Status};
use crate::warehouse::{stream_load, Statements};

#[derive(Serialize)]
pub struct Refreshed {
    env: String,
    /// Records loaded from each stream (local env only).
    loaded: Vec<(String, usize)>,
    /// Wall time of the model refreshes (loading excluded).
    seconds: f64,
    parallelism: usize,
    models: Vec<ModelResult>,
    /// The k-means segments rewritten after the refresh (None when a model
    /// failed: clusters are never computed from stale input).
    clusters: Option<ClustersWritten>,
}

#[derive(Serialize)]
pub struct ClustersWritten {
    items: usize,
    clusters: usize,
    seconds: f64,
}

pub fn run(session: &Session, args: RefreshArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("refresh")?;
    let env = &bundle.env;
    let selected = refresh::select(&bundle.models, &args.select).map_err(UsageError)?;
    let parallelism = args.parallelism.unwrap_or(env.settings.refresh.parallelism) as usize;
    let reporter = session.reporter.as_ref();
    let report = with_clients(env, uses_aws(&bundle, &selected), async |clients| {
        holding_lease(env, clients, "refresh", args.lease.wait, reporter, async {
            refresh_models(&bundle, clients, &selected, parallelism, reporter).await
        })
        .await
    })?;
    session.printer.result(|| text(&report), &report);
    Ok(if report.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
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

/// Whether refreshing `selected` calls AWS (Redshift, or Kinesis to load).
pub fn uses_aws(bundle: &Bundle, selected: &BTreeSet<String>) -> bool {
    bundle.env.dialect() == Dialect::Redshift || !streams_to_load(bundle, selected).is_empty()
}

impl Refreshed {
    pub fn succeeded(&self) -> bool {
        self.models.iter().all(|m| m.status == Status::Refreshed)
    }

    pub fn failed_models(&self) -> Vec<&str> {
        self.models
            .iter()
            .filter(|m| m.status == Status::Failed)
            .map(|m| m.model.as_str())
            .collect()
    }
}

/// Loads the streams (local), refreshes the selected models in DAG order,
/// then rewrites the item clusters when every model refreshed. Failed
/// models are logged as warnings and reported, not returned as errors.
pub async fn refresh_models(
    bundle: &Bundle,
    clients: &Clients,
    selected: &BTreeSet<String>,
    parallelism: usize,
    reporter: &dyn Reporter,
) -> anyhow::Result<Refreshed> {
    let env = &bundle.env;
    let pool = connect_warehouses(env, clients, parallelism).await?;
    let mut loaded = Vec::new();
    let names = env.names();
    for model in streams_to_load(bundle, selected) {
        let source = model
            .name
            .split_once('.')
            .map(|(_, t)| t)
            .unwrap_or_default();
        if !SOURCES.contains(&source) {
            anyhow::bail!(
                "stream model {} is not named after a source ({})",
                model.name,
                SOURCES.join(", ")
            );
        }
        let stream = names.stream(source).expect("a source has a stream");
        let table = format!("pricewatch_meta.kinesis_{source}");
        let count = stream_load::load(&clients.streams, &pool[0], stream, &table).await?;
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
        let outcome = refresh::refresh_statement(&pool[session], model).await;
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
    let clusters = if models.iter().all(|m| m.status == Status::Refreshed) {
        Some(write_clusters(env, &pool[0]).await?)
    } else {
        None
    };
    for failed in models.iter().filter(|m| m.status == Status::Failed) {
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
    let written = clusters::recompute(warehouse, k, &RunId::now().checked_at)
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

pub fn text(report: &Refreshed) -> String {
    let mut lines: Vec<String> = report
        .loaded
        .iter()
        .map(|(stream, count)| format!("loaded {count} record(s) from {stream}"))
        .collect();
    lines.push(format!("{:<28} {:<10} {:>8}", "model", "status", "seconds"));
    for m in &report.models {
        let status = match m.status {
            Status::Refreshed => "refreshed",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        };
        lines.push(format!("{:<28} {:<10} {:>8.3}", m.model, status, m.seconds));
        if let Some(detail) = &m.detail {
            lines.push(format!("    {detail}"));
        }
    }
    if let Some(c) = &report.clusters {
        lines.push(format!(
            "{}: {} item(s) in {} cluster(s) in {:.3}s",
            clusters::CLUSTERS_TABLE,
            c.items,
            c.clusters,
            c.seconds
        ));
    }
    let count = |s: Status| report.models.iter().filter(|m| m.status == s).count();
    lines.push(format!(
        "env {}: {} refreshed, {} failed, {} skipped in {:.3}s ({} at once)",
        report.env,
        count(Status::Refreshed),
        count(Status::Failed),
        count(Status::Skipped),
        report.seconds,
        report.parallelism
    ));
    lines.join("\n")
}
