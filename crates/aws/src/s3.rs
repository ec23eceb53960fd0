//! S3: the artifacts bucket (content-addressed uploads, ingest state, the
//! published report, emptying on destroy) and the snapshot archive (written
//! by ingest through `ObjectStore`, listed and read back by backfill).

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};

use super::classify;
use pricewatch_core::cloud::{
    ArchiveObjects, AwsError, AwsErrorKind, AwsResult, ConditionalObjects, FileObjects,
    ObjectStore, SiteObjects,
};

pub struct S3Objects {
    client: aws_sdk_s3::Client,
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client) -> S3Objects {
        S3Objects { client }
    }

    /// One DeleteObjects call (at most 1000 objects); the first object S3
    /// could not delete is an error.
    async fn delete_identifiers(
        &self,
        bucket: &str,
        identifiers: Vec<ObjectIdentifier>,
    ) -> AwsResult<()> {
        let delete = Delete::builder()
            .set_objects(Some(identifiers))
            .quiet(true)
            .build()
            .map_err(|e| AwsError::new("s3:DeleteObjects", AwsErrorKind::Other, e.to_string()))?;
        let output = self
            .client
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| classify("s3:DeleteObjects", e))?;
        match output.errors().first() {
            Some(error) => Err(AwsError::new(
                "s3:DeleteObjects",
                AwsErrorKind::Other,
                format!(
                    "could not delete {}: {}",
                    error.key().unwrap_or("?"),
                    error.message().unwrap_or("no reason given")
                ),
            )),
            None => Ok(()),
        }
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
            self.delete_identifiers(bucket, identifiers).await?;
            removed += count;
        }
        Err(AwsError::new(
            "s3:DeleteObjects",
            AwsErrorKind::Other,
            format!("bucket {bucket} still has objects after deleting {removed}; is something writing to it?"),
        ))
    }
}

/// S3's answers to a condition that did not hold: 412 when the ETag (or
/// absence) differs, 409 when a concurrent conditional write won the race.
fn lost_condition<E: ProvideErrorMetadata>(error: &E) -> bool {
    matches!(
        error.code(),
        Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey")
    )
}

impl ConditionalObjects for S3Objects {
    async fn get_tagged(&self, bucket: &str, key: &str) -> AwsResult<Option<(Vec<u8>, String)>> {
        match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => {
                let etag = output.e_tag().unwrap_or_default().to_string();
                let bytes = output.body.collect().await.map_err(|e| {
                    AwsError::new(
                        "s3:GetObject",
                        AwsErrorKind::Unavailable,
                        format!("reading s3://{bucket}/{key}: {e}"),
                    )
                })?;
                Ok(Some((bytes.into_bytes().to_vec(), etag)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(classify("s3:GetObject", e)),
        }
    }

    async fn put_if(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        expected: Option<&str>,
    ) -> AwsResult<Option<String>> {
        let request = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        let request = match expected {
            Some(etag) => request.if_match(etag),
            None => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(output) => Ok(Some(output.e_tag().unwrap_or_default().to_string())),
            Err(e) if lost_condition(&e) => Ok(None),
            Err(e) => Err(classify("s3:PutObject", e)),
        }
    }

    async fn delete_if(&self, bucket: &str, key: &str, etag: &str) -> AwsResult<bool> {
        match self
            .client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .if_match(etag)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if lost_condition(&e) => Ok(false),
            Err(e) => Err(classify("s3:DeleteObject", e)),
        }
    }
}

/// Parts of a multipart upload: above S3's 5 MiB minimum, and what one
/// upload holds in memory at a time.
const PART_BYTES: usize = 8 * 1024 * 1024;

impl FileObjects for S3Objects {
    /// A file up to one part goes in one PutObject; a larger one in a
    /// multipart upload, one part in memory at a time, aborted on failure
    /// so no half object (nor its stored parts) is left.
    async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &std::path::Path,
        content_type: &str,
    ) -> AwsResult<()> {
        let local = |e: std::io::Error| {
            AwsError::new(
                "s3:PutObject",
                AwsErrorKind::Other,
                format!("reading {} for s3://{bucket}/{key}: {e}", path.display()),
            )
        };
        let mut file = std::fs::File::open(path).map_err(local)?;
        let mut part = read_part(&mut file).map_err(local)?;
        if part.len() < PART_BYTES {
            return self.put(bucket, key, part, content_type).await;
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| classify("s3:CreateMultipartUpload", e))?;
        let upload_id = upload.upload_id().unwrap_or_default().to_string();
        let mut parts = Vec::new();
        let result: AwsResult<()> = async {
            while !part.is_empty() {
                let number = parts.len() as i32 + 1;
                let output = self
                    .client
                    .upload_part()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(ByteStream::from(std::mem::take(&mut part)))
                    .send()
                    .await
                    .map_err(|e| classify("s3:UploadPart", e))?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(output.e_tag().map(str::to_string))
                        .build(),
                );
                part = read_part(&mut file).map_err(local)?;
            }
            self.client
                .complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| classify("s3:CompleteMultipartUpload", e))?;
            Ok(())
        }
        .await;
        if result.is_err() {
            // Best effort: the bucket's lifecycle rule removes what an
            // abort that fails leaves behind.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        result
    }
}

