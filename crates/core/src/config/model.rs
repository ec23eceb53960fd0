//! The typed environment configuration: what `environments/defaults.yaml`
//! merged with `environments/<env>.yaml` must deserialize into. Unknown keys
//! are errors (`deny_unknown_fields`); semantic rules live in `validate.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One environment's settings after merging defaults and the env file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The AWS account pricewatch may change (deploy refuses any other).
    pub account_id: String,
    pub region: String,
    /// First part of every stack and resource name: `<prefix>-<env>-...`.
    pub(crate) stack_prefix: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub aws: AwsSettings,
    /// The pages pricewatch ingests, by name (`sources.<name>`): one
    /// Kinesis stream, one bronze model and, unless the source has
    /// hand-written ones, generated silver models each.
    pub sources: BTreeMap<String, SourceSettings>,
    pub streams: StreamSettings,
    pub ingest: IngestSettings,
    #[serde(default)]
    pub archive: ArchiveSettings,
    pub warehouse: WarehouseSettings,
    pub refresh: RefreshSettings,
    #[serde(default)]
    pub alarms: AlarmSettings,
    #[serde(default)]
    pub quicksight: QuickSightSettings,
    pub pricing: PricingSettings,
    #[serde(default)]
    pub deploy: DeploySettings,
    #[serde(default)]
    pub timeouts: TimeoutSettings,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsSettings {
    /// Named profile from the shared AWS config; none means the default chain.
    pub profile: Option<String>,
    /// Endpoint for every AWS client (moto in `local`); `AWS_ENDPOINT_URL` overrides it.
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StreamMode {
    OnDemand,
    Provisioned,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    pub mode: StreamMode,
    /// Shards per stream; required (and only allowed) when `mode: provisioned`.
    pub shards: Option<u32>,
    pub retention_hours: u32,
    /// Per source (by name): a capacity other than the env's `mode` and
    /// `shards` for that source's stream.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceStream>,
}

/// A source stream's own capacity; what it leaves out comes from the env's.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceStream {
    pub mode: Option<StreamMode>,
    pub shards: Option<u32>,
}

/// The capacity one source's stream is deployed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamCapacity {
    pub mode: StreamMode,
    /// Set exactly when `mode` is provisioned (once validated).
    pub shards: Option<u32>,
}

impl StreamSettings {
    /// The capacity of `source`'s stream: its own `mode` and `shards` where
    /// given, the env's otherwise. A source switched to on-demand drops
    /// the env's shard count; one switched to provisioned takes it unless
    /// it names its own.
    pub(crate) fn capacity(&self, source: &str) -> StreamCapacity {
        let own = self.sources.get(source).cloned().unwrap_or_default();
        let mode = own.mode.unwrap_or(self.mode);
        let shards = match mode {
            StreamMode::OnDemand if own.mode == Some(StreamMode::OnDemand) => own.shards,
            _ => own.shards.or(self.shards),
        };
        StreamCapacity { mode, shards }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    /// EventBridge schedule expression: `rate(5 minutes)` or `cron(...)`.
    pub(crate) schedule: String,
    pub(crate) memory_mb: u32,
    pub(crate) timeout_seconds: u32,
    pub(crate) log_retention_days: u32,
    /// Key prefix in the artifacts bucket where page hashes are kept.
    pub state_prefix: String,
}

/// One page pricewatch ingests (`sources.<name>`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {
    /// `false` leaves the source out of this env: no stream, no ingest, no
    /// models; its declaration is still checked.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Where the page is fetched (http, https or file).
    pub url: String,
    /// The columns that identify a row: its Kinesis partition key and what
    /// the silver model keeps one row per snapshot of.
    pub key: Vec<String>,
    /// The page's columns pricewatch reads, in order, by name.
    pub columns: Columns,
    /// Who writes the source's silver models.
    #[serde(default)]
    pub models: SourceModels,
}

fn enabled() -> bool {
    true
}

/// Where a source's warehouse models come from.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceModels {
    /// pricewatch generates `bronze.<name>`, `silver.<name>_validated` and
    /// `silver.<name>` from the declaration.
    #[default]
    Generated,
    /// The project has its own `sql/bronze/<name>.sql` and silver models
    /// (products and vendors); the declaration drives ingest only.
    HandWritten,
}

/// A source's columns in declaration order (a YAML mapping keeps its
/// order; `BTreeMap` would not).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns(pub Vec<(String, ColumnSettings)>);

