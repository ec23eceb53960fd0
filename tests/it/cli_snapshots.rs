//! What people and scripts read from the CLI, pinned: text and JSON of the
//! commands that need no service (help, validate, render, package, usage
//! errors); of `plan`, `deploy` and `destroy` on moto; and of `ingest`,
//! `sql apply`, `backfill`, `refresh`, `check`, `explain-check`, `status`,
//! `run`, `dashboard`, `report` and `docs` on the local env. Times,
//! durations, ports, paths, run ids and hashes are redacted; anything else
//! that changes shows as a diff.

use std::process::Output;

use crate::support::{self, LocalEnv, Moto};

fn pricewatch(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(support::project_dir())
        .args(args)
        .env_remove("PRICEWATCH_ENV")
        .output()
        .expect("run pricewatch")
}

/// stdout and stderr with what differs between runs replaced.
fn seen(out: &Output) -> String {
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    redact(&text)
}

fn redact(text: &str) -> String {
    let rules: [(&str, &str); 17] = [
        // Hashes of pages, templates and artifacts, and the artifacts' sizes
        // (the operator's zip holds the project): they change with any file
        // of it, not with what the command says.
        (r"\b[0-9a-f]{64}\b", "[sha256]"),
        (r" +\d+ bytes\b", " [n] bytes"),
        (r#""bytes": \d+"#, r#""bytes": [n]"#),
        (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?", "[time]"),
        // A freshness check's minutes since the last run or change: they
        // depend on the clock, and so does the width of their column. (Only
        // checks: `sql apply` lines start with the action `unchanged`.)
        (r"(?m)^(\w+_(fresh|unchanged)) +\S+", "${1} [minutes]"),
        // The same in JSON: a check's outcome, or its last result in the catalog.
        (
            r#"("(check|name)": "\w+_(fresh|unchanged)",[^}]*?"observed": )"?[0-9.e+-]+"?"#,
            "${1}[minutes]",
        ),
        (r"\d+\.\d+s\b", "[secs]s"),
        // Per-model seconds in a table, and measured values (minutes since).
        (r"(?m) +\d+\.\d{3}$", " [secs]"),
        // Per-stack seconds in deploy's and destroy's table.
        (r"(?m) +\d+\.\d$", " [secs]"),
        (r"\d+\.\d{4,}", "[value]"),
        (r#""seconds": [0-9.e-]+"#, r#""seconds": [secs]"#),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"/tmp/[^\s\x22]+", "[tmp]"),
        (r"\d{8}T\d{6}Z(-[0-9a-f]+)?", "[run]"),
        // An archive key's date folders: the day the snapshot was taken.
        (r"archive/(\w+)/\d{4}/\d{2}/\d{2}/", "archive/${1}/[day]/"),
        (r"pid \d+ \([0-9a-f]+\)", "pid [pid]"),
        (r"(?m)^\s*(refreshing|refreshed) .*\n", ""),
    ];
    // The checkout's own path (messages name the project directory), and
    // the temp dir as /tmp wherever TMPDIR points.
    let temp = std::env::temp_dir().join("");
    let mut text = text
        .replace(
            support::project_dir().to_str().expect("a UTF-8 path"),
            "[project]",
        )
        .replace(temp.to_str().expect("a UTF-8 path"), "/tmp/");
    for (pattern, with) in rules {
        text = regex_lite::Regex::new(pattern)
            .expect("a valid pattern")
            .replace_all(&text, with)
            .into_owned();
    }
    text
}

pub(crate) fn the_commands_without_services_say_the_same() {
    let out = tempfile::tempdir().unwrap();
    let render_dir = out.path().join("local");
    let render_json_dir = out.path().join("local-json");
    let artifacts = support::placeholder_artifacts();
    let art = artifacts.path().to_str().unwrap();
    let cases: [(&str, Vec<&str>); 11] = [
        ("help", vec!["--help"]),
        ("validate_text", vec!["--env", "dev", "validate"]),
        (
            "validate_json",
            vec!["--env", "dev", "--output", "json", "validate"],
        ),
        ("validate_all_envs", vec!["validate", "--all-envs"]),
        (
            "render_text",
            vec![
                "--env",
                "local",
                "render",
                "--out",
                render_dir.to_str().unwrap(),
            ],
        ),
        (
            "render_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "render",
                "--out",
                render_json_dir.to_str().unwrap(),
            ],
        ),
        (
            "package_text",
            vec!["--env", "local", "package", "--artifacts", art],
        ),
        (
            "package_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "package",
                "--artifacts",
                art,
            ],
        ),
        ("unknown_env", vec!["--env", "staging", "validate"]),
        (
            "refresh_unknown_model",
            vec!["--env", "local", "refresh", "--select", "gold.nope"],
        ),
        (
            "backfill_bad_time",
            vec!["--env", "local", "backfill", "--since", "yesterday"],
        ),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(name, seen(&pricewatch(&args)));
    }
}

pub(crate) fn the_local_env_commands_say_the_same() {
    let local = LocalEnv::start();
    support::write_pages(
        local.pages.path(),
        &pricewatch_core::ingest::fixtures::PageSpec::default(),
    );
    let (products, vendors) = (
        local.server.url("product_data.html"),
        local.server.url("vendor_data.html"),
    );
    let site = tempfile::tempdir().unwrap();
    let dir = |name: &str| site.path().join(name).to_str().unwrap().to_string();
    let (report_text, report_json) = (dir("report-text"), dir("report-json"));
    let (docs_text, docs_json) = (dir("docs-text"), dir("docs-json"));
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // A new page of each source: pushed.
        (
            "ingest_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "ingest",
                "--products",
                &products,
                "--vendors",
                &vendors,
            ],
        ),
        (
            "sql_apply_dry_run",
            vec!["--env", "local", "sql", "apply", "--dry-run"],
        ),
        // Before the refresh loads the stream: both snapshots to load.
        (
            "backfill_dry_run",
            vec!["--env", "local", "backfill", "--dry-run"],
        ),
        (
            "refresh_text",
            vec!["--env", "local", "refresh", "--parallelism", "1"],
        ),
        // After it: the warehouse holds both snapshots whole.
        (
            "backfill_json",
            vec!["--env", "local", "--output", "json", "backfill"],
        ),
        (
            "check_text",
            vec!["--env", "local", "check", "--no-publish"],
        ),
        (
            "check_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "check",
                "--no-publish",
                "--select",
                "products_fresh",
            ],
        ),
        (
            "explain_check_text",
            vec![
                "--env",
                "local",
                "explain-check",
                "products_quarantine_ratio",
            ],
        ),
        (
            "explain_check_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "explain-check",
                "products_quarantine_ratio",
            ],
        ),
        ("status_text", vec!["--env", "local", "status"]),
        (
            "status_json",
            vec!["--env", "local", "--output", "json", "status"],
        ),
        ("sql_apply_again", vec!["--env", "local", "sql", "apply"]),
        (
            "sql_apply_json",
            vec!["--env", "local", "--output", "json", "sql", "apply"],
        ),
        // The same pages again: only the runs' heartbeats.
        (
            "ingest_text",
            vec![
                "--env",
                "local",
                "ingest",
                "--products",
                &products,
                "--vendors",
                &vendors,
            ],
        ),
        (
            "refresh_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "refresh",
                "--parallelism",
                "1",
            ],
        ),
        (
            "run_text",
            vec!["--env", "local", "run", "--parallelism", "1"],
        ),
        (
            "run_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "run",
                "--parallelism",
                "1",
            ],
        ),
        // The first publish creates, the second compares.
        (
            "dashboard_publish_text",
            vec!["--env", "local", "dashboard", "publish"],
        ),
        (
            "dashboard_publish_json",
            vec!["--env", "local", "--output", "json", "dashboard", "publish"],
        ),
        (
            "dashboard_refresh_text",
            vec!["--env", "local", "dashboard", "refresh"],
        ),
        (
            "dashboard_refresh_json",
            vec!["--env", "local", "--output", "json", "dashboard", "refresh"],
        ),
        (
            "report_text",
            vec!["--env", "local", "report", "--out", &report_text],
        ),
        (
            "report_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "report",
                "--out",
                &report_json,
            ],
        ),
        (
            "docs_text",
            vec!["--env", "local", "docs", "--out", &docs_text],
        ),
        (
            "docs_json",
            vec![
                "--env", "local", "--output", "json", "docs", "--out", &docs_json,
            ],
        ),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(name, seen(&local.run(&args)));
    }
}

