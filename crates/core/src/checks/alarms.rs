//! The CloudWatch alarms of each check, derived from its thresholds: what
//! the monitoring stack template renders. The fail threshold's alarm feeds
//! the composite that pages on-call; each warn bound gets an alarm of its
//! own that feeds the composite that opens a ticket, so a value drifting
//! towards failure is noticed before it pages.

use serde::Serialize;

use super::{evaluate::describe, Check, Kind};
use crate::config::names::logical_id;

/// The metric with each check's observed value (dimensions Env, Check).
pub const VALUE_METRIC: &str = "CheckValue";
/// 1 when the check failed, else 0 (dimensions Env, Check).
pub const FAILED_METRIC: &str = "CheckFailed";

#[derive(Debug, Clone, Serialize)]
pub struct Alarm {
    /// CloudFormation logical id.
    pub(crate) logical: String,
    pub(crate) alarm_name: String,
    pub description: String,
    pub check: String,
    pub metric: &'static str,
    pub(crate) statistic: &'static str,
    pub(crate) comparison: &'static str,
    pub(crate) threshold: f64,
    /// `breaching` for freshness: no data means the pipeline stopped.
    pub(crate) treat_missing_data: &'static str,
}

fn treat_missing_data(check: &Check) -> &'static str {
    if matches!(check.kind, Kind::Freshness { .. }) {
        "breaching"
    } else {
        "notBreaching"
    }
}

fn runbook_line(check: &Check, env: &str) -> String {
    format!(
        "Owner: {}. {} Investigate: pricewatch check --env {env} --select {}",
        check.owner, check.runbook, check.name
    )
}

/// The alarms of the checks that can fail: a warn-only check reports in
/// `pricewatch check` and its metrics, and never pages.
pub fn alarms(checks: &[Check], env: &str, alarm_prefix: &str) -> Vec<Alarm> {
    checks
        .iter()
        .filter(|c| !c.warn_only())
        .map(|c| alarm(c, env, alarm_prefix))
        .collect()
}

pub(crate) fn alarm(check: &Check, env: &str, alarm_prefix: &str) -> Alarm {
    // One bound: alarm on the value itself; both: on the failure flag.
    let (metric, statistic, comparison, threshold) = match (check.fail.min, check.fail.max) {
        (None, Some(max)) => (VALUE_METRIC, "Maximum", "GreaterThanThreshold", max),
        (Some(min), None) => (VALUE_METRIC, "Minimum", "LessThanThreshold", min),
        _ => (
            FAILED_METRIC,
            "Maximum",
            "GreaterThanOrEqualToThreshold",
            1.0,
        ),
    };
    let description = format!(
        "pricewatch {env}: check {} failed ({} when {}) on {}. {}",
        check.name,
        metric_label(&check.kind),
        describe(&check.fail),
        check.model,
        runbook_line(check, env)
    );
    Alarm {
        logical: format!("Check{}Alarm", logical_id(&check.name)),
        alarm_name: format!("{alarm_prefix}-check-{}", check.name.replace('_', "-")),
        // CloudWatch caps alarm descriptions at 1024 characters.
        description: description.chars().take(1024).collect(),
        check: check.name.clone(),
        metric,
        statistic,
        comparison,
        threshold,
        treat_missing_data: treat_missing_data(check),
    }
}

/// One alarm per warn bound, on the check's value (a check with both warn
/// bounds gets a `-low` and a `-high` alarm); none without a warn threshold.
pub(crate) fn warn_alarms(check: &Check, env: &str, alarm_prefix: &str) -> Vec<Alarm> {
    let both = check.warn.min.is_some() && check.warn.max.is_some();
    let sides = [
        (check.warn.min, "Minimum", "LessThanThreshold", "low", "<"),
        (
            check.warn.max,
            "Maximum",
            "GreaterThanThreshold",
            "high",
            ">",
        ),
    ];
    sides
        .into_iter()
        .filter_map(|(bound, statistic, comparison, side, sign)| {
            let threshold = bound?;
            let (logical_side, name_side) = if both {
                (logical_id(side), format!("-{side}"))
            } else {
                (String::new(), String::new())
            };
            let description = format!(
                "pricewatch {env}: check {} warns ({} {sign} {}) on {}. {}",
                check.name,
                metric_label(&check.kind),
                crate::checks::evaluate::format_value(Some(threshold)),
                check.model,
                runbook_line(check, env)
            );
            Some(Alarm {
                logical: format!("Check{}Warn{logical_side}Alarm", logical_id(&check.name)),
                alarm_name: format!(
                    "{alarm_prefix}-check-{}-warn{name_side}",
                    check.name.replace('_', "-")
                ),
                description: description.chars().take(1024).collect(),
                check: check.name.clone(),
                metric: VALUE_METRIC,
                statistic,
                comparison,
                threshold,
                treat_missing_data: treat_missing_data(check),
            })
        })
        .collect()
}

