//! Redshift Serverless as the warehouse of the AWS envs, through the Data
//! API: submit, poll DescribeStatement with backoff until a deadline (then
//! cancel), read results page by page. Conflicts between concurrent
//! transactions are retried; every error names what was being done.

use std::time::Duration;

use super::{Statements, WarehouseError};
use crate::wait::Polling;
use pricewatch_core::backoff::{Backoff, Jitter};
use pricewatch_core::cloud::{AwsError, AwsErrorKind, DataApi, StatementStatus};
use pricewatch_core::config::Dialect;
use pricewatch_core::sql_text::split_statements as split;

/// The Data API runs at most this many statements in one batch.
const MAX_BATCH: usize = 40;
/// Result pages read before giving up on a runaway query.
const MAX_RESULT_PAGES: usize = 10_000;
/// Server messages of failures that succeed when run again.
const TRANSIENT_FAILURES: [&str; 3] = [
    "serializable isolation violation",
    "conflict with concurrent transaction",
    "could not serialize access",
];

/// How long one statement may run and how it is retried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) polling: Polling,
    /// Extra attempts after a transient failure.
    pub(crate) retries: u32,
    pub(crate) retry_delay: Duration,
}

impl Limits {
    pub(crate) fn standard() -> Limits {
        Limits {
            polling: Polling {
                first_interval: Duration::from_millis(200),
                max_interval: Duration::from_secs(5),
                timeout: Duration::from_secs(30 * 60),
            },
            retries: 3,
            retry_delay: Duration::from_secs(2),
        }
    }
}

pub struct Redshift<D> {
    api: D,
    /// `workgroup X, database Y`, for messages.
    target: String,
    limits: Limits,
}

impl<D: DataApi> Redshift<D> {
    pub(crate) fn new(api: D, workgroup: &str, database: &str, limits: Limits) -> Self {
        Redshift {
            api,
            target: format!("Redshift Serverless workgroup {workgroup}, database {database}"),
            limits,
        }
    }

    /// Runs SQL to the end; the id of the finished statement and whether it
    /// has a result set. None when `sql` holds no statement.
    async fn run(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<Option<(String, bool)>, WarehouseError> {
        let statements = split(sql, Dialect::Redshift);
        if statements.is_empty() {
            return Ok(None);
        }
        if statements.len() > MAX_BATCH {
            return Err(statement_error(
                context,
                format!(
                    "{} statements in one step; the Data API runs at most {MAX_BATCH} in a batch — nothing was run",
                    statements.len()
                ),
            ));
        }
        let mut attempt = 0;
        // Serialization conflicts clear up as the other transaction ends:
        // back off and jitter so two retrying runs do not collide again.
        let mut backoff = Backoff::new(self.limits.retry_delay, self.limits.retry_delay * 8);
        let mut jitter = Jitter::seeded();
        loop {
            let id = self
                .api
                .submit(context, &statements)
                .await
                .map_err(|e| self.call_error(context, e))?;
            match self.wait(context, &id).await? {
                StatementStatus::Finished { has_result_set } => {
                    return Ok(Some((id, has_result_set)))
                }
                StatementStatus::Failed { message }
                    if attempt < self.limits.retries && is_transient(&message) =>
                {
                    attempt += 1;
                    let pause = backoff.pause();
                    tokio::time::sleep(pause / 2 + jitter.below(pause / 2)).await;
                }
                StatementStatus::Failed { message } => {
                    let tries = if attempt > 0 {
                        format!(" (after {} attempts)", attempt + 1)
                    } else {
                        String::new()
                    };
                    return Err(statement_error(context, format!("{message}{tries}")));
                }
                StatementStatus::Aborted => {
                    return Err(statement_error(
                        context,
                        format!("statement {id} was cancelled in Redshift"),
                    ))
                }
                StatementStatus::Running => unreachable!("wait returns a final status"),
            }
        }
    }

    /// Polls until the statement ends; cancels it at the deadline.
    async fn wait(&self, context: &str, id: &str) -> Result<StatementStatus, WarehouseError> {
        let mut poller = self.limits.polling.start();
        loop {
            let status = self
                .api
                .status(id)
                .await
                .map_err(|e| self.call_error(context, e))?;
            if status != StatementStatus::Running {
                return Ok(status);
            }
            if !poller.next().await {
                let cancelled = match self.api.cancel(id).await {
                    Ok(()) => "cancelled it".to_string(),
                    Err(e) => format!("could not cancel it ({e})"),
                };
                return Err(statement_error(
                    context,
                    format!(
                        "statement {id} still running after {:?}; {cancelled}",
                        poller.waited()
                    ),
                ));
            }
        }
    }

    fn call_error(&self, context: &str, error: AwsError) -> WarehouseError {
        match error.kind {
            AwsErrorKind::Unavailable
            | AwsErrorKind::TimedOut
            | AwsErrorKind::Credentials
            | AwsErrorKind::AccessDenied => WarehouseError::Unreachable {
                target: self.target.clone(),
                message: format!("{context}: {error}"),
            },
            _ => statement_error(context, error.to_string()),
        }
    }
}

fn statement_error(context: &str, message: String) -> WarehouseError {
    WarehouseError::Statement {
        context: context.to_string(),
        message,
    }
}

fn is_transient(message: &str) -> bool {
    let message = message.to_lowercase();
    TRANSIENT_FAILURES.iter().any(|m| message.contains(m))
}

impl<D: DataApi> Statements for Redshift<D> {
    fn dialect(&self) -> Dialect {
        Dialect::Redshift
    }

