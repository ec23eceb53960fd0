//! One `check` run: the selected checks in one warehouse statement, their
//! outcomes, then (unless it is a dry run) the values and failure flags to
//! CloudWatch and the results appended to the warehouse's history table.

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::services::{Services, Warehouse};
use pricewatch_core::bundle::Bundle;
use pricewatch_core::config::names::METRICS_NAMESPACE;
use pricewatch_core::config::Environment;
use pricewatch_core::reporter::Reporter;

use crate::warehouse::{Statements, WarehouseError};
use pricewatch_core::checks::alarms::{FAILED_METRIC, VALUE_METRIC};
use pricewatch_core::checks::compile::batch_sql;
use pricewatch_core::checks::evaluate::{self, CheckResult, CheckStatus};
use pricewatch_core::checks::Check;
use pricewatch_core::cloud::{AwsResult, MetricPoint, Metrics};
use pricewatch_core::config::Dialect;
use pricewatch_core::sql_text::literal;

/// Marks an error as "the checks could not run" (exit 2, unlike failed checks).
#[derive(Debug, thiserror::Error)]
#[error("the checks could not run")]
pub struct ChecksNotRun;

pub(crate) const HISTORY_TABLE: &str = "pricewatch_meta.check_results";
/// Data points per PutMetricData call (the API takes up to 1,000).
const METRICS_PER_CALL: usize = 500;

/// The checks `--select` names: a check name, or a model (all its checks).
pub fn select(checks: &[Check], selectors: &[String]) -> Result<Vec<Check>, String> {
    if selectors.is_empty() {
        return Ok(checks.to_vec());
    }
    for selector in selectors {
        if !checks
            .iter()
            .any(|c| &c.name == selector || &c.model == selector)
        {
            let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "no check or model with checks named `{selector}`; checks: {}",
                names.join(", ")
            ));
        }
    }
    Ok(checks
        .iter()
        .filter(|c| selectors.iter().any(|s| s == &c.name || s == &c.model))
        .cloned()
        .collect())
}

/// Runs the checks as one statement and evaluates them.
pub async fn run(
    warehouse: &impl Statements,
    checks: &[Check],
    dialect: Dialect,
) -> Result<Vec<CheckResult>, WarehouseError> {
    let rows = warehouse
        .query("running the checks", &batch_sql(checks, dialect))
        .await?;
    evaluate::evaluate(checks, &rows).map_err(|message| WarehouseError::Statement {
        context: "reading the check results".into(),
        message,
    })
}

/// Each check's observed value and 0/1 failure flag, dimensions Env and Check.
pub(crate) fn metric_points(env: &str, outcomes: &[CheckResult]) -> Vec<MetricPoint> {
    let dimensions = |check: &str| {
        vec![
            ("Env".to_string(), env.to_string()),
            ("Check".to_string(), check.to_string()),
        ]
    };
    outcomes
        .iter()
        .flat_map(|o| {
            let failed = MetricPoint {
                name: FAILED_METRIC.into(),
                dimensions: dimensions(&o.check),
                value: if o.status == CheckStatus::Fail {
                    1.0
                } else {
                    0.0
                },
            };
            // A check without a value has only its failure flag.
            let value = o.observed.map(|v| MetricPoint {
                name: VALUE_METRIC.into(),
                dimensions: dimensions(&o.check),
                value: v,
            });
            value.into_iter().chain([failed])
        })
        .collect()
}

/// Puts the points in as few calls as the API allows; returns the calls made.
pub async fn publish(
    metrics: &impl Metrics,
    namespace: &str,
    points: &[MetricPoint],
) -> AwsResult<usize> {
    let mut calls = 0;
    for batch in points.chunks(METRICS_PER_CALL) {
        metrics.put(namespace, batch).await?;
        calls += 1;
    }
    Ok(calls)
}

#[derive(Debug, Clone, Serialize)]
pub struct RunId {
    pub id: String,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    pub checked_at: String,
}

impl RunId {
    pub(crate) fn now() -> RunId {
        let seconds = pricewatch_core::time::now_unix();
        let (_, compact) = pricewatch_core::time::utc_timestamps(seconds);
        RunId {
            id: format!("{compact}-{}", std::process::id()),
            checked_at: pricewatch_core::time::utc_text(seconds),
        }
    }
}

