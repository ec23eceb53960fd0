//! Puts a snapshot's records into a Kinesis stream: batches within the
//! PutRecords limits, retries only the records that came back failed (with
//! exponential backoff and full jitter) until a deadline, and counts what
//! was never accepted. Nothing is reported delivered that was not.

use std::time::{Duration, Instant};

use pricewatch_core::backoff::{Backoff, Jitter};
use pricewatch_core::cloud::{AwsErrorKind, RecordSink};
use pricewatch_core::ingest::records::Record;

pub(crate) const MAX_RECORDS_PER_CALL: usize = 500;
pub(crate) const MAX_BYTES_PER_CALL: usize = 5 * 1024 * 1024;
/// Data plus partition key of one record.
pub(crate) const MAX_BYTES_PER_RECORD: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub(crate) first_backoff: Duration,
    pub(crate) max_backoff: Duration,
    /// When the run must stop sending: no call starts after it, a call
    /// still running at it is abandoned (its records count as failed), and
    /// no retry is scheduled past it. Set once per run, so the first batch
    /// of the last source is bound by it as much as the last retry.
    pub deadline: Instant,
}

impl RetryPolicy {
    pub fn standard(deadline: Instant) -> RetryPolicy {
        RetryPolicy {
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            deadline,
        }
    }
}

/// What happened to a snapshot's records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub(crate) accepted: usize,
    /// Never accepted (failed until the deadline, or too large to send).
    pub failed: usize,
    pub calls: usize,
    /// Record sends beyond the first for each record.
    pub(crate) retried: usize,
    /// Why the last failure happened.
    pub(crate) last_error: Option<String>,
}

impl Delivery {
    pub fn complete(&self) -> bool {
        self.failed == 0
    }

    /// Counts another batch's delivery in.
    pub fn add(&mut self, other: Delivery) {
        self.accepted += other.accepted;
        self.failed += other.failed;
        self.calls += other.calls;
        self.retried += other.retried;
        if other.last_error.is_some() {
            self.last_error = other.last_error;
        }
    }
}

fn size(record: &Record) -> usize {
    record.data.len() + record.partition_key.len()
}

