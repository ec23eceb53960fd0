//! `pricewatch check` and `explain-check` on the local env: moto (metrics,
//! the monitoring stack's alarms) and PostgreSQL (the models, the history).

use crate::support;

use std::process::Output;

use crate::support::{LocalEnv, Moto};
use pricewatch_core::ingest::fixtures::PageSpec;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

pub(crate) fn clean_data_passes_and_broken_rows_fail_with_junit_and_metrics() {
    let local = LocalEnv::start();
    let (moto, pg, pages) = (&local.moto, &local.pg, &local.pages);
    let run = |args: &[&str]| local.run(args);
    let checks = support::bundle("local").checks;
    assert!(checks.len() >= 10);
    local.ingest(&PageSpec {
        rows: 160,
        ..PageSpec::default()
    });
    support::succeeded(run(&["--env", "local", "refresh"]));

    let junit = pages.path().join("clean.xml");
    let report = support::succeeded(run(&[
        "--env",
        "local",
        "--output",
        "json",
        "check",
        "--junit",
        junit.to_str().unwrap(),
    ]));
    assert_eq!(report["fail"], 0, "{report:#}");
    assert_eq!(report["checks"].as_array().unwrap().len(), checks.len());
    assert_eq!(report["published"], true);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), checks.len());
    assert_eq!(xml.matches("<failure ").count(), 0, "{xml}");
    let metrics = moto.query_call(
        "monitoring",
        "Action=ListMetrics&Version=2010-08-01&Namespace=Pricewatch&MetricName=CheckValue",
    );
    for check in &checks {
        assert!(
            metrics.contains(&format!("<Value>{}</Value>", check.name)),
            "no metric for {}",
            check.name
        );
    }
    let history: i64 = pg
        .connect("pricewatch")
        .query_one("SELECT COUNT(*) FROM pricewatch_meta.check_results", &[])
        .unwrap()
        .get(0);
    assert_eq!(history as usize, checks.len());

    // A dry run publishes nothing.
    moto.start_recording();
    support::succeeded(run(&["--env", "local", "check", "--no-publish"]));
    assert_eq!(
        moto.recorded_actions(),
        Vec::<String>::new(),
        "no AWS call at all"
    );

    // Half the rows broken: the quarantine ratio (and more) fail.
    local.ingest(&PageSpec {
        rows: 160,
        variant: 1,
        broken_ratio: 0.5,
        ..PageSpec::default()
    });
    support::succeeded(run(&["--env", "local", "refresh"]));
    let junit = pages.path().join("broken.xml");
    let out = run(&[
        "--env",
        "local",
        "check",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("products_quarantine_ratio "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with("FAIL"), "{line}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testcase name=\"products_quarantine_ratio\""));
    assert!(
        xml.contains("fail when &gt; 0.1") && xml.contains("runbook: Too many invalid rows"),
        "{xml}"
    );

    // Selecting by model runs just that model's checks.
    let out = run(&[
        "--env",
        "local",
        "--output",
        "json",
        "check",
        "--no-publish",
        "--select",
        "silver.products_validated",
    ]);
    let selected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let selected: Vec<&serde_json::Value> = selected["checks"].as_array().unwrap().iter().collect();
    assert!(selected
        .iter()
        .all(|c| c["model"] == "silver.products_validated"));
    let ratio = selected
        .iter()
        .find(|c| c["check"] == "products_quarantine_ratio")
        .unwrap();
    assert_eq!(ratio["status"], "fail");

    // explain-check shows the SQL and the quarantined rows with their reason.
    let out = run(&[
        "--env",
        "local",
        "explain-check",
        "products_quarantine_ratio",
        "--limit",
        "3",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("SELECT 'products_quarantine_ratio' AS check_name"),
        "{text}"
    );
    assert!(text.contains("(3 row(s) shown)"), "{text}");
    assert!(
        [
            "missing item",
            "unparsable price",
            "negative price",
            "missing vendor",
            "unknown stock status"
        ]
        .iter()
        .any(|r| text.contains(r)),
        "{text}"
    );
}

pub(crate) fn an_unreachable_warehouse_is_exit_2_and_publishes_nothing() {
    let moto = Moto::start();
    moto.start_recording();
    let out =
        support::pricewatch_command(&support::project_dir(), &moto, &["--env", "local", "check"])
            .env(
                "PRICEWATCH_DATABASE_URL",
                format!("postgres://u:pw@127.0.0.1:{}/x", support::free_port()),
            )
            .output()
            .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the checks could not run") && err.contains("cannot reach the warehouse"),
        "{err}"
    );
    assert_eq!(
        moto.recorded_actions(),
        Vec::<String>::new(),
        "no AWS call (the warehouse failed first), and no metric claiming success"
    );
}

/// moto's CloudFormation does not create alarms, so the rendered template is
/// what is checked here (and cfn-lint checks it in scripts/test.sh).
pub(crate) fn every_check_has_an_alarm_and_the_composite_pages_once() {
    let bundle = support::bundle("prod");
    let monitoring = bundle
        .stacks
        .iter()
        .find(|s| s.name == "monitoring")
        .unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&monitoring.template).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    // The paging alarm of a check (its warn alarms open tickets).
    let alarm_for = |check: &str| {
        resources
            .iter()
            .find(|(id, r)| {
                r["Type"] == "AWS::CloudWatch::Alarm"
                    && !id.as_str().unwrap_or_default().ends_with("WarnAlarm")
                    && r["Properties"]["Dimensions"][1]["Value"].as_str() == Some(check)
            })
            .map(|(_, r)| r)
    };
    assert!(bundle.checks.len() >= 10);
    // A warn-only check never pages: no paging alarm, only a ticket.
    for check in bundle.checks.iter().filter(|c| c.warn_only()) {
        assert!(alarm_for(&check.name).is_none(), "{}", check.name);
        assert!(
            resources
                .keys()
                .any(|id| id.as_str().is_some_and(|id| id.ends_with("WarnAlarm")
                    && id.to_lowercase().contains(&check.name.replace('_', "")))),
            "{} opens a ticket",
            check.name
        );
    }
    let alarmed: Vec<_> = bundle.checks.iter().filter(|c| !c.warn_only()).collect();
    for check in &alarmed {
        let alarm = alarm_for(&check.name).unwrap_or_else(|| panic!("no alarm for {}", check.name));
        let props = &alarm["Properties"];
        let description = props["AlarmDescription"].as_str().unwrap();
        assert!(description.contains(&format!(
            "pricewatch check --env prod --select {}",
            check.name
        )));
        assert!(description.contains(&check.owner));
        let missing = props["TreatMissingData"].as_str().unwrap();
        let is_freshness = matches!(check.kind, pricewatch_core::checks::Kind::Freshness { .. });
        assert_eq!(missing == "breaching", is_freshness, "{}", check.name);
        if let (None, Some(max)) = (check.fail.min, check.fail.max) {
            assert_eq!(props["Threshold"].as_f64(), Some(max), "{}", check.name);
        }
        assert!(
            props.get("AlarmActions").is_none(),
            "the composite pages, not each check"
        );
    }
    let composite = resources
        .values()
        .find(|r| r["Type"] == "AWS::CloudWatch::CompositeAlarm")
        .expect("a composite alarm");
    let rule = serde_yaml_ng::to_string(&composite["Properties"]["AlarmRule"]).unwrap();
    for check in &alarmed {
        let logical = check
            .name
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect::<String>();
        assert!(
            rule.contains(&format!("ALARM(\"${{Check{logical}Alarm}}\")")),
            "{rule}"
        );
    }
    assert!(composite["Properties"]["AlarmActions"].is_sequence());
}
