//! Incremental models on PostgreSQL: after any sequence of snapshot
//! deliveries (new, late, duplicated, cut off then completed, empty, with
//! invalid rows and rows without a snapshot) and refreshes, every
//! incremental model holds exactly what its query gives from scratch; and a
//! refresh killed after it rewrote a model's rows leaves the model and its
//! watermark as they were, the rerun missing and duplicating nothing. Some
//! sequences stop refreshes part way (between models), so downstream
//! models lag their inputs until the next complete refresh.

use std::cell::{Cell, RefCell};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::{self, Postgres};
use pricewatch_core::model::{Materialization, Model};
use pricewatch_core::render::incremental;

const SOURCES: [&str; 2] = ["products", "vendors"];
const SNAPSHOTS: usize = 6;

/// One thing that happens between refreshes.
#[derive(Debug, Clone)]
enum Step {
    /// Rows of a snapshot reach the landing table: `Part::All`, the first
    /// half (a run cut off), the second half (the rest arriving late, as a
    /// backfill would add it) or everything again (a retried delivery, or
    /// an archive reload of a snapshot the stream still holds).
    Deliver {
        source: usize,
        snapshot: usize,
        part: Part,
    },
    /// A record without snapshot metadata.
    Orphan {
        source: usize,
    },
    Refresh,
    /// A refresh that stops after its first `models` statements (a crash
    /// between models, or `refresh --select` of some models only): the
    /// models after them lag their inputs until the next refresh.
    Interrupted {
        models: usize,
    },
}

#[derive(Debug, Clone, Copy)]
enum Part {
    All,
    FirstHalf,
    SecondHalf,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        5 => (0..SOURCES.len(), 0..SNAPSHOTS, prop_oneof![Just(Part::All), Just(Part::FirstHalf), Just(Part::SecondHalf)])
            .prop_map(|(source, snapshot, part)| Step::Deliver { source, snapshot, part }),
        1 => (0..SOURCES.len()).prop_map(|source| Step::Orphan { source }),
        2 => Just(Step::Refresh),
        1 => (0..10usize).prop_map(|models| Step::Interrupted { models }),
    ];
    proptest::collection::vec(step, 1..14)
}

/// Snapshot `k`'s id and fetch time: ids in time order, delivered in any order.
fn snapshot_id(k: usize) -> String {
    format!("20261201T{:02}{:02}00Z-s{k}", 10 + k / 3, (k % 3) * 20)
}

fn fetched_at(k: usize) -> String {
    format!("2026-12-01T{:02}:{:02}:00Z", 10 + k / 3, (k % 3) * 20)
}

/// The page of `source` at snapshot `k`: fixed, so a second delivery is a
/// copy. Snapshot 0 of each source is an empty page (no row records); some
/// rows are invalid and one offer is listed twice with different prices.
fn page(source: usize, k: usize) -> Vec<serde_json::Value> {
    let rows = [0, 3, 4, 2, 5, 3][k];
    (1..=rows)
        .map(|row| {
            let mut record = serde_json::json!({
                "record_type": "row",
                "snapshot_id": snapshot_id(k),
                "row_number": row,
                "snapshot_rows": rows.to_string(),
                "page_hash": format!("hash-{source}-{k}"),
                "fetched_at": fetched_at(k),
            });
            let fields = record.as_object_mut().unwrap();
            if source == 0 {
                let price = match (k + row) % 7 {
                    0 => "abc".to_string(),
                    _ => format!("${}.{:02}", 10 + k * 3 + row, (k * 17 + row) % 100),
                };
                fields.insert("item".into(), format!("Item {}", row % 3).into());
                fields.insert("category".into(), "Laptops".into());
                fields.insert("vendor".into(), format!("Vendor {}", (row + k) % 2).into());
                fields.insert("sale_price".into(), price.into());
                fields.insert(
                    "stock_status".into(),
                    ["In Stock", "Sold Out", "Few Left"][row % 3].into(),
                );
            } else {
                fields.insert("vendor_name".into(), format!("Vendor {}", row % 3).into());
                fields.insert(
                    "shipping_cost".into(),
                    if row % 2 == 0 {
                        "Free".into()
                    } else {
                        format!("${row}.99").into()
                    },
                );
                fields.insert(
                    "review_score".into(),
                    format!("4.{}", (row + k) % 10).into(),
                );
                fields.insert("feedback_count".into(), (100 * row + k).to_string().into());
            }
            record
        })
        .collect()
}

