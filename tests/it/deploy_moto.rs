//! The deploy engine against moto: a first deploy creates every stack, a
//! second one makes no change call at all, plan sees nothing to do,
//! destroy removes everything; failures and bad config behave.

use crate::support;

use crate::support::{pricewatch_on as pricewatch, Moto};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

const CHANGE_CALLS: [&str; 5] = [
    "CreateStack",
    "CreateChangeSet",
    "ExecuteChangeSet",
    "UpdateStack",
    "DeleteStack",
];

pub(crate) fn deploy_redeploy_plan_and_destroy_local() {
    let moto = Moto::start();
    let project = support::project_dir();
    let artifacts = support::placeholder_artifacts();
    let art = artifacts.path().to_str().unwrap();

    let out = pricewatch(
        &project,
        &moto,
        &["--env", "local", "deploy", "--yes", "--artifacts", art],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let out = pricewatch(
        &project,
        &moto,
        &["--env", "local", "--output", "json", "status"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stacks = status["stacks"].as_array().unwrap();
    assert_eq!(stacks.len(), 6);
    assert!(
        stacks.iter().all(|s| s["status"] == "CREATE_COMPLETE"),
        "{status}"
    );

    // moto has no drift detection: status says so plainly and exits 1,
    // instead of passing an unchecked stack off as in sync.
    let out = pricewatch(
        &project,
        &moto,
        &[
            "--env",
            "local",
            "--output",
            "json",
            "status",
            "--detect-drift",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let drift: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for stack in drift["stacks"].as_array().unwrap() {
        assert_eq!(stack["drift"], "DETECTION_UNAVAILABLE", "{drift}");
        assert!(
            stack["drift_note"]
                .as_str()
                .unwrap()
                .contains("does not implement cloudformation:DetectStackDrift"),
            "{drift}"
        );
    }

    let streams = moto.json_call("kinesis", "Kinesis_20131202.ListStreams", "{}");
    let names: Vec<&str> = streams["StreamNames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        names.contains(&"pricewatch-local-products") && names.contains(&"pricewatch-local-vendors"),
        "{names:?}"
    );

    // Both Lambdas exist; the operator's runs on the refresh schedule.
    let (status, functions) = moto.rest_call("lambda", "GET", "/2015-03-31/functions/");
    assert_eq!(status, 200, "{functions}");
    for function in ["pricewatch-local-ingest", "pricewatch-local-operator"] {
        assert!(
            functions.contains(&format!("\"FunctionName\": \"{function}\"")),
            "{function}: {functions}"
        );
    }
    let (_, rule) = moto.json_call_raw(
        "events",
        "AWSEvents.DescribeRule",
        r#"{"Name": "pricewatch-local-operator-schedule"}"#,
    );
    assert!(rule.contains("rate(15 minutes)"), "{rule}");

    moto.start_recording();
    let out = pricewatch(
        &project,
        &moto,
        &[
            "--env",
            "local",
            "--output",
            "json",
            "deploy",
            "--yes",
            "--artifacts",
            art,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let actions = moto.recorded_actions();
    assert!(
        actions.iter().any(|a| a == "DescribeStacks"),
        "the recorder saw the deploy: {actions:?}"
    );
    for call in CHANGE_CALLS.iter().chain(&["PutObject"]) {
        assert!(
            !actions.iter().any(|a| a == call),
            "second deploy made a {call} call: {actions:?}"
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "unchanged"),
        "{report}"
    );

    let out = pricewatch(
        &project,
        &moto,
        &[
            "--env",
            "local",
            "plan",
            "--detailed-exitcode",
            "--artifacts",
            art,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("Plan: 0 to create, 0 to update, 6 unchanged."));

    let out = pricewatch(&project, &moto, &["--env", "local", "destroy", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = pricewatch(
        &project,
        &moto,
        &["--env", "local", "--output", "json", "status"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "status needs action when nothing is deployed"
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        status["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "NOT_DEPLOYED"),
        "{status}"
    );
}

pub(crate) fn plan_on_an_empty_account_reports_changes() {
    let moto = Moto::start();
    let artifacts = support::placeholder_artifacts();
    let out = pricewatch(
        &support::project_dir(),
        &moto,
        &[
            "--env",
            "local",
            "plan",
            "--detailed-exitcode",
            "--artifacts",
            artifacts.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Plan: 6 to create"),
        "{}",
        text(&out.stdout)
    );
}

pub(crate) fn a_failing_stack_exits_1_naming_the_resource_and_reason() {
    let moto = Moto::start();
    let project = support::project_copy();
    let streams = project.path().join("templates/stacks/streams.yaml.tera");
    let text_before = std::fs::read_to_string(&streams).unwrap();
    std::fs::write(
        &streams,
        text_before.replace("Stream.Arn", "Stream.NoSuchAttribute"),
    )
    .unwrap();
    let artifacts = support::placeholder_artifacts();
    let out = pricewatch(
        project.path(),
        &moto,
        &[
            "--env",
            "local",
            "deploy",
            "--yes",
            "--artifacts",
            artifacts.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("streams      FAILED"), "{stdout}");
    assert!(
        stdout.contains("does not support attribute type NoSuchAttribute"),
        "{stdout}"
    );
    assert!(stdout.contains("ingest       not started"), "{stdout}");
}

pub(crate) fn bad_config_makes_no_aws_call() {
    let moto = Moto::start();
    let project = support::project_copy();
    std::fs::write(
        project.path().join("environments/local.yaml"),
        "account_id: \"123456789012\"\nregion: us-east-1\nstreams:\n  shrads: 2\n",
    )
    .unwrap();
    let artifacts = support::placeholder_artifacts();
    moto.start_recording();
    for command in [
        &["deploy", "--yes"][..],
        &["plan"][..],
        &["destroy", "--yes"][..],
        &["status"][..],
    ] {
        let mut args = vec!["--env", "local"];
        args.extend_from_slice(command);
        if command[0] != "destroy" && command[0] != "status" {
            args.extend_from_slice(&["--artifacts", artifacts.path().to_str().unwrap()]);
        }
        let out = pricewatch(project.path(), &moto, &args);
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        assert!(
            text(&out.stderr).contains("environments/local.yaml:4: streams.shrads"),
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(moto.recorded_actions(), Vec::<String>::new());
}

pub(crate) fn the_wrong_account_is_refused_before_any_change() {
    let moto = Moto::start();
    let project = support::project_copy();
    let local = project.path().join("environments/local.yaml");
    let text_before = std::fs::read_to_string(&local).unwrap();
    std::fs::write(
        &local,
        text_before.replace("\"123456789012\"", "\"999999999999\""),
    )
    .unwrap();
    let artifacts = support::placeholder_artifacts();
    moto.start_recording();
    let out = pricewatch(
        project.path(),
        &moto,
        &[
            "--env",
            "local",
            "deploy",
            "--yes",
            "--artifacts",
            artifacts.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("account 123456789012") && stderr.contains("999999999999"),
        "{stderr}"
    );
    assert_eq!(moto.recorded_actions(), ["GetCallerIdentity"]);
}
