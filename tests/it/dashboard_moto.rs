//! `dashboard publish` and `dashboard refresh` against moto: the first
//! publish creates the data source, the data sets and the dashboard; the
//! second creates neither a data source nor a dashboard; a dry run changes
//! nothing; refresh in a DIRECT_QUERY env has nothing to ingest.

use crate::support;

use crate::support::{pricewatch_on as pricewatch, succeeded, Moto};

const ACCOUNT: &str = "123456789012";

/// `(method, path)` of the QuickSight calls moto recorded.
fn quicksight_calls(moto: &Moto) -> Vec<(String, String)> {
    moto.recorded_actions()
        .into_iter()
        .filter_map(|call| {
            let (method, url) = call.split_once(' ')?;
            let path = url.split_once("/accounts/").map(|(_, p)| p.to_string())?;
            Some((method.to_string(), path))
        })
        .collect()
}

fn count(calls: &[(String, String)], method: &str, path_start: &str) -> usize {
    calls
        .iter()
        .filter(|(m, p)| m == method && p.starts_with(&format!("{ACCOUNT}/{path_start}")))
        .count()
}

fn listed(moto: &Moto, path: &str, key: &str) -> Vec<serde_json::Value> {
    let (status, body) = moto.request(
        "GET",
        &format!("/accounts/{ACCOUNT}/{path}"),
        &[(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/quicksight/aws4_request, SignedHeaders=host, Signature=0",
        )],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    value[key].as_array().cloned().unwrap_or_default()
}

pub(crate) fn publish_creates_once_then_changes_nothing_it_can_compare() {
    let moto = Moto::start();
    let project = support::project_dir();
    let publish = ["--env", "local", "--output", "json", "dashboard", "publish"];

    moto.start_recording();
    let first = succeeded(pricewatch(&project, &moto, &publish));
    let calls = quicksight_calls(&moto);
    assert_eq!(count(&calls, "POST", "data-sources"), 1, "{calls:?}");
    assert!(count(&calls, "POST", "data-sets") >= 3, "{calls:?}");
    assert_eq!(count(&calls, "POST", "dashboards/"), 1, "{calls:?}");
    let actions: Vec<(&str, &str)> = first["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(actions[0], ("data source", "create"));
    assert_eq!(actions.last().unwrap(), &("dashboard", "create"));
    assert_eq!(first["published_version"], 1);

    let sources = listed(&moto, "data-sources", "DataSources");
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["Type"], "POSTGRESQL");
    let dashboards = listed(&moto, "dashboards", "DashboardSummaryList");
    assert_eq!(dashboards.len(), 1);
    assert_eq!(dashboards[0]["DashboardId"], "pricewatch-local-pricing");

    moto.start_recording();
    let second = succeeded(pricewatch(&project, &moto, &publish));
    let calls = quicksight_calls(&moto);
    assert_eq!(count(&calls, "POST", "data-sources"), 0, "{calls:?}");
    assert_eq!(count(&calls, "POST", "dashboards/"), 0, "{calls:?}");
    assert_eq!(count(&calls, "PUT", "dashboards/"), 0, "{calls:?}");
    let unchanged: Vec<&str> = second["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "unchanged")
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(unchanged, ["data source", "dashboard"]);
    assert_eq!(listed(&moto, "data-sources", "DataSources").len(), 1);
    assert_eq!(listed(&moto, "dashboards", "DashboardSummaryList").len(), 1);

    moto.start_recording();
    let dry = succeeded(pricewatch(
        &project,
        &moto,
        &[
            "--env",
            "local",
            "--output",
            "json",
            "dashboard",
            "publish",
            "--dry-run",
        ],
    ));
    assert_eq!(dry["dry_run"], true);
    let writes: Vec<_> = quicksight_calls(&moto)
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect();
    assert!(writes.is_empty(), "a dry run wrote: {writes:?}");
}

pub(crate) fn the_text_summary_counts_and_refresh_needs_spice() {
    let moto = Moto::start();
    let project = support::project_dir();
    let out = pricewatch(&project, &moto, &["--env", "local", "dashboard", "publish"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("env local: 2 created, 0 updated, 0 unchanged, 9 written"),
        "{text}"
    );
    assert!(text.contains("dashboard version 1 published"), "{text}");

    let out = pricewatch(&project, &moto, &["--env", "local", "dashboard", "refresh"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("DIRECT_QUERY"));
}

pub(crate) fn a_redshift_env_without_its_warehouse_stack_says_to_deploy_first() {
    let moto = Moto::start();
    let project = support::project_copy();
    // The dev env, pointed at moto's account.
    let dev = project.path().join("environments/dev.yaml");
    let text = std::fs::read_to_string(&dev)
        .unwrap()
        .replace("111111111111", ACCOUNT);
    std::fs::write(&dev, text).unwrap();
    moto.start_recording();
    let out = pricewatch(
        project.path(),
        &moto,
        &["--env", "dev", "dashboard", "publish"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pricewatch-dev-warehouse does not exist")
            && stderr.contains("pricewatch deploy --env dev"),
        "{stderr}"
    );
    assert!(quicksight_calls(&moto).is_empty(), "nothing was created");
}
