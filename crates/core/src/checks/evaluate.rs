//! Turns observed values into pass / warn / fail, and writes results as
//! JUnit XML for CI.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Bounds, Check};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub check: String,
    pub model: String,
    pub owner: String,
    /// None when the check found no value (e.g. freshness of an empty model).
    pub observed: Option<f64>,
    pub status: CheckStatus,
    pub warn: String,
    pub fail: String,
    pub runbook: String,
}

/// `> 10`, `< 1`, `outside [1, 10]`, or `-` when there are no bounds.
pub fn describe(bounds: &Bounds) -> String {
    let n = |v: f64| format_value(Some(v));
    match (bounds.min, bounds.max) {
        (Some(min), Some(max)) => format!("outside [{}, {}]", n(min), n(max)),
        (Some(min), None) => format!("< {}", n(min)),
        (None, Some(max)) => format!("> {}", n(max)),
        (None, None) => "-".into(),
    }
}

/// Whole numbers without decimals, others with up to four.
pub fn format_value(value: Option<f64>) -> String {
    match value {
        None => "none".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => {
            let text = format!("{v:.4}");
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

pub fn status(check: &Check, observed: Option<f64>) -> CheckStatus {
    match observed {
        // Nothing to measure: a warn-only check says so without failing.
        None if check.warn_only() => CheckStatus::Warn,
        None => CheckStatus::Fail,
        Some(v) if check.fail.breached_by(v) => CheckStatus::Fail,
        Some(v) if check.warn.breached_by(v) => CheckStatus::Warn,
        Some(_) => CheckStatus::Pass,
    }
}

/// Pairs each check with its row of the batch result `(check_name, observed)`.
pub fn evaluate(
    checks: &[Check],
    rows: &[Vec<Option<String>>],
) -> Result<Vec<CheckResult>, String> {
    let mut observed: BTreeMap<&str, Option<f64>> = BTreeMap::new();
    for row in rows {
        let (Some(Some(name)), Some(value)) = (row.first(), row.get(1)) else {
            return Err(format!("unexpected result row {row:?}"));
        };
        let value = match value {
            None => None,
            Some(text) => Some(
                text.parse::<f64>()
                    .map_err(|_| format!("check {name}: `{text}` is not a number"))?,
            ),
        };
        observed.insert(name, value);
    }
    checks
        .iter()
        .map(|check| {
            let value = *observed
                .get(check.name.as_str())
                .ok_or_else(|| format!("the warehouse returned no row for check {}", check.name))?;
            Ok(CheckResult {
                check: check.name.clone(),
                model: check.model.clone(),
                owner: check.owner.clone(),
                observed: value,
                status: status(check, value),
                warn: describe(&check.warn),
                fail: describe(&check.fail),
                runbook: check.runbook.clone(),
            })
        })
        .collect()
}

/// JUnit XML: one testcase per check; failures (and, with `fail_on_warn`,
/// warnings) carry the observed value, the threshold and the runbook line.
pub fn junit(env: &str, outcomes: &[CheckResult], fail_on_warn: bool, seconds: f64) -> String {
    let failing = |o: &CheckResult| {
        o.status == CheckStatus::Fail || (fail_on_warn && o.status == CheckStatus::Warn)
    };
    let failures = outcomes.iter().filter(|o| failing(o)).count();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pricewatch check\" tests=\"{}\" failures=\"{failures}\" time=\"{seconds:.3}\">\n  <testsuite name=\"pricewatch check --env {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{seconds:.3}\">\n",
        outcomes.len(),
        crate::escape::xml(env),
        outcomes.len()
    );
    for o in outcomes {
        xml.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}\">\n",
            crate::escape::xml(&o.check),
            crate::escape::xml(&o.model)
        ));
        if failing(o) {
            let (kind, threshold) = match o.status {
                CheckStatus::Fail => ("fail", &o.fail),
                _ => ("warn", &o.warn),
            };
            let message = format!(
                "observed {} ({kind} when {threshold})",
                format_value(o.observed)
            );
            xml.push_str(&format!(
                "      <failure message=\"{}\" type=\"{kind}\">{}\nrunbook: {}\nowner: {}</failure>\n",
                crate::escape::xml(&message),
                crate::escape::xml(&message),
                crate::escape::xml(&o.runbook),
                crate::escape::xml(&o.owner)
            ));
        } else if o.status == CheckStatus::Warn {
            xml.push_str(&format!(
                "      <system-out>warning: observed {} (warn when {})</system-out>\n",
                format_value(o.observed),
                crate::escape::xml(&o.warn)
            ));
        }
        xml.push_str("    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Kind;

    fn check(name: &str, warn: Bounds, fail: Bounds) -> Check {
        Check {
            name: name.into(),
            description: String::new(),
            owner: "pricing".into(),
            runbook: "look at <the page>".into(),
            model: "silver.products".into(),
            kind: Kind::RowCount,
            filter: None,
            warn,
            fail,
        }
    }

    fn max(v: f64) -> Bounds {
        Bounds {
            min: None,
            max: Some(v),
        }
    }

    #[test]
    fn thresholds_decide_the_status() {
        let c = check("c", max(0.0), max(10.0));
        assert_eq!(status(&c, Some(0.0)), CheckStatus::Pass);
        assert_eq!(status(&c, Some(3.0)), CheckStatus::Warn);
        assert_eq!(status(&c, Some(11.0)), CheckStatus::Fail);
        assert_eq!(status(&c, None), CheckStatus::Fail, "no value is a failure");
        let at_least = check(
            "rows",
            Bounds::default(),
            Bounds {
                min: Some(1.0),
                max: None,
            },
        );
        assert_eq!(status(&at_least, Some(0.0)), CheckStatus::Fail);
        assert_eq!(describe(&at_least.fail), "< 1");
        let warn_only = check("quiet", max(1440.0), Bounds::default());
        assert_eq!(
            status(&warn_only, Some(1e9)),
            CheckStatus::Warn,
            "never fails"
        );
        assert_eq!(status(&warn_only, Some(5.0)), CheckStatus::Pass);
        assert_eq!(status(&warn_only, None), CheckStatus::Warn);
        assert_eq!(describe(&warn_only.fail), "-");
        assert_eq!(
            describe(&Bounds {
                min: Some(1.0),
                max: Some(2.5)
            }),
            "outside [1, 2.5]"
        );
        assert_eq!(format_value(Some(0.123456)), "0.1235");
    }

    #[test]
    fn rows_are_matched_by_name_and_a_missing_one_is_an_error() {
        let checks = [
            check("a", max(0.0), max(1.0)),
            check("b", max(0.0), max(1.0)),
        ];
        let rows = vec![
            vec![Some("b".to_string()), Some("5".to_string())],
            vec![Some("a".to_string()), None],
        ];
        let outcomes = evaluate(&checks, &rows).unwrap();
        assert_eq!(outcomes[0].observed, None);
        assert_eq!(outcomes[1].status, CheckStatus::Fail);
        assert!(evaluate(&checks, &rows[..1])
            .unwrap_err()
            .contains("no row for check a"));
    }

    #[test]
    fn junit_has_a_testcase_per_check_and_explains_failures() {
        let checks = [
            check("ok", max(0.0), max(1.0)),
            check("bad", max(0.0), max(1.0)),
            check("meh", max(0.0), max(9.0)),
        ];
        let rows: Vec<Vec<Option<String>>> = [("ok", "0"), ("bad", "7"), ("meh", "2")]
            .iter()
            .map(|(n, v)| vec![Some(n.to_string()), Some(v.to_string())])
            .collect();
        let outcomes = evaluate(&checks, &rows).unwrap();
        let xml = junit("local", &outcomes, false, 0.5);
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("<failure ").count(), 1);
        assert!(xml.contains("observed 7 (fail when &gt; 1)"), "{xml}");
        assert!(xml.contains("runbook: look at &lt;the page&gt;"), "{xml}");
        assert_eq!(
            junit("local", &outcomes, true, 0.5)
                .matches("<failure ")
                .count(),
            2
        );
    }
}
