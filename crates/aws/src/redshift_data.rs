//! The Redshift Data API behind the [`DataApi`] trait: statements run on a
//! Serverless workgroup as the caller's IAM identity (database user
//! `IAMR:<role>`), or — for the administrator's bootstrap only — as the
//! namespace admin whose secret Redshift keeps.

use aws_sdk_redshiftdata::types::{Field, StatusString};

use super::classify;
use pricewatch_core::cloud::{AwsResult, DataApi, ResultPage, StatementStatus};

/// The longest `StatementName` the Data API accepts.
const MAX_STATEMENT_NAME: usize = 500;

#[derive(Clone)]
pub struct RedshiftDataApi {
    client: aws_sdk_redshiftdata::Client,
    workgroup: String,
    database: String,
    /// Secrets Manager secret to sign in with instead of the IAM identity.
    secret_arn: Option<String>,
}

impl RedshiftDataApi {
    pub fn new(client: aws_sdk_redshiftdata::Client, workgroup: &str, database: &str) -> Self {
        RedshiftDataApi {
            client,
            workgroup: workgroup.to_string(),
            database: database.to_string(),
            secret_arn: None,
        }
    }

    /// Signs in with the login in `secret_arn` (the namespace admin's).
    pub fn with_secret(mut self, secret_arn: &str) -> Self {
        self.secret_arn = Some(secret_arn.to_string());
        self
    }
}

fn statement_name(name: &str) -> String {
    name.chars().take(MAX_STATEMENT_NAME).collect()
}

fn text(field: &Field) -> Option<String> {
    match field {
        Field::IsNull(true) => None,
        Field::StringValue(s) => Some(s.clone()),
        Field::LongValue(n) => Some(n.to_string()),
        Field::DoubleValue(d) => Some(d.to_string()),
        Field::BooleanValue(b) => Some(b.to_string()),
        Field::BlobValue(b) => Some(String::from_utf8_lossy(b.as_ref()).into_owned()),
        _ => None,
    }
}

impl DataApi for RedshiftDataApi {
    async fn submit(&self, name: &str, sqls: &[String]) -> AwsResult<String> {
        if let [sql] = sqls {
            let output = self
                .client
                .execute_statement()
                .workgroup_name(&self.workgroup)
                .database(&self.database)
                .set_secret_arn(self.secret_arn.clone())
                .statement_name(statement_name(name))
                .sql(sql)
                .send()
                .await
                .map_err(|e| classify("redshift-data:ExecuteStatement", e))?;
            Ok(output.id().unwrap_or_default().to_string())
        } else {
            let output = self
                .client
                .batch_execute_statement()
                .workgroup_name(&self.workgroup)
                .database(&self.database)
                .set_secret_arn(self.secret_arn.clone())
                .statement_name(statement_name(name))
                .set_sqls(Some(sqls.to_vec()))
                .send()
                .await
                .map_err(|e| classify("redshift-data:BatchExecuteStatement", e))?;
            Ok(output.id().unwrap_or_default().to_string())
        }
    }

    async fn status(&self, id: &str) -> AwsResult<StatementStatus> {
        let output = self
            .client
            .describe_statement()
            .id(id)
            .send()
            .await
            .map_err(|e| classify("redshift-data:DescribeStatement", e))?;
        Ok(match output.status() {
            Some(StatusString::Finished) => StatementStatus::Finished {
                has_result_set: output.has_result_set().unwrap_or(false),
            },
            Some(StatusString::Failed) => StatementStatus::Failed {
                message: output
                    .error()
                    .unwrap_or("the statement failed without a message")
                    .to_string(),
            },
            Some(StatusString::Aborted) => StatementStatus::Aborted,
            _ => StatementStatus::Running,
        })
    }

    async fn result_page(&self, id: &str, next_token: Option<&str>) -> AwsResult<ResultPage> {
        let output = self
            .client
            .get_statement_result()
            .id(id)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(|e| classify("redshift-data:GetStatementResult", e))?;
        Ok(ResultPage {
            rows: output
                .records()
                .iter()
                .map(|row| row.iter().map(text).collect())
                .collect(),
            next_token: output.next_token().map(str::to_string),
        })
    }

    async fn cancel(&self, id: &str) -> AwsResult<()> {
        self.client
            .cancel_statement()
            .id(id)
            .send()
            .await
            .map_err(|e| classify("redshift-data:CancelStatement", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_text() {
        assert_eq!(text(&Field::IsNull(true)), None);
        assert_eq!(text(&Field::LongValue(42)), Some("42".into()));
        assert_eq!(text(&Field::StringValue("a".into())), Some("a".into()));
        assert_eq!(text(&Field::BooleanValue(true)), Some("true".into()));
        assert_eq!(statement_name(&"x".repeat(600)).len(), MAX_STATEMENT_NAME);
    }
}
