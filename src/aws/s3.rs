//! S3: the artifacts bucket (content-addressed uploads, emptying on destroy).

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::classify;
use crate::cloud::{AwsError, AwsErrorKind, AwsResult, ObjectStore};

pub struct S3Objects {
    client: aws_sdk_s3::Client,
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client) -> S3Objects {
        S3Objects { client }
    }
}

impl ObjectStore for S3Objects {
    async fn exists(&self, bucket: &str, key: &str) -> AwsResult<bool> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(classify("s3:HeadObject", e)),
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => {
                let bytes = output.body.collect().await.map_err(|e| {
                    AwsError::new(
                        "s3:GetObject",
                        AwsErrorKind::Unavailable,
                        format!("reading s3://{bucket}/{key}: {e}"),
                    )
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(classify("s3:GetObject", e)),
        }
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> AwsResult<()> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| classify("s3:PutObject", e))?;
        Ok(())
    }

    async fn empty(&self, bucket: &str) -> AwsResult<usize> {
        let mut removed = 0;
        // Bounded: each round deletes up to 1000 versions; a bucket that
        // keeps refilling is reported instead of looping for ever.
        for _ in 0..1000 {
            let listing = match self
                .client
                .list_object_versions()
                .bucket(bucket)
                .send()
                .await
            {
                Ok(listing) => listing,
                Err(e) if e.code() == Some("NoSuchBucket") => return Ok(removed),
                Err(e) => return Err(classify("s3:ListObjectVersions", e)),
            };
            let identifiers: Vec<ObjectIdentifier> = listing
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    listing
                        .delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                )
                .filter_map(|(key, version)| {
                    ObjectIdentifier::builder()
                        .key(key?)
                        .set_version_id(version.map(str::to_string))
                        .build()
                        .ok()
                })
                .collect();
            if identifiers.is_empty() {
                return Ok(removed);
            }
            let count = identifiers.len();
            let delete = Delete::builder()
                .set_objects(Some(identifiers))
                .quiet(true)
                .build()
                .map_err(|e| {
                    AwsError::new("s3:DeleteObjects", AwsErrorKind::Other, e.to_string())
                })?;
            let output = self
                .client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify("s3:DeleteObjects", e))?;
            if let Some(error) = output.errors().first() {
                return Err(AwsError::new(
                    "s3:DeleteObjects",
                    AwsErrorKind::Other,
                    format!(
                        "could not delete {}: {}",
                        error.key().unwrap_or("?"),
                        error.message().unwrap_or("no reason given")
                    ),
                ));
            }
            removed += count;
        }
        Err(AwsError::new(
            "s3:DeleteObjects",
            AwsErrorKind::Other,
            format!("bucket {bucket} still has objects after deleting {removed}; is something writing to it?"),
        ))
    }
}
