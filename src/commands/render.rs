//! `pricewatch render`: writes an env's stack templates, SQL and manifest.

use anyhow::Context as _;
use serde::Serialize;

use super::Session;
use crate::cli::RenderArgs;
use crate::error::ExitStatus;
use pricewatch_core::manifest::Manifest;

#[derive(Serialize)]
struct Rendered<'a> {
    out: String,
    manifest: &'a Manifest,
}

pub(super) fn run(session: &Session, args: RenderArgs) -> anyhow::Result<ExitStatus> {
    let env = session.load_env("render")?;
    let bundle = pricewatch_core::bundle::load(&session.project_dir, &env)?;
    let out = args
        .out
        .unwrap_or_else(|| session.project_dir.join("build").join(&env.name));
    session
        .reporter
        .debug(&format!("writing {}", out.display()));
    let manifest = bundle
        .write(&out, &session.project_dir)
        .with_context(|| format!("cannot render env `{}` into {}", env.name, out.display()))?;

    let waves = bundle
        .waves
        .iter()
        .map(|wave| wave.join(", "))
        .collect::<Vec<_>>()
        .join(" -> ");
    session.printer.result(
        || {
            format!(
                "rendered env {} ({}, account {}) into {}\n  stacks    {}: {}\n  sql       {} files: setup + {} models ({})\n  manifest  {}",
                env.name,
                env.settings.region,
                env.settings.account_id,
                out.display(),
                bundle.stacks.len(),
                waves,
                manifest.sql.len(),
                bundle.models.len(),
                manifest.dialect,
                out.join("manifest.json").display(),
            )
        },
        &Rendered {
            out: out.display().to_string(),
            manifest: &manifest,
        },
    );
    Ok(ExitStatus::Success)
}
