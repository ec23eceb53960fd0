//! Publishing the report: every page under `report/` in the env's private
//! artifacts bucket, pages linked to each other by presigned URLs, stale
//! files removed after the new ones are in place (so the site is never
//! half gone), and a presigned URL of the index for the caller.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use pricewatch_core::cloud::{AwsError, SiteObjects};
use pricewatch_core::report::data::ReportData;
use pricewatch_core::report::{build, page_files};

/// The key prefix of the site in the artifacts bucket.
pub const PREFIX: &str = "report/";
const CONTENT_TYPE: &str = "text/html; charset=utf-8";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("cannot render the report: {0}")]
    Render(#[from] tera::Error),
}

#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub bucket: String,
    /// Keys written.
    pub uploaded: Vec<String>,
    /// Keys of an earlier report that are gone now.
    pub removed: Vec<String>,
    /// The index, readable without credentials until it expires.
    pub url: String,
    pub expires_in_seconds: u64,
}

pub async fn publish(
    store: &impl SiteObjects,
    bucket: &str,
    data: &ReportData,
    catalog: Option<&str>,
    expires: Duration,
) -> Result<Published, PublishError> {
    let mut links = BTreeMap::new();
    for file in page_files(catalog.is_some()) {
        let key = format!("{PREFIX}{file}");
        links.insert(file, store.presigned_get(bucket, &key, expires).await?);
    }
    let pages = build(data, catalog, &|file| links[file].clone())?;
    let mut uploaded = Vec::new();
    for page in pages {
        let key = format!("{PREFIX}{}", page.file);
        store
            .put(bucket, &key, page.html.into_bytes(), CONTENT_TYPE)
            .await?;
        uploaded.push(key);
    }
    let removed: Vec<String> = store
        .list(bucket, PREFIX)
        .await?
        .into_iter()
        .filter(|key| !uploaded.contains(key))
        .collect();
    if !removed.is_empty() {
        store.delete(bucket, &removed).await?;
    }
    Ok(Published {
        bucket: bucket.to_string(),
        uploaded,
        removed,
        url: links["index.html"].clone(),
        expires_in_seconds: expires.as_secs(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use pricewatch_core::cloud::{AwsResult, ObjectStore};
    use pricewatch_core::report::data::tests::sample;

    /// key → (body, content type), and every call in order.
    #[derive(Default)]
    struct Bucket {
        objects: Mutex<BTreeMap<String, (Vec<u8>, String)>>,
        calls: Mutex<Vec<String>>,
    }

    impl ObjectStore for Bucket {
        async fn exists(&self, _: &str, key: &str) -> AwsResult<bool> {
            Ok(self.objects.lock().unwrap().contains_key(key))
        }
        async fn get(&self, _: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
            Ok(self.objects.lock().unwrap().get(key).map(|o| o.0.clone()))
        }
        async fn put(
            &self,
            _: &str,
            key: &str,
            body: Vec<u8>,
            content_type: &str,
        ) -> AwsResult<()> {
            self.calls.lock().unwrap().push(format!("put {key}"));
            self.objects
                .lock()
                .unwrap()
                .insert(key.into(), (body, content_type.into()));
            Ok(())
        }
        async fn empty(&self, _: &str) -> AwsResult<usize> {
            unreachable!("publishing never empties the bucket")
        }
    }

    impl SiteObjects for Bucket {
        async fn list(&self, _: &str, prefix: &str) -> AwsResult<Vec<String>> {
            Ok(self
                .objects
                .lock()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect())
        }
        async fn delete(&self, _: &str, keys: &[String]) -> AwsResult<()> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("delete {}", keys.join(",")));
            let mut objects = self.objects.lock().unwrap();
            for key in keys {
                objects.remove(key);
            }
            Ok(())
        }
        async fn presigned_get(
            &self,
            bucket: &str,
            key: &str,
            expires: Duration,
        ) -> AwsResult<String> {
            Ok(format!(
                "https://{bucket}.s3.example/{key}?expires={}&sig=x",
                expires.as_secs()
            ))
        }
    }

    #[test]
    fn pages_link_by_presigned_urls_and_stale_files_go_after_the_upload() {
        let bucket = Bucket::default();
        let keep = (
            "ingest/state.json".to_string(),
            (b"{}".to_vec(), "application/json".to_string()),
        );
        let stale = (
            "report/old-page.html".to_string(),
            (b"old".to_vec(), CONTENT_TYPE.to_string()),
        );
        bucket.objects.lock().unwrap().extend([keep, stale]);
        let published = crate::block_on(publish(
            &bucket,
            "b",
            &sample(),
            Some("<html>catalog</html>"),
            Duration::from_secs(3600),
        ))
        .unwrap();
        assert_eq!(published.uploaded.len(), 7);
        assert_eq!(published.removed, vec!["report/old-page.html"]);
        assert_eq!(
            published.url,
            "https://b.s3.example/report/index.html?expires=3600&sig=x"
        );
        let objects = bucket.objects.lock().unwrap();
        assert!(
            objects.contains_key("ingest/state.json"),
            "only report/ is touched"
        );
        let (index, content_type) = &objects["report/index.html"];
        assert_eq!(content_type, CONTENT_TYPE);
        let index = String::from_utf8(index.clone()).unwrap();
        assert!(
            index.contains(
                "href=\"https://b.s3.example/report/vendors.html?expires=3600&amp;sig=x\""
            ),
            "{index}"
        );
        let calls = bucket.calls.lock().unwrap();
        assert_eq!(
            calls.last().unwrap(),
            "delete report/old-page.html",
            "{calls:?}"
        );
    }

    #[test]
    fn nothing_stale_deletes_nothing() {
        let bucket = Bucket::default();
        let publish_sample = || {
            crate::block_on(publish(
                &bucket,
                "b",
                &sample(),
                None,
                Duration::from_secs(60),
            ))
            .unwrap()
        };
        publish_sample();
        assert!(publish_sample().removed.is_empty());
        assert!(!bucket
            .calls
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.starts_with("delete")));
    }
}