struct Warehouse {
    db: RefCell<postgres::Client>,
    sequence: Cell<u64>,
    models: Vec<Model>,
}

impl Warehouse {
    fn land(&self, source: usize, payload: &serde_json::Value) {
        let n = self.sequence.get() + 1;
        self.sequence.set(n);
        let json = payload.to_string();
        assert!(!json.contains('\''));
        self.db
            .borrow_mut()
            .batch_execute(&format!(
                "INSERT INTO pricewatch_meta.kinesis_{} (shard_id, sequence_number, partition_key, approximate_arrival_timestamp, kinesis_data, payload) \
                 VALUES ('shardId-000000000000', '{}', 'p', TIMESTAMP '2026-12-01 12:00:00' + INTERVAL '{minutes} minutes', '{json}', '{json}')",
                SOURCES[source],
                1_000_000 + n,
                // Ten minutes apart: a late part of a snapshot arrives
                // more than silver.snapshots' lookback after its first.
                minutes = 10 * n
            ))
            .unwrap();
    }

    fn apply(&self, step: &Step) {
        match *step {
            Step::Deliver {
                source,
                snapshot,
                part,
            } => {
                let rows = page(source, snapshot);
                let half = rows.len() / 2;
                let chosen = match part {
                    Part::All => &rows[..],
                    Part::FirstHalf => &rows[..half],
                    Part::SecondHalf => &rows[half..],
                };
                for row in chosen {
                    self.land(source, row);
                }
            }
            Step::Orphan { source } => {
                self.land(
                    source,
                    &serde_json::json!({"record_type": "row", "item": "x"}),
                );
            }
            Step::Refresh => self.refresh(false),
            Step::Interrupted { models } => self.refresh_some(false, models),
        }
    }

    /// What `pricewatch refresh` runs, in DAG order, for bronze and the
    /// incremental models (silver.snapshots is one).
    fn refresh(&self, full: bool) {
        self.refresh_some(full, usize::MAX);
    }

    /// The first `limit` statements of a refresh.
    fn refresh_some(&self, full: bool, limit: usize) {
        let mut db = self.db.borrow_mut();
        let mut run = 0;
        for model in &self.models {
            if run == limit {
                break;
            }
            let sql = match model.materialized {
                Materialization::Incremental => incremental::refresh_call(&model.name, full),
                Materialization::Stream => format!("REFRESH MATERIALIZED VIEW {};", model.name),
                _ => continue,
            };
            db.batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            run += 1;
        }
    }

    /// Rows of each incremental model missing from, or extra to, its query
    /// run from scratch (as multisets: a duplicate counts).
    fn differences(&self) -> Vec<(String, i64, i64)> {
        let mut db = self.db.borrow_mut();
        self.models
            .iter()
            .filter(|m| m.materialized == Materialization::Incremental)
            .map(|m| {
                let row = db
                    .query_one(
                        &format!(
                            "SELECT (SELECT COUNT(*) FROM (SELECT * FROM {name} EXCEPT ALL SELECT * FROM ({query}) AS q) AS extra), \
                             (SELECT COUNT(*) FROM (SELECT * FROM ({query}) AS q EXCEPT ALL SELECT * FROM {name}) AS missing)",
                            name = m.name,
                            query = m.query
                        ),
                        &[],
                    )
                    .unwrap();
                (m.name.clone(), row.get(0), row.get(1))
            })
            .filter(|(_, extra, missing)| *extra != 0 || *missing != 0)
            .collect()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db.borrow_mut().query_one(sql, &[]).unwrap().get(0)
    }
}

fn applied_warehouse() -> (Postgres, Warehouse) {
    let pg = Postgres::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(support::project_dir())
        .args(["--env", "local", "sql", "apply"])
        .env("PRICEWATCH_DATABASE_URL", pg.url())
        .output()
        .expect("run pricewatch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warehouse = Warehouse {
        db: RefCell::new(pg.connect("pricewatch")),
        sequence: Cell::new(0),
        models: support::bundle("local").models,
    };
    (pg, warehouse)
}

