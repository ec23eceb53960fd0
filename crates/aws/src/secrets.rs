//! The one Secrets Manager read pricewatch needs: a database login (user
//! name and password) that the warehouse stack generated, for the
//! bootstrap to give that user its password.

use super::classify;
use pricewatch_core::cloud::Login;
use pricewatch_core::cloud::{AwsError, AwsErrorKind, AwsResult};

pub async fn login(client: &aws_sdk_secretsmanager::Client, arn: &str) -> AwsResult<Login> {
    let op = "secretsmanager:GetSecretValue";
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| classify(op, e))?;
    let invalid = |why: &str| {
        AwsError::new(
            op,
            AwsErrorKind::Invalid,
            format!("secret {arn} {why}: expected JSON with `username` and `password`"),
        )
    };
    let text = output
        .secret_string()
        .ok_or_else(|| invalid("has no string value"))?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| invalid("is not JSON"))?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| invalid(&format!("lacks `{name}`")))
    };
    Ok(Login {
        user: field("username")?,
        password: field("password")?,
    })
}
