//! One ingest per source at a time: a lease object next to the page hash
//! (`<state_prefix><source>.lease`), taken with a conditional write (S3
//! `If-None-Match: *`), so of two runs that start together — the scheduled
//! Lambda and a manual `pricewatch ingest` — exactly one pushes the page and
//! the other sends nothing. A crashed run's lease expires by itself; the
//! next run takes it over with `If-Match` on the expired copy's ETag, so two
//! runs cannot both take over the same expired lease.

use serde::{Deserialize, Serialize};

use pricewatch_core::cloud::{AwsError, ConditionalObjects};
use pricewatch_core::ingest::records::Source;
use pricewatch_core::time::utc_timestamps;

/// What the lease object holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    /// Who runs the ingest (`pricewatch ingest (pid 123 on host)`, the
    /// Lambda's request id).
    pub holder: String,
    /// Unix seconds.
    pub acquired_at: u64,
    /// Unix seconds; after this anyone may take the lease over.
    pub expires_at: u64,
}

/// A lease this run holds, released with [`Held::release`].
#[derive(Debug)]
pub(crate) struct Held {
    key: String,
    etag: String,
    /// The holder of the expired lease this run took over, if any.
    pub(crate) took_over: Option<Holder>,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("another ingest of the {page} page is running: {} holds its lease since {}; this run sent nothing — if that run died, its lease expires at {} and the next run takes it over", .holder.holder, time(.holder.acquired_at), time(.holder.expires_at))]
    Busy { page: &'static str, holder: Holder },
    #[error(
        "cannot take the {page} ingest lease s3://{bucket}/{key}: {error}; this run sent nothing"
    )]
    Store {
        page: &'static str,
        bucket: String,
        key: String,
        error: AwsError,
    },
}

fn time(unix: u64) -> String {
    utc_timestamps(unix).0
}

pub(crate) fn key(prefix: &str, source: Source) -> String {
    format!("{}/{}.lease", prefix.trim_end_matches('/'), source.name())
}

/// Takes the source's lease for `seconds`, or says who holds it.
pub(crate) async fn acquire(
    store: &impl ConditionalObjects,
    bucket: &str,
    prefix: &str,
    source: Source,
    holder: &str,
    now: u64,
    seconds: u64,
) -> Result<Held, LeaseError> {
    let key = key(prefix, source);
    let store_error = |error| LeaseError::Store {
        page: source.name(),
        bucket: bucket.to_string(),
        key: key.clone(),
        error,
    };
    let ours = Holder {
        holder: holder.to_string(),
        acquired_at: now,
        expires_at: now + seconds,
    };
    let body = serde_json::to_vec(&ours).expect("a holder serialises");
    // Two rounds at most: the lease may vanish between a failed create and
    // the read (its holder released it), and then creating it again wins
    // or loses like the first attempt.
    for _ in 0..2 {
        if let Some(etag) = store
            .put_if(bucket, &key, body.clone(), None)
            .await
            .map_err(store_error)?
        {
            return Ok(Held {
                key,
                etag,
                took_over: None,
            });
        }
        let Some((current, etag)) = store.get_tagged(bucket, &key).await.map_err(store_error)?
        else {
            continue;
        };
        // A lease nobody can read is treated as expired: it can only have
        // been written by something else than this code, and waiting for it
        // forever would stop ingest for good.
        let previous: Option<Holder> = serde_json::from_slice(&current).ok();
        if let Some(previous) = previous.as_ref().filter(|p| p.expires_at > now) {
            return Err(LeaseError::Busy {
                page: source.name(),
                holder: previous.clone(),
            });
        }
        return match store
            .put_if(bucket, &key, body.clone(), Some(&etag))
            .await
            .map_err(store_error)?
        {
            Some(etag) => Ok(Held {
                key,
                etag,
                took_over: previous,
            }),
            // Another run took the expired lease over first.
            None => match store.get_tagged(bucket, &key).await.map_err(store_error)? {
                Some((current, _)) => Err(LeaseError::Busy {
                    page: source.name(),
                    holder: serde_json::from_slice(&current).unwrap_or(Holder {
                        holder: "an unknown writer".into(),
                        acquired_at: now,
                        expires_at: now + seconds,
                    }),
                }),
                None => continue,
            },
        };
    }
    Err(LeaseError::Busy {
        page: source.name(),
        holder: Holder {
            holder: "another run (the lease changed hands while this run tried to take it)".into(),
            acquired_at: now,
            expires_at: now + seconds,
        },
    })
}

