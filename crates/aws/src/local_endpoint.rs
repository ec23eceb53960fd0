//! Compatibility with moto for the one answer the SDK cannot read: moto
//! writes QuickSight timestamps (`CreatedTime`, `LastUpdatedTime`, ...) as
//! ISO strings, where QuickSight sends epoch seconds, so every describe
//! fails to deserialize. Installed only on clients that talk to a local
//! endpoint (`aws.endpoint_url` / `AWS_ENDPOINT_URL`); it rewrites those
//! values to epoch seconds and leaves everything else byte for byte.

use aws_sdk_quicksight::config::http::HttpResponse;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use pricewatch_core::time::epoch_seconds;

/// The SDK's own default client (rustls), for configs that name none.
pub(crate) fn default_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_https()
}

/// Wraps an HTTP client so timestamp strings in JSON answers become numbers.
#[derive(Debug)]
pub(crate) struct EpochTimestamps(pub SharedHttpClient);

impl HttpClient for EpochTimestamps {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(EpochConnector(self.0.http_connector(settings, components)))
    }
}

#[derive(Debug)]
struct EpochConnector(SharedHttpConnector);

impl HttpConnector for EpochConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.0.clone();
        HttpConnectorFuture::new(async move {
            let response = inner.call(request).await?;
            let status = response.status();
            let mut headers = response.headers().clone();
            let bytes = ByteStream::new(response.into_body())
                .collect()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?
                .into_bytes();
            let body = rewrite(&bytes).unwrap_or_else(|| bytes.to_vec());
            headers.remove("content-length");
            let mut rebuilt = HttpResponse::new(status, SdkBody::from(body));
            *rebuilt.headers_mut() = headers;
            Ok(rebuilt)
        })
    }
}

/// The body with every `...Time` string that is an ISO date-time turned
/// into epoch seconds; None when nothing needed rewriting.
fn rewrite(body: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if !convert(&mut value) {
        return None;
    }
    serde_json::to_vec(&value).ok()
}

fn convert(value: &mut serde_json::Value) -> bool {
    let mut changed = false;
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if let (true, Some(epoch)) =
                    (key.ends_with("Time"), v.as_str().and_then(epoch_seconds))
                {
                    if let Some(number) = serde_json::Number::from_f64(epoch) {
                        *v = serde_json::Value::Number(number);
                        changed = true;
                        continue;
                    }
                }
                changed |= convert(v);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                changed |= convert(item);
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_time_keys_are_rewritten() {
        let body = br#"{"Dashboard": {"Name": "2026-01-01 00:00:00", "Version": {"CreatedTime": "1970-01-02T00:00:00"}}}"#;
        let rewritten: serde_json::Value = serde_json::from_slice(&rewrite(body).unwrap()).unwrap();
        assert_eq!(rewritten["Dashboard"]["Version"]["CreatedTime"], 86_400.0);
        assert_eq!(rewritten["Dashboard"]["Name"], "2026-01-01 00:00:00");
        assert_eq!(rewrite(br#"{"CreatedTime": 5}"#), None);
        assert_eq!(rewrite(b"<html>"), None);
    }
}