pub(crate) fn incremental_models_equal_a_rebuild_after_any_snapshot_sequence() {
    let (_pg, warehouse) = applied_warehouse();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let most_rows = Cell::new(0);
    let result = runner.run(&steps(), |steps| {
        // Each case from an empty warehouse, its watermarks rebuilt.
        for source in SOURCES {
            warehouse
                .db
                .borrow_mut()
                .batch_execute(&format!("DELETE FROM pricewatch_meta.kinesis_{source}"))
                .unwrap();
        }
        warehouse.refresh(true);
        for step in &steps {
            warehouse.apply(step);
            if matches!(step, Step::Refresh) {
                let differences = warehouse.differences();
                prop_assert!(differences.is_empty(), "after a refresh: {differences:?}");
            }
        }
        warehouse.refresh(false);
        let differences = warehouse.differences();
        prop_assert!(differences.is_empty(), "at the end: {differences:?}");
        most_rows.set(
            most_rows
                .get()
                .max(warehouse.count("SELECT COUNT(*) FROM silver.products")),
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(most_rows.get() > 0, "no case put a row in silver");
}

pub(crate) fn a_refresh_killed_after_rewriting_rows_leaves_model_and_watermark_as_they_were() {
    let (pg, warehouse) = applied_warehouse();
    for k in [1, 2] {
        for row in page(0, k) {
            warehouse.land(0, &row);
        }
    }
    warehouse.refresh(false);
    let model = "silver.products_validated";
    let rows_before = warehouse.count(&format!("SELECT COUNT(*) FROM {model}"));
    let state_before = warehouse.count(&format!(
        "SELECT COUNT(*) FROM {} WHERE model = '{model}'",
        incremental::STATE_TABLE
    ));
    assert!(rows_before > 0 && state_before == 2);
    // A new snapshot, and snapshot 1 delivered again.
    for row in page(0, 4).into_iter().chain(page(0, 1)) {
        warehouse.land(0, &row);
    }
    {
        let mut db = warehouse.db.borrow_mut();
        db.batch_execute(&format!(
            "REFRESH MATERIALIZED VIEW bronze.products; {}",
            incremental::refresh_call(incremental::SNAPSHOTS_MODEL, false)
        ))
        .unwrap();
    }
    // Another session holds the watermark table against writes (reads
    // pass): the refresh computes the changed snapshots, rewrites the
    // model's rows, then waits to write its watermark — and is killed there.
    let mut blocker = pg.connect("pricewatch");
    let mut hold = blocker.transaction().unwrap();
    hold.batch_execute(&format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE",
        incremental::STATE_TABLE
    ))
    .unwrap();
    let url = pg.url();
    let call = incremental::refresh_call(model, false);
    let refresh = std::thread::spawn(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        db.batch_execute(&call)
    });
    let mut watcher = pg.connect("pricewatch");
    let started = std::time::Instant::now();
    let pid: i32 = loop {
        let waiting = watcher
            .query(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL pricewatch_meta.incremental__%' \
                 AND wait_event_type = 'Lock'",
                &[],
            )
            .unwrap();
        if let Some(row) = waiting.first() {
            break row.get(0);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the refresh never reached the watermark"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // It already rewrote the rows: the new snapshot is in its transaction.
    let locks: i64 = watcher
        .query_one(
            &format!("SELECT COUNT(*) FROM pg_locks WHERE pid = $1 AND relation = '{model}'::regclass AND mode = 'RowExclusiveLock'"),
            &[&pid],
        )
        .unwrap()
        .get(0);
    assert_eq!(locks, 1, "the refresh had not written the model's rows yet");
    watcher
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    assert!(refresh.join().unwrap().is_err(), "the refresh was killed");
    hold.rollback().unwrap();

    assert_eq!(
        warehouse.count(&format!("SELECT COUNT(*) FROM {model}")),
        rows_before,
        "the killed refresh changed the model"
    );
    assert_eq!(
        warehouse.count(&format!(
            "SELECT COUNT(*) FROM {} WHERE model = '{model}'",
            incremental::STATE_TABLE
        )),
        state_before,
        "the killed refresh moved the watermark"
    );
    // Run again: everything, once.
    warehouse.refresh(false);
    assert_eq!(warehouse.differences(), Vec::<(String, i64, i64)>::new());
    assert_eq!(
        warehouse.count(&format!(
            "SELECT COUNT(*) FROM {} WHERE model = '{model}'",
            incremental::STATE_TABLE
        )),
        3
    );
    assert!(warehouse.count(&format!("SELECT COUNT(*) FROM {model}")) > rows_before);
}