fn metric_label(kind: &Kind) -> &'static str {
    match kind {
        Kind::RowCount => "rows",
        Kind::Freshness { .. } => "minutes since the newest row",
        Kind::NotNull { .. } => "rows with NULLs",
        Kind::Unique { .. } => "duplicate rows",
        Kind::AcceptedValues { .. } => "rows with unexpected values",
        Kind::Range { .. } => "rows out of range",
        Kind::QuarantineRatio => "share of invalid rows",
        Kind::CustomSql { .. } => "bad rows",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Bounds;

    fn check_warning(kind: Kind, warn: Bounds, fail: Bounds) -> Check {
        Check {
            warn,
            ..check(kind, fail)
        }
    }

    #[test]
    fn each_warn_bound_becomes_an_alarm_on_the_value() {
        let fail = Bounds {
            min: None,
            max: Some(120.0),
        };
        let fresh = Kind::Freshness {
            column: "observed_at".into(),
        };
        assert!(warn_alarms(&check(fresh.clone(), fail), "prod", "p").is_empty());

        let one = warn_alarms(
            &check_warning(
                fresh,
                Bounds {
                    min: None,
                    max: Some(30.0),
                },
                fail,
            ),
            "prod",
            "pricewatch-prod",
        );
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].logical, "CheckProductsFreshWarnAlarm");
        assert_eq!(
            one[0].alarm_name,
            "pricewatch-prod-check-products-fresh-warn"
        );
        assert_eq!(
            (
                one[0].metric,
                one[0].statistic,
                one[0].comparison,
                one[0].threshold
            ),
            (VALUE_METRIC, "Maximum", "GreaterThanThreshold", 30.0)
        );
        assert_eq!(one[0].treat_missing_data, "breaching");
        assert!(one[0]
            .description
            .contains("warns (minutes since the newest row > 30)"));

        let both = warn_alarms(
            &check_warning(
                Kind::RowCount,
                Bounds {
                    min: Some(10.0),
                    max: Some(1000.0),
                },
                Bounds {
                    min: Some(1.0),
                    max: None,
                },
            ),
            "dev",
            "p",
        );
        let names: Vec<_> = both.iter().map(|a| a.alarm_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "p-check-products-fresh-warn-low",
                "p-check-products-fresh-warn-high"
            ]
        );
        assert_eq!(both[0].logical, "CheckProductsFreshWarnLowAlarm");
        assert_eq!(
            (both[0].comparison, both[0].threshold),
            ("LessThanThreshold", 10.0)
        );
        assert_eq!(both[1].treat_missing_data, "notBreaching");
    }

    fn check(kind: Kind, fail: Bounds) -> Check {
        Check {
            name: "products_fresh".into(),
            description: "d".into(),
            owner: "data-platform".into(),
            runbook: "Run refresh.".into(),
            model: "silver.products".into(),
            kind,
            filter: None,
            warn: Bounds::default(),
            fail,
        }
    }

    #[test]
    fn the_fail_threshold_becomes_the_alarm() {
        let fresh = alarm(
            &check(
                Kind::Freshness {
                    column: "observed_at".into(),
                },
                Bounds {
                    min: None,
                    max: Some(120.0),
                },
            ),
            "prod",
            "pricewatch-prod",
        );
        assert_eq!(fresh.logical, "CheckProductsFreshAlarm");
        assert_eq!(fresh.alarm_name, "pricewatch-prod-check-products-fresh");
        assert_eq!(
            (fresh.metric, fresh.comparison, fresh.threshold),
            (VALUE_METRIC, "GreaterThanThreshold", 120.0)
        );
        assert_eq!(fresh.treat_missing_data, "breaching");
        assert!(fresh.description.contains("Owner: data-platform"));
        assert!(fresh
            .description
            .ends_with("pricewatch check --env prod --select products_fresh"));

        let rows = alarm(
            &check(
                Kind::RowCount,
                Bounds {
                    min: Some(1.0),
                    max: None,
                },
            ),
            "dev",
            "p",
        );
        assert_eq!(
            (rows.statistic, rows.comparison, rows.treat_missing_data),
            ("Minimum", "LessThanThreshold", "notBreaching")
        );
        let both = alarm(
            &check(
                Kind::RowCount,
                Bounds {
                    min: Some(1.0),
                    max: Some(9.0),
                },
            ),
            "dev",
            "p",
        );
        assert_eq!((both.metric, both.threshold), (FAILED_METRIC, 1.0));
    }

    #[test]
    fn a_warn_only_check_gets_no_alarm() {
        let fresh = Kind::Freshness {
            column: "observed_at".into(),
        };
        let mut quiet = check(fresh.clone(), Bounds::default());
        quiet.warn.max = Some(1440.0);
        let paging = check(
            fresh,
            Bounds {
                min: None,
                max: Some(60.0),
            },
        );
        let alarms = alarms(&[quiet, paging], "prod", "p");
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].threshold, 60.0);
    }
}