/// One INSERT appending the run's results to the history table.
pub(crate) fn history_sql(
    run: &RunId,
    outcomes: &[CheckResult],
    dialect: Dialect,
) -> Option<String> {
    let lit = |text: &str| literal(text, dialect);
    if outcomes.is_empty() {
        return None;
    }
    let rows: Vec<String> = outcomes
        .iter()
        .map(|o| {
            let status = match o.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Warn => "warn",
                CheckStatus::Fail => "fail",
            };
            format!(
                "({}, CAST({} AS TIMESTAMP), {}, {}, {}, {}, {}, {})",
                lit(&run.id),
                lit(&run.checked_at),
                lit(&o.check),
                lit(&o.model),
                o.observed
                    .filter(|v| v.is_finite())
                    .map_or("NULL".to_string(), |v| format!("{v:?}")),
                lit(status),
                lit(&o.warn),
                lit(&o.fail)
            )
        })
        .collect();
    Some(format!(
        "INSERT INTO {HISTORY_TABLE} (run_id, checked_at, check_name, model, observed, status, warn_threshold, fail_threshold) VALUES\n{}",
        rows.join(",\n")
    ))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::block_on;
    use pricewatch_core::checks::{Bounds, Kind};

    fn outcome(check: &str, observed: Option<f64>, status: CheckStatus) -> CheckResult {
        CheckResult {
            check: check.into(),
            model: "silver.products".into(),
            owner: "o".into(),
            observed,
            status,
            warn: "-".into(),
            fail: "> 0".into(),
            runbook: "r".into(),
        }
    }

    #[derive(Default)]
    struct FakeMetrics {
        calls: RefCell<Vec<usize>>,
    }

    impl Metrics for FakeMetrics {
        async fn put(&self, _namespace: &str, points: &[MetricPoint]) -> AwsResult<()> {
            self.calls.borrow_mut().push(points.len());
            Ok(())
        }
    }

    #[test]
    fn every_check_publishes_its_value_and_failure_flag_in_few_calls() {
        let outcomes = [
            outcome("a", Some(3.0), CheckStatus::Fail),
            outcome("b", None, CheckStatus::Fail),
        ];
        let points = metric_points("prod", &outcomes);
        assert_eq!(
            points.len(),
            3,
            "no value point for a check without a value"
        );
        assert_eq!(points[0].name, VALUE_METRIC);
        assert_eq!(points[0].value, 3.0);
        assert_eq!(points[1].name, FAILED_METRIC);
        assert_eq!(points[1].value, 1.0);
        assert_eq!(
            points[0].dimensions,
            [
                ("Env".to_string(), "prod".to_string()),
                ("Check".to_string(), "a".to_string())
            ]
        );
        let many: Vec<MetricPoint> = (0..1200).map(|_| points[0].clone()).collect();
        let metrics = FakeMetrics::default();
        assert_eq!(block_on(publish(&metrics, "Pricewatch", &many)).unwrap(), 3);
        assert_eq!(*metrics.calls.borrow(), [500, 500, 200]);
    }

    #[test]
    fn history_is_one_insert() {
        let run = RunId {
            id: "20261125T010203Z-1".into(),
            checked_at: "2026-11-25 01:02:03".into(),
        };
        let sql = history_sql(
            &run,
            &[
                outcome("a", Some(0.5), CheckStatus::Pass),
                outcome("b", None, CheckStatus::Fail),
            ],
            Dialect::Postgres,
        )
        .unwrap();
        assert!(sql.starts_with("INSERT INTO pricewatch_meta.check_results"));
        assert!(sql.contains("('20261125T010203Z-1', CAST('2026-11-25 01:02:03' AS TIMESTAMP), 'a', 'silver.products', 0.5, 'pass', '-', '> 0')"), "{sql}");
        assert!(
            sql.contains("'b', 'silver.products', NULL, 'fail'"),
            "{sql}"
        );
        assert_eq!(history_sql(&run, &[], Dialect::Postgres), None);
    }

    #[test]
    fn select_by_check_or_model() {
        let check = |name: &str, model: &str| Check {
            name: name.into(),
            description: String::new(),
            owner: String::new(),
            runbook: String::new(),
            model: model.into(),
            kind: Kind::RowCount,
            filter: None,
            warn: Bounds::default(),
            fail: Bounds::default(),
        };
        let checks = [
            check("a", "silver.x"),
            check("b", "silver.x"),
            check("c", "gold.y"),
        ];
        let names = |s: &[&str]| -> Vec<String> {
            let selectors: Vec<String> = s.iter().map(|x| x.to_string()).collect();
            select(&checks, &selectors)
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names(&["silver.x"]), ["a", "b"]);
        assert_eq!(names(&["c"]), ["c"]);
        assert_eq!(names(&[]), ["a", "b", "c"]);
        assert!(select(&checks, &["nope".into()])
            .unwrap_err()
            .contains("no check"));
    }
}

