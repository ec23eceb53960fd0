//! PostgreSQL as the warehouse of the `local` env. Every wait is bounded
//! (the env's `timeouts`): opening a session by a client-side deadline
//! (TCP, TLS-less startup and login: a server that accepts the connection
//! and never answers cannot hang a command), each statement by the
//! server's `statement_timeout` and `lock_timeout`, and by a client-side
//! deadline a little longer than the statement timeout, for a server that
//! stops answering mid-statement.

use std::future::Future;
use std::time::Duration;

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use super::{Statements, WarehouseError};
use pricewatch_core::config::{Environment, TimeoutSettings};

pub(crate) const DATABASE_URL_VARIABLE: &str = "PRICEWATCH_DATABASE_URL";

/// How much longer than `statement_timeout` the client waits for an
/// answer before it gives up on the server itself: the server cancels a
/// statement at its timeout and answers at once, so only a server that
/// stopped answering runs into this.
const CLIENT_GRACE: Duration = Duration::from_secs(30);

/// SQLSTATE of a statement cancelled by `statement_timeout` (query_canceled).
const QUERY_CANCELED: &str = "57014";
/// SQLSTATE of a statement cancelled by `lock_timeout` (lock_not_available).
const LOCK_NOT_AVAILABLE: &str = "55P03";

pub struct Postgres {
    client: Client,
    /// The URL without credentials, for messages.
    target: String,
    timeouts: TimeoutSettings,
}

/// The connection URL: `PRICEWATCH_DATABASE_URL`, else the env's
/// `warehouse.postgres_url`.
pub(crate) fn database_url(env: &Environment) -> Option<String> {
    std::env::var(DATABASE_URL_VARIABLE)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| env.settings.warehouse.postgres_url.clone())
}

/// The URL without credentials, for messages.
fn redacted(url: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(scheme, rest)| rest.rsplit_once('@').map(|(_, host)| (scheme, host)))
    {
        Some((scheme, host)) => format!("{scheme}://…@{host}"),
        None => url.to_string(),
    }
}

/// Runs `work`, or gives up after `limit`.
async fn within<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, WarehouseError>>,
    expired: impl FnOnce() -> WarehouseError,
) -> Result<T, WarehouseError> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| Err(expired()))
}

impl Postgres {
    /// Opens a session with the env's statement and lock timeouts set.
    pub async fn connect(
        url: &str,
        timeouts: &TimeoutSettings,
    ) -> Result<Postgres, WarehouseError> {
        let target = redacted(url);
        let limit = Duration::from_secs(timeouts.connect_seconds.into());
        let unreachable = |e: tokio_postgres::Error| WarehouseError::Unreachable {
            target: target.clone(),
            message: e.to_string(),
        };
        let open = async {
            let mut config: tokio_postgres::Config = url.parse().map_err(unreachable)?;
            config.connect_timeout(limit);
            let (client, connection) = config.connect(NoTls).await.map_err(unreachable)?;
            // The connection does the I/O; it ends when the client is dropped.
            tokio::spawn(async move {
                let _ = connection.await;
            });
            client
                .batch_execute(&format!(
                    "SET statement_timeout = '{}s'; SET lock_timeout = '{}s'",
                    timeouts.statement_seconds, timeouts.lock_seconds
                ))
                .await
                .map_err(unreachable)?;
            Ok(client)
        };
        let client = within(limit, open, || WarehouseError::TimedOut {
            waited_on: format!("opening a PostgreSQL session at {target}"),
            seconds: limit.as_secs(),
            setting: "timeouts.connect_seconds".into(),
            next: format!(
                "the server accepted no session in time: check that PostgreSQL at {} is up and answering (`pg_isready`), then rerun the command",
                host_of(&target)
            ),
        })
        .await?;
        Ok(Postgres {
            client,
            target,
            timeouts: timeouts.clone(),
        })
    }

    /// The client-side deadline of one call.
    fn deadline(&self) -> Duration {
        Duration::from_secs(self.timeouts.statement_seconds.into()) + CLIENT_GRACE
    }

