//! The warehouse lease: `sql apply`, `refresh`, `run` and `check` change or
//! read the warehouse in ways that must not overlap (a refresh reading a
//! model that a deploy is dropping; two refreshes of one view), so each
//! holds the one lease of its env's warehouse while it works. The lease is
//! a row in `pricewatch_meta.lease` — it works through the Data API, where
//! every statement may be a session of its own — with the holder, the
//! command, when it was taken and when it expires. A holder renews it while
//! it works; a crashed run's lease expires and the next run takes it over.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Statements, WarehouseError};
use pricewatch_core::config::Dialect;
use pricewatch_core::sql_text::{literal, now_utc};

pub(crate) const LEASE_TABLE: &str = "pricewatch_meta.lease";
/// The one lease per warehouse.
const NAME: &str = "warehouse";

/// How a run takes the lease.
#[derive(Debug, Clone, Copy)]
pub struct LeaseOptions {
    /// How long to wait for another holder before giving up.
    pub wait: Duration,
    /// How long the lease lasts without renewal (a crashed holder's lease
    /// is free again after this).
    pub(crate) ttl: Duration,
    /// Pause between two attempts while waiting.
    pub(crate) retry_every: Duration,
}

impl LeaseOptions {
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(5 * 60);

    pub(crate) fn new(wait: Duration) -> LeaseOptions {
        LeaseOptions {
            wait,
            ttl: Duration::from_secs(5 * 60),
            retry_every: Duration::from_secs(5),
        }
    }
}

/// Who holds the lease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Holder {
    pub holder: String,
    pub command: String,
    pub acquired_at: String,
    pub expires_at: String,
    /// Its expiry has passed: the next run takes it over.
    pub expired: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("the warehouse is busy: {} has held its lease for `{}` since {} UTC (it expires at {} UTC unless renewed); waited {}s for it. Run again later, or wait longer with --wait", .holder.holder, .holder.command, .holder.acquired_at, .holder.expires_at, .waited.as_secs())]
    Busy { holder: Holder, waited: Duration },
    #[error("the warehouse lease table is missing or unreadable ({0}); run `pricewatch sql apply` first")]
    NotSetUp(WarehouseError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// A holder id unique to this process and run: who, where, which process.
pub fn holder_id() -> String {
    let who = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .map(|f| format!("lambda {f}"))
        .or_else(|_| {
            std::env::var("GITHUB_ACTIONS")
                .and_then(|_| std::env::var("GITHUB_RUN_ID").map(|id| format!("github run {id}")))
        })
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown user".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown host".into());
    let nanos = pricewatch_core::time::now_unix_nanos();
    format!("{who}@{host} pid {} ({nanos:x})", std::process::id())
}

/// Takes the lease if it is free or expired; one transaction.
pub(crate) fn acquire_sql(dialect: Dialect, holder: &str, command: &str, ttl: Duration) -> String {
    let now = now_utc(dialect);
    let name = literal(NAME, dialect);
    let body = format!(
        "DELETE FROM {LEASE_TABLE} WHERE name = {name} AND expires_at < {now};\n\
         INSERT INTO {LEASE_TABLE} (name, holder, command, acquired_at, expires_at)\n\
         SELECT {name}, {}, {}, {now}, {now} + INTERVAL '{} seconds'\n\
         WHERE NOT EXISTS (SELECT 1 FROM {LEASE_TABLE} WHERE name = {name});",
        literal(holder, dialect),
        literal(command, dialect),
        ttl.as_secs()
    );
    match dialect {
        // Serialised by a table lock: two takers never both see it free.
        Dialect::Postgres => format!(
            "BEGIN;\nLOCK TABLE {LEASE_TABLE} IN SHARE ROW EXCLUSIVE MODE;\n{body}\nCOMMIT;"
        ),
        // A Data API batch is one transaction, and Redshift's serializable
        // isolation fails one of two concurrent takers (retried as transient).
        Dialect::Redshift => body,
    }
}

pub(crate) fn renew_sql(dialect: Dialect, holder: &str, ttl: Duration) -> String {
    format!(
        "UPDATE {LEASE_TABLE} SET expires_at = {} + INTERVAL '{} seconds' WHERE name = {} AND holder = {};",
        now_utc(dialect),
        ttl.as_secs(),
        literal(NAME, dialect),
        literal(holder, dialect)
    )
}

pub(crate) fn release_sql(dialect: Dialect, holder: &str) -> String {
    format!(
        "DELETE FROM {LEASE_TABLE} WHERE name = {} AND holder = {};",
        literal(NAME, dialect),
        literal(holder, dialect)
    )
}

/// Who holds the lease now, if anyone.
pub async fn current(warehouse: &impl Statements) -> Result<Option<Holder>, WarehouseError> {
    let dialect = warehouse.dialect();
    let sql = format!(
        "SELECT holder, command, acquired_at, expires_at, CASE WHEN expires_at < {} THEN 'expired' ELSE 'held' END FROM {LEASE_TABLE} WHERE name = {}",
        now_utc(dialect),
        literal(NAME, dialect)
    );
    let rows = warehouse.query("reading the warehouse lease", &sql).await?;
    Ok(rows.into_iter().next().map(|row| {
        let mut values = row.into_iter().map(Option::unwrap_or_default);
        let mut next = || values.next().unwrap_or_default();
        Holder {
            holder: next(),
            command: next(),
            acquired_at: next(),
            expires_at: next(),
            expired: next() == "expired",
        }
    }))
}

