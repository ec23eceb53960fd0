//! Semantic rules on top of the typed schema: shapes of ids and names,
//! schedule expressions, ranges, and "no secrets in config". Pure functions
//! that return every problem found, each a [`Problem`] whose location is the
//! key path (the caller ties it to a file and line).

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;

use super::model::{
    ArchiveStorageClass, Settings, StreamCapacity, StreamMode, Subscriptions, WarehouseEngine,
};
use super::model::{ColumnSettings, SourceSettings};
use crate::diag::Problem;
use crate::limits::MAX_AMOUNT;
use crate::payload::{normalise_header, RESERVED_PAYLOAD_KEYS};

/// Log retention values CloudWatch Logs accepts.
const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Longest stack prefix and env name: keeps every derived name (bucket names
/// are limited to 63 characters) within AWS limits.
pub(super) const MAX_PREFIX_LEN: usize = 16;
pub(super) const MAX_ENV_NAME_LEN: usize = 12;

pub(super) fn check_settings(s: &Settings) -> Vec<Problem> {
    let mut p = Problems::default();

    p.require(is_account_id(&s.account_id), "account_id", || {
        format!("`{}` is not an AWS account id (12 digits)", s.account_id)
    });
    p.require(is_region(&s.region), "region", || {
        format!("`{}` is not an AWS region name (like eu-west-1)", s.region)
    });
    p.require(is_name(&s.stack_prefix, MAX_PREFIX_LEN), "stack_prefix", || {
        format!(
            "`{}` must be 2-{MAX_PREFIX_LEN} characters of a-z, 0-9 and single hyphens, starting with a letter",
            s.stack_prefix
        )
    });
    for (key, value) in &s.tags {
        p.require(
            !key.is_empty() && key.len() <= 128 && !key.starts_with("aws:"),
            &format!("tags.{key}"),
            || "tag keys are 1-128 characters and may not start with `aws:`".into(),
        );
        p.require(value.len() <= 256, &format!("tags.{key}"), || {
            "tag values are at most 256 characters".into()
        });
    }
    if let Some(url) = &s.aws.endpoint_url {
        if let Some(problem) = url_problem(url) {
            p.push("aws.endpoint_url", format!("`{url}` {problem}"));
        }
    }

    match (s.streams.mode, s.streams.shards) {
        (StreamMode::Provisioned, None) => p.push(
            "streams.shards",
            "is required when streams.mode is provisioned",
        ),
        (StreamMode::Provisioned, Some(n)) if !(1..=500).contains(&n) => {
            p.push("streams.shards", format!("{n} is outside 1-500"))
        }
        (StreamMode::OnDemand, Some(_)) => p.push(
            "streams.shards",
            "only applies when streams.mode is provisioned; remove it or set mode: provisioned",
        ),
        _ => {}
    }
    check_sources(s, &mut p);
    for name in s.streams.sources.keys() {
        if !s.sources.contains_key(name) {
            p.push(
                &format!("streams.sources.{name}"),
                format!(
                    "is not a source; the sources are {}",
                    s.sources.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
            continue;
        }
        let key = format!("streams.sources.{name}.shards");
        match s.streams.capacity(name) {
            StreamCapacity {
                mode: StreamMode::Provisioned,
                shards: None,
            } => p.push(
                &key,
                "is required: the stream is provisioned and the env sets no streams.shards",
            ),
            StreamCapacity {
                mode: StreamMode::Provisioned,
                shards: Some(n),
            } if !(1..=500).contains(&n) => p.push(&key, format!("{n} is outside 1-500")),
            StreamCapacity {
                mode: StreamMode::OnDemand,
                shards: Some(_),
            } => p.push(
                &key,
                "only applies to a provisioned stream; remove it or set mode: provisioned",
            ),
            _ => {}
        }
    }
    p.range(
        "streams.retention_hours",
        s.streams.retention_hours,
        24,
        8760,
    );

    p.schedule("ingest.schedule", &s.ingest.schedule);
    p.range("ingest.memory_mb", s.ingest.memory_mb, 128, 10240);
    p.range("ingest.timeout_seconds", s.ingest.timeout_seconds, 1, 900);
    p.require(
        LOG_RETENTION_DAYS.contains(&s.ingest.log_retention_days),
        "ingest.log_retention_days",
        || {
            format!(
                "{} is not a CloudWatch Logs retention; use one of {LOG_RETENTION_DAYS:?}",
                s.ingest.log_retention_days
            )
        },
    );
    p.require(
        is_key_prefix(&s.ingest.state_prefix),
        "ingest.state_prefix",
        || "must be a non-empty S3 key prefix of letters, digits, `-`, `_` and `/`, not starting with `/`".into(),
    );

    check_archive(s, &mut p);
    check_warehouse(s, &mut p);

    p.schedule("refresh.schedule", &s.refresh.schedule);
    p.range("refresh.parallelism", s.refresh.parallelism, 1, 32);

    for (severity, subscriptions) in [("page", &s.alarms.page), ("ticket", &s.alarms.ticket)] {
        check_subscriptions(severity, subscriptions, &mut p);
    }
    p.range(
        "alarms.evaluation_periods",
        s.alarms.evaluation_periods,
        1,
        100,
    );
    p.range(
        "alarms.datapoints_to_alarm",
        s.alarms.datapoints_to_alarm,
        1,
        s.alarms.evaluation_periods.max(1),
    );
    for (key, list) in [
        ("principals", &s.quicksight.principals),
        ("owners", &s.quicksight.owners),
    ] {
        for (i, principal) in list.iter().enumerate() {
            p.require(
                is_arn(principal, "quicksight", &["user/", "group/"]),
                &format!("quicksight.{key}[{i}]"),
                || format!("`{principal}` is not a QuickSight user or group ARN (arn:aws:quicksight:REGION:ACCOUNT:user/NAMESPACE/NAME)"),
            );
        }
    }

    check_pricing(s, &mut p);
    p.range(
        "timeouts.connect_seconds",
        s.timeouts.connect_seconds,
        1,
        300,
    );
    p.range(
        "timeouts.statement_seconds",
        s.timeouts.statement_seconds,
        1,
        86_400,
    );
    p.range("timeouts.lock_seconds", s.timeouts.lock_seconds, 1, 86_400);
    p.range(
        "timeouts.aws_call_seconds",
        s.timeouts.aws_call_seconds,
        5,
        900,
    );
    p.range("deploy.parallelism", s.deploy.parallelism, 1, 16);
    if let Some(role) = &s.deploy.cloudformation_role_arn {
        let in_account = is_arn(role, "iam", &["role/"])
            && role.split(':').nth(3) == Some("")
            && role.split(':').nth(4) == Some(s.account_id.as_str());
        p.require(in_account, "deploy.cloudformation_role_arn", || {
            format!(
                "`{role}` is not an IAM role ARN in the env's account {}",
                s.account_id
            )
        });
    }
    p.0
}

/// Longest source name: the warehouse keeps it in `source` columns of 16
/// characters (silver.snapshots, silver.quarantine).
pub(super) const MAX_SOURCE_NAME_LEN: usize = 16;
/// What other tables of a source are called (`silver.<name>_validated`,
/// `bronze.<name>_history`, `bronze.<name>_archive_staging`): a source
/// named so would take another's.
const RESERVED_SOURCE_SUFFIXES: [&str; 3] = ["_validated", "_history", "_archive_staging"];
/// Longest column name of a source.
const MAX_COLUMN_NAME_LEN: usize = 32;

/// Names a generated source's models use for their own columns (its
/// working columns end in `__raw` and `__text`, so no column has `__`),
/// and the variables and parameter of the incremental models' procedures
/// (a column named like one is ambiguous inside the procedure, so its
/// `refresh --full` would fail; render's tests keep this list whole).
pub(crate) const GENERATED_COLUMNS: [&str; 16] = [
    "changed",
    "key_bytes",
    "keys",
    "since",
    "full_rebuild",
    "reason",
    "raw",
    "observed_at",
    "sequence_number",
    "page_row",
    "delivery",
    "row_reason",
    "first_copy",
    "last_copy",
    "copy",
    "e",
];

fn check_sources(s: &Settings, p: &mut Problems) {
    if s.enabled_sources().next().is_none() {
        p.push(
            "sources",
            "no source is enabled; declare one or remove `enabled: false` from one",
        );
    }
    for (name, source) in &s.sources {
        check_source(name, source, p);
    }
    // Stream, alarm and output logical ids are built from the name's
    // words: `x1` and `x_1` would both be `X1Stream`.
    let mut logical: BTreeMap<String, &str> = BTreeMap::new();
    for (name, _) in s.enabled_sources() {
        let id = super::names::logical_id(name);
        if let Some(first) = logical.insert(id.clone(), name) {
            p.push(
                &format!("sources.{name}"),
                format!("`{name}` and `{first}` give the same CloudFormation logical id ({id}); rename one"),
            );
        }
    }
    // The hand-written silver and gold models read both case-study pages.
    for needed in ["products", "vendors"] {
        if s.sources.get(needed).is_some_and(|source| !source.enabled) {
            p.push(
                &format!("sources.{needed}.enabled"),
                format!(
                    "the hand-written silver and gold models read `{needed}`: it must stay enabled"
                ),
            );
        }
    }
}

fn check_source(name: &str, source: &SourceSettings, p: &mut Problems) {
    let at = |key: &str| format!("sources.{name}.{key}");
    p.require(is_source_name(name), &format!("sources.{name}"), || {
        format!(
            "`{name}` must be 1-{MAX_SOURCE_NAME_LEN} characters of a-z, 0-9 and `_`, starting with a letter: it names a stream, a table and its columns"
        )
    });
    if let Some(suffix) = RESERVED_SOURCE_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        p.push(
            &format!("sources.{name}"),
            format!("`{name}` ends in `{suffix}`, which names the tables of another source; choose another name"),
        );
    }
    if let Some(problem) = url_problem(&source.url) {
        p.push(&at("url"), format!("`{}` {problem}", source.url));
    }
    if source.columns.0.is_empty() {
        p.push(
            &at("columns"),
            "is empty; a source reads at least one column",
        );
    }
    let mut headers: Vec<(String, &str)> = Vec::new();
    for (column, ColumnSettings { header, .. }) in source.columns.iter() {
        let key = at(&format!("columns.{column}"));
        p.require(
            is_sql_identifier(column) && column.len() <= MAX_COLUMN_NAME_LEN,
            &key,
            || {
                format!(
                    "`{column}` must be 1-{MAX_COLUMN_NAME_LEN} characters of a-z, 0-9 and `_`: it names a column"
                )
            },
        );
        let generated = source.models == super::model::SourceModels::Generated;
        p.require(
            !(RESERVED_PAYLOAD_KEYS.contains(&column)
                || (generated && GENERATED_COLUMNS.contains(&column))),
            &key,
            || format!("`{column}` is a name pricewatch uses itself; rename the column"),
        );
        p.require(!(generated && column.contains("__")), &key, || {
            format!("`{column}` holds `__`, which the generated models keep for their working columns; rename the column")
        });
        let normalised = normalise_header(header);
        if normalised.is_empty() {
            p.push(
                &format!("{key}.header"),
                format!("`{header}` has no letters or digits to match a page header by"),
            );
        } else if let Some((_, first)) = headers.iter().find(|(n, _)| *n == normalised) {
            p.push(
                &format!("{key}.header"),
                format!("`{header}` reads the same as column {first}'s header; a page header can feed one column only"),
            );
        } else {
            headers.push((normalised, column));
        }
    }
    if source.key.is_empty() {
        p.push(
            &at("key"),
            "is empty; name the column(s) that identify a row",
        );
    }
    let mut seen = BTreeSet::new();
    for (i, column) in source.key.iter().enumerate() {
        let key = at(&format!("key[{i}]"));
        if source.columns.get(column).is_some_and(|c| !c.required) {
            // A row without its key has no identity: it could be neither
            // deduplicated nor told apart in silver.
            p.push(
                &key,
                format!("`{column}` identifies a row, so it must be `required: true` in columns.{column}"),
            );
        }
        if source.columns.get(column).is_none() {
            p.push(
                &key,
                format!(
                    "`{column}` is not one of the source's columns ({})",
                    source
                        .columns
                        .iter()
                        .map(|(n, _)| n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        p.require(seen.insert(column), &key, || {
            format!("`{column}` is listed twice")
        });
    }
}

/// A source name: a SQL identifier and a Kinesis stream name part.
fn is_source_name(s: &str) -> bool {
    (1..=MAX_SOURCE_NAME_LEN).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// S3 refuses a lifecycle rule that expires objects before (or when) it
/// transitions them, and a move to Standard-IA before 30 days.
fn check_archive(s: &Settings, p: &mut Problems) {
    let archive = &s.archive;
    if let Some(days) = archive.transition_days {
        p.range("archive.transition_days", days, 1, 36_500);
        if archive.storage_class == ArchiveStorageClass::StandardIa {
            p.require(days >= 30, "archive.transition_days", || {
                format!("{days}: S3 moves objects to STANDARD_IA after 30 days at the earliest")
            });
        }
    }
    if let Some(days) = archive.expire_days {
        p.range("archive.expire_days", days, 1, 36_500);
        if let Some(transition) = archive.transition_days {
            p.require(days > transition, "archive.expire_days", || {
                format!("{days} must be greater than archive.transition_days ({transition}): S3 refuses to expire objects before it moves them")
            });
        }
    }
}

fn check_subscriptions(severity: &str, subscriptions: &Subscriptions, p: &mut Problems) {
    let mut seen = BTreeSet::new();
    for (i, email) in subscriptions.email.iter().enumerate() {
        let key = format!("alarms.{severity}.email[{i}]");
        p.require(is_email(email), &key, || {
            format!(
                "{} is not a plain e-mail address (name@example.com: letters, digits, dots and !#$%&'*+/=?^_`{{|}}~- before the @, no quotes, spaces or line breaks)",
                serde_json::to_string(email).expect("a string encodes")
            )
        });
        p.require(seen.insert(email.as_str()), &key, || {
            format!("`{email}` is listed twice")
        });
    }
    for (i, url) in subscriptions.https.iter().enumerate() {
        let key = format!("alarms.{severity}.https[{i}]");
        if !url.starts_with("https://") {
            p.push(
                &key,
                format!("`{url}` must be an https:// URL (SNS delivers alarms over TLS only here)"),
            );
        } else if url_has_password(url) {
            p.push(
                &key,
                "must not contain credentials; use an endpoint that authenticates SNS by its message signature",
            );
        } else if let Some(problem) = url_problem(url) {
            p.push(&key, format!("`{url}` {problem}"));
        }
        p.require(seen.insert(url.as_str()), &key, || {
            format!("`{url}` is listed twice")
        });
    }
    for (i, channel) in subscriptions.chatbot.iter().enumerate() {
        let key = format!("alarms.{severity}.chatbot[{i}]");
        p.require(
            is_slack_id(&channel.workspace_id, 'T'),
            &format!("{key}.workspace_id"),
            || {
                format!(
                    "`{}` is not a Slack workspace id (T followed by letters and digits)",
                    channel.workspace_id
                )
            },
        );
        p.require(
            is_slack_id(&channel.channel_id, 'C'),
            &format!("{key}.channel_id"),
            || {
                format!(
                    "`{}` is not a Slack channel id (C followed by letters and digits)",
                    channel.channel_id
                )
            },
        );
    }
}

/// Slack ids: a type letter and upper-case letters and digits (`T0123ABC`).
fn is_slack_id(s: &str, kind: char) -> bool {
    s.strip_prefix(kind).is_some_and(|rest| {
        (2..=20).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

fn check_warehouse(s: &Settings, p: &mut Problems) {
    let w = &s.warehouse;
    p.require(is_sql_identifier(&w.database), "warehouse.database", || {
        format!(
            "`{}` must be a lowercase SQL identifier (a-z, 0-9, _)",
            w.database
        )
    });
    p.require(
        is_sql_identifier(&w.admin_username),
        "warehouse.admin_username",
        || {
            format!(
                "`{}` must be a lowercase SQL identifier (a-z, 0-9, _)",
                w.admin_username
            )
        },
    );
    if w.engine == WarehouseEngine::RedshiftServerless {
        p.require(
            (8..=512).contains(&w.base_capacity_rpu) && w.base_capacity_rpu % 8 == 0,
            "warehouse.base_capacity_rpu",
            || {
                format!(
                    "{} must be a multiple of 8 between 8 and 512",
                    w.base_capacity_rpu
                )
            },
        );
        if let Some(max) = w.max_capacity_rpu {
            p.require(
                max >= w.base_capacity_rpu && max <= 1024 && max % 8 == 0,
                "warehouse.max_capacity_rpu",
                || format!("{max} must be a multiple of 8, at least base_capacity_rpu and at most 1024"),
            );
        }
    }
    for (i, id) in w.subnet_ids.iter().enumerate() {
        p.require(
            is_aws_id(id, "subnet-"),
            &format!("warehouse.subnet_ids[{i}]"),
            || format!("`{id}` is not a subnet id (subnet-...)"),
        );
    }
    for (i, id) in w.security_group_ids.iter().enumerate() {
        p.require(
            is_aws_id(id, "sg-"),
            &format!("warehouse.security_group_ids[{i}]"),
            || format!("`{id}` is not a security group id (sg-...)"),
        );
    }
    p.require(
        w.subnet_ids.is_empty() || w.subnet_ids.len() >= 3,
        "warehouse.subnet_ids",
        || {
            format!(
                "{} subnet(s) given: Redshift Serverless needs at least 3, in different availability zones",
                w.subnet_ids.len()
            )
        },
    );
    p.require(
        w.subnet_ids.is_empty() == w.security_group_ids.is_empty(),
        "warehouse.security_group_ids",
        || "set subnet_ids and security_group_ids together (or neither)".into(),
    );
    if let Some(url) = &w.postgres_url {
        p.require(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "warehouse.postgres_url",
            || "must be a postgres:// or postgresql:// URL".into(),
        );
        p.require(!url_has_password(url), "warehouse.postgres_url", || {
            "must not contain a password; put credentials in PRICEWATCH_DATABASE_URL or ~/.pgpass"
                .into()
        });
    }
    let mut seen = BTreeSet::new();
    for (i, category) in w.allowed_categories.iter().enumerate() {
        let key = format!("warehouse.allowed_categories[{i}]");
        p.require(!category.trim().is_empty(), &key, || {
            "must not be empty".into()
        });
        p.require(seen.insert(category), &key, || {
            format!("`{category}` is listed twice")
        });
    }
}

fn check_pricing(s: &Settings, p: &mut Problems) {
    let pricing = &s.pricing;
    p.require(
        pricing.anomaly_threshold.is_finite() && pricing.anomaly_threshold > 0.0,
        "pricing.anomaly_threshold",
        || "must be a positive number".into(),
    );
    p.require(
        pricing.anomaly_min_spread_pct.is_finite()
            && pricing.anomaly_min_spread_pct > 0.0
            && pricing.anomaly_min_spread_pct <= 100.0,
        "pricing.anomaly_min_spread_pct",
        || "must be above 0 and at most 100 (a share of the median price, in %)".into(),
    );
    p.require(
        pricing.anomaly_min_move_pct.is_finite()
            && (0.0..=1000.0).contains(&pricing.anomaly_min_move_pct),
        "pricing.anomaly_min_move_pct",
        || "must be between 0 and 1000 (a move away from the median price, in %)".into(),
    );
    p.range(
        "pricing.trend_window_hours",
        pricing.trend_window_hours,
        1,
        24 * 366,
    );
    p.range("pricing.clusters", pricing.clusters, 1, 10);
    let mut names = BTreeSet::new();
    for (i, rule) in pricing.rules.iter().enumerate() {
        let at = |key: &str| format!("pricing.rules[{i}].{key}");
        p.require(is_rule_name(&rule.name), &at("name"), || {
            format!(
                "`{}` must be 1-64 characters of a-z, 0-9, `-` and `_`",
                rule.name
            )
        });
        p.require(names.insert(&rule.name), &at("name"), || {
            format!("rule `{}` is defined twice", rule.name)
        });
        p.require(
            rule.percent.is_finite() && (0.0..=100.0).contains(&rule.percent),
            &at("percent"),
            || "must be between 0 and 100".into(),
        );
        for (key, bound) in [("floor", rule.floor), ("ceiling", rule.ceiling)] {
            if let Some(value) = bound {
                p.require(
                    value.is_finite() && (0.0..=MAX_AMOUNT).contains(&value),
                    &at(key),
                    || format!("must be a number between 0 and {MAX_AMOUNT} (the largest price silver accepts)"),
                );
            }
        }
        if let (Some(floor), Some(ceiling)) = (rule.floor, rule.ceiling) {
            p.require(floor <= ceiling, &at("floor"), || {
                format!("floor {floor} is above ceiling {ceiling}")
            });
        }
    }
}

/// Finds values that look like credentials anywhere in a config file.
pub(super) fn find_secrets(value: &Value, path: &str, out: &mut Vec<Problem>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = key.as_str().unwrap_or("?");
                let child_path = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                find_secrets(child, &child_path, out);
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                find_secrets(child, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(text) if looks_like_access_key(text) => out.push(Problem::new(
            path,
            "looks like an AWS access key; credentials never belong in config",
        )),
        _ => {}
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, key: &str, message: impl Into<String>) {
        self.0.push(Problem::new(key, message));
    }

    fn require(&mut self, ok: bool, key: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.push(key, message());
        }
    }

    fn range(&mut self, key: &str, value: u32, min: u32, max: u32) {
        self.require((min..=max).contains(&value), key, || {
            format!("{value} is outside {min}-{max}")
        });
    }

    fn schedule(&mut self, key: &str, expression: &str) {
        if let Err(why) = check_schedule(expression) {
            self.push(
                key,
                format!("`{expression}` is not a schedule expression: {why}"),
            );
        }
    }
}

/// EventBridge schedule expressions: `rate(1 hour)`, `rate(5 minutes)`,
/// `cron(0/15 * * * ? *)`.
pub(crate) fn check_schedule(expression: &str) -> Result<(), String> {
    if let Some(body) = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let (number, unit) = body
            .split_once(' ')
            .ok_or("rate needs a number and a unit, like rate(5 minutes)")?;
        let n: u32 = number
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or("the rate must be a positive whole number")?;
        let singular = matches!(unit, "minute" | "hour" | "day");
        let plural = matches!(unit, "minutes" | "hours" | "days");
        return match (n == 1, singular, plural) {
            (true, true, _) | (false, _, true) => Ok(()),
            (true, false, true) => Err(format!(
                "use the singular unit with 1 (rate(1 {}))",
                unit.trim_end_matches('s')
            )),
            (false, true, _) => Err(format!("use the plural unit with {n} (rate({n} {unit}s))")),
            _ => Err("the unit must be minute(s), hour(s) or day(s)".into()),
        };
    }
    if let Some(body) = expression
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let fields: Vec<&str> = body.split(' ').collect();
        if fields.len() != 6 {
            return Err(format!(
                "cron needs 6 fields (minutes hours day-of-month month day-of-week year), found {}",
                fields.len()
            ));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || ",-*/?#".contains(c);
        if let Some(bad) = fields
            .iter()
            .find(|f| f.is_empty() || !f.chars().all(allowed))
        {
            return Err(format!("field `{bad}` has characters cron does not accept"));
        }
        if (fields[2] == "?") == (fields[4] == "?") {
            return Err("exactly one of day-of-month and day-of-week must be `?`".into());
        }
        return Ok(());
    }
    Err("expected rate(...) or cron(...)".into())
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].len() <= 2
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

/// Why env `name`, whose resources are named `base-*` (`<stack_prefix>-
/// <env>`), cannot sit beside the other envs (env, base), if it cannot.
/// Every IAM policy scopes an env by name patterns (`<base>-*`,
/// `secret:<base>-*`, bucket names, which are global), so a base that is
/// another env's base plus a hyphen (`pricewatch-prod-eu`, whether from the
/// env name `prod-eu` or a `stack_prefix` of `pricewatch-prod`) falls
/// inside the other env's patterns, in any account; and `<env>-operate`
/// is the GitHub environment of each env's unreviewed on-call twin, so an
/// env named `prod-operate` would get a deploy role that trusts prod's twin.
pub(super) fn env_name_clash(
    name: &str,
    base: &str,
    others: &[(String, String)],
) -> Option<String> {
    if name.ends_with("-operate") {
        return Some(format!(
            "the env name `{name}` ends in `-operate`, the suffix of each env's on-call GitHub environment (`<env>-operate`, no reviewers): its deploy role would trust that environment; rename the file"
        ));
    }
    let clash = |longer: &str, shorter: &str| {
        longer
            .strip_prefix(shorter)
            .is_some_and(|rest| rest.starts_with('-'))
    };
    let (other, other_base) = others
        .iter()
        .filter(|(other, _)| other != name)
        .find(|(_, other_base)| clash(base, other_base) || clash(other_base, base))?;
    Some(format!(
        "env `{name}` names its resources `{base}-*` and env `{other}` names its `{other_base}-*`: one is the other plus a hyphen, so the IAM policies of `{}` (which scope by the pattern `<stack_prefix>-<env>-*`) would reach the other's resources; rename the env file or change its stack_prefix",
        if base.len() < other_base.len() { name } else { other.as_str() }
    ))
}

/// Lowercase name for stacks and resources: letters, digits, single hyphens.
pub(super) fn is_name(s: &str, max_len: usize) -> bool {
    (2..=max_len).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_sql_identifier(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_rule_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Why `s` is not a URL pricewatch may fetch or call: http or https only,
/// only characters a URL may hold literally (no quotes, backslashes,
/// spaces or controls: what is written is what is used), a host, no
/// user or password, and never a link-local or cloud metadata address
/// (169.254.0.0/16 in any notation, fe80::/10, fd00:ec2::254,
/// metadata.google.internal): a page URL there would make the ingest
/// Lambda read its own credentials.
fn url_problem(s: &str) -> Option<&'static str> {
    const ALLOWED: &[u8] = b"-._~:/?#[]@!$&'()*+,;=%";
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || ALLOWED.contains(&b))
    {
        return Some("may hold only the characters of a URL (no quotes, backslashes, spaces or control characters; percent-encode others)");
    }
    let Ok(url) = url::Url::parse(s) else {
        return Some("is not a URL");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some("must be an http:// or https:// URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not contain a user or password");
    }
    let forbidden = match url.host() {
        None => return Some("has no host"),
        Some(url::Host::Ipv4(ip)) => ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast(),
        Some(url::Host::Ipv6(ip)) => {
            (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip.is_unspecified()
                || ip == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local())
        }
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            [
                "metadata.google.internal",
                "metadata",
                "instance-data",
                "instance-data.ec2.internal",
            ]
            .contains(&domain.as_str())
        }
    };
    forbidden.then_some(
        "must not point at a link-local or cloud metadata address (such as 169.254.169.254)",
    )
}

/// An ARN of `service` (partition aws, aws-cn or aws-us-gov; a region or
/// none; a 12-digit account or none) whose resource starts with one of
/// `resources` and holds only the characters IAM names may.
fn is_arn(s: &str, service: &str, resources: &[&str]) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, svc, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(partition)
        && *svc == service
        && (region.is_empty() || is_region(region))
        && (account.is_empty() || is_account_id(account))
        && resources
            .iter()
            .any(|r| resource.len() > r.len() && resource.starts_with(r))
        && resource
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_/:-".contains(&b))
}

fn is_key_prefix(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/".contains(&b))
}

/// A plain address: a dot-atom local part (letters, digits and
/// `!#$%&'*+/=?^_`{|}~-`, dots only between them) and a domain of at
/// least two labels of letters, digits and inner hyphens. No quoted local
/// parts, comments, spaces or controls: nothing that could end a string
/// wherever the address is written.
fn is_email(s: &str) -> bool {
    const ATEXT: &[u8] = b"!#$%&'*+/=?^_`{|}~-";
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    s.len() <= 254
        && (1..=64).contains(&local.len())
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || ATEXT.contains(&b))
        })
        && labels.len() >= 2
        && labels.iter().all(|l| label_ok(l))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

fn is_aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn url_has_password(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

fn looks_like_access_key(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| {
        word.len() == 20
            && (word.starts_with("AKIA") || word.starts_with("ASIA"))
            && word
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_that_reach_into_another_env_are_refused() {
        let all: Vec<(String, String)> = [
            ("dev", "pricewatch-dev"),
            ("prod", "pricewatch-prod"),
            ("production", "pricewatch-production"),
            ("test", "pricewatch-test"),
        ]
        .map(|(e, b)| (e.to_string(), b.to_string()))
        .to_vec();
        let clash = |name: &str, base: &str| env_name_clash(name, base, &all);
        assert!(clash("prod-eu", "pricewatch-prod-eu")
            .unwrap()
            .contains("env `prod` names its `pricewatch-prod-*`"));
        // The same clash through a stack_prefix of its own.
        assert!(clash("eu", "pricewatch-prod-eu").is_some());
        // And the other way round: an existing env's base inside the new one's.
        assert!(clash("x", "pricewatch-dev-x").is_some());
        // A base every other env's extends: its policies would reach all.
        assert!(clash("pw", "pricewatch").is_some());
        assert!(clash("prod-operate", "other-prod-operate")
            .unwrap()
            .contains("ends in `-operate`"));
        for (fine, base) in &all {
            assert_eq!(clash(fine, base), None, "{fine}");
        }
        assert_eq!(clash("eu", "pricewatch-eu"), None);
        assert_eq!(clash("prod-eu", "other-prod-eu"), None, "another prefix");
    }

    #[test]
    fn schedules() {
        for ok in [
            "rate(1 minute)",
            "rate(5 minutes)",
            "rate(2 hours)",
            "rate(1 day)",
            "cron(0/15 * * * ? *)",
            "cron(0 3 ? * MON-FRI *)",
        ] {
            assert_eq!(check_schedule(ok), Ok(()), "{ok}");
        }
        for bad in [
            "rate(5 minute)",
            "rate(1 minutes)",
            "rate(0 minutes)",
            "rate(five minutes)",
            "rate(5 weeks)",
            "cron(* * * * *)",
            "cron(0 3 * * * *)",
            "every 5 minutes",
            "",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shapes() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901a"));
        assert!(is_region("eu-west-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(is_region("ap-southeast-3"));
        assert!(!is_region("EU-west-1"));
        assert!(!is_region("euwest1"));
        assert!(!is_region("eu-west"));
        assert!(is_name("pricewatch", 16));
        assert!(!is_name("Pricewatch", 16));
        assert!(!is_name("price--watch", 16));
        assert!(!is_name("pricewatch-", 16));
        assert!(!is_name("a-very-long-prefix-name", 16));
        assert!(!is_name("1abc", 16));
    }

    #[test]
    fn emails_are_plain_addresses() {
        for ok in [
            "ops@example.com",
            "o.brien+alarms@mail.example.co.uk",
            "o'brien@example.org",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "ops@example.com\"\nConditions:\n\tx: y",
            "\"ops\"@example.com",
            "ops @example.com",
            "ops@example.com\n",
            "ops@example",
            "ops@-example.com",
            "ops@example.c0m",
            ".ops@example.com",
            "o..ps@example.com",
            "@example.com",
            "ops",
            "ops@exa_mple.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn urls_are_http_and_never_metadata() {
        for ok in [
            "https://example.com/product_data.html",
            "http://127.0.0.1:8000/product_data.html",
            "https://temus-northstar.github.io/a/b.html?x=1&y=%20",
            "http://[::1]:8000/",
        ] {
            assert_eq!(url_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("http://169.254.169.254/latest/meta-data/", "link-local"),
            ("http://2852039166/latest/meta-data/", "link-local"),
            ("http://0xA9FEA9FE/", "link-local"),
            ("http://169.254.170.2/v2/credentials", "link-local"),
            ("http://[fd00:ec2::254]/", "link-local"),
            ("http://[fe80::1]/", "link-local"),
            ("http://[::ffff:169.254.169.254]/", "link-local"),
            (
                "http://metadata.google.internal/computeMetadata/v1/",
                "link-local",
            ),
            ("http://0.0.0.0:8000/", "link-local"),
            ("https://example.com/\"\nConditions:", "characters"),
            ("https://example.com/\\x41", "characters"),
            ("https://example.com/a b", "characters"),
            ("file:///etc/passwd", "http"),
            ("ftp://example.com/", "http"),
            ("https://user:pw@example.com/", "user or password"),
            ("https://", "URL"),
        ] {
            let problem = url_problem(bad).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(problem.contains(why), "{bad}: {problem}");
        }
    }

    #[test]
    fn arns_are_checked_by_part() {
        let qs = |s| is_arn(s, "quicksight", &["user/", "group/"]);
        assert!(qs(
            "arn:aws:quicksight:eu-west-1:123456789012:user/default/alice"
        ));
        assert!(qs(
            "arn:aws:quicksight:us-east-1:123456789012:group/default/analysts"
        ));
        assert!(!qs("arn:aws:quicksight:eu-west-1:123456789012:dashboard/x"));
        assert!(!qs("arn:aws:quicksight:eu-west-1:12345:user/default/alice"));
        assert!(!qs(
            "arn:aws:quicksight:eu-west-1:123456789012:user/default/al\"ice"
        ));
        assert!(!qs(
            "arn:aws:quicksight:eu-west-1:123456789012:user/default/a\nb"
        ));
        assert!(!qs("arn:aws:iam::123456789012:user/alice"));
        assert!(!qs(
            "arn:evil:quicksight:eu-west-1:123456789012:user/default/alice"
        ));
        assert!(is_arn(
            "arn:aws:iam::123456789012:role/pricewatch-cfn",
            "iam",
            &["role/"]
        ));
        assert!(!is_arn(
            "arn:aws:iam::123456789012:role/",
            "iam",
            &["role/"]
        ));
    }

    #[test]
    fn passwords_and_keys_are_found() {
        assert!(url_has_password("postgres://u:secret@host/db"));
        assert!(!url_has_password("postgres://u@host/db"));
        assert!(!url_has_password("postgres://host/db?user=a:b"));
        assert!(looks_like_access_key("AKIAIOSFODNN7EXAMPLE"));
        assert!(looks_like_access_key("key=ASIAIOSFODNN7EXAMPLE;"));
        assert!(!looks_like_access_key("AKIA-short"));

        let value: Value = serde_yaml_ng::from_str("a: {b: [ok, AKIAIOSFODNN7EXAMPLE]}").unwrap();
        let mut found = Vec::new();
        find_secrets(&value, "", &mut found);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location, "a.b[1]");
    }
}
