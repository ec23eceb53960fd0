//! `pricewatch report`: writes the results website (static HTML with SVG
//! charts, no scripts) from the warehouse's gold models, and with
//! `--publish` puts it in the env's private artifacts bucket and prints a
//! presigned URL of its index.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use super::{with_services, Session};
use crate::cli::ReportArgs;
use crate::error::ExitStatus;
use crate::owned_dir::OwnedDir;
use pricewatch_aws::endpoint_override;
use pricewatch_core::catalog::Catalog;
use pricewatch_core::report::{self, MARKER};
use pricewatch_core::time::now_unix;
use pricewatch_ops::report_publish::{self, Published};

#[derive(Serialize)]
struct Written {
    env: String,
    dir: PathBuf,
    pages: Vec<String>,
    published: Option<Published>,
}

pub(super) fn run(session: &Session, args: ReportArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("report")?;
    let env = &bundle.env;
    let dir = args.out.clone().unwrap_or_else(|| {
        session
            .project_dir
            .join("build")
            .join(&env.name)
            .join("report")
    });
    let out = OwnedDir::open(&dir, MARKER, "pricewatch report")?;
    // An emulated S3 (moto) gives URLs nobody else can open.
    let local_aws = endpoint_override(env).is_some();
    let publish = args.publish && !local_aws;
    if args.publish && local_aws {
        session.reporter.warn(&format!(
            "env `{}` uses a local AWS endpoint: the report is written to {} only, not published",
            env.name,
            dir.display()
        ));
    }
    let (pages, published) = with_services(env, async |services| {
        let warehouse = services.connect_one().await?;
        let data = pricewatch_ops::report_data::gather(&warehouse, &env.name, now_unix())
            .await
            .context("cannot read the gold models: run `pricewatch sql apply` and `pricewatch refresh` first")?;
        let facts = session.catalog_facts(&warehouse).await;
        let catalog = Catalog::new(&bundle.models, &bundle.checks, facts.as_ref()).html();
        let pages = report::build(&data, Some(&catalog), &|file| file.to_string())?;
        // On disk first: a failed upload still leaves the site to open.
        out.write(
            &pages
                .iter()
                .map(|p| (p.file.clone(), p.html.clone().into_bytes()))
                .collect::<Vec<_>>(),
        )?;
        let published = if publish {
            let bucket = &env.names().artifacts_bucket;
            session.reporter.info(&format!(
                "publishing to s3://{bucket}/{}",
                report_publish::PREFIX
            ));
            let expires = Duration::from_secs(u64::from(args.expires_hours) * 3600);
            Some(
                report_publish::publish(services.aws.objects().await?, bucket, &data, Some(&catalog), expires)
                    .await
                    .with_context(|| {
                        format!(
                            "the report was written to {} but not published to s3://{bucket}/{}; is the foundation stack deployed?",
                            dir.display(),
                            report_publish::PREFIX
                        )
                    })?,
            )
        } else {
            None
        };
        Ok((pages, published))
    })?;
    let written = Written {
        env: env.name.clone(),
        dir: dir.clone(),
        pages: pages.iter().map(|p| p.file.clone()).collect(),
        published,
    };
    session
        .printer
        .result(|| text(&written, &session.elapsed()), &written);
    Ok(ExitStatus::Success)
}

fn text(written: &Written, elapsed: &str) -> String {
    let mut lines = vec![format!(
        "wrote {} page(s) to {}{elapsed}; open {}",
        written.pages.len(),
        written.dir.display(),
        written.dir.join("index.html").display()
    )];
    if let Some(p) = &written.published {
        lines.push(format!(
            "published {} page(s) to s3://{}/{} (removed {} stale); this link to the index is valid for {} h:",
            p.uploaded.len(),
            p.bucket,
            report_publish::PREFIX,
            p.removed.len(),
            p.expires_in_seconds / 3600
        ));
        lines.push(p.url.clone());
    }
    lines.join("\n")
}