/// `plan`, `deploy` and `destroy` of the local env on an empty moto:
/// everything to create, created, then unchanged, then deleted. Quiet:
/// stacks of a wave deploy at once, so their progress lines come in any
/// order.
pub(crate) fn the_deploy_commands_say_the_same() {
    let moto = Moto::start();
    let artifacts = support::placeholder_artifacts();
    let art = artifacts.path().to_str().unwrap();
    let cases: [(&str, Vec<&str>); 6] = [
        (
            "plan_text",
            vec!["--env", "local", "plan", "--artifacts", art],
        ),
        (
            "deploy_text",
            vec![
                "--env",
                "local",
                "-q",
                "deploy",
                "--yes",
                "--artifacts",
                art,
            ],
        ),
        // Deployed: nothing to change.
        (
            "plan_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "plan",
                "--artifacts",
                art,
            ],
        ),
        (
            "deploy_json",
            vec![
                "--env",
                "local",
                "--output",
                "json",
                "-q",
                "deploy",
                "--yes",
                "--artifacts",
                art,
            ],
        ),
        (
            "destroy_json",
            vec![
                "--env", "local", "--output", "json", "-q", "destroy", "--yes",
            ],
        ),
        // Nothing left to delete.
        (
            "destroy_text",
            vec!["--env", "local", "-q", "destroy", "--yes"],
        ),
    ];
    for (name, args) in cases {
        let out = support::pricewatch_on(&support::project_dir(), &moto, &args);
        insta::assert_snapshot!(name, seen(&out));
    }
}
