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
    pub(crate) verbose: u8,

    /// Plain progress lines even on a terminal
    #[arg(long, global = true)]
    pub(crate) no_progress: bool,

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
    /// Show what deploy would change per stack (new, unchanged, or a change set summary)
    Plan(PlanArgs),
    /// Deploy the env's stacks in dependency waves, skipping unchanged ones
    Deploy(DeployArgs),
    /// Delete the env's stacks in reverse order
    Destroy(DestroyArgs),
    /// Show each stack's state, last failure and the command that fixes a stuck one
    Status(StatusArgs),
    /// Fetch every enabled source's page; archive each changed snapshot in S3, then push it to Kinesis, holding the page's ingest lease (the ingest Lambda's code, in-process)
    Ingest(IngestArgs),
    /// Reload archived snapshots from S3 into the warehouse (after the stream's retention, a recreated stream, or on a new warehouse); idempotent
    Backfill(BackfillArgs),
    /// Pack the artifacts the env's stacks need into deterministic zips and print their content-addressed keys
    Package(PackageArgs),
    /// Manage the warehouse's SQL models
    Sql(SqlArgs),
    /// Refresh materialized models in DAG order, independent ones in parallel
    Refresh(RefreshArgs),
    /// Run the data-quality checks of sql/checks.yaml in one warehouse statement; publish metrics and history
    Check(CheckArgs),
    /// Print the SQL a check runs, its value now, and the rows that violate it
    ExplainCheck(ExplainCheckArgs),
    /// Manage the QuickSight dashboard (data source, data sets, dashboard, SPICE refresh)
    Dashboard(DashboardArgs),
    /// One operational cycle: refresh every model, run the checks, refresh the dashboard's SPICE data (what the operator Lambda runs on schedule)
    Run(RunArgs),
    /// Write the results website (static HTML, SVG charts, no scripts) from the gold models; --publish puts it in S3
    Report(ReportArgs),
    /// Write the data catalog: models, columns, lineage graph, checks and their latest results
    Docs(DocsArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Run CloudFormation drift detection on every deployed stack and wait for it
    #[arg(long)]
    pub detect_drift: bool,

    /// Minutes to wait for the drift detections (they keep running after)
    #[arg(long, default_value_t = 5, value_name = "MINUTES", requires = "detect_drift", value_parser = clap::value_parser!(u64).range(1..=60))]
    pub(crate) drift_timeout: u64,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Models refreshed at once (default: the env's refresh.parallelism)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallelism: Option<u32>,

    /// Minutes to wait for the SPICE ingestions (SPICE envs)
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub timeout: u64,

    #[command(flatten)]
    pub lease: LeaseArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directory to write the site to; replaced on each run [default: build/<env>/report]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Also upload it to the env's artifacts bucket under report/ and print a presigned URL of the index (envs on a local AWS endpoint only write DIR)
    #[arg(long)]
    pub publish: bool,

    /// Hours the presigned URLs stay valid (at most 7 days; temporary credentials may end them sooner)
    #[arg(long, default_value_t = 24, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=168))]
    pub(crate) expires_hours: u32,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// Directory to write catalog.md, catalog.html and catalog.json to [default: build/<env>/docs]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Do not ask the warehouse for column types and check results
    #[arg(long)]
    pub(crate) no_warehouse: bool,
}

#[derive(Debug, Args)]
pub struct DashboardArgs {
    #[command(subcommand)]
    pub command: DashboardCommand,
}

#[derive(Debug, Subcommand)]
pub enum DashboardCommand {
    /// Create or update the data source, data sets and dashboard from templates/dashboard.json.tera, set permissions, publish the new version
    Publish(DashboardPublishArgs),
    /// Start a SPICE ingestion of every data set (SPICE envs) and wait for it
    Refresh(DashboardRefreshArgs),
}

#[derive(Debug, Args)]
pub struct DashboardPublishArgs {
    /// Describe and print what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Minutes to wait for QuickSight to build a new dashboard version
    #[arg(long, default_value_t = 10, value_name = "MINUTES")]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct DashboardRefreshArgs {
    /// Minutes to wait for the ingestions before giving up (they keep running)
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub timeout: u64,
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
    pub(crate) all_envs: bool,
}

#[derive(Debug, Args)]
pub struct ArtifactArgs {
    /// Directory holding one folder of files per artifact (e.g. ingest-lambda/bootstrap) [default: build/artifacts]
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,

    /// Allow replacing or deleting this stateful resource (logical id; repeatable)
    #[arg(long, value_name = "LOGICAL_ID")]
    pub allow_replace: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Keep the change sets and write the plan here, for `deploy --plan`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 0 when nothing would change, 2 when something would, 1 on error
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,

    #[command(flatten)]
    pub artifacts: ArtifactArgs,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Apply exactly the change sets of this plan file (from `plan --out`)
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Deploy without asking (required when not on a terminal)
    #[arg(long)]
    pub(crate) yes: bool,

    /// Delete stacks whose creation failed and continue failed rollbacks first
    #[arg(long)]
    pub recover: bool,

    /// Minutes one stack operation may take before pricewatch stops waiting
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    pub timeout: u64,

    #[command(flatten)]
    pub artifacts: ArtifactArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Really delete (required)
    #[arg(long)]
    pub(crate) yes: bool,

    /// Also required for protected envs (deploy.protect_stacks, e.g. prod)
    #[arg(long)]
    pub(crate) i_mean_prod: bool,

    /// Turn termination protection off before deleting
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// A source's page to read instead of the env's; repeatable (one per source)
    #[arg(long = "source", value_name = "NAME=URL|FILE", value_parser = source_page)]
    pub sources: Vec<(String, String)>,

    /// Products page to read instead of the env's sources.products.url (= --source products=…)
    #[arg(long, value_name = "URL|FILE")]
    pub products: Option<String>,

    /// Vendors page to read instead of the env's sources.vendors.url (= --source vendors=…)
    #[arg(long, value_name = "URL|FILE")]
    pub vendors: Option<String>,

    /// The run's deadline, in seconds from its start: records Kinesis did
    /// not accept are retried until then, and no record is sent after it
    /// (only the run's heartbeat, within 5 s)
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub(crate) retry_for: u64,

    /// Fetch, read, archive to a temporary file and batch each page, print its rows, batches and snapshot id; send nothing, take no lease, read and store no state (needs no AWS)
    #[arg(long)]
    pub dry_run: bool,
}

/// `NAME=URL|FILE` of `ingest --source` (that NAME is a source of the
/// env is checked once the env is loaded).
fn source_page(text: &str) -> Result<(String, String), String> {
    let (name, location) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=URL|FILE"))?;
    if location.is_empty() {
        return Err(format!("`{text}` names no page"));
    }
    Ok((name.to_string(), location.to_string()))
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Only this source; repeatable [default: every enabled source]
    #[arg(long, value_name = "NAME")]
    pub source: Vec<String>,

    /// Snapshots fetched at or after TIME (UTC: 2026-11-25, 2026-11-25T10:00:00Z, or an age: 36h, 7d)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Snapshots fetched before TIME (same forms as --since)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Read and check the archive, print what would be loaded, change nothing
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub lease: LeaseArgs,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Directory holding one folder of files per artifact [default: build/artifacts]
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,

    /// Also write each zip here, named <artifact>.zip
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(subcommand)]
    pub command: SqlCommand,
}

