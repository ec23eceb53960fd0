//! The ports: the interfaces operations need from AWS and the warehouse,
//! each named after its service — [`stacks`] (CloudFormation), and here
//! the small ones (S3, Kinesis, CloudWatch, STS, the Data API, the
//! warehouse's statements) — and the error every AWS call returns,
//! classified by what the user can do about it. The QuickSight port is
//! `dashboard::quicksight`, beside the dashboard model its types carry.
//! `pricewatch-aws` implements them against the SDK; tests use fakes.

pub mod stacks;

/// A failed AWS call, classified by what the user can do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{operation} failed: {message}{}", self.kind.advice())]
pub struct AwsError {
    pub operation: String,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// Missing or expired credentials, or a wrong account.
    Credentials,
    AccessDenied,
    /// Still throttled after the retries: try again later.
    Throttled,
    /// The request was refused as invalid (a bug or a bad template).
    Invalid,
    /// Network or service trouble: try again.
    Unavailable,
    /// No answer within the call's time limit (`timeouts.aws_call_seconds`,
    /// retries included).
    TimedOut,
    /// The named resource does not exist.
    NotFound,
    /// The resource already exists (or an operation on it is running).
    Conflict,
    /// A service quota was reached (e.g. SPICE ingestions per day).
    LimitExceeded,
    /// The endpoint does not implement the operation (moto's gaps).
    Unsupported,
    Other,
}

impl AwsErrorKind {
    fn advice(self) -> &'static str {
        match self {
            AwsErrorKind::Credentials => {
                " (check your AWS credentials: AWS_PROFILE, aws sso login, or the env's aws.profile)"
            }
            AwsErrorKind::AccessDenied => " (the credentials lack a permission: see docs/operations.md)",
            AwsErrorKind::Throttled => " (still throttled after retries: try again in a minute)",
            AwsErrorKind::Unavailable => " (AWS did not answer: check the network or endpoint, then retry)",
            AwsErrorKind::TimedOut => {
                " (no answer within timeouts.aws_call_seconds, retries included: check the network and the endpoint — AWS_ENDPOINT_URL or the env's aws.endpoint_url — then rerun the command)"
            }
            AwsErrorKind::Unsupported => " (the endpoint does not implement this operation)",
            AwsErrorKind::Invalid
            | AwsErrorKind::NotFound
            | AwsErrorKind::Conflict
            | AwsErrorKind::LimitExceeded
            | AwsErrorKind::Other => "",
        }
    }
}

impl AwsError {
    pub fn new(operation: &str, kind: AwsErrorKind, message: impl Into<String>) -> AwsError {
        AwsError {
            operation: operation.to_string(),
            kind,
            code: None,
            message: message.into(),
        }
    }
}

pub type AwsResult<T> = Result<T, AwsError>;

/// S3 buckets: the artifacts bucket and the ingest state in it.
#[allow(async_fn_in_trait)]
pub trait ObjectStore {
    async fn exists(&self, bucket: &str, key: &str) -> AwsResult<bool>;
    /// None when there is no such object.
    async fn get(&self, bucket: &str, key: &str) -> AwsResult<Option<Vec<u8>>>;
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> AwsResult<()>;
    /// Deletes every object version and delete marker; returns how many.
    async fn empty(&self, bucket: &str) -> AwsResult<usize>;
}

/// Conditional writes on a bucket (S3 `If-None-Match: *` and `If-Match`):
/// one writer wins, the other learns it lost. The per-source ingest lease
/// is built on them.
#[allow(async_fn_in_trait)]
pub trait ConditionalObjects: ObjectStore {
    /// The object and its ETag; None when there is no such object.
    async fn get_tagged(&self, bucket: &str, key: &str) -> AwsResult<Option<(Vec<u8>, String)>>;
    /// Writes `body` only if the object still has the ETag `expected`
    /// (None: only if there is no object). Returns the new ETag, or None
    /// when the condition failed because another writer was first.
    async fn put_if(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        expected: Option<&str>,
    ) -> AwsResult<Option<String>>;
    /// Deletes the object only if it still has the ETag `etag`; false when
    /// it changed or is gone.
    async fn delete_if(&self, bucket: &str, key: &str, etag: &str) -> AwsResult<bool>;
}

/// Objects written from a local file, for objects too large to hold in
/// memory (a snapshot's archive object): the adapter streams the file
/// (S3 multipart upload in parts of bounded size).
#[allow(async_fn_in_trait)]
pub trait FileObjects {
    async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &std::path::Path,
        content_type: &str,
    ) -> AwsResult<()>;
}