/// Takes the lease, waiting up to `options.wait` for its holder.
pub(crate) async fn acquire(
    warehouse: &impl Statements,
    holder: &str,
    command: &str,
    options: LeaseOptions,
    log: &dyn Fn(&str),
) -> Result<(), LeaseError> {
    let dialect = warehouse.dialect();
    let started = Instant::now();
    let mut announced: Option<String> = None;
    loop {
        let before = current(warehouse).await.map_err(LeaseError::NotSetUp)?;
        if let Some(old) = before.as_ref().filter(|h| h.expired) {
            log(&format!(
                "taking over the expired warehouse lease of {} (`{}` since {} UTC, expired {} UTC)",
                old.holder, old.command, old.acquired_at, old.expires_at
            ));
        }
        warehouse
            .execute(
                "taking the warehouse lease",
                &acquire_sql(dialect, holder, command, options.ttl),
            )
            .await?;
        let now = current(warehouse).await?;
        match now {
            Some(h) if h.holder == holder => return Ok(()),
            Some(h) => {
                let waited = started.elapsed();
                if waited >= options.wait {
                    return Err(LeaseError::Busy { holder: h, waited });
                }
                if announced.as_deref() != Some(&h.holder) {
                    log(&format!(
                        "waiting up to {}s for the warehouse lease: {} holds it for `{}` since {} UTC",
                        options.wait.saturating_sub(waited).as_secs(),
                        h.holder,
                        h.command,
                        h.acquired_at
                    ));
                    announced = Some(h.holder.clone());
                }
                tokio::time::sleep(options.retry_every.min(options.wait - waited)).await;
            }
            // Released between our insert and read: try again at once.
            None => continue,
        }
    }
}

/// Runs `work` holding the lease: taken first (waiting as `options` say),
/// renewed while `work` runs, released after. `warehouse` is a session of
/// its own, so renewals never wait behind the work's statements.
pub(crate) async fn with_lease<T>(
    warehouse: &impl Statements,
    command: &str,
    options: LeaseOptions,
    log: &dyn Fn(&str),
    work: impl Future<Output = T>,
) -> Result<T, LeaseError> {
    let holder = holder_id();
    let dialect = warehouse.dialect();
    acquire(warehouse, &holder, command, options, log).await?;
    let renew = async {
        loop {
            tokio::time::sleep(options.ttl / 3).await;
            if let Err(e) = warehouse
                .execute(
                    "renewing the warehouse lease",
                    &renew_sql(dialect, &holder, options.ttl),
                )
                .await
            {
                log(&format!("could not renew the warehouse lease: {e}"));
            }
        }
    };
    let output = {
        let work = std::pin::pin!(work);
        let renew = std::pin::pin!(renew);
        match futures::future::select(work, renew).await {
            futures::future::Either::Left((output, _)) => output,
            futures::future::Either::Right(((), _)) => unreachable!("renewing never ends"),
        }
    };
    if let Err(e) = warehouse
        .execute(
            "releasing the warehouse lease",
            &release_sql(dialect, &holder),
        )
        .await
    {
        log(&format!(
            "could not release the warehouse lease ({e}); it expires in {}s",
            options.ttl.as_secs()
        ));
    }
    Ok(output)
}

/// Parses `--wait`: `90s`, `5m`, `1h` or plain seconds.
pub fn parse_wait(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 90s, 5m, 1h)"))?;
    let seconds = match unit {
        "s" => value,
        "m" => value * 60,
        "h" => value * 3600,
        _ => return Err(format!("`{text}`: unit must be s, m or h")),
    };
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquiring_is_one_transaction_that_only_takes_a_free_or_expired_lease() {
        let pg = acquire_sql(Dialect::Postgres, "me", "refresh", Duration::from_secs(300));
        assert!(
            pg.starts_with("BEGIN;\nLOCK TABLE pricewatch_meta.lease IN SHARE ROW EXCLUSIVE MODE;")
        );
        assert!(pg.ends_with("COMMIT;"));
        assert!(pg.contains(
            "WHERE NOT EXISTS (SELECT 1 FROM pricewatch_meta.lease WHERE name = 'warehouse')"
        ));
        assert!(pg.contains("INTERVAL '300 seconds'"));
        let rs = acquire_sql(
            Dialect::Redshift,
            "x\\'me",
            "refresh",
            Duration::from_secs(60),
        );
        assert!(
            !rs.contains("BEGIN"),
            "a Data API batch is already one transaction"
        );
        assert!(rs.contains("GETDATE() + INTERVAL '60 seconds'"));
        assert!(rs.contains("'x\\\\''me'"), "{rs}");
        assert_eq!(
            pricewatch_core::sql_text::split_statements(&rs, Dialect::Redshift).len(),
            2
        );
    }

    #[test]
    fn renew_and_release_touch_only_our_own_lease() {
        assert!(renew_sql(Dialect::Postgres, "me", Duration::from_secs(300))
            .ends_with("WHERE name = 'warehouse' AND holder = 'me';"));
        assert_eq!(
            release_sql(Dialect::Redshift, "me"),
            "DELETE FROM pricewatch_meta.lease WHERE name = 'warehouse' AND holder = 'me';"
        );
    }

    #[test]
    fn holder_ids_differ_between_runs() {
        let a = holder_id();
        std::thread::sleep(Duration::from_millis(2));
        assert_ne!(a, holder_id());
        assert!(a.contains(&format!("pid {}", std::process::id())));
    }

    #[test]
    fn waits_parse() {
        assert_eq!(parse_wait("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_wait("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_wait("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_wait("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_wait("soon").is_err());
        assert!(parse_wait("5d").is_err());
    }
}