#[derive(Debug, Subcommand)]
pub enum SqlCommand {
    /// Create schemas and models in DAG order; recreate changed models with everything downstream
    Apply(SqlApplyArgs),
}

#[derive(Debug, Args)]
pub struct SqlApplyArgs {
    /// Print the plan (create / recreate / replace-stateful / comment /
    /// unchanged) and the statements, and change nothing; exit 1 when the
    /// plan would be refused
    #[arg(long)]
    pub dry_run: bool,

    /// Allow dropping this stateful model (a stream model loses everything
    /// older than the stream's retention); repeat for several
    #[arg(long, value_name = "MODEL")]
    pub allow_replace: Vec<String>,

    /// As an administrator, create the warehouse's roles, owner, schemas and
    /// grants (once per warehouse, and after sql/bootstrap.sql changes);
    /// Redshift envs sign in as the namespace admin through its secret
    #[arg(long, conflicts_with_all = ["dry_run", "allow_replace"])]
    pub bootstrap: bool,

    #[command(flatten)]
    pub lease: LeaseArgs,
}

/// How a command that holds the warehouse lease waits for it.
#[derive(Debug, Args)]
pub struct LeaseArgs {
    /// How long to wait for another run's warehouse lease (e.g. 90s, 5m, 1h)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_wait)]
    pub wait: std::time::Duration,
}

fn parse_wait(text: &str) -> Result<std::time::Duration, String> {
    pricewatch_ops::warehouse::lease::parse_wait(text)
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only this model (`schema.name`), or with `+` it and everything
    /// downstream; repeat to select several
    #[arg(long, value_name = "MODEL[+]")]
    pub select: Vec<String>,
    /// Models refreshed at once (default: the env's refresh.parallelism)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallelism: Option<u32>,
    /// Rebuild incremental models from all history instead of taking in
    /// only the snapshots that changed since their last refresh
    #[arg(long)]
    pub full: bool,

    #[command(flatten)]
    pub lease: LeaseArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A check name, or a model to run all its checks; repeat to select several
    #[arg(long, value_name = "NAME|MODEL")]
    pub select: Vec<String>,
    /// Also write JUnit XML (one testcase per check) to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Exit 1 on warnings too
    #[arg(long)]
    pub fail_on_warn: bool,
    /// Dry run: publish no CloudWatch metrics and record no history
    #[arg(long)]
    pub(crate) no_publish: bool,

    #[command(flatten)]
    pub lease: LeaseArgs,
}

#[derive(Debug, Args)]
pub struct ExplainCheckArgs {
    /// The check's name (see sql/checks.yaml)
    pub name: String,
    /// Violating rows to show at most
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub limit: u32,
}