/// A bucket prefix served as a private website: what is there, removing
/// what is stale, and time-limited links that need no credentials.
#[allow(async_fn_in_trait)]
pub trait SiteObjects: ObjectStore {
    /// Every key under `prefix`.
    async fn list(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<String>>;
    async fn delete(&self, bucket: &str, keys: &[String]) -> AwsResult<()>;
    /// A presigned GET URL, valid for `expires`.
    async fn presigned_get(
        &self,
        bucket: &str,
        key: &str,
        expires: std::time::Duration,
    ) -> AwsResult<String>;
}

/// The snapshot archive, read back by `pricewatch backfill`.
#[allow(async_fn_in_trait)]
pub trait ArchiveObjects {
    /// Keys under `prefix` in key order: after `start_after` when given,
    /// and before `stop_before` when given.
    async fn keys(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        stop_before: Option<&str>,
    ) -> AwsResult<Vec<String>>;
    /// An object's bytes; None when there is no such object.
    async fn read(&self, bucket: &str, key: &str) -> AwsResult<Option<Vec<u8>>>;
}

/// Who the credentials belong to.
#[allow(async_fn_in_trait)]
pub trait Identity {
    async fn account_id(&self) -> AwsResult<String>;
}

/// Kinesis streams.
#[allow(async_fn_in_trait)]
pub trait RecordSink {
    /// Puts one batch of (partition key, data) to a stream (name or ARN).
    /// Per record: None when accepted, else the error code it came back with.
    async fn put_records(
        &self,
        stream: &str,
        records: &[(&str, &[u8])],
    ) -> AwsResult<Vec<Option<String>>>;
}

/// A record read back from a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    pub arrival: String,
    pub data: Vec<u8>,
}

/// Reading Kinesis streams (the local warehouse's stand-in for streaming ingestion).
#[allow(async_fn_in_trait)]
pub trait RecordSource {
    async fn shards(&self, stream: &str) -> AwsResult<Vec<String>>;
    /// Every record of a shard after `after` (from the start when None), in order.
    async fn read(
        &self,
        stream: &str,
        shard: &str,
        after: Option<&str>,
    ) -> AwsResult<Vec<StreamRecord>>;
}

/// Where a Redshift Data API statement stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementStatus {
    /// Submitted, picked or started.
    Running,
    Finished {
        has_result_set: bool,
    },
    /// Failed in the database, with the server's message.
    Failed {
        message: String,
    },
    /// Cancelled.
    Aborted,
}

/// One page of a statement's result: every value as text (NULL as None).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultPage {
    pub rows: Vec<Vec<Option<String>>>,
    pub next_token: Option<String>,
}

/// The Redshift Data API, on one workgroup and database.
#[allow(async_fn_in_trait)]
pub trait DataApi {
    /// Submits SQL without waiting: one statement on its own, several as
    /// one batch (one transaction). `name` labels it in Redshift's history.
    /// Returns the statement id.
    async fn submit(&self, name: &str, sqls: &[String]) -> AwsResult<String>;
    async fn status(&self, id: &str) -> AwsResult<StatementStatus>;
    async fn result_page(&self, id: &str, next_token: Option<&str>) -> AwsResult<ResultPage>;
    async fn cancel(&self, id: &str) -> AwsResult<()>;
}

/// One CloudWatch data point.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    pub name: String,
    /// (name, value) pairs.
    pub dimensions: Vec<(String, String)>,
    pub value: f64,
}

/// CloudWatch custom metrics.
#[allow(async_fn_in_trait)]
pub trait Metrics {
    /// Puts one batch of points into `namespace` (one PutMetricData call).
    async fn put(&self, namespace: &str, points: &[MetricPoint]) -> AwsResult<()>;
}

/// A failed warehouse statement or connection, with what was being done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WarehouseError {
    #[error("cannot reach the warehouse ({target}): {message}")]
    Unreachable { target: String, message: String },
    #[error("{context} failed: {message}")]
    Statement { context: String, message: String },
    /// A bounded wait ran out: what was waited on, the limit and its
    /// setting, and what to do next.
    #[error("{waited_on}: gave up after {seconds} s ({setting}); {next}")]
    TimedOut {
        waited_on: String,
        seconds: u64,
        setting: String,
        next: String,
    },
}

/// Runs SQL in the warehouse.
#[allow(async_fn_in_trait)]
pub trait Statements {
    /// The SQL dialect the warehouse speaks (literals and statements differ).
    fn dialect(&self) -> crate::config::Dialect;
    /// Runs one or more statements; `context` names what they are for
    /// (e.g. the model) in errors.
    async fn execute(&self, context: &str, sql: &str) -> Result<(), WarehouseError>;
    /// Runs a query; every value as text (NULL as None).
    async fn query(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, WarehouseError>;
}

/// A database login the warehouse bootstrap gives a password (Redshift:
/// QuickSight's, kept in Secrets Manager).
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub user: String,
    pub password: String,
}
