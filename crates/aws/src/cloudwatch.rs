//! CloudWatch custom metrics behind the [`Metrics`] trait.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

use super::classify;
use pricewatch_core::cloud::{AwsError, AwsErrorKind, AwsResult, MetricPoint, Metrics};

pub struct CloudWatchMetrics {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchMetrics {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> CloudWatchMetrics {
        CloudWatchMetrics { client }
    }
}

impl Metrics for CloudWatchMetrics {
    async fn put(&self, namespace: &str, points: &[MetricPoint]) -> AwsResult<()> {
        if points.is_empty() {
            return Err(AwsError::new(
                "cloudwatch:PutMetricData",
                AwsErrorKind::Invalid,
                "no data points to put",
            ));
        }
        let now = aws_sdk_cloudwatch::primitives::DateTime::from(std::time::SystemTime::now());
        let data = points
            .iter()
            .map(|p| {
                MetricDatum::builder()
                    .metric_name(&p.name)
                    .set_dimensions(Some(
                        p.dimensions
                            .iter()
                            .map(|(name, value)| {
                                Dimension::builder().name(name).value(value).build()
                            })
                            .collect(),
                    ))
                    .value(p.value)
                    .unit(StandardUnit::None)
                    .timestamp(now)
                    .build()
            })
            .collect();
        self.client
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .map_err(|e| classify("cloudwatch:PutMetricData", e))?;
        Ok(())
    }
}
