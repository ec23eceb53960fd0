//! `pricewatch package`: the deterministic zips deploy would upload, and
//! their content-addressed keys — build once, then deploy the same bytes to
//! every env. No AWS call.

use anyhow::Context as _;
use serde::Serialize;

use super::Session;
use crate::cli::PackageArgs;
use crate::error::ExitStatus;

#[derive(Serialize)]
struct Packed {
    artifact: String,
    sha256: String,
    key: String,
    bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    zip: Option<String>,
}

pub(super) fn run(session: &Session, args: PackageArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("package")?;
    let artifacts = session.artifacts(&bundle, args.artifacts.as_deref())?;
    let mut packed = Vec::new();
    for artifact in artifacts.values() {
        let zip = match &args.out {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let path = dir.join(format!("{}.zip", artifact.name));
                std::fs::write(&path, &artifact.zip)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Some(path.display().to_string())
            }
            None => None,
        };
        packed.push(Packed {
            artifact: artifact.name.clone(),
            sha256: artifact.sha256.clone(),
            key: artifact.key.clone(),
            bytes: artifact.zip.len(),
            zip,
        });
    }
    session.printer.result(
        || {
            packed
                .iter()
                .map(|p| {
                    format!(
                        "{:<15} {} {:>10} bytes  {}",
                        p.artifact, p.sha256, p.bytes, p.key
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
        &packed,
    );
    Ok(ExitStatus::Success)
}