#[derive(Serialize)]
pub struct Report {
    pub env: String,
    pub run: RunId,
    pub seconds: f64,
    /// Metrics and history written (false with --no-publish).
    pub published: bool,
    /// Why publishing failed (the checks themselves ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) publish_error: Option<String>,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// Names of the checks that failed (and warned, with `fail_on_warn`).
    pub(crate) fn failing(&self, fail_on_warn: bool) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|o| {
                o.status == CheckStatus::Fail || (fail_on_warn && o.status == CheckStatus::Warn)
            })
            .map(|o| o.check.as_str())
            .collect()
    }

    pub(crate) fn publish_error(&self) -> Option<&str> {
        self.publish_error.as_deref()
    }

    /// A check failed (or warned, with `fail_on_warn`), or publishing failed.
    pub fn needs_action(&self, fail_on_warn: bool) -> bool {
        self.fail > 0 || (fail_on_warn && self.warn > 0) || self.publish_error.is_some()
    }
}

/// Runs `checks` in one warehouse statement and, with `publish`, sends the
/// values to CloudWatch and the history table. An error (marked
/// [`ChecksNotRun`]) means the checks could not run; a failed publish is a
/// warning in the report.
pub async fn run_checks(
    bundle: &Bundle,
    services: &Services<'_>,
    checks: &[Check],
    publish: bool,
    reporter: &dyn Reporter,
) -> anyhow::Result<Report> {
    let env = &bundle.env;
    if checks.is_empty() {
        return Err(anyhow::anyhow!(
            "env `{}` has no enabled checks in sql/checks.yaml",
            env.name
        )
        .context(ChecksNotRun));
    }
    let started = Instant::now();
    let run_id = RunId::now();
    let warehouse = services.connect_one().await.context(ChecksNotRun)?;
    let outcomes = run(&warehouse, checks, env.dialect())
        .await
        .map_err(anyhow::Error::from)
        .context(ChecksNotRun)?;
    let publish_error = if publish {
        publish_results(services, &warehouse, env, &run_id, &outcomes)
            .await
            .err()
            .map(|e| format!("{e:#}"))
    } else {
        None
    };
    if let Some(e) = &publish_error {
        reporter.warn(&format!(
            "the check results were not published: {e}; alarms will see missing data"
        ));
    }
    let count = |s: CheckStatus| outcomes.iter().filter(|o| o.status == s).count();
    Ok(Report {
        env: env.name.clone(),
        run: run_id,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        published: publish && publish_error.is_none(),
        publish_error,
        pass: count(CheckStatus::Pass),
        warn: count(CheckStatus::Warn),
        fail: count(CheckStatus::Fail),
        checks: outcomes,
    })
}

/// Metrics to CloudWatch, then the results to the history table.
async fn publish_results(
    services: &Services<'_>,
    warehouse: &Warehouse,
    env: &Environment,
    run_id: &RunId,
    outcomes: &[CheckResult],
) -> anyhow::Result<()> {
    let points = metric_points(&env.name, outcomes);
    publish(services.aws.metrics().await?, METRICS_NAMESPACE, &points).await?;
    if let Some(sql) = history_sql(run_id, outcomes, warehouse.dialect()) {
        warehouse
            .execute("recording the check results", &sql)
            .await
            .context("run `pricewatch sql apply` if the history table is missing")?;
    }
    Ok(())
}
