//! What people and scripts read from the CLI, pinned: text and JSON of the
//! commands that need no service (help, validate, render, plan's refusal of
//! a bad env, usage errors), and of `sql apply --dry-run`, `backfill`,
//! `refresh`, `check` and `status` on the local env. Durations, ports, paths and
//! run ids are redacted; anything else that changes shows as a diff.

use std::process::Output;

use crate::support::{self, LocalEnv};

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
    let rules: [(&str, &str); 12] = [
        (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?", "[time]"),
        // Minutes since the last run or change: depends on the clock.
        (r"(?m)^(\w*(fresh|unchanged) +)\S+", "${1}[minutes]"),
        (r"\d+\.\d+s\b", "[secs]s"),
        // Per-model seconds in a table, and measured values (minutes since).
        (r"(?m) +\d+\.\d{3}$", " [secs]"),
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
    // The checkout's own path (messages name the project directory).
    let mut text = text.replace(
        support::project_dir().to_str().expect("a UTF-8 path"),
        "[project]",
    );
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
    let cases: [(&str, Vec<&str>); 8] = [
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
    local.ingest(&pricewatch_core::ingest::fixtures::PageSpec::default());
    let cases: [(&str, Vec<&str>); 8] = [
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
        ("status_text", vec!["--env", "local", "status"]),
        ("sql_apply_again", vec!["--env", "local", "sql", "apply"]),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(name, seen(&local.run(&args)));
    }
}
