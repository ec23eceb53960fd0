//! PostgreSQL as the warehouse of the `local` env.

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use super::{Statements, WarehouseError};
use pricewatch_core::config::Environment;

pub const DATABASE_URL_VARIABLE: &str = "PRICEWATCH_DATABASE_URL";

pub struct Postgres {
    client: Client,
}

/// The connection URL: `PRICEWATCH_DATABASE_URL`, else the env's
/// `warehouse.postgres_url`.
pub fn database_url(env: &Environment) -> Option<String> {
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

impl Postgres {
    pub async fn connect(url: &str) -> Result<Postgres, WarehouseError> {
        let (client, connection) =
            tokio_postgres::connect(url, NoTls)
                .await
                .map_err(|e| WarehouseError::Unreachable {
                    target: redacted(url),
                    message: e.to_string(),
                })?;
        // The connection does the I/O; it ends when the client is dropped.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Postgres { client })
    }
}

fn statement_error(context: &str, error: tokio_postgres::Error) -> WarehouseError {
    let message = match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    };
    WarehouseError::Statement {
        context: context.to_string(),
        message,
    }
}

impl Statements for Postgres {
    fn dialect(&self) -> pricewatch_core::config::Dialect {
        pricewatch_core::config::Dialect::Postgres
    }

    async fn execute(&self, context: &str, sql: &str) -> Result<(), WarehouseError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| statement_error(context, e))
    }

    async fn query(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, WarehouseError> {
        let messages = self
            .client
            .simple_query(sql)
            .await
            .map_err(|e| statement_error(context, e))?;
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
    #[test]
    fn credentials_never_reach_messages() {
        assert_eq!(
            super::redacted("postgres://u:secret@db:5432/x"),
            "postgres://…@db:5432/x"
        );
        assert_eq!(super::redacted("postgres://db/x"), "postgres://db/x");
    }
}
