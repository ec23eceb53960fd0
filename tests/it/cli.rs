//! The `pricewatch` binary as users and pipelines run it: help texts,
//! deterministic rendering, new envs without code changes, and clear exit
//! codes and messages for every kind of bad config.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pricewatch(project: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(project)
        .args(args)
        .env_remove("PRICEWATCH_ENV")
        .output()
        .expect("run pricewatch")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    files.sort();
    files
}

pub(crate) fn help_names_every_command_in_one_line() {
    let out = pricewatch(Path::new("."), &["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    // Column widths follow the longest command name; compare words.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for line in [
        "render Write an env's stack templates",
        "validate Check config, templates",
        "plan Show what deploy would change",
        "deploy Deploy the env's stacks",
        "destroy Delete the env's stacks",
        "status Show each stack's state",
        "ingest Fetch every enabled source's page",
        "package Pack the artifacts",
        "sql Manage the warehouse's SQL models",
        "refresh Refresh materialized models",
        "check Run the data-quality checks",
        "explain-check Print the SQL a check runs",
        "dashboard Manage the QuickSight dashboard",
        "run One operational cycle",
        "report Write the results website",
        "docs Write the data catalog",
    ] {
        assert!(words.contains(line), "{line}: {text}");
    }
    for global in [
        "--env",
        "--output",
        "--quiet",
        "--verbose",
        "--no-progress",
        "--project-dir",
    ] {
        assert!(text.contains(global), "{global} missing from --help");
    }
    for command in [
        "render", "validate", "plan", "deploy", "destroy", "status", "ingest", "package", "run",
        "report", "docs",
    ] {
        let out = pricewatch(Path::new("."), &[command, "--help"]);
        assert!(out.status.success(), "{command} --help");
    }
}

pub(crate) fn report_rejects_an_out_of_range_link_lifetime_before_anything_runs() {
    let out = pricewatch(
        Path::new("."),
        &["--env", "local", "report", "--expires-hours", "500"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--expires-hours"), "{}", stderr(&out));
}

pub(crate) fn docs_without_a_warehouse_still_writes_a_complete_catalog() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = pricewatch(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "--env",
            "dev",
            "--output",
            "json",
            "docs",
            "--no-warehouse",
            "--out",
            out_dir.path().to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let written: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(written["from_warehouse"], false);
    let markdown = std::fs::read_to_string(out_dir.path().join("catalog.md")).unwrap();
    assert!(markdown.contains("types and check results need a reachable warehouse"));
    assert!(markdown.contains("```mermaid\nflowchart LR\n"));
    assert!(
        markdown.contains("| item | ? |"),
        "no types without the warehouse"
    );
    let html = std::fs::read_to_string(out_dir.path().join("catalog.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("pricewatch docs --env dev"));
}

pub(crate) fn render_is_deterministic_and_complete_for_every_env() {
    let project = support::project_dir();
    let tmp = tempfile::tempdir().unwrap();
    for env in ["dev", "test", "prod", "local"] {
        let first = tmp.path().join(format!("{env}-1"));
        let second = tmp.path().join(format!("{env}-2"));
        for out in [&first, &second] {
            let result = pricewatch(
                &project,
                &["--env", env, "render", "--out", out.to_str().unwrap()],
            );
            assert!(result.status.success(), "{env}: {}", stderr(&result));
        }
        let a = files_under(&first);
        assert_eq!(a, files_under(&second), "{env}: two renders differ");
        let count = |prefix: &str| a.iter().filter(|(p, _)| p.starts_with(prefix)).count();
        assert!(count("stacks") >= 5, "{env}: {} templates", count("stacks"));
        assert!(count("sql") >= 6, "{env}: {} SQL files", count("sql"));
        // SQL file names sort in DAG order: a model's deps come before it.
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(first.join("manifest.json")).unwrap()).unwrap();
        let sql = manifest["sql"].as_array().unwrap();
        let mut names: Vec<&str> = sql.iter().map(|s| s["file"].as_str().unwrap()).collect();
        let unsorted = names.clone();
        names.sort();
        assert_eq!(names, unsorted);
        for (i, entry) in sql.iter().enumerate() {
            for dep in entry["depends_on"].as_array().unwrap() {
                let at = sql.iter().position(|s| s["model"] == *dep).unwrap();
                assert!(at < i, "{env}: {dep} after its dependent");
            }
        }
    }
}

pub(crate) fn a_new_env_needs_only_a_file() {
    let project = support::project_copy();
    let test_yaml = std::fs::read_to_string(project.path().join("environments/test.yaml")).unwrap();
    let staging = test_yaml.replace("region: eu-west-1", "region: ap-southeast-2");
    assert_ne!(staging, test_yaml);
    std::fs::write(project.path().join("environments/staging.yaml"), staging).unwrap();
    let out_dir = project.path().join("out");
    let out = pricewatch(
        project.path(),
        &[
            "--env",
            "staging",
            "--output",
            "json",
            "render",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let result: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(result["manifest"]["region"], "ap-southeast-2");
    assert_eq!(result["manifest"]["env"], "staging");
    let manifest = std::fs::read_to_string(out_dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"region\": \"ap-southeast-2\""));
    let streams = std::fs::read_to_string(out_dir.join("stacks/streams.yaml")).unwrap();
    assert!(streams.contains("pricewatch-staging-products"));
}

/// Replaces an env file, runs `args`, and returns (exit code, stderr).
fn with_dev_yaml(content: &str, args: &[&str]) -> (i32, String) {
    let project = support::project_copy();
    std::fs::write(project.path().join("environments/dev.yaml"), content).unwrap();
    let out = pricewatch(project.path(), args);
    (out.status.code().expect("exited, not killed"), stderr(&out))
}

const DEV_HEADER: &str = "account_id: \"111111111111\"\nregion: eu-west-1\n";

pub(crate) fn bad_config_is_named_by_file_line_and_key() {
    let cases: &[(&str, String, &str)] = &[
        (
            "unknown key",
            format!("{DEV_HEADER}streams:\n  shrads: 3\n"),
            "environments/dev.yaml:4: streams.shrads: unknown key `shrads`",
        ),
        (
            "syntax error",
            format!("{DEV_HEADER}tags: [unclosed\n"),
            "environments/dev.yaml:",
        ),
        (
            "wrong type",
            format!("{DEV_HEADER}refresh:\n  parallelism: lots\n"),
            "environments/dev.yaml:4: refresh.parallelism: invalid type",
        ),
        (
            "bad account id",
            "account_id: \"12345\"\nregion: eu-west-1\n".into(),
            "environments/dev.yaml:1: account_id: `12345` is not an AWS account id",
        ),
        (
            "an e-mail that would add a section to the stack",
            format!(
                "{DEV_HEADER}{}",
                r#"alarms:
  page:
    email:
      - "ops@example.com\"\nConditions:\n\tNever: !Equals [a, b]"
"#
            ),
            "environments/dev.yaml:6: alarms.page.email[0]: \"ops@example.com\\\"\\nConditions:\\n\\tNever: !Equals [a, b]\" is not a plain e-mail address",
        ),
        (
            "a page URL at the metadata service",
            format!("{DEV_HEADER}sources:\n  products:\n    url: http://169.254.169.254/latest/meta-data/\n"),
            "environments/dev.yaml:5: sources.products.url: `http://169.254.169.254/latest/meta-data/` must not point at a link-local or cloud metadata address",
        ),
        (
            "a page URL that changes in YAML",
            format!("{DEV_HEADER}sources:\n  vendors:\n    url: 'https://example.com/\\x41\"'\n"),
            "sources.vendors.url: `https://example.com/\\x41\"` may hold only the characters of a URL",
        ),
        (
            "unknown timeout",
            format!("{DEV_HEADER}timeouts:\n  connect_secs: 3\n"),
            "environments/dev.yaml:4: timeouts.connect_secs: unknown key `connect_secs`",
        ),
        (
            "zero timeout",
            format!("{DEV_HEADER}timeouts:\n  lock_seconds: 0\n"),
            "timeouts.lock_seconds",
        ),
        (
            "empty file",
            String::new(),
            "environments/dev.yaml: the file is empty",
        ),
    ];
    for (what, content, expected) in cases {
        for args in [
            &["--env", "dev", "render"][..],
            &["--env", "dev", "validate"][..],
        ] {
            let (code, err) = with_dev_yaml(content, args);
            assert_eq!(code, 1, "{what} with {args:?}: {err}");
            assert!(
                err.contains(expected),
                "{what} with {args:?}: expected `{expected}` in:\n{err}"
            );
            assert!(!err.contains("panicked"), "{what}: {err}");
        }
    }
}

pub(crate) fn several_config_errors_come_in_one_run() {
    let (code, err) = with_dev_yaml(
        "account_id: \"1\"\nregion: nowhere\nstreams:\n  mode: provisioned\ningest:\n  schedule: sometimes\n",
        &["--env", "dev", "render"],
    );
    assert_eq!(code, 1);
    for key in ["account_id", "region", "streams.shards", "ingest.schedule"] {
        assert!(
            err.contains(&format!(": {key}: ")),
            "{key} missing in:\n{err}"
        );
    }
    assert!(err.contains("4 problems"), "{err}");
}

pub(crate) fn unknown_env_is_a_usage_error_listing_the_envs() {
    let out = pricewatch(&support::project_dir(), &["--env", "nosuchenv", "render"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown environment `nosuchenv`"), "{err}");
    assert!(err.contains("dev, local, prod, test"), "{err}");
}

pub(crate) fn missing_env_is_a_usage_error() {
    let out = pricewatch(&support::project_dir(), &["render"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("needs --env"));
    let out = pricewatch(
        &support::project_dir(),
        &["validate", "--all-envs", "--env", "dev"],
    );
    assert_eq!(out.status.code(), Some(2), "clap rejects conflicting flags");
}

pub(crate) fn validate_all_envs_reports_each_env() {
    let out = pricewatch(
        &support::project_dir(),
        &["validate", "--all-envs", "--output", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let envs: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["env"].as_str().unwrap())
        .collect();
    assert_eq!(envs, ["dev", "local", "prod", "test"]);
    assert!(reports.as_array().unwrap().iter().all(|r| r["ok"] == true));

    let project = support::project_copy();
    std::fs::write(
        project.path().join("environments/test.yaml"),
        "account_id: nope\n",
    )
    .unwrap();
    let out = pricewatch(project.path(), &["validate", "--all-envs"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("ok      dev") && text.contains("invalid test"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("test: environments/test.yaml"),
        "{}",
        stderr(&out)
    );
}

pub(crate) fn template_mistakes_are_caught_before_anything_is_written() {
    let project = support::project_copy();
    let ingest = project.path().join("templates/stacks/ingest.yaml.tera");
    let text = std::fs::read_to_string(&ingest)
        .unwrap()
        .replace("!GetAtt Role.Arn", "!GetAtt Rolle.Arn");
    std::fs::write(&ingest, text).unwrap();
    let gold = project.path().join("sql/gold/hourly_prices.sql");
    let text = std::fs::read_to_string(&gold)
        .unwrap()
        .replace("silver.products", "silver.prodcts");
    std::fs::write(&gold, text).unwrap();
    let out_dir = project.path().join("out");
    let out = pricewatch(
        project.path(),
        &["--env", "dev", "render", "--out", out_dir.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("GetAtt Rolle does not resolve"), "{err}");
    assert!(
        err.contains("ref(model=\"silver.prodcts\"), which is not a model"),
        "{err}"
    );
    assert!(!out_dir.exists(), "nothing is written when rendering fails");
}

pub(crate) fn dashboard_mistakes_are_named_by_key_before_any_aws_call() {
    let project = support::project_copy();
    let path = project.path().join("templates/dashboard.json.tera");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"value\": \"avg_price\"", "\"value\": \"avg_prise\"")
        .replace(
            "{\"name\": \"robust_z\", \"type\": \"DECIMAL\"}",
            "{\"name\": \"z\", \"type\": \"DECIMAL\"}",
        );
    std::fs::write(&path, text).unwrap();
    let out = pricewatch(project.path(), &["--env", "local", "validate"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("templates/dashboard.json.tera: sheets[0].visuals[0].value: data set `price_trends` declares no column `avg_prise`"),
        "{err}"
    );
    assert!(
        err.contains("templates/dashboard.json.tera: data_sets[5].columns[6]: `gold.price_anomalies` has no column `z`"),
        "{err}"
    );
    // The same problems stop `dashboard publish` before it reaches AWS.
    let out = pricewatch(project.path(), &["--env", "local", "dashboard", "publish"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("avg_prise"));
}

pub(crate) fn a_model_cycle_is_named() {
    let project = support::project_copy();
    let path = project.path().join("sql/silver/products.sql");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "WHERE reason IS NULL",
        "WHERE reason IS NULL AND item NOT IN (SELECT item FROM {{ ref(model=\"gold.hourly_prices\") }})",
    );
    std::fs::write(&path, text).unwrap();
    let out = pricewatch(project.path(), &["--env", "local", "validate"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "dependency cycle: gold.hourly_prices -> silver.products -> gold.hourly_prices"
        ),
        "{err}"
    );
}

pub(crate) fn rendering_into_the_project_itself_is_refused() {
    let project = support::project_copy();
    let out = pricewatch(
        project.path(),
        &[
            "--env",
            "dev",
            "render",
            "--out",
            project.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("it is the project directory"));
}

/// A loopback port that accepts TCP connections and never answers; the
/// listening thread holds them until the test process ends.
fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    port
}

pub(crate) fn check_gives_up_on_a_warehouse_that_never_answers() {
    let port = silent_port();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(support::project_dir())
        .args(["--env", "local", "check", "--no-publish"])
        .env_remove("PRICEWATCH_ENV")
        .env(
            "PRICEWATCH_DATABASE_URL",
            format!("postgres://pricewatch@127.0.0.1:{port}/pricewatch"),
        )
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .expect("run pricewatch");
    let err = stderr(&out);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "opening a PostgreSQL session at postgres://…@127.0.0.1:{port}/pricewatch: gave up after 10 s (timeouts.connect_seconds)"
        )) && err.contains("pg_isready"),
        "{err}"
    );
}

pub(crate) fn status_gives_up_on_an_aws_endpoint_that_never_answers() {
    let port = silent_port();
    let project = support::project_copy();
    let local = project.path().join("environments/local.yaml");
    let mut yaml = std::fs::read_to_string(&local).unwrap();
    yaml.push_str("\ntimeouts:\n  aws_call_seconds: 5\n");
    std::fs::write(&local, yaml).unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .arg("--project-dir")
        .arg(project.path())
        .args(["--env", "local", "status"])
        .env_remove("PRICEWATCH_ENV")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env(
            "PRICEWATCH_DATABASE_URL",
            format!("postgres://pricewatch@127.0.0.1:{port}/pricewatch"),
        )
        .output()
        .expect("run pricewatch");
    let err = stderr(&out);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{err}"
    );
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("sts:GetCallerIdentity failed")
            && err.contains("after 5s")
            && err.contains("timeouts.aws_call_seconds"),
        "{err}"
    );
}

/// `render --out` through a symbolic link is refused before anything is
/// written or removed where the link points.
#[cfg(unix)]
pub(crate) fn render_never_follows_a_symlinked_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    let render = |out: &Path| {
        pricewatch(
            &support::project_dir(),
            &["--env", "dev", "render", "--out", out.to_str().unwrap()],
        )
    };
    assert!(render(&real).status.success());
    let before = files_under(&real);
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = render(&link);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a symbolic link"),
        "{}",
        stderr(&out)
    );
    // A folder of the previous render replaced by a link elsewhere.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::rename(real.join("sql"), elsewhere.join("sql")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("sql"), real.join("sql")).unwrap();
    let out = render(&real);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        files_under(&elsewhere).len(),
        before.iter().filter(|(p, _)| p.starts_with("sql")).count()
    );
}

/// `ingest --dry-run` reads, archives locally and batches each page and
/// reports it, without any AWS call (the endpoint here refuses every
/// connection); a page that is not a price table fails it with exit 1.
pub(crate) fn ingest_dry_run_reports_each_page_and_needs_no_aws() {
    let pages = tempfile::tempdir().unwrap();
    let spec = pricewatch_core::ingest::fixtures::PageSpec {
        rows: 1234,
        broken_ratio: 0.1,
        ..Default::default()
    };
    support::write_pages(pages.path(), &spec);
    let page = |name: &str| pages.path().join(name).display().to_string();
    let run = |products: &str| {
        Command::new(env!("CARGO_BIN_EXE_pricewatch"))
            .arg("--project-dir")
            .arg(support::project_dir())
            .args(["--env", "local", "--output", "json", "ingest", "--dry-run"])
            .args(["--source", &format!("products={products}"), "--vendors"])
            .arg(page("vendor_data.html"))
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env_remove("PRICEWATCH_ENV")
            .output()
            .expect("run pricewatch")
    };
    let out = run(&page("product_data.html"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let products = &reports[0];
    assert_eq!(products["source"], "products");
    assert_eq!(products["rows"], 1234);
    assert_eq!(products["batches"], 3, "500 records a call");
    let hash = products["page_hash"].as_str().unwrap();
    assert!(
        products["snapshot_id"]
            .as_str()
            .unwrap()
            .ends_with(&hash[..8]),
        "{products}"
    );
    assert!(products["archive_bytes"].as_u64().unwrap() > 0);
    assert_eq!(reports[1]["source"], "vendors");
    assert_eq!(reports[1]["batches"], 1);

    std::fs::write(
        pages.path().join("bad.html"),
        "<table><tr><th>Item</th></tr></table>",
    )
    .unwrap();
    let out = run(&page("bad.html"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = reports[0]["error"].as_str().unwrap();
    assert!(error.contains("lacks column(s) category"), "{error}");
    assert!(stderr(&out).contains("lacks column(s)"), "{}", stderr(&out));

    // A source that does not exist, or one page given twice: usage errors.
    let project = support::project_dir();
    let ingest = |extra: &[&str]| {
        let mut args = vec!["--env", "local", "ingest", "--dry-run"];
        args.extend_from_slice(extra);
        pricewatch(&project, &args)
    };
    let out = ingest(&["--source", "prices=x.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "`prices` is not an enabled source of env local; the sources are products, vendors"
        ),
        "{}",
        stderr(&out)
    );
    let out = ingest(&["--source", "products=a.html", "--products", "b.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the products page is given 2 times"),
        "{}",
        stderr(&out)
    );
}