/// Up to PART_BYTES of the file; shorter only at its end.
fn read_part(file: &mut std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut part = Vec::with_capacity(PART_BYTES);
    file.take(PART_BYTES as u64).read_to_end(&mut part)?;
    Ok(part)
}

impl SiteObjects for S3Objects {
    async fn list(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        // Bounded: 1000 pages of 1000 keys is far beyond a report.
        for _ in 0..1000 {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| classify("s3:ListObjectsV2", e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok(keys),
            }
        }
        Err(AwsError::new(
            "s3:ListObjectsV2",
            AwsErrorKind::Other,
            format!("s3://{bucket}/{prefix} lists more than a million keys"),
        ))
    }

    async fn delete(&self, bucket: &str, keys: &[String]) -> AwsResult<()> {
        for chunk in keys.chunks(1000) {
            let identifiers = chunk
                .iter()
                .map(|key| {
                    ObjectIdentifier::builder().key(key).build().map_err(|e| {
                        AwsError::new("s3:DeleteObjects", AwsErrorKind::Other, e.to_string())
                    })
                })
                .collect::<AwsResult<Vec<_>>>()?;
            self.delete_identifiers(bucket, identifiers).await?;
        }
        Ok(())
    }

    async fn presigned_get(&self, bucket: &str, key: &str, expires: Duration) -> AwsResult<String> {
        let config = PresigningConfig::expires_in(expires).map_err(|e| {
            AwsError::new(
                "s3:GetObject (presign)",
                AwsErrorKind::Invalid,
                e.to_string(),
            )
        })?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| classify("s3:GetObject (presign)", e))?;
        Ok(request.uri().to_string())
    }
}

/// Pages of 1,000 keys; a month of snapshots taken every minute is 44.
const MAX_ARCHIVE_PAGES: usize = 10_000;

/// The snapshot archive, read back by `pricewatch backfill`: keys in order
/// from a starting point (ListObjectsV2 `StartAfter`), so a backfill of one
/// month lists that month, not the archive's whole history.
impl ArchiveObjects for S3Objects {
    async fn keys(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        stop_before: Option<&str>,
    ) -> AwsResult<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_ARCHIVE_PAGES {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_start_after(start_after.map(str::to_string))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| classify("s3:ListObjectsV2", e))?;
            for key in page.contents().iter().filter_map(|o| o.key()) {
                if stop_before.is_some_and(|stop| key >= stop) {
                    return Ok(keys);
                }
                keys.push(key.to_string());
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok(keys),
            }
        }
        Err(AwsError::new(
            "s3:ListObjectsV2",
            AwsErrorKind::Other,
            format!("s3://{bucket}/{prefix} lists more than {MAX_ARCHIVE_PAGES} pages of keys: narrow the range with --since and --until"),
        ))
    }

    async fn read(&self, bucket: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
        self.get(bucket, key).await
    }
}
