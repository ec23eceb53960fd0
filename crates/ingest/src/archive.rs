//! Writing a changed page's snapshot to the archive before it goes to the
//! stream; the object's name and bytes are `pricewatch_core::ingest::archive`,
//! the bytes already in a temporary file (`page::build`), streamed to S3.

use pricewatch_core::cloud::{AwsResult, FileObjects};
use pricewatch_core::ingest::archive::{key, CONTENT_TYPE};
use pricewatch_core::ingest::records::Source;

use crate::page::Archive;

/// Writes a snapshot's archive object; returns its key.
pub(crate) async fn write(
    store: &impl FileObjects,
    bucket: &str,
    source: Source,
    archive: &Archive,
) -> AwsResult<String> {
    let key = key(source, &archive.snapshot_id);
    store
        .put_file(bucket, &key, archive.path(), CONTENT_TYPE)
        .await?;
    Ok(key)
}