impl Columns {
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &ColumnSettings)> {
        self.0.iter().map(|(name, column)| (name.as_str(), column))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&ColumnSettings> {
        self.iter().find(|(n, _)| *n == name).map(|(_, c)| c)
    }
}

impl Serialize for Columns {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, column) in &self.0 {
            map.serialize_entry(name, column)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Columns {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> serde::de::Visitor<'de> for Ordered {
            type Value = Columns;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of column name to {header, type, required}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Columns, A::Error> {
                let mut columns = Vec::new();
                while let Some((name, column)) = map.next_entry::<String, ColumnSettings>()? {
                    columns.push((name, column));
                }
                Ok(Columns(columns))
            }
        }
        deserializer.deserialize_map(Ordered)
    }
}

/// One column of a source's page.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnSettings {
    /// The page's header text; matched ignoring case, spaces and
    /// punctuation ("Sale  Price" reads "sale price").
    pub header: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// A row without a value here is quarantined (`missing <column>`).
    #[serde(default)]
    pub required: bool,
}

/// What a column's text is typed as in `silver.<source>`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Text,
    Integer,
    /// A number with up to 4 decimals; `$`, thousands commas and spaces are
    /// dropped first (`$1,234.56`).
    Decimal,
}

impl Settings {
    /// The sources this env ingests, by name.
    pub(crate) fn enabled_sources(&self) -> impl Iterator<Item = (&str, &SourceSettings)> {
        self.sources
            .iter()
            .filter(|(_, s)| s.enabled)
            .map(|(name, s)| (name.as_str(), s))
    }
}

/// The S3 archive of every snapshot ingest sends (`pricewatch backfill`
/// reads it back): its lifecycle rule.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSettings {
    /// Days after which archived snapshots move to `storage_class`; none
    /// keeps them in S3 Standard.
    pub transition_days: Option<u32>,
    pub(crate) storage_class: ArchiveStorageClass,
    /// Days after which archived snapshots are deleted; none keeps them.
    pub expire_days: Option<u32>,
}

impl Default for ArchiveSettings {
    fn default() -> Self {
        ArchiveSettings {
            transition_days: None,
            storage_class: ArchiveStorageClass::GlacierIr,
            expire_days: None,
        }
    }
}