    /// A statement error; the server's own timeouts say which limit it hit.
    fn statement_error(&self, context: &str, error: tokio_postgres::Error) -> WarehouseError {
        let Some(db) = error.as_db_error() else {
            return WarehouseError::Statement {
                context: context.to_string(),
                message: error.to_string(),
            };
        };
        match db.code().code() {
            LOCK_NOT_AVAILABLE => WarehouseError::TimedOut {
                waited_on: format!(
                    "{context}: waiting for a lock on PostgreSQL ({})",
                    self.target
                ),
                seconds: self.timeouts.lock_seconds.into(),
                setting: "timeouts.lock_seconds".into(),
                next: "another session holds it — most likely a running refresh or sql apply \
                       (`pricewatch status` names the lease holder): rerun when it has finished"
                    .into(),
            },
            QUERY_CANCELED if db.message().contains("statement timeout") => {
                WarehouseError::TimedOut {
                    waited_on: format!("{context} on PostgreSQL ({})", self.target),
                    seconds: self.timeouts.statement_seconds.into(),
                    setting: "timeouts.statement_seconds".into(),
                    next: "PostgreSQL cancelled the statement: look for what slows it \
                           (pg_stat_activity), then rerun; raise timeouts.statement_seconds \
                           in the env file if the work needs longer"
                        .into(),
                }
            }
            code => WarehouseError::Statement {
                context: context.to_string(),
                message: format!("{} ({code})", db.message()),
            },
        }
    }

    /// The error when the server did not answer within the client's deadline.
    fn no_answer(&self, context: &str) -> WarehouseError {
        WarehouseError::TimedOut {
            waited_on: format!("{context}: waiting for PostgreSQL ({}) to answer", self.target),
            seconds: self.deadline().as_secs(),
            setting: format!(
                "timeouts.statement_seconds + {} s",
                CLIENT_GRACE.as_secs()
            ),
            next: format!(
                "the server stopped answering: check that PostgreSQL at {} is up (`pg_isready`), then rerun the command",
                host_of(&self.target)
            ),
        }
    }
}

/// `host:port/database` of a redacted URL, for advice.
fn host_of(target: &str) -> &str {
    target
        .split_once("://")
        .map(|(_, rest)| rest.trim_start_matches("…@"))
        .unwrap_or(target)
}

impl Statements for Postgres {
    fn dialect(&self) -> pricewatch_core::config::Dialect {
        pricewatch_core::config::Dialect::Postgres
    }

    async fn execute(&self, context: &str, sql: &str) -> Result<(), WarehouseError> {
        let run = async {
            self.client
                .batch_execute(sql)
                .await
                .map_err(|e| self.statement_error(context, e))
        };
        within(self.deadline(), run, || self.no_answer(context)).await
    }

    async fn query(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, WarehouseError> {
        let run = async {
            self.client
                .simple_query(sql)
                .await
                .map_err(|e| self.statement_error(context, e))
        };
        let messages = within(self.deadline(), run, || self.no_answer(context)).await?;
        Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_messages() {
        assert_eq!(
            redacted("postgres://u:secret@db:5432/x"),
            "postgres://…@db:5432/x"
        );
        assert_eq!(redacted("postgres://db/x"), "postgres://db/x");
        assert_eq!(
            host_of(&redacted("postgres://u:secret@db:5432/x")),
            "db:5432/x"
        );
    }

    /// A server that accepts TCP and never answers: the session gives up
    /// at the connect limit and says what it waited on.
    #[tokio::test]
    async fn a_silent_server_is_given_up_on_at_the_connect_limit() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts and holds connections, never writes a byte; the thread
        // ends with the test process.
        std::thread::spawn(move || {
            let held: Vec<_> = listener.incoming().collect();
            drop(held);
        });
        let timeouts = TimeoutSettings {
            connect_seconds: 1,
            ..TimeoutSettings::default()
        };
        let started = std::time::Instant::now();
        let error = Postgres::connect(&format!("postgres://u:pw@127.0.0.1:{port}/db"), &timeouts)
            .await
            .err()
            .expect("a silent server yields no session");
        assert!(started.elapsed() < Duration::from_secs(5));
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "opening a PostgreSQL session at postgres://…@127.0.0.1:{port}/db: gave up after 1 s (timeouts.connect_seconds)"
            )),
            "{message}"
        );
        assert!(message.contains("pg_isready"), "{message}");
        assert!(!message.contains("pw"), "{message}");
    }
}
