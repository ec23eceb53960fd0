//! What the user typed: clap types only. Commands turn these into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "pricewatch",
    version,
    about = "Render, deploy and operate the pricewatch pricing-data pipeline on AWS",
    long_about = "Render, deploy and operate the pricewatch pricing-data pipeline on AWS.\n\n\
        Results go to stdout (text, or JSON with --output json); logs and progress go to stderr.\n\
        Exit codes: 0 ok (including \"no changes\"), 1 failed or needs action, 2 usage error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Environment to act on: the name of a file in environments/ (dev, test, prod, local, ...)
    #[arg(long, global = true, env = "PRICEWATCH_ENV", value_name = "NAME")]
    pub env: Option<String>,

    /// Result format on stdout
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More detail on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Plain progress lines even on a terminal
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// The pricewatch project (holds environments/, templates/, sql/)
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub project_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write an env's stack templates, SQL models and manifest.json to a directory
    Render(RenderArgs),
    /// Check config, templates, stack wiring and the SQL model graph, without any AWS call
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Output directory [default: build/<env>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Validate every env in environments/ instead of --env
    #[arg(long, conflicts_with = "env")]
    pub all_envs: bool,
}
