//! Resource names derived deterministically from the env name and config,
//! so templates, SQL and commands agree without copying ARNs by hand.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Dialect, Settings};

/// CloudWatch namespace of every metric pricewatch publishes.
pub const METRICS_NAMESPACE: &str = "Pricewatch";

/// pricewatch's own schema in the warehouse: applied models, lease, check
/// history, the local env's landing tables.
pub(crate) const META_SCHEMA: &str = "pricewatch_meta";

/// The schemas the reader role may read (no bronze: raw records stay with
/// the pipeline).
pub const READER_SCHEMAS: [&str; 3] = ["silver", "gold", META_SCHEMA];

/// Where the archive bucket keeps the snapshots ingest sends (the only
/// prefix the ingest role may write to there).
pub(crate) const ARCHIVE_PREFIX: &str = "archive/";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Names {
    /// `<prefix>-<env>`, the start of every name.
    pub base: String,
    pub artifacts_bucket: String,
    /// Every snapshot ingest sends, under [`ARCHIVE_PREFIX`].
    pub archive_bucket: String,
    pub archive_prefix: &'static str,
    pub key_alias: String,
    /// The Kinesis stream of each enabled source, by source name.
    pub streams: BTreeMap<String, String>,
    pub ingest_function: String,
    pub ingest_role: String,
    pub operator_function: String,
    pub operator_role: String,
    /// The IAM role CI deploys with (templates/ci); on Redshift its
    /// database user owns every warehouse object.
    pub deploy_role: String,
    pub streaming_role: String,
    pub streaming_role_arn: String,
    /// The role Redshift reads the archive with (`COPY` in `backfill`).
    pub archive_role: String,
    pub archive_role_arn: String,
    pub namespace: String,
    pub workgroup: String,
    /// CloudWatch namespace for pricewatch's own metrics.
    pub metrics_namespace: String,
    /// The permissions boundary every role of the stacks carries, when
    /// CloudFormation acts with the env's CI role
    /// (`deploy.cloudformation_role_arn`), which refuses roles without it.
    pub permissions_boundary: Option<String>,
}

/// What every resource name of an env begins with, `<stack_prefix>-<env>`
/// (the IAM policies scope an env by `<base>-*`).
pub(crate) fn base(stack_prefix: &str, env: &str) -> String {
    format!("{stack_prefix}-{env}")
}

impl Names {
    pub fn new(env: &str, settings: &Settings) -> Names {
        let base = base(&settings.stack_prefix, env);
        let streaming_role = format!("{base}-redshift-streaming");
        let archive_role = format!("{base}-redshift-archive");
        let role_arn = |name: &str| {
            format!(
                "arn:{}:iam::{}:role/{name}",
                partition(&settings.region),
                settings.account_id
            )
        };
        Names {
            artifacts_bucket: format!("{base}-artifacts-{}", settings.account_id),
            archive_bucket: format!("{base}-archive-{}", settings.account_id),
            archive_prefix: ARCHIVE_PREFIX,
            key_alias: format!("alias/{base}"),
            streams: settings
                .enabled_sources()
                .map(|(name, _)| (name.to_string(), format!("{base}-{name}")))
                .collect(),
            ingest_function: format!("{base}-ingest"),
            ingest_role: format!("{base}-ingest"),
            operator_function: format!("{base}-operator"),
            operator_role: format!("{base}-operator"),
            deploy_role: format!("{base}-github-deploy"),
            streaming_role_arn: role_arn(&streaming_role),
            streaming_role,
            archive_role_arn: role_arn(&archive_role),
            archive_role,
            namespace: base.clone(),
            workgroup: base.clone(),
            metrics_namespace: METRICS_NAMESPACE.into(),
            permissions_boundary: settings.deploy.cloudformation_role_arn.as_ref().map(|_| {
                format!(
                    "arn:{}:iam::{}:policy/{}",
                    partition(&settings.region),
                    settings.account_id,
                    permissions_boundary_path(&settings.stack_prefix, &base)
                )
            }),
            base,
        }
    }

