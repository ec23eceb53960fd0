//! The snapshot archive in S3, read back by `pricewatch backfill`: keys in
//! order from a starting point (ListObjectsV2 `StartAfter`), so a backfill
//! of one month lists that month, not the archive's whole history.

use super::classify;
use super::S3Objects;
use crate::cloud::{ArchiveObjects, AwsError, AwsErrorKind, AwsResult, ObjectStore as _};

/// Pages of 1,000 keys; a month of snapshots taken every minute is 44.
const MAX_PAGES: usize = 10_000;

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
        for _ in 0..MAX_PAGES {
            let page = self
                .client()
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
            format!("s3://{bucket}/{prefix} lists more than {MAX_PAGES} pages of keys: narrow the range with --since and --until"),
        ))
    }

    async fn read(&self, bucket: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
        self.get(bucket, key).await
    }
}