impl Held {
    /// Gives the lease back; only this run's copy is deleted (If-Match), so
    /// a run that overran its lease cannot remove its successor's.
    pub(crate) async fn release(
        self,
        store: &impl ConditionalObjects,
        bucket: &str,
    ) -> Result<(), AwsError> {
        store
            .delete_if(bucket, &self.key, &self.etag)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::block_on;
    use pricewatch_core::cloud::{AwsResult, FileObjects, ObjectStore};

    /// A bucket with ETags (a counter), conditional writes and deletes.
    #[derive(Default)]
    pub(crate) struct Bucket {
        pub(crate) objects: Mutex<BTreeMap<String, (Vec<u8>, u64)>>,
        next: Mutex<u64>,
    }

    impl Bucket {
        fn etag(&self) -> u64 {
            let mut next = self.next.lock().unwrap();
            *next += 1;
            *next
        }
    }

    impl ObjectStore for Bucket {
        async fn exists(&self, _: &str, key: &str) -> AwsResult<bool> {
            Ok(self.objects.lock().unwrap().contains_key(key))
        }
        async fn get(&self, _: &str, key: &str) -> AwsResult<Option<Vec<u8>>> {
            Ok(self
                .objects
                .lock()
                .unwrap()
                .get(key)
                .map(|(b, _)| b.clone()))
        }
        async fn put(&self, _: &str, key: &str, body: Vec<u8>, _: &str) -> AwsResult<()> {
            let etag = self.etag();
            self.objects
                .lock()
                .unwrap()
                .insert(key.to_string(), (body, etag));
            Ok(())
        }
        async fn empty(&self, _: &str) -> AwsResult<usize> {
            Ok(0)
        }
    }

    impl FileObjects for Bucket {
        async fn put_file(
            &self,
            bucket: &str,
            key: &str,
            path: &std::path::Path,
            kind: &str,
        ) -> AwsResult<()> {
            self.put(bucket, key, std::fs::read(path).unwrap(), kind)
                .await
        }
    }

    impl ConditionalObjects for Bucket {
        async fn get_tagged(&self, _: &str, key: &str) -> AwsResult<Option<(Vec<u8>, String)>> {
            Ok(self
                .objects
                .lock()
                .unwrap()
                .get(key)
                .map(|(b, e)| (b.clone(), e.to_string())))
        }
        async fn put_if(
            &self,
            _: &str,
            key: &str,
            body: Vec<u8>,
            expected: Option<&str>,
        ) -> AwsResult<Option<String>> {
            let etag = self.etag();
            let mut objects = self.objects.lock().unwrap();
            let current = objects.get(key).map(|(_, e)| e.to_string());
            if current.as_deref() != expected {
                return Ok(None);
            }
            objects.insert(key.to_string(), (body, etag));
            Ok(Some(etag.to_string()))
        }
        async fn delete_if(&self, _: &str, key: &str, etag: &str) -> AwsResult<bool> {
            let mut objects = self.objects.lock().unwrap();
            if objects.get(key).map(|(_, e)| e.to_string()).as_deref() != Some(etag) {
                return Ok(false);
            }
            objects.remove(key);
            Ok(true)
        }
    }

    fn take(bucket: &Bucket, holder: &str, now: u64) -> Result<Held, Box<LeaseError>> {
        block_on(acquire(
            bucket,
            "b",
            "state/",
            Source::products(),
            holder,
            now,
            60,
        ))
        .map_err(Box::new)
    }

    #[test]
    fn one_holder_at_a_time_until_it_releases() {
        let bucket = Bucket::default();
        let first = take(&bucket, "lambda", 1000).unwrap();
        assert!(bucket
            .objects
            .lock()
            .unwrap()
            .contains_key("state/products.lease"));
        let err = take(&bucket, "manual run", 1010).unwrap_err();
        let LeaseError::Busy { holder, .. } = &*err else {
            panic!("{err:?}")
        };
        assert_eq!(holder.holder, "lambda");
        let message = err.to_string();
        assert!(
            message.contains("lambda holds its lease since 1970-01-01T00:16:40Z")
                && message.contains("this run sent nothing"),
            "{message}"
        );
        // Another source is not blocked.
        block_on(acquire(
            &bucket,
            "b",
            "state/",
            Source::vendors(),
            "manual run",
            1010,
            60,
        ))
        .unwrap();
        block_on(first.release(&bucket, "b")).unwrap();
        take(&bucket, "manual run", 1020).unwrap();
    }

    #[test]
    fn an_expired_lease_is_taken_over_once() {
        let bucket = Bucket::default();
        let crashed = take(&bucket, "killed run", 1000).unwrap();
        let next = take(&bucket, "next run", 1061).unwrap();
        assert_eq!(next.took_over.as_ref().unwrap().holder, "killed run");
        // The crashed run's late release cannot remove its successor's lease.
        block_on(crashed.release(&bucket, "b")).unwrap();
        assert!(matches!(
            take(&bucket, "third", 1062).map_err(|e| *e),
            Err(LeaseError::Busy { .. })
        ));
    }

    #[test]
    fn of_two_takers_of_an_expired_lease_one_wins() {
        let bucket = Bucket::default();
        take(&bucket, "killed run", 1000).unwrap();
        let (_, etag) = block_on(bucket.get_tagged("b", "state/products.lease"))
            .unwrap()
            .unwrap();
        // A second taker read the same expired copy and wrote first.
        let winner = block_on(
            bucket.put_if(
                "b",
                "state/products.lease",
                serde_json::to_vec(&Holder {
                    holder: "winner".into(),
                    acquired_at: 1061,
                    expires_at: 1121,
                })
                .unwrap(),
                Some(&etag),
            ),
        )
        .unwrap();
        assert!(winner.is_some());
        let err = take(&bucket, "loser", 1061).unwrap_err();
        assert!(err.to_string().contains("winner holds"), "{err}");
    }
}