    /// The CloudFormation stack name of a stack in this env.
    pub fn stack(&self, stack: &str) -> String {
        format!("{}-{stack}", self.base)
    }

    /// The warehouse's roles and owner in `dialect`.
    pub fn roles(&self, dialect: Dialect) -> Roles {
        let (owner_user, grantee) = match dialect {
            // A database role; deployers are members and act as it.
            Dialect::Postgres => ("pricewatch_owner".to_string(), ""),
            // Redshift objects are owned by users, and a role's Data API
            // user is `IAMR:<role name>`.
            Dialect::Redshift => (format!("IAMR:{}", self.deploy_role), "ROLE "),
        };
        Roles {
            owner: quote_identifier(&owner_user),
            owner_user,
            deployer: "pricewatch_deployer",
            operator: "pricewatch_operator",
            reader: "pricewatch_reader",
            quicksight_user: "pricewatch_quicksight",
            grantee,
        }
    }

    /// The stream of an enabled source.
    pub fn stream(&self, source: &str) -> Option<&str> {
        self.streams.get(source).map(String::as_str)
    }

    /// The enabled sources' names, for messages.
    pub fn source_list(&self) -> String {
        self.streams.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Who may do what in the warehouse (docs/security.md, "Warehouse roles").
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Roles {
    /// The owner of every schema and model, as SQL (quoted when needed).
    pub owner: String,
    /// The owner's name as `current_user` reports it.
    pub owner_user: String,
    /// Applies models (acts as the owner).
    pub deployer: &'static str,
    /// Refreshes, runs checks, writes clusters and check results.
    pub operator: &'static str,
    /// Reads silver, gold and the check history.
    pub reader: &'static str,
    /// QuickSight's own login (Redshift), a member of the reader role.
    pub(crate) quicksight_user: &'static str,
    /// What precedes a role in `GRANT … TO` (`ROLE ` on Redshift).
    pub grantee: &'static str,
}

impl Roles {
    /// The three roles `sql apply --bootstrap` creates.
    pub fn all(&self) -> [&'static str; 3] {
        [self.deployer, self.operator, self.reader]
    }
}

/// A double-quoted identifier naming exactly `name` (an embedded `"` is
/// doubled): the one identifier quoter, for role names that are not plain
/// lowercase and for column names that may be keywords (`order`). Both
/// dialects read `"…"` the same way.
pub(crate) fn quoted_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A SQL identifier, double-quoted unless it is a plain lowercase one.
fn quote_identifier(name: &str) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
    if plain {
        name.to_string()
    } else {
        quoted_identifier(name)
    }
}

/// Path and name of the env's permissions boundary policy, as
/// templates/ci/github-roles.yaml creates it: under the CI path
/// `/<prefix>-ci/`, out of reach of the `role/<prefix>-<env>-*` and
/// `policy/<prefix>-<env>-*` patterns the CloudFormation role may change.
pub(crate) fn permissions_boundary_path(prefix: &str, base: &str) -> String {
    format!("{prefix}-ci/{base}-permissions-boundary")
}

/// The ARN partition of a region.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A CloudFormation logical id part of a snake_case name (alphanumeric
/// only): `products` → `Products`, `eu_prices` → `EuPrices`. Two names may
/// give the same part (`x1`, `x_1`); validate refuses such sources.
pub(crate) fn logical_id(name: &str) -> String {
    name.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identifier_with_an_embedded_quote_is_doubled() {
        assert_eq!(quoted_identifier("order"), "\"order\"");
        assert_eq!(quoted_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quoted_identifier("\""), "\"\"\"\"");
        assert_eq!(quote_identifier("pricewatch_owner"), "pricewatch_owner");
        assert_eq!(quote_identifier("Owner\"1"), "\"Owner\"\"1\"");
    }
}