/// Groups record indices into calls that respect the PutRecords limits;
/// records over the per-record limit are returned apart (they can never go).
pub(crate) fn batches(records: &[Record], indices: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut too_large = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0;
    for &i in indices {
        let bytes = size(&records[i]);
        if bytes > MAX_BYTES_PER_RECORD {
            too_large.push(i);
            continue;
        }
        if current.len() == MAX_RECORDS_PER_CALL || current_bytes + bytes > MAX_BYTES_PER_CALL {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(i);
        current_bytes += bytes;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    (batches, too_large)
}

/// Sends every record, retrying failed ones until the policy's deadline.
pub(crate) async fn deliver(
    sink: &impl RecordSink,
    stream: &str,
    records: &[Record],
    policy: RetryPolicy,
) -> Delivery {
    let mut delivery = Delivery::default();
    let all: Vec<usize> = (0..records.len()).collect();
    let (_, too_large) = batches(records, &all);
    if !too_large.is_empty() {
        delivery.failed += too_large.len();
        delivery.last_error = Some(format!(
            "{} record(s) exceed the {MAX_BYTES_PER_RECORD}-byte Kinesis record limit",
            too_large.len()
        ));
    }
    let mut pending: Vec<usize> = all.into_iter().filter(|i| !too_large.contains(i)).collect();
    let mut backoff = Backoff::new(policy.first_backoff, policy.max_backoff);
    let mut jitter = Jitter::seeded();
    let mut first_round = true;
    while !pending.is_empty() {
        if !first_round {
            delivery.retried += pending.len();
        }
        first_round = false;
        let accepted_before = delivery.accepted;
        let mut still_failing = Vec::new();
        let round = batches(records, &pending).0;
        for (n, batch) in round.iter().enumerate() {
            if Instant::now() >= policy.deadline {
                // Out of time: this batch and the rest of the round were never sent.
                let unsent: usize = round[n..].iter().map(Vec::len).sum();
                delivery.failed += unsent + still_failing.len();
                delivery.last_error = Some(format!(
                    "the run's deadline passed with {} record(s) not accepted",
                    unsent + still_failing.len()
                ));
                return delivery;
            }
            let batch = batch.clone();
            let entries: Vec<(&str, &[u8])> = batch
                .iter()
                .map(|&i| {
                    (
                        records[i].partition_key.as_str(),
                        records[i].data.as_slice(),
                    )
                })
                .collect();
            delivery.calls += 1;
            let call =
                tokio::time::timeout_at(policy.deadline.into(), sink.put_records(stream, &entries));
            let Ok(answer) = call.await else {
                // Abandoned at the deadline: whether Kinesis took these is
                // unknown, so they count as failed (the snapshot is sent
                // again; the warehouse counts each row once).
                let unsent: usize = round[n + 1..].iter().map(Vec::len).sum();
                delivery.failed += batch.len() + unsent + still_failing.len();
                delivery.last_error = Some(format!(
                    "the run's deadline passed during a PutRecords call of {} record(s)",
                    batch.len()
                ));
                return delivery;
            };
            match answer {
                Ok(results) => {
                    for (&i, result) in batch.iter().zip(
                        results
                            .iter()
                            .chain(std::iter::repeat(&Some("NoResult".to_string()))),
                    ) {
                        match result {
                            None => delivery.accepted += 1,
                            Some(code) => {
                                delivery.last_error = Some(format!("records came back {code}"));
                                still_failing.push(i);
                            }
                        }
                    }
                }
                Err(e) => {
                    // A timed-out call used its whole budget, retries
                    // included: another round would only hold the run.
                    let retryable =
                        matches!(e.kind, AwsErrorKind::Throttled | AwsErrorKind::Unavailable);
                    delivery.last_error = Some(e.to_string());
                    if !retryable {
                        // Access denied, missing stream, bad credentials: retrying cannot help.
                        delivery.failed += pending.len() - (delivery.accepted - accepted_before);
                        return delivery;
                    }
                    still_failing.extend(batch);
                }
            }
        }
        pending = still_failing;
        if pending.is_empty() {
            break;
        }
        if Instant::now() + backoff.peek() > policy.deadline {
            delivery.failed += pending.len();
            return delivery;
        }
        let pause = jitter.below(backoff.pause());
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    delivery
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::block_on;
    use pricewatch_core::cloud::{AwsError, AwsResult};

    /// A stream that fails chosen records on their first tries.
    struct FlakyStream {
        /// Record index (by partition key) → failures left.
        failures_left: Mutex<std::collections::BTreeMap<String, usize>>,
        accepted: Mutex<Vec<String>>,
        calls: Mutex<Vec<usize>>,
        whole_call_error: Option<AwsErrorKind>,
    }

    impl FlakyStream {
        fn new(fail: &[(&str, usize)]) -> FlakyStream {
            FlakyStream {
                failures_left: Mutex::new(fail.iter().map(|(k, n)| (k.to_string(), *n)).collect()),
                accepted: Mutex::new(Vec::new()),
                calls: Mutex::new(Vec::new()),
                whole_call_error: None,
            }
        }
    }

    impl RecordSink for FlakyStream {
        async fn put_records(
            &self,
            _stream: &str,
            records: &[(&str, &[u8])],
        ) -> AwsResult<Vec<Option<String>>> {
            self.calls.lock().unwrap().push(records.len());
            if let Some(kind) = self.whole_call_error {
                return Err(AwsError::new("kinesis:PutRecords", kind, "no"));
            }
            let mut left = self.failures_left.lock().unwrap();
            Ok(records
                .iter()
                .map(|(key, _)| match left.get_mut(*key).filter(|n| **n > 0) {
                    Some(n) => {
                        *n -= 1;
                        Some("ProvisionedThroughputExceededException".to_string())
                    }
                    None => {
                        self.accepted.lock().unwrap().push(key.to_string());
                        None
                    }
                })
                .collect())
        }
    }

    fn records(n: usize, bytes: usize) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                partition_key: format!("k{i}"),
                data: vec![b'x'; bytes],
            })
            .collect()
    }

    fn quick() -> RetryPolicy {
        RetryPolicy {
            first_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            deadline: Instant::now() + Duration::from_secs(5),
        }
    }

    #[test]
    fn batches_respect_count_and_byte_limits() {
        let many = records(1201, 10);
        let all: Vec<usize> = (0..many.len()).collect();
        let (b, too_large) = batches(&many, &all);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [500, 500, 201]);
        assert!(too_large.is_empty());

        let big = records(12, 1000 * 1000);
        let (b, _) = batches(&big, &(0..12).collect::<Vec<_>>());
        assert!(
            b.iter()
                .all(|batch| batch.iter().map(|&i| size(&big[i])).sum::<usize>()
                    <= MAX_BYTES_PER_CALL)
        );
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 12);

        let mut mixed = records(3, 10);
        mixed[1].data = vec![b'x'; MAX_BYTES_PER_RECORD];
        let (b, too_large) = batches(&mixed, &[0, 1, 2]);
        assert_eq!(too_large, [1]);
        assert_eq!(b, [vec![0, 2]]);
    }

    #[test]
    fn partially_failed_records_are_retried_until_each_is_accepted_once() {
        // 30 % of the records fail their first try, a few fail twice.
        let recs = records(100, 50);
        let fail: Vec<(String, usize)> = (0..100)
            .filter(|i| i % 10 < 3)
            .map(|i| (format!("k{i}"), if i % 10 == 0 { 2 } else { 1 }))
            .collect();
        let fail_refs: Vec<(&str, usize)> = fail.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        let stream = FlakyStream::new(&fail_refs);
        let delivery = block_on(deliver(&stream, "s", &recs, quick()));
        assert!(delivery.complete(), "{delivery:?}");
        assert_eq!(delivery.accepted, 100);
        assert_eq!(delivery.retried, 30 + 10);
        assert_eq!(*stream.calls.lock().unwrap(), [100, 30, 10]);
        let mut accepted = stream.accepted.lock().unwrap().clone();
        accepted.sort();
        accepted.dedup();
        assert_eq!(accepted.len(), 100, "every record accepted exactly once");
        assert_eq!(stream.accepted.lock().unwrap().len(), 100);
    }

    #[test]
    fn records_failing_past_the_deadline_are_counted_not_hidden() {
        let recs = records(10, 50);
        let stream = FlakyStream::new(&[("k3", usize::MAX), ("k7", usize::MAX)]);
        let policy = RetryPolicy {
            first_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            // Long enough that the first round starts before it on a busy
            // machine (it once did not at 30 ms); the rest is retries.
            deadline: Instant::now() + Duration::from_secs(1),
        };
        let delivery = block_on(deliver(&stream, "s", &recs, policy));
        assert_eq!(delivery.accepted, 8);
        assert_eq!(delivery.failed, 2);
        assert!(!delivery.complete());
        // The last round either saw the throttling again or (a pause that
        // overslept on a busy machine) found the deadline already passed.
        let error = delivery.last_error.unwrap();
        assert!(
            error.contains("ProvisionedThroughputExceeded")
                || error.contains("deadline passed with 2 record(s)"),
            "{error}"
        );
    }

    #[test]
    fn an_unretryable_error_stops_at_once() {
        let recs = records(10, 50);
        let mut stream = FlakyStream::new(&[]);
        stream.whole_call_error = Some(AwsErrorKind::AccessDenied);
        let delivery = block_on(deliver(&stream, "s", &recs, quick()));
        assert_eq!(delivery.failed, 10);
        assert_eq!(delivery.calls, 1);
    }

    #[test]
    fn throttled_calls_are_retried() {
        let recs = records(10, 50);
        let stream = FlakyStream::new(&[]);
        let throttled = std::cell::Cell::new(2);
        struct Throttling<'a> {
            inner: &'a FlakyStream,
            left: &'a std::cell::Cell<usize>,
        }
        impl RecordSink for Throttling<'_> {
            async fn put_records(
                &self,
                stream: &str,
                records: &[(&str, &[u8])],
            ) -> AwsResult<Vec<Option<String>>> {
                if self.left.get() > 0 {
                    self.left.set(self.left.get() - 1);
                    return Err(AwsError::new(
                        "kinesis:PutRecords",
                        AwsErrorKind::Throttled,
                        "Rate exceeded",
                    ));
                }
                self.inner.put_records(stream, records).await
            }
        }
        let sink = Throttling {
            inner: &stream,
            left: &throttled,
        };
        let delivery = block_on(deliver(&sink, "s", &recs, quick()));
        assert!(delivery.complete());
        assert_eq!(delivery.calls, 3);
    }

    #[test]
    fn nothing_is_sent_past_the_deadline_not_even_a_first_batch() {
        let recs = records(1200, 10);
        let stream = FlakyStream::new(&[]);
        let policy = RetryPolicy {
            deadline: Instant::now(),
            ..quick()
        };
        let delivery = block_on(deliver(&stream, "s", &recs, policy));
        assert_eq!(
            (delivery.accepted, delivery.failed, delivery.calls),
            (0, 1200, 0)
        );
        assert!(delivery.last_error.unwrap().contains("deadline passed"));
    }

    #[test]
    fn a_call_still_running_at_the_deadline_is_abandoned() {
        struct Silent;
        impl RecordSink for Silent {
            async fn put_records(
                &self,
                _: &str,
                _: &[(&str, &[u8])],
            ) -> AwsResult<Vec<Option<String>>> {
                std::future::pending().await
            }
        }
        let recs = records(700, 10);
        let policy = RetryPolicy {
            deadline: Instant::now() + Duration::from_millis(50),
            ..quick()
        };
        let delivery = block_on(deliver(&Silent, "s", &recs, policy));
        assert_eq!(
            (delivery.accepted, delivery.failed, delivery.calls),
            (0, 700, 1)
        );
        assert!(delivery
            .last_error
            .unwrap()
            .contains("deadline passed during a PutRecords call of 500 record(s)"));
    }

    #[test]
    fn an_oversized_record_is_never_reported_delivered() {
        let mut recs = records(3, 50);
        recs[0].data = vec![b'x'; MAX_BYTES_PER_RECORD + 1];
        let stream = FlakyStream::new(&[]);
        let delivery = block_on(deliver(&stream, "s", &recs, quick()));
        assert_eq!((delivery.accepted, delivery.failed), (2, 1));
        assert!(delivery.last_error.unwrap().contains("record limit"));
    }
}