/// Storage classes an archived snapshot may move to: only those whose
/// objects can be read at once, because backfill reads them directly
/// (Glacier Flexible Retrieval and Deep Archive need a restore first).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub(crate) enum ArchiveStorageClass {
    #[serde(rename = "STANDARD_IA")]
    StandardIa,
    #[serde(rename = "INTELLIGENT_TIERING")]
    IntelligentTiering,
    #[serde(rename = "GLACIER_IR")]
    GlacierIr,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WarehouseEngine {
    RedshiftServerless,
    Postgres,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WarehouseSettings {
    pub engine: WarehouseEngine,
    pub database: String,
    /// Admin user name; its password is generated and kept by Secrets Manager.
    pub admin_username: String,
    pub(crate) base_capacity_rpu: u32,
    pub(crate) max_capacity_rpu: Option<u32>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// PostgreSQL connection for `engine: postgres` (no password: use
    /// `PRICEWATCH_DATABASE_URL` or a `.pgpass` for credentials).
    pub postgres_url: Option<String>,
    /// When not empty, product rows of other categories are quarantined.
    #[serde(default)]
    pub allowed_categories: Vec<String>,
    /// How the gold models' `hour` column buckets a snapshot time.
    #[serde(default)]
    pub hour_bucket: HourBucket,
}

/// How a snapshot time becomes the `hour` of the hourly gold models.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HourBucket {
    /// The hour the snapshot was taken in: 10:40 is in 10:00.
    #[default]
    Floor,
    /// The nearest full hour, as the case study's MVP did: 10:40 is in 11:00.
    Nearest,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RefreshSettings {
    pub(crate) schedule: String,
    /// How many models `refresh` runs at once.
    pub parallelism: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlarmSettings {
    pub(crate) evaluation_periods: u32,
    pub(crate) datapoints_to_alarm: u32,
    /// Who is woken up: fail thresholds, a stopped pipeline, Lambda errors
    /// (SNS topic `<prefix>-<env>-page`).
    #[serde(default)]
    pub page: Subscriptions,
    /// Who gets a ticket: warn thresholds and problems the next run retries
    /// (SNS topic `<prefix>-<env>-ticket`).
    #[serde(default)]
    pub ticket: Subscriptions,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        AlarmSettings {
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            page: Subscriptions::default(),
            ticket: Subscriptions::default(),
        }
    }
}

/// The subscriptions of one alarm topic; all optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Subscriptions {
    /// E-mail addresses (each confirms the subscription once).
    #[serde(default)]
    pub email: Vec<String>,
    /// HTTPS endpoints that accept SNS notifications (e.g. an incident
    /// tool's SNS integration); no credentials in the URL.
    #[serde(default)]
    pub https: Vec<String>,
    /// Slack channels that AWS Chatbot posts the alarms to (the Slack
    /// workspace must be authorised in the Chatbot console once).
    #[serde(default)]
    pub chatbot: Vec<SlackChannel>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackChannel {
    /// The Slack workspace (team) id, `T...`.
    pub workspace_id: String,
    /// The Slack channel id, `C...`.
    pub channel_id: String,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportMode {
    #[default]
    DirectQuery,
    Spice,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuickSightSettings {
    /// QuickSight user or group ARNs that may view the dashboard.
    #[serde(default)]
    pub principals: Vec<String>,
    /// QuickSight user or group ARNs that own the data source, data sets and
    /// dashboard (may edit, share and refresh them).
    #[serde(default)]
    pub owners: Vec<String>,
    #[serde(default)]
    pub import_mode: ImportMode,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PricingSettings {
    /// Robust z-score above which a price is an anomaly.
    pub anomaly_threshold: f64,
    /// The smallest spread (as % of the offer's median price) a robust
    /// z-score divides by: a history that barely moved does not turn an
    /// ordinary price move into an outlier.
    pub anomaly_min_spread_pct: f64,
    /// The smallest move away from the median (in %) that can be an anomaly.
    pub anomaly_min_move_pct: f64,
    /// Hours of history the rolling price trend looks back over.
    pub trend_window_hours: u32,
    /// How many groups k-means sorts the items into (`gold.item_clusters`).
    pub clusters: u32,
    /// ElectroWorld's pricing rules; the first matching rule wins.
    #[serde(default)]
    pub rules: Vec<PricingRule>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PricingStrategy {
    /// Lowest competitor price minus `percent`.
    UndercutLowest,
    /// The median competitor price.
    MatchMedian,
    /// Median plus `percent`.
    PremiumOverMedian,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PricingRule {
    pub name: String,
    /// Category the rule applies to; none means every category.
    pub category: Option<String>,
    pub strategy: PricingStrategy,
    #[serde(default)]
    pub percent: f64,
    pub floor: Option<f64>,
    pub ceiling: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeploySettings {
    /// Stacks deployed at once within a wave.
    pub parallelism: u32,
    /// Keep stateful resources (key, bucket, streams, namespace) when a stack is deleted.
    pub retain_data: bool,
    /// Termination protection and a stack policy guarding stateful resources.
    pub protect_stacks: bool,
    /// The IAM role CloudFormation creates and updates the stacks with, so
    /// deployers need only CloudFormation and iam:PassRole on it (see
    /// templates/ci/github-roles.yaml). None: the deployer's own rights. When
    /// set, every role the stacks create carries the env's permissions
    /// boundary, which that CloudFormation role demands.
    #[serde(default)]
    pub cloudformation_role_arn: Option<String>,
}

impl Default for DeploySettings {
    fn default() -> Self {
        DeploySettings {
            parallelism: 4,
            retain_data: false,
            protect_stacks: false,
            cloudformation_role_arn: None,
        }
    }
}

/// How long pricewatch waits for a service before it gives up and says
/// what it waited on. Every wait is bounded: a server that accepts a
/// connection and never answers cannot hang a command.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutSettings {
    /// PostgreSQL (`engine: postgres`): opening a session, TCP and login.
    pub connect_seconds: u32,
    /// PostgreSQL `statement_timeout`: the longest one statement (a model's
    /// refresh, the checks) may run.
    pub statement_seconds: u32,
    /// PostgreSQL `lock_timeout`: the longest a statement waits for a lock
    /// another session holds (a `check` behind a refresh).
    pub lock_seconds: u32,
    /// One AWS API call, its retries included.
    pub aws_call_seconds: u32,
}

impl Default for TimeoutSettings {
    fn default() -> Self {
        TimeoutSettings {
            connect_seconds: 10,
            statement_seconds: 900,
            lock_seconds: 60,
            aws_call_seconds: 60,
        }
    }
}
