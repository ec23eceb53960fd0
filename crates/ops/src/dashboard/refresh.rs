//! `dashboard refresh`: SPICE ingestion of every data set after a warehouse
//! refresh. All ingestions start first (QuickSight runs them side by side),
//! then each is polled to its end under one deadline. A data set that hit
//! the daily ingestion limit is reported as such, not as an obscure error.

use serde::Serialize;

use super::DashboardError;
use crate::wait::Polling;
use pricewatch_core::dashboard::quicksight::{AwsErrorKind, DataSetSpec, QuickSight};
use pricewatch_core::reporter::Reporter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestionResult {
    Completed,
    Failed,
    Cancelled,
    /// The data set's daily SPICE ingestion quota is used up.
    LimitReached,
    /// Another ingestion of this data set is running.
    AlreadyRunning,
    /// Still running at the deadline (it may still finish).
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestionOutcome {
    pub data_set: String,
    pub result: IngestionResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_ingested: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefreshReport {
    pub ingestion_id: String,
    pub data_sets: Vec<IngestionOutcome>,
}

impl RefreshReport {
    pub fn succeeded(&self) -> bool {
        self.data_sets
            .iter()
            .all(|d| d.result == IngestionResult::Completed)
    }
}

const LIMIT_ADVICE: &str = "the daily SPICE ingestion limit for this data set is reached; \
    the dashboard keeps showing the last import. Try again after midnight UTC, or set \
    quicksight.import_mode: DIRECT_QUERY for this env";

pub async fn refresh(
    api: &impl QuickSight,
    data_sets: &[DataSetSpec],
    ingestion_id: &str,
    polling: Polling,
    reporter: &dyn Reporter,
) -> Result<RefreshReport, DashboardError> {
    let mut outcomes = Vec::new();
    let mut running = Vec::new();
    for data_set in data_sets {
        let outcome = |result, message: Option<String>| IngestionOutcome {
            data_set: data_set.id.clone(),
            result,
            rows_ingested: None,
            message,
        };
        match api.create_ingestion(&data_set.id, ingestion_id).await {
            Ok(()) => {
                reporter.info(&format!("started SPICE ingestion of {}", data_set.id));
                running.push(data_set.id.as_str());
            }
            Err(e) if e.kind == AwsErrorKind::LimitExceeded => outcomes.push(outcome(
                IngestionResult::LimitReached,
                Some(LIMIT_ADVICE.into()),
            )),
            Err(e) if e.kind == AwsErrorKind::Conflict => outcomes.push(outcome(
                IngestionResult::AlreadyRunning,
                Some(format!("another ingestion is running: {}", e.message)),
            )),
            Err(e) => return Err(e.into()),
        }
    }
    let mut poller = polling.start();
    while !running.is_empty() {
        let mut still_running = Vec::new();
        for id in running {
            let state = api.describe_ingestion(id, ingestion_id).await?;
            let result = match state.status.as_str() {
                "COMPLETED" => IngestionResult::Completed,
                "FAILED" => IngestionResult::Failed,
                "CANCELLED" => IngestionResult::Cancelled,
                _ => {
                    still_running.push(id);
                    continue;
                }
            };
            reporter.info(&format!(
                "SPICE ingestion of {id}: {}",
                state.status.to_lowercase()
            ));
            outcomes.push(IngestionOutcome {
                data_set: id.to_string(),
                result,
                rows_ingested: state.rows_ingested,
                message: state.error,
            });
        }
        running = still_running;
        if !running.is_empty() && !poller.next().await {
            let waited = poller.waited().as_secs();
            outcomes.extend(running.drain(..).map(|id| IngestionOutcome {
                data_set: id.to_string(),
                result: IngestionResult::TimedOut,
                rows_ingested: None,
                message: Some(format!(
                    "still running after {waited} s; `pricewatch dashboard refresh` again later shows whether it finished"
                )),
            }));
        }
    }
    outcomes.sort_by(|a, b| a.data_set.cmp(&b.data_set));
    Ok(RefreshReport {
        ingestion_id: ingestion_id.to_string(),
        data_sets: outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fake::{desired_for_tests, FakeQuickSight};
    use super::*;
    use pricewatch_core::reporter::SilentReporter;

    async fn run(api: &FakeQuickSight) -> RefreshReport {
        let data_sets = desired_for_tests().data_sets;
        refresh(
            api,
            &data_sets,
            "run-1",
            Polling::immediate(),
            &SilentReporter,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn every_data_set_is_ingested_and_waited_for() {
        let api = FakeQuickSight {
            ingestion_polls: 3,
            ..Default::default()
        };
        let report = run(&api).await;
        assert!(report.succeeded(), "{report:?}");
        assert_eq!(report.data_sets.len(), 2);
        assert!(report.data_sets.iter().all(|d| d.rows_ingested == Some(42)));
        // Both started before any was polled.
        assert_eq!(api.calls_named("create_ingestion"), 2);
        assert_eq!(api.calls_named("describe_ingestion"), 2 * 4);
    }

    #[tokio::test]
    async fn a_failed_ingestion_is_reported_with_its_reason() {
        let data_sets = desired_for_tests().data_sets;
        let api = FakeQuickSight {
            failing_data_set: Some(data_sets[1].id.clone()),
            ..Default::default()
        };
        let report = run(&api).await;
        assert!(!report.succeeded());
        let failed = report
            .data_sets
            .iter()
            .find(|d| d.result == IngestionResult::Failed)
            .unwrap();
        assert_eq!(failed.data_set, data_sets[1].id);
        assert!(failed
            .message
            .as_deref()
            .unwrap()
            .contains("CONNECTION_FAILURE"));
    }

    #[tokio::test]
    async fn the_daily_limit_is_named_not_an_obscure_error() {
        let api = FakeQuickSight {
            ingestion_limit_reached: true,
            ..Default::default()
        };
        let report = run(&api).await;
        assert!(report
            .data_sets
            .iter()
            .all(|d| d.result == IngestionResult::LimitReached
                && d.message
                    .as_deref()
                    .unwrap()
                    .contains("daily SPICE ingestion limit")));
        assert_eq!(api.calls_named("describe_ingestion"), 0);
    }

    #[tokio::test]
    async fn ingestions_still_running_at_the_deadline_time_out() {
        let api = FakeQuickSight {
            ingestion_polls: usize::MAX,
            ..Default::default()
        };
        let data_sets = desired_for_tests().data_sets;
        let polling = Polling {
            timeout: std::time::Duration::from_millis(20),
            ..Polling::immediate()
        };
        let report = refresh(&api, &data_sets, "run-1", polling, &SilentReporter)
            .await
            .unwrap();
        assert!(report
            .data_sets
            .iter()
            .all(|d| d.result == IngestionResult::TimedOut));
    }
}
