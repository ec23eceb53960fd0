//! Writing a changed page's snapshot to the archive before it goes to the
//! stream; the object's name and bytes are `pricewatch_core::ingest::archive`.

use pricewatch_core::cloud::{AwsResult, ObjectStore};
use pricewatch_core::ingest::archive::{encode, key, CONTENT_TYPE};
use pricewatch_core::ingest::records::Snapshot;

/// Writes a snapshot's archive object; returns its key.
pub(crate) async fn write(
    store: &impl ObjectStore,
    bucket: &str,
    snapshot: &Snapshot,
) -> AwsResult<String> {
    let key = key(snapshot.source, &snapshot.snapshot_id);
    store
        .put(bucket, &key, encode(&snapshot.records), CONTENT_TYPE)
        .await?;
    Ok(key)
}