    async fn execute(&self, context: &str, sql: &str) -> Result<(), WarehouseError> {
        self.run(context, sql).await.map(|_| ())
    }

    async fn query(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, WarehouseError> {
        if split(sql, Dialect::Redshift).len() != 1 {
            return Err(statement_error(
                context,
                "a query must be exactly one statement".into(),
            ));
        }
        let Some((id, true)) = self.run(context, sql).await? else {
            return Ok(Vec::new());
        };
        let mut rows = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_RESULT_PAGES {
            let page = self
                .api
                .result_page(&id, token.as_deref())
                .await
                .map_err(|e| self.call_error(context, e))?;
            rows.extend(page.rows);
            token = page.next_token;
            if token.is_none() {
                return Ok(rows);
            }
        }
        Err(statement_error(
            context,
            format!("the result of {id} has more than {MAX_RESULT_PAGES} pages"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;
    use crate::block_on;
    use pricewatch_core::cloud::{AwsResult, ResultPage};

    /// A scripted Data API: each submitted statement goes through the given
    /// statuses; results come in the given pages.
    #[derive(Default)]
    struct FakeDataApi {
        /// Status sequences, one per submit, in order.
        runs: RefCell<VecDeque<Vec<StatementStatus>>>,
        current: RefCell<VecDeque<StatementStatus>>,
        pages: Vec<ResultPage>,
        submitted: RefCell<Vec<(String, Vec<String>)>>,
        polls: RefCell<usize>,
        pages_read: RefCell<Vec<Option<String>>>,
        cancelled: RefCell<Vec<String>>,
        refuse_submit: Option<AwsErrorKind>,
    }

    impl FakeDataApi {
        fn with_runs(runs: Vec<Vec<StatementStatus>>) -> FakeDataApi {
            FakeDataApi {
                runs: RefCell::new(runs.into()),
                ..FakeDataApi::default()
            }
        }
    }

    impl DataApi for &FakeDataApi {
        async fn submit(&self, name: &str, sqls: &[String]) -> AwsResult<String> {
            if let Some(kind) = self.refuse_submit {
                return Err(AwsError::new(
                    "redshift-data:ExecuteStatement",
                    kind,
                    "workgroup not found",
                ));
            }
            self.submitted
                .borrow_mut()
                .push((name.to_string(), sqls.to_vec()));
            let run = self.runs.borrow_mut().pop_front().expect("a scripted run");
            *self.current.borrow_mut() = run.into();
            Ok(format!("stmt-{}", self.submitted.borrow().len()))
        }

        async fn status(&self, _id: &str) -> AwsResult<StatementStatus> {
            *self.polls.borrow_mut() += 1;
            let mut current = self.current.borrow_mut();
            Ok(if current.len() > 1 {
                current.pop_front().unwrap()
            } else {
                current.front().cloned().unwrap_or(StatementStatus::Running)
            })
        }

        async fn result_page(&self, _id: &str, token: Option<&str>) -> AwsResult<ResultPage> {
            self.pages_read.borrow_mut().push(token.map(str::to_string));
            let index = token.map_or(0, |t| t.parse().unwrap());
            Ok(self.pages[index].clone())
        }

        async fn cancel(&self, id: &str) -> AwsResult<()> {
            self.cancelled.borrow_mut().push(id.to_string());
            Ok(())
        }
    }

    fn limits() -> Limits {
        Limits {
            polling: Polling {
                timeout: Duration::from_millis(50),
                ..Polling::immediate()
            },
            retries: 2,
            retry_delay: Duration::ZERO,
        }
    }

    fn warehouse(api: &FakeDataApi) -> Redshift<&FakeDataApi> {
        Redshift::new(api, "wg", "db", limits())
    }

    use StatementStatus::{Failed, Finished, Running};

    fn failed(message: &str) -> StatementStatus {
        Failed {
            message: message.into(),
        }
    }

    #[test]
    fn a_statement_is_polled_until_it_finishes() {
        let api = FakeDataApi::with_runs(vec![vec![
            Running,
            Running,
            Finished {
                has_result_set: false,
            },
        ]]);
        block_on(warehouse(&api).execute("refresh gold.x", "REFRESH MATERIALIZED VIEW gold.x;"))
            .unwrap();
        assert_eq!(*api.polls.borrow(), 3);
        let submitted = api.submitted.borrow();
        assert_eq!(submitted[0].0, "refresh gold.x", "named after what it does");
        assert_eq!(submitted[0].1, ["REFRESH MATERIALIZED VIEW gold.x"]);
    }

    #[test]
    fn several_statements_go_as_one_batch() {
        let api = FakeDataApi::with_runs(vec![vec![Finished {
            has_result_set: false,
        }]]);
        let sql = "CREATE SCHEMA IF NOT EXISTS a;\n-- a comment; with a semicolon\nINSERT INTO t VALUES ('x;y', \"q;\"\"\");\nCREATE FUNCTION f() AS $$ SELECT 1; $$;\n  ;\n";
        block_on(warehouse(&api).execute("setup", sql)).unwrap();
        let submitted = api.submitted.borrow();
        assert_eq!(submitted.len(), 1);
        assert_eq!(
            submitted[0].1,
            [
                "CREATE SCHEMA IF NOT EXISTS a",
                "-- a comment; with a semicolon\nINSERT INTO t VALUES ('x;y', \"q;\"\"\")",
                "CREATE FUNCTION f() AS $$ SELECT 1; $$",
            ]
        );
    }

    #[test]
    fn too_many_statements_are_refused_before_any_call() {
        let api = FakeDataApi::default();
        let sql = "SELECT 1;".repeat(MAX_BATCH + 1);
        let error = block_on(warehouse(&api).execute("setup", &sql)).unwrap_err();
        assert!(error.to_string().contains("at most 40"), "{error}");
        assert!(api.submitted.borrow().is_empty());
    }

    #[test]
    fn results_are_read_page_by_page() {
        let row = |v: &str| vec![Some(v.to_string()), None];
        let api = FakeDataApi {
            pages: vec![
                ResultPage {
                    rows: vec![row("a"), row("b")],
                    next_token: Some("1".into()),
                },
                ResultPage {
                    rows: vec![row("c")],
                    next_token: Some("2".into()),
                },
                ResultPage {
                    rows: vec![row("d")],
                    next_token: None,
                },
            ],
            ..FakeDataApi::with_runs(vec![vec![Finished {
                has_result_set: true,
            }]])
        };
        let rows = block_on(warehouse(&api).query("reading", "SELECT a, b FROM t")).unwrap();
        assert_eq!(rows, [row("a"), row("b"), row("c"), row("d")]);
        assert_eq!(
            *api.pages_read.borrow(),
            [None, Some("1".to_string()), Some("2".to_string())]
        );
    }

    #[test]
    fn a_failure_carries_the_model_and_the_server_message() {
        let api = FakeDataApi::with_runs(vec![vec![
            Running,
            failed("ERROR: column \"x\" does not exist"),
        ]]);
        let error = block_on(warehouse(&api).execute(
            "refresh gold.prices",
            "REFRESH MATERIALIZED VIEW gold.prices",
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "refresh gold.prices failed: ERROR: column \"x\" does not exist"
        );
        assert_eq!(api.submitted.borrow().len(), 1, "not retried");
    }

    #[test]
    fn a_statement_failing_mid_refresh_skips_its_downstream_and_the_next_refresh_completes() {
        use crate::warehouse::refresh::{refresh, refresh_statement, RefreshStatus};
        use pricewatch_core::model::Model;
        let model = |name: &str, deps: &[&str]| Model::stub(name, deps, &[]);
        let models = [
            model("silver.p", &[]),
            model("gold.a", &["silver.p"]),
            model("gold.b", &["gold.a"]),
            model("gold.c", &["silver.p"]),
        ];
        let all = models.iter().map(|m| m.name.clone()).collect();
        let done = || Finished {
            has_result_set: false,
        };
        // One at a time, so the scripted runs meet the statements in DAG order.
        let api = FakeDataApi::with_runs(vec![
            vec![Running, done()],
            vec![Running, failed("ERROR: division by zero")],
            vec![done()],
        ]);
        let wh = warehouse(&api);
        let first = block_on(refresh(&models, &all, 1, |m| {
            refresh_statement(&wh, m, false)
        }));
        let statuses: Vec<(&str, RefreshStatus)> =
            first.iter().map(|r| (r.model.as_str(), r.status)).collect();
        assert_eq!(
            statuses,
            [
                ("silver.p", RefreshStatus::Refreshed),
                ("gold.a", RefreshStatus::Failed),
                ("gold.b", RefreshStatus::Skipped),
                ("gold.c", RefreshStatus::Refreshed),
            ]
        );
        assert_eq!(api.submitted.borrow().len(), 3, "gold.b was never sent");

        // Nothing was left half done: the next refresh runs everything again.
        *api.runs.borrow_mut() = (0..4).map(|_| vec![done()]).collect();
        let second = block_on(refresh(&models, &all, 1, |m| {
            refresh_statement(&wh, m, false)
        }));
        assert!(
            second.iter().all(|r| r.status == RefreshStatus::Refreshed),
            "{second:?}"
        );
        assert_eq!(api.submitted.borrow().len(), 7);
    }

    #[test]
    fn serialization_conflicts_are_retried() {
        let conflict = "ERROR: 1023 DETAIL: Serializable isolation violation on table - 12345";
        let api = FakeDataApi::with_runs(vec![
            vec![failed(conflict)],
            vec![Finished {
                has_result_set: false,
            }],
        ]);
        block_on(warehouse(&api).execute("refresh gold.x", "REFRESH MATERIALIZED VIEW gold.x"))
            .unwrap();
        assert_eq!(api.submitted.borrow().len(), 2);

        let api = FakeDataApi::with_runs(vec![vec![failed(conflict)]; 3]);
        let error =
            block_on(warehouse(&api).execute("refresh gold.x", "REFRESH MATERIALIZED VIEW gold.x"))
                .unwrap_err();
        assert!(error.to_string().contains("after 3 attempts"), "{error}");
        assert_eq!(api.submitted.borrow().len(), 3, "bounded by the retries");
    }

    #[test]
    fn a_statement_past_its_deadline_is_cancelled() {
        let api = FakeDataApi::with_runs(vec![vec![Running]]);
        let error = block_on(
            warehouse(&api).execute("refresh gold.slow", "REFRESH MATERIALIZED VIEW gold.slow"),
        )
        .unwrap_err();
        assert!(error.to_string().contains("still running"), "{error}");
        assert_eq!(*api.cancelled.borrow(), ["stmt-1"]);
    }

    #[test]
    fn an_aborted_statement_is_an_error() {
        let api = FakeDataApi::with_runs(vec![vec![StatementStatus::Aborted]]);
        let error = block_on(warehouse(&api).execute("refresh gold.x", "SELECT 1")).unwrap_err();
        assert!(
            error.to_string().contains("cancelled in Redshift"),
            "{error}"
        );
    }

    #[test]
    fn an_unreachable_workgroup_is_named() {
        let api = FakeDataApi {
            refuse_submit: Some(AwsErrorKind::AccessDenied),
            ..FakeDataApi::default()
        };
        let error =
            block_on(warehouse(&api).query("reading applied models", "SELECT 1")).unwrap_err();
        assert!(matches!(error, WarehouseError::Unreachable { .. }));
        assert!(
            error.to_string().contains("workgroup wg, database db"),
            "{error}"
        );
    }
}
