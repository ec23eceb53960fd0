//! Writes deterministic vendor pages (product_data.html, vendor_data.html)
//! for tests, the demo and benchmarks.

use std::path::PathBuf;

use clap::Parser;
use pricewatch::ingest::fixtures::{product_page, vendor_page, PageSpec};

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
    /// Directory to write the pages into
    #[arg(long)]
    out: PathBuf,
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
    };
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(args.out.join("product_data.html"), product_page(&spec))?;
    std::fs::write(args.out.join("vendor_data.html"), vendor_page(&spec))?;
    Ok(())
}
