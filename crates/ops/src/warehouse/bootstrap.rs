//! Who may do what in the warehouse. An administrator bootstraps it once
//! (`sql apply --bootstrap`): the deployer, operator and reader roles, the
//! owner (a role on PostgreSQL, the deploy role's user on Redshift), the
//! schemas, QuickSight's login on Redshift. `sql apply` then always works
//! as the owner, so every model has one owner whoever deployed it, and
//! operators refresh through the owner's procedure.

use std::collections::BTreeSet;

use md5::Digest as _;

use pricewatch_core::cloud::Login;

use super::{Statements, WarehouseError};
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::names::Roles;
use pricewatch_core::config::Dialect;
use pricewatch_core::hash::sha256_hex;
use pricewatch_core::sql_text::{literal, now_utc};

pub(crate) const MARKER_TABLE: &str = "pricewatch_meta.bootstrap";

#[derive(Debug, thiserror::Error)]
pub(crate) enum BootstrapError {
    #[error("{who} may not bootstrap the warehouse: it takes an administrator (PostgreSQL: a superuser or a role with CREATEROLE; Redshift: the namespace admin, `sql apply --bootstrap` uses its secret)")]
    NotAdministrator { who: String },
    #[error("the warehouse was not bootstrapped{detail}: run `pricewatch sql apply --env {env} --bootstrap` once as an administrator (docs/operations.md, \"Bootstrapping a warehouse\")")]
    NotBootstrapped { env: String, detail: String },
    #[error("{who} cannot apply models: {why}")]
    NotOwner { who: String, why: String },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// What identifies this bootstrap: `sql apply` refuses to run on a
/// warehouse bootstrapped with a different one.
pub(crate) fn checksum(bundle: &Bundle) -> String {
    sha256_hex(bundle.bootstrap_sql.as_bytes())
}

/// `current_user`, for messages and the owner check.
pub(crate) async fn current_user(warehouse: &impl Statements) -> Result<String, WarehouseError> {
    let rows = warehouse
        .query(
            "reading the current user",
            "SELECT CAST(current_user AS VARCHAR(256))",
        )
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .unwrap_or_default())
}

fn admin_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "SELECT CAST(rolsuper OR rolcreaterole AS VARCHAR(5)) FROM pg_roles WHERE rolname = session_user"
        }
        Dialect::Redshift => {
            "SELECT CAST(usesuper AS VARCHAR(5)) FROM pg_user WHERE usename = session_user"
        }
    }
}

/// Names of roles and users that exist, among `wanted`.
async fn existing(
    warehouse: &impl Statements,
    wanted: &[&str],
) -> Result<BTreeSet<String>, WarehouseError> {
    let dialect = warehouse.dialect();
    let list = wanted
        .iter()
        .map(|n| literal(n, dialect))
        .collect::<Vec<_>>()
        .join(", ");
    let queries = match dialect {
        Dialect::Postgres => vec![format!(
            "SELECT rolname FROM pg_roles WHERE rolname IN ({list})"
        )],
        Dialect::Redshift => vec![
            format!("SELECT role_name FROM svv_roles WHERE role_name IN ({list})"),
            format!("SELECT usename FROM pg_user WHERE usename IN ({list})"),
        ],
    };
    let mut found = BTreeSet::new();
    for sql in queries {
        for row in warehouse
            .query("reading the warehouse's roles", &sql)
            .await?
        {
            found.extend(row.into_iter().next().flatten());
        }
    }
    Ok(found)
}

