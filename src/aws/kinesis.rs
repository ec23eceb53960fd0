//! Kinesis behind the [`RecordSink`] trait.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use super::classify;
use crate::cloud::{AwsError, AwsErrorKind, AwsResult, RecordSink};

pub struct KinesisStreams {
    client: aws_sdk_kinesis::Client,
}

impl KinesisStreams {
    pub fn new(client: aws_sdk_kinesis::Client) -> KinesisStreams {
        KinesisStreams { client }
    }
}

impl RecordSink for KinesisStreams {
    async fn put_records(
        &self,
        stream: &str,
        records: &[(&str, &[u8])],
    ) -> AwsResult<Vec<Option<String>>> {
        let entries = records
            .iter()
            .map(|(key, data)| {
                PutRecordsRequestEntry::builder()
                    .partition_key(*key)
                    .data(Blob::new(data.to_vec()))
                    .build()
                    .map_err(|e| {
                        AwsError::new("kinesis:PutRecords", AwsErrorKind::Invalid, e.to_string())
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = self.client.put_records().set_records(Some(entries));
        let request = if stream.starts_with("arn:") {
            request.stream_arn(stream)
        } else {
            request.stream_name(stream)
        };
        let output = request
            .send()
            .await
            .map_err(|e| classify("kinesis:PutRecords", e))?;
        Ok(output
            .records()
            .iter()
            .map(|r| r.error_code().map(str::to_string))
            .collect())
    }
}
