//! Writes deterministic vendor pages (product_data.html, vendor_data.html)
//! for tests, the demo and benchmarks; with `--spikes-out`, also the offers
//! it priced at a 3× spike, so anomaly detection can be measured; with
//! `--archive-snapshots N`, also the archive ingest would have written for
//! N snapshots of both pages (prices moving), for backfill benchmarks.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use pricewatch_core::ingest::fixtures::{product_page_with_spikes, vendor_page, PageSpec, Style};
use pricewatch_core::ingest::records::{self, Source};
use pricewatch_core::ingest::{archive, html};

#[derive(Clone, Copy, ValueEnum)]
enum StyleArg {
    /// pricewatch's stress pages (prices four ways, unicode, duplicates)
    Generated,
    /// The case study's own shape (pandas to_html, its vendors and categories)
    CaseStudy,
}

/// Write deterministic product_data.html and vendor_data.html pages
#[derive(Parser)]
#[command(name = "pricewatch-fixtures", version)]
struct Args {
    /// Product rows
    #[arg(long, default_value_t = 200)]
    rows: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// A later version of the same pages: some prices moved
    #[arg(long, default_value_t = 0)]
    variant: u32,
    /// Share of product rows written broken, 0.0 to 1.0
    #[arg(long, default_value_t = 0.0)]
    broken: f64,
    /// Leave out pandas' index column
    #[arg(long)]
    no_index: bool,
    /// Price every 23rd offer at three times its usual price (an outlier)
    #[arg(long)]
    spikes: bool,
    #[arg(long, value_enum, default_value = "generated")]
    style: StyleArg,
    /// Also write the spiked offers (item, vendor, price) as JSON to this file
    #[arg(long)]
    spikes_out: Option<PathBuf>,
    /// Directory to write the pages into
    #[arg(long)]
    out: PathBuf,
    /// Also write the archive objects of this many snapshots of both pages
    /// (variant 0, 1, 2, …) under OUT/archive/, as ingest writes them
    #[arg(long, default_value_t = 0)]
    archive_snapshots: u32,
    /// Minutes between two archived snapshots
    #[arg(long, default_value_t = 60)]
    archive_every_minutes: u64,
    /// Unix time of the first archived snapshot [default: 2026-11-01T00:00:00Z]
    #[arg(long, default_value_t = 1_793_491_200)]
    archive_start: u64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let spec = PageSpec {
        rows: args.rows,
        seed: args.seed,
        variant: args.variant,
        broken_ratio: args.broken.clamp(0.0, 1.0),
        index_column: !args.no_index,
        spikes: args.spikes,
        style: match args.style {
            StyleArg::Generated => Style::Generated,
            StyleArg::CaseStudy => Style::CaseStudy,
        },
    };
    std::fs::create_dir_all(&args.out)?;
    let (products, spikes) = product_page_with_spikes(&spec);
    std::fs::write(args.out.join("product_data.html"), products)?;
    std::fs::write(args.out.join("vendor_data.html"), vendor_page(&spec))?;
    for n in 0..args.archive_snapshots {
        let at = args.archive_start + u64::from(n) * args.archive_every_minutes * 60;
        let spec = PageSpec { variant: n, ..spec };
        for (source, page) in [
            (Source::products(), product_page_with_spikes(&spec).0),
            (Source::vendors(), vendor_page(&spec)),
        ] {
            let table = html::parse_table(&page).map_err(std::io::Error::other)?;
            let snapshot = records::snapshot(source, &table, at).map_err(std::io::Error::other)?;
            let path = args.out.join(archive::key(source, &snapshot.snapshot_id));
            std::fs::create_dir_all(path.parent().expect("a key has folders"))?;
            std::fs::write(path, archive::encode(&snapshot.records))?;
        }
    }
    if let Some(path) = &args.spikes_out {
        let json = serde_json::to_string_pretty(&spikes).map_err(std::io::Error::other)?;
        std::fs::write(path, json + "\n")?;
    }
    Ok(())
}