/// A statement without the comment lines before its code.
fn without_leading_comments(statement: &str) -> String {
    statement
        .lines()
        .skip_while(|line| line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Redshift's hashed form of a password: `md5` and the hex MD5 of the
/// password followed by the user name (CREATE USER, "PASSWORD").
fn redshift_md5(login: &Login) -> String {
    let digest = md5::Md5::digest(format!("{}{}", login.password, login.user));
    format!("md5{digest:x}")
}

/// The statements that create what is missing, then the bootstrap
/// template's, then the marker. Pure: `existing` says what is there.
pub fn statements(
    bundle: &Bundle,
    roles: &Roles,
    existing: &BTreeSet<String>,
    login: Option<&Login>,
) -> Vec<String> {
    let dialect = bundle.env.dialect();
    let mut out = Vec::new();
    let missing = |name: &str| !existing.contains(name);
    match dialect {
        Dialect::Postgres => {
            for role in std::iter::once(roles.owner_user.as_str()).chain(roles.all()) {
                if missing(role) {
                    out.push(format!("CREATE ROLE {role} NOLOGIN;"));
                }
            }
        }
        Dialect::Redshift => {
            for role in roles.all() {
                if missing(role) {
                    out.push(format!("CREATE ROLE {role};"));
                }
            }
            if missing(&roles.owner_user) {
                // The deploy role's Data API user; created ahead of its first
                // sign-in so that schemas and grants can name it.
                out.push(format!("CREATE USER {} PASSWORD DISABLE;", roles.owner));
            }
            if let Some(login) = login {
                // Redshift takes an MD5 hash of password and user name, so
                // the password itself never appears in the statement.
                let hash = redshift_md5(login);
                let verb = if missing(&login.user) {
                    "CREATE"
                } else {
                    "ALTER"
                };
                out.push(format!("{verb} USER {} PASSWORD '{hash}';", login.user));
            }
        }
    }
    out.extend(
        pricewatch_core::sql_text::split_statements(&bundle.bootstrap_sql, dialect)
            .into_iter()
            .map(|s| without_leading_comments(&s) + ";"),
    );
    out.push(format!(
        "DELETE FROM {MARKER_TABLE};\nINSERT INTO {MARKER_TABLE} (checksum, applied_at) VALUES ('{}', {});",
        checksum(bundle),
        now_utc(dialect)
    ));
    out
}

/// Whether this session's login may create roles (an administrator's).
pub(crate) async fn is_administrator(warehouse: &impl Statements) -> Result<bool, WarehouseError> {
    let admin = warehouse
        .query("checking the administrator", admin_sql(warehouse.dialect()))
        .await?;
    Ok(admin
        .first()
        .and_then(|r| r.first())
        .cloned()
        .flatten()
        .as_deref()
        == Some("true"))
}

/// Bootstraps the warehouse as an administrator; returns the statements run.
pub(crate) async fn bootstrap(
    warehouse: &impl Statements,
    bundle: &Bundle,
    login: Option<&Login>,
) -> Result<Vec<String>, BootstrapError> {
    let dialect = warehouse.dialect();
    if dialect == Dialect::Postgres {
        // Back to the login's own rights, should the session act as the owner.
        warehouse
            .execute("resetting the role", "RESET ROLE;")
            .await?;
    }
    if !is_administrator(warehouse).await? {
        let who = current_user(warehouse).await?;
        return Err(BootstrapError::NotAdministrator { who });
    }
    let roles = bundle.env.names().roles(dialect);
    let mut wanted: Vec<&str> = roles.all().to_vec();
    wanted.push(&roles.owner_user);
    if let Some(login) = login {
        wanted.push(&login.user);
    }
    let existing = existing(warehouse, &wanted).await?;
    let statements = statements(bundle, &roles, &existing, login);
    // One by one: Redshift runs some of them (external schema) only
    // outside a transaction block.
    for sql in &statements {
        let context = sql.lines().next().unwrap_or_default().trim_end_matches(';');
        let context = if context.contains("PASSWORD '") {
            "setting the QuickSight login's password".to_string()
        } else {
            format!("bootstrap: {context}")
        };
        warehouse.execute(&context, sql).await?;
    }
    Ok(statements)
}

/// Makes this session the owner's, after checking the bootstrap: on
/// PostgreSQL by `SET ROLE` (deployers are members of the owner role), on
/// Redshift by checking that the caller is the owner (the deploy role).
pub(crate) async fn act_as_owner(
    warehouse: &impl Statements,
    bundle: &Bundle,
) -> Result<(), BootstrapError> {
    let dialect = warehouse.dialect();
    let roles = bundle.env.names().roles(dialect);
    let env = bundle.env.name.clone();
    let not_bootstrapped = |detail: &str| BootstrapError::NotBootstrapped {
        env: env.clone(),
        detail: detail.to_string(),
    };
    let who = current_user(warehouse).await?;
    match dialect {
        Dialect::Postgres => {
            let exists = existing(warehouse, &[&roles.owner_user]).await?;
            if exists.is_empty() {
                return Err(not_bootstrapped(""));
            }
            warehouse
                .execute("acting as the owner", &format!("SET ROLE {};", roles.owner))
                .await
                .map_err(|e| BootstrapError::NotOwner {
                    who,
                    why: format!(
                        "it is not a member of {} ({e}); deployers log in as members of that role",
                        roles.deployer
                    ),
                })?;
        }
        Dialect::Redshift if who.eq_ignore_ascii_case(&roles.owner_user) => {}
        Dialect::Redshift => {
            return Err(BootstrapError::NotOwner {
                who,
                why: format!(
                    "models are owned by {} (the deploy role's database user), so only that identity applies them; assume the deploy role",
                    roles.owner_user
                ),
            })
        }
    }
    let marker = warehouse
        .query(
            "reading the bootstrap marker",
            &format!("SELECT checksum FROM {MARKER_TABLE}"),
        )
        .await
        .map_err(|_| not_bootstrapped(""))?;
    let recorded = marker.first().and_then(|r| r.first()).cloned().flatten();
    if recorded.as_deref() != Some(checksum(bundle).as_str()) {
        return Err(not_bootstrapped(
            " with this version of sql/bootstrap.sql (its roles, schemas or grants changed)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricewatch_core::config::Environments;

    fn bundle(env: &str) -> Bundle {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let env = Environments::new(dir).load(env).unwrap();
        pricewatch_core::bundle::load(dir, &env).unwrap()
    }

    #[test]
    fn postgres_creates_the_missing_roles_then_runs_the_template() {
        let b = bundle("local");
        let roles = b.env.names().roles(Dialect::Postgres);
        let existing = BTreeSet::from(["pricewatch_reader".to_string()]);
        let sql = statements(&b, &roles, &existing, None);
        assert_eq!(
            sql[..4],
            [
                "CREATE ROLE pricewatch_owner NOLOGIN;",
                "CREATE ROLE pricewatch_deployer NOLOGIN;",
                "CREATE ROLE pricewatch_operator NOLOGIN;",
                "GRANT pricewatch_owner TO pricewatch_deployer;",
            ]
        );
        assert!(sql
            .iter()
            .any(|s| s
                .starts_with("CREATE SCHEMA IF NOT EXISTS gold AUTHORIZATION pricewatch_owner")));
        assert!(sql
            .iter()
            .any(|s| s == "GRANT USAGE ON SCHEMA silver TO pricewatch_reader;"));
        assert!(!sql
            .iter()
            .any(|s| s == "GRANT USAGE ON SCHEMA bronze TO pricewatch_reader;"));
        assert!(sql.last().unwrap().contains(&checksum(&b)));
    }

    #[test]
    fn redshift_owner_is_the_deploy_roles_user_and_quicksight_gets_a_hashed_password() {
        let b = bundle("dev");
        let roles = b.env.names().roles(Dialect::Redshift);
        assert_eq!(roles.owner, "\"IAMR:pricewatch-dev-github-deploy\"");
        let login = Login {
            user: "pricewatch_quicksight".into(),
            password: "s3cret'\\".into(),
        };
        let sql = statements(&b, &roles, &BTreeSet::new(), Some(&login));
        assert!(sql.contains(&"CREATE ROLE pricewatch_operator;".to_string()));
        assert!(sql.contains(
            &"CREATE USER \"IAMR:pricewatch-dev-github-deploy\" PASSWORD DISABLE;".to_string()
        ));
        let password = sql
            .iter()
            .find(|s| s.contains("pricewatch_quicksight PASSWORD"))
            .unwrap();
        assert!(!password.contains("s3cret"), "{password}");
        let expected = format!(
            "md5{:x}",
            md5::Md5::digest("s3cret'\\pricewatch_quicksight")
        );
        assert_eq!(
            password,
            &format!("CREATE USER pricewatch_quicksight PASSWORD '{expected}';")
        );
        assert!(sql.contains(
            &"GRANT USAGE ON SCHEMA kinesis TO \"IAMR:pricewatch-dev-github-deploy\";".to_string()
        ));
        assert!(sql.contains(&"GRANT ROLE pricewatch_reader TO pricewatch_quicksight;".to_string()));
        assert!(sql
            .iter()
            .any(|s| s.starts_with("CREATE EXTERNAL SCHEMA IF NOT EXISTS kinesis")));
        // Existing users are altered, not created again.
        let existing: BTreeSet<String> =
            ["pricewatch_quicksight", "IAMR:pricewatch-dev-github-deploy"]
                .map(String::from)
                .into();
        let again = statements(&b, &roles, &existing, Some(&login));
        assert!(again
            .iter()
            .any(|s| s.starts_with("ALTER USER pricewatch_quicksight PASSWORD 'md5")));
        assert!(!again.iter().any(|s| s.starts_with("CREATE USER")));
    }
}
