//! `pricewatch docs`: writes the data catalog (`catalog.md` with a Mermaid
//! lineage graph, `catalog.html` with an SVG one, `catalog.json`). Column
//! types and the latest check results come from the warehouse when it
//! answers; without it the catalog is still complete from the SQL models.

use std::path::PathBuf;

use serde::Serialize;

use super::{with_services, Session};
use crate::cli::DocsArgs;
use crate::error::ExitStatus;
use crate::owned_dir::OwnedDir;
use pricewatch_core::catalog::{Catalog, Entry};
use pricewatch_core::time::utc_text;

/// Marks a folder `pricewatch docs` wrote and lists its files.
const MARKER: &str = ".pricewatch-docs";

#[derive(Serialize)]
struct Written {
    env: String,
    dir: PathBuf,
    files: Vec<String>,
    models: usize,
    /// Whether column types and check results came from the warehouse.
    from_warehouse: bool,
    note: String,
    entries: Vec<Entry>,
}

pub(super) fn run(session: &Session, args: DocsArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("docs")?;
    let env = &bundle.env;
    let dir = args.out.unwrap_or_else(|| {
        session
            .project_dir
            .join("build")
            .join(&env.name)
            .join("docs")
    });
    let out = OwnedDir::open(&dir, MARKER, "pricewatch docs")?;
    let facts = if args.no_warehouse {
        None
    } else {
        let read = with_services(env, async |services| {
            let warehouse = services.connect_one().await?;
            Ok(session.catalog_facts(&warehouse).await)
        });
        read.unwrap_or_else(|e| {
            session.reporter.warn(&format!(
                "the warehouse did not answer ({e:#}); writing the catalog without column types and check results"
            ));
            None
        })
    };
    let catalog = Catalog::new(&bundle.models, &bundle.checks, facts.as_ref());
    let html = pricewatch_core::report::standalone(
        &env.name,
        &utc_text(pricewatch_core::time::now_unix()),
        "Data catalog",
        &catalog.html(),
    )?;
    let files = [
        ("catalog.md", catalog.markdown(&env.name)),
        ("catalog.html", html),
        (
            "catalog.json",
            serde_json::to_string_pretty(&catalog.entries).expect("entries serialize"),
        ),
    ];
    out.write(
        &files
            .iter()
            .map(|(name, text)| (name.to_string(), text.clone().into_bytes()))
            .collect::<Vec<_>>(),
    )?;
    let written = Written {
        env: env.name.clone(),
        dir,
        files: files.iter().map(|(n, _)| n.to_string()).collect(),
        models: catalog.entries.len(),
        from_warehouse: facts.is_some(),
        note: catalog.note.to_string(),
        entries: catalog.entries,
    };
    session.printer.result(
        || {
            format!(
                "wrote the data catalog of {} model(s) to {} ({}){}; {}",
                written.models,
                written.dir.display(),
                written.files.join(", "),
                session.elapsed(),
                written.note
            )
        },
        &written,
    );
    Ok(ExitStatus::Success)
}
