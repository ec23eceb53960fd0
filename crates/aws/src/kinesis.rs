//! Kinesis behind the [`RecordSink`] trait.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use aws_smithy_types::date_time::Format;

use super::classify;
use pricewatch_core::cloud::{
    AwsError, AwsErrorKind, AwsResult, RecordSink, RecordSource, StreamRecord,
};

/// Bounds one shard read (10,000 records a page): a stream that keeps
/// growing faster than it is read is picked up again on the next refresh.
const MAX_PAGES_PER_READ: usize = 1000;

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

impl RecordSource for KinesisStreams {
    async fn shards(&self, stream: &str) -> AwsResult<Vec<String>> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = match &token {
                Some(token) => self.client.list_shards().next_token(token),
                None => self.client.list_shards().stream_name(stream),
            };
            let output = request
                .send()
                .await
                .map_err(|e| classify("kinesis:ListShards", e))?;
            shards.extend(output.shards().iter().map(|s| s.shard_id().to_string()));
            match output.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => return Ok(shards),
            }
        }
    }

    async fn read(
        &self,
        stream: &str,
        shard: &str,
        after: Option<&str>,
    ) -> AwsResult<Vec<StreamRecord>> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard);
        let request = match after {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(sequence),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let output = request
            .send()
            .await
            .map_err(|e| classify("kinesis:GetShardIterator", e))?;
        let mut iterator = output.shard_iterator().map(str::to_string);
        let mut records = Vec::new();
        for _ in 0..MAX_PAGES_PER_READ {
            let Some(current) = iterator.take() else {
                break;
            };
            let page = self
                .client
                .get_records()
                .shard_iterator(current)
                .limit(10_000)
                .send()
                .await
                .map_err(|e| classify("kinesis:GetRecords", e))?;
            records.extend(page.records().iter().map(|r| {
                StreamRecord {
                    shard_id: shard.to_string(),
                    sequence_number: r.sequence_number().to_string(),
                    partition_key: r.partition_key().unwrap_or_default().to_string(),
                    arrival: r
                        .approximate_arrival_timestamp()
                        .and_then(|t| t.fmt(Format::DateTime).ok())
                        .map(|t| {
                            t.replace('T', " ")
                                .trim_end_matches('Z')
                                .chars()
                                .take(19)
                                .collect()
                        })
                        .unwrap_or_else(|| "1970-01-01 00:00:00".into()),
                    data: r.data().as_ref().to_vec(),
                }
            }));
            let caught_up = page.records().is_empty() || page.millis_behind_latest() == Some(0);
            if caught_up {
                break;
            }
            iterator = page.next_shard_iterator().map(str::to_string);
        }
        Ok(records)
    }
}
