//! `pricewatch refresh`: refreshes the warehouse's materialized models.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::{connect_warehouses, with_aws, Session};
use crate::cli::RefreshArgs;
use crate::config::{names::SOURCES, Dialect};
use crate::error::{ExitStatus, UsageError};
use crate::render::Materialization;
use crate::warehouse::refresh::{self, ModelResult, Status};
use crate::warehouse::stream_load;

#[derive(Serialize)]
struct Refreshed {
    env: String,
    /// Records loaded from each stream (local env only).
    loaded: Vec<(String, usize)>,
    models: Vec<ModelResult>,
}

pub fn run(session: &Session, args: RefreshArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("refresh")?;
    let env = &bundle.env;
    let selected = refresh::select(&bundle.models, args.select.as_deref()).map_err(UsageError)?;
    let parallelism = env.settings.refresh.parallelism as usize;
    let report = with_aws(env, async |clients| {
        let pool = connect_warehouses(env, clients, parallelism).await?;
        let mut loaded = Vec::new();
        if env.dialect() == Dialect::Postgres {
            // Streaming ingestion, done by hand: load what arrived in each
            // selected bronze stream before refreshing it.
            let names = env.names();
            for model in bundle
                .models
                .iter()
                .filter(|m| m.materialized == Materialization::Stream && selected.contains(&m.name))
            {
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
                session
                    .reporter
                    .info(&format!("loaded {count} new record(s) from {stream}"));
                loaded.push((stream.to_string(), count));
            }
        }
        let next = AtomicUsize::new(0);
        let models = refresh::refresh(&bundle.models, &selected, parallelism, |model| {
            let connection = &pool[next.fetch_add(1, Ordering::Relaxed) % pool.len()];
            refresh::refresh_statement(connection, model)
        })
        .await;
        Ok(Refreshed {
            env: env.name.clone(),
            loaded,
            models,
        })
    })?;
    for failed in report.models.iter().filter(|m| m.status == Status::Failed) {
        session.reporter.warn(&format!(
            "{}: {}",
            failed.model,
            failed.detail.as_deref().unwrap_or("failed")
        ));
    }
    session.printer.result(|| text(&report), &report);
    let ok = report.models.iter().all(|m| m.status == Status::Refreshed);
    Ok(if ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn text(report: &Refreshed) -> String {
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
    let count = |s: Status| report.models.iter().filter(|m| m.status == s).count();
    lines.push(format!(
        "env {}: {} refreshed, {} failed, {} skipped",
        report.env,
        count(Status::Refreshed),
        count(Status::Failed),
        count(Status::Skipped)
    ));
    lines.join("\n")
}
