//! One operational cycle on the local env (moto + PostgreSQL): `pricewatch
//! run` from the CLI, and the operator Lambda binary — the same cycle —
//! driven through the Lambda Runtime API. A failing model fails both.

use crate::support;

use crate::support::{LocalEnv, Postgres};
use pricewatch_core::ingest::fixtures::PageSpec;

fn count(pg: &Postgres, sql: &str) -> i64 {
    pg.connect("pricewatch").query_one(sql, &[]).unwrap().get(0)
}

pub(crate) fn run_and_the_operator_lambda_refresh_check_and_fail_when_a_model_fails() {
    let local = LocalEnv::start();
    let (moto, pg) = (&local.moto, &local.pg);
    let run = |args: &[&str]| local.run(args);
    let project = support::project_dir();
    local.ingest(&PageSpec {
        rows: 120,
        ..PageSpec::default()
    });

    // The CLI: refresh loads the stream, the checks pass and are recorded;
    // local reads the warehouse live, so there is nothing to import.
    let cycle = support::succeeded(run(&["--env", "local", "--output", "json", "run"]));
    assert_eq!(cycle["refresh_status"], "ok", "{cycle:#}");
    assert_eq!(cycle["check_status"], "ok", "{cycle:#}");
    assert_eq!(cycle["dashboard_status"], "skipped");
    assert_eq!(
        cycle["refresh"]["loaded"][0][1], 121,
        "the page's rows and the run's heartbeat"
    );
    assert!(count(pg, "SELECT COUNT(*) FROM gold.vendor_scorecard") > 0);
    let checks = support::bundle("local").checks.len() as i64;
    assert_eq!(
        count(pg, "SELECT COUNT(*) FROM pricewatch_meta.check_results"),
        checks
    );
    let text = run(&["--env", "local", "run"]);
    assert!(text.status.success());
    let summary = String::from_utf8_lossy(&text.stdout);
    assert!(
        summary.contains("env local: refresh ok, check ok, dashboard skipped in "),
        "{summary}"
    );

    // The operator Lambda runs the same cycle from the project it ships with.
    // Snapshot times are whole seconds: keep them apart.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    local.ingest(&PageSpec {
        rows: 120,
        variant: 1,
        ..PageSpec::default()
    });
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("PRICEWATCH_ENV", "local".to_string()),
        ("PRICEWATCH_PROJECT_DIR", project.display().to_string()),
        ("PRICEWATCH_DATABASE_URL", pg.url()),
    ];
    let operator = support::workspace_bin("pricewatch-operator");
    let operator = operator.to_string_lossy();
    let (path, body, _) = support::invoke_lambda(&operator, &env);
    assert!(
        path.ends_with("/invocation/req-1/response"),
        "{path}: {body}"
    );
    let cycle: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        cycle["refresh"]["loaded"][0][1], 121,
        "the second snapshot and its heartbeat"
    );
    assert_eq!(cycle["check_status"], "ok", "{cycle:#}");
    assert_eq!(
        count(
            pg,
            "SELECT COUNT(DISTINCT snapshot_id) FROM silver.products"
        ),
        2
    );
    assert_eq!(
        count(pg, "SELECT COUNT(*) FROM pricewatch_meta.check_results"),
        3 * checks,
        "each cycle records its checks"
    );
    let metrics = moto.query_call(
        "monitoring",
        "Action=ListMetrics&Version=2010-08-01&Namespace=Pricewatch&MetricName=CheckFailed",
    );
    assert!(metrics.contains("<Value>local</Value>"), "{metrics}");

    // A model that cannot refresh: the invocation fails (the errors alarm),
    // the CLI exits 1, and the checks were still attempted (here they cannot
    // run: one of them reads the missing model).
    pg.connect("pricewatch")
        .batch_execute("DROP TABLE gold.price_trends")
        .unwrap();
    let (path, body, _) = support::invoke_lambda(&operator, &env);
    assert!(path.ends_with("/invocation/req-1/error"), "{path}: {body}");
    assert!(body.contains("the cycle needs action"), "{body}");
    assert!(
        body.contains("refresh: failed: gold.price_trends"),
        "{body}"
    );
    let out = run(&["--env", "local", "--output", "json", "run"]);
    assert_eq!(out.status.code(), Some(1));
    let cycle: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cycle["refresh_status"], "failed");
    assert_eq!(cycle["check_status"], "failed");
    let problems = cycle["problems"].to_string();
    assert!(problems.contains("gold.price_trends"), "{problems}");
    assert!(
        problems.contains("check: the checks could not run"),
        "{problems}"
    );
}
