//! Data-quality checks: `sql/checks.yaml` read, validated against the
//! rendered models (unknown keys, models and columns named with their line)
//! and resolved for one env. The same definitions feed `check`,
//! `explain-check` and the monitoring stack's alarms.

pub mod alarms;
pub mod compile;
pub mod evaluate;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::LineIndex;
use crate::diag::Problem;
use crate::model::Model;

pub(crate) const CHECKS_FILE: &str = "sql/checks.yaml";

/// Bounds an observed value must stay within; a bare number is a maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl<'de> Deserialize<'de> for Bounds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Written {
            min: Option<f64>,
            max: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a number (the maximum) or {min: N, max: N}")]
        enum Either {
            Max(f64),
            Both(Written),
        }
        Ok(match Either::deserialize(deserializer)? {
            Either::Max(max) => Bounds {
                min: None,
                max: Some(max),
            },
            Either::Both(w) => Bounds {
                min: w.min,
                max: w.max,
            },
        })
    }
}

impl Bounds {
    /// Whether `value` is outside the bounds.
    pub(crate) fn breached_by(&self, value: f64) -> bool {
        self.min.is_some_and(|min| value < min) || self.max.is_some_and(|max| value > max)
    }

    pub fn is_empty(&self) -> bool {
        self.min.is_none() && self.max.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CheckType {
    RowCount,
    Freshness,
    NotNull,
    Unique,
    AcceptedValues,
    Range,
    QuarantineRatio,
    CustomSql,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvOverride {
    warn: Option<Bounds>,
    fail: Option<Bounds>,
    enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckDef {
    name: String,
    description: String,
    owner: String,
    /// One line: what to do when the check fails.
    runbook: String,
    model: String,
    #[serde(rename = "type")]
    check_type: CheckType,
    column: Option<String>,
    columns: Option<Vec<String>>,
    values: Option<Vec<String>>,
    min: Option<f64>,
    max: Option<f64>,
    sql: Option<String>,
    #[serde(rename = "where")]
    filter: Option<String>,
    warn: Option<Bounds>,
    /// None: a warn-only check (it must have `warn`), which gets no paging alarm (its warn alarm opens a ticket).
    fail: Option<Bounds>,
    #[serde(default)]
    envs: BTreeMap<String, EnvOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    checks: Vec<CheckDef>,
}

/// What a check measures; the observed value is a number in each case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// Rows in the model.
    RowCount,
    /// Minutes since the newest value of a timestamp column (UTC).
    Freshness { column: String },
    /// Rows with a NULL in any of the columns.
    NotNull { columns: Vec<String> },
    /// Rows beyond the first for each combination of the columns.
    Unique { columns: Vec<String> },
    /// Rows whose (non-NULL) value is not one of the values.
    AcceptedValues { column: String, values: Vec<String> },
    /// Rows whose value is outside [min, max].
    Range {
        column: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Share of rows with a `reason` in the model's latest snapshot.
    QuarantineRatio,
    /// The number the query returns (bad rows).
    CustomSql { sql: String },
}

/// A check as it runs in one env.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub description: String,
    pub owner: String,
    pub runbook: String,
    pub model: String,
    pub kind: Kind,
    /// A SQL condition limiting the rows looked at.
    pub filter: Option<String>,
    pub warn: Bounds,
    /// Empty for a warn-only check.
    pub fail: Bounds,
}

impl Check {
    /// A check that only ever warns: it reports, it never fails a run and
    /// gets no paging alarm (its warn alarm opens a ticket).
    pub fn warn_only(&self) -> bool {
        self.fail.is_empty()
    }
}

/// Parses `sql/checks.yaml` for `env`: every problem, each with its line.
pub(crate) fn parse(
    text: &str,
    env: &str,
    env_names: &[String],
    models: &[Model],
) -> Result<Vec<Check>, Vec<Problem>> {
    let lines = LineIndex::build(text);
    let at = |path: &str| match lines.line_of(path) {
        Some(line) => format!("{CHECKS_FILE}:{line}: {path}"),
        None => format!("{CHECKS_FILE}: {path}"),
    };
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let file: ChecksFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = crate::config::path_string(e.path());
        let inner = e.into_inner();
        let location = match (lines.line_of(&path), inner.location()) {
            (Some(line), _) if !path.is_empty() => format!("{CHECKS_FILE}:{line}: {path}"),
            (_, Some(loc)) => format!("{CHECKS_FILE}:{}", loc.line()),
            _ => CHECKS_FILE.to_string(),
        };
        vec![Problem::new(location, inner.to_string())]
    })?;

    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    let mut checks = Vec::new();
    for (i, def) in file.checks.into_iter().enumerate() {
        let key = |k: &str| at(&format!("checks[{i}].{k}"));
        let mut problem = |k: &str, message: String| problems.push(Problem::new(key(k), message));
        if !is_check_name(&def.name) {
            problem("name", format!("`{}` is not a check name: lowercase letters, digits and _ (it names a metric and an alarm)", def.name));
        }
        if !names.insert(def.name.clone()) {
            problem("name", format!("check `{}` is defined twice", def.name));
        }
        for (field, value) in [
            ("description", &def.description),
            ("owner", &def.owner),
            ("runbook", &def.runbook),
        ] {
            if value.trim().is_empty() {
                problem(field, format!("{field} must not be empty"));
            }
        }
        if def.runbook.contains('\n') {
            problem("runbook", "the runbook is one line".into());
        }
        let Some(model) = models.iter().find(|m| m.name == def.model) else {
            let known: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
            problem(
                "model",
                format!("no model `{}`; models: {}", def.model, known.join(", ")),
            );
            continue;
        };
        let column_problem = |k: &str, column: &str| {
            (!model.columns.iter().any(|c| c == column)).then(|| {
                Problem::new(
                    key(k),
                    format!(
                        "model {} has no column `{column}`; its columns: {}",
                        model.name,
                        model.columns.join(", ")
                    ),
                )
            })
        };
        let column = def.column.clone().unwrap_or_default();
        let columns = def.columns.clone().unwrap_or_default();
        let kind = match def.check_type {
            CheckType::RowCount => Kind::RowCount,
            CheckType::Freshness => Kind::Freshness {
                column: column.clone(),
            },
            CheckType::NotNull => Kind::NotNull {
                columns: columns.clone(),
            },
            CheckType::Unique => Kind::Unique {
                columns: columns.clone(),
            },
            CheckType::AcceptedValues => Kind::AcceptedValues {
                column: column.clone(),
                values: def.values.clone().unwrap_or_default(),
            },
            CheckType::Range => Kind::Range {
                column: column.clone(),
                min: def.min,
                max: def.max,
            },
            CheckType::QuarantineRatio => Kind::QuarantineRatio,
            CheckType::CustomSql => Kind::CustomSql {
                sql: def
                    .sql
                    .clone()
                    .unwrap_or_default()
                    .trim()
                    .trim_end_matches(';')
                    .to_string(),
            },
        };
        // Which keys each type takes.
        let is = |t: CheckType| def.check_type == t;
        let type_name = serde_json::to_value(def.check_type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        for (k, present, applies, required) in [
            (
                "column",
                def.column.is_some(),
                is(CheckType::Freshness) || is(CheckType::AcceptedValues) || is(CheckType::Range),
                true,
            ),
            (
                "columns",
                def.columns.is_some(),
                is(CheckType::NotNull) || is(CheckType::Unique),
                true,
            ),
            (
                "values",
                def.values.is_some(),
                is(CheckType::AcceptedValues),
                true,
            ),
            ("sql", def.sql.is_some(), is(CheckType::CustomSql), true),
            ("min", def.min.is_some(), is(CheckType::Range), false),
            ("max", def.max.is_some(), is(CheckType::Range), false),
        ] {
            if present && !applies {
                problems.push(Problem::new(
                    key(k),
                    format!("`{k}` does not apply to a {type_name} check"),
                ));
            } else if applies && required && !present {
                problems.push(Problem::new(
                    key("type"),
                    format!("a {type_name} check needs `{k}`"),
                ));
            }
        }
        if is(CheckType::Range) && def.min.is_none() && def.max.is_none() {
            problems.push(Problem::new(
                key("type"),
                "a range check needs `min`, `max` or both",
            ));
        }
        if def.column.is_some() {
            problems.extend(column_problem("column", &column));
        }
        for (j, c) in columns.iter().enumerate() {
            problems.extend(column_problem(&format!("columns[{j}]"), c));
        }
        if def.columns.as_ref().is_some_and(Vec::is_empty) {
            problems.push(Problem::new(key("columns"), "name at least one column"));
        }
        if def.values.as_ref().is_some_and(Vec::is_empty) {
            problems.push(Problem::new(key("values"), "name at least one value"));
        }
        if def.check_type == CheckType::QuarantineRatio {
            for needed in ["reason", "snapshot_id"] {
                if !model.columns.iter().any(|c| c == needed) {
                    problems.push(Problem::new(key("model"), format!(
                        "a quarantine_ratio check needs a model with `reason` and `snapshot_id` columns (e.g. silver.products_validated); {} has no `{needed}`",
                        model.name
                    )));
                }
            }
        }
        if let Some(filter) = &def.filter {
            if filter.contains(';') {
                problems.push(Problem::new(
                    key("where"),
                    "a condition, not statements (no `;`)",
                ));
            }
        }
        let mut warn = def.warn.unwrap_or_default();
        let mut fail = def.fail.unwrap_or_default();
        let mut enabled = true;
        for (env_name, over) in &def.envs {
            if !env_names.contains(env_name) {
                problems.push(Problem::new(
                    key(&format!("envs.{env_name}")),
                    format!("no env `{env_name}`; envs: {}", env_names.join(", ")),
                ));
            }
            if env_name == env {
                warn = over.warn.unwrap_or(warn);
                fail = over.fail.unwrap_or(fail);
                enabled = over.enabled.unwrap_or(true);
            }
        }
        if fail.is_empty() && warn.is_empty() {
            problems.push(Problem::new(
                key("fail"),
                "give a fail threshold: a number (the maximum) or {min: N, max: N} (or only `warn`, for a check that only warns)",
            ));
        }
        if enabled {
            checks.push(Check {
                name: def.name,
                description: def.description.trim().to_string(),
                owner: def.owner,
                runbook: def.runbook,
                model: def.model,
                kind,
                filter: def.filter,
                warn,
                fail,
            });
        }
    }
    if problems.is_empty() {
        Ok(checks)
    } else {
        Err(problems)
    }
}

fn is_check_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models() -> Vec<Model> {
        let model = |name: &str, columns: &[&str]| Model::stub(name, &[], columns);
        vec![
            model(
                "silver.products",
                &["item", "vendor", "sale_price", "observed_at"],
            ),
            model(
                "silver.products_validated",
                &["item", "reason", "snapshot_id"],
            ),
        ]
    }

    fn envs() -> Vec<String> {
        vec!["dev".into(), "prod".into()]
    }

    const GOOD: &str = r#"
checks:
  - name: prices_in_range
    description: Prices are positive and plausible.
    owner: pricing
    runbook: Look at the vendor page; pricewatch explain-check prices_in_range.
    model: silver.products
    type: range
    column: sale_price
    min: 0.01
    max: 100000
    warn: 0
    fail: 10
    envs:
      prod:
        fail: 0
  - name: products_present
    description: Products arrive.
    owner: pricing
    runbook: Run pricewatch status.
    model: silver.products
    type: row_count
    fail: {min: 1}
    envs:
      dev:
        enabled: false
"#;

    #[test]
    fn checks_resolve_per_env() {
        let dev = parse(GOOD, "dev", &envs(), &models()).unwrap();
        assert_eq!(dev.len(), 1, "disabled in dev");
        assert_eq!(dev[0].fail.max, Some(10.0));
        assert_eq!(dev[0].warn.max, Some(0.0));
        let prod = parse(GOOD, "prod", &envs(), &models()).unwrap();
        assert_eq!(prod[0].fail.max, Some(0.0), "prod override");
        assert_eq!(
            prod[1].fail,
            Bounds {
                min: Some(1.0),
                max: None
            }
        );
        assert_eq!(
            prod[0].kind,
            Kind::Range {
                column: "sale_price".into(),
                min: Some(0.01),
                max: Some(100000.0)
            }
        );
    }

    #[test]
    fn unknown_keys_models_columns_and_envs_are_named_with_their_line() {
        let bad = GOOD
            .replace("column: sale_price", "column: price")
            .replace(
                "model: silver.products\n    type: row_count",
                "model: silver.nope\n    type: row_count",
            )
            .replace("      prod:\n", "      staging:\n");
        let problems = parse(&bad, "dev", &envs(), &models()).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            text.iter()
                .any(|p| p.starts_with("sql/checks.yaml:9: checks[0].column")
                    && p.contains("no column `price`")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|p| p.contains("checks[1].model") && p.contains("no model `silver.nope`")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|p| p.contains("no env `staging`")),
            "{text:?}"
        );

        let typo = GOOD.replace("    warn: 0\n", "    wran: 0\n");
        let problems = parse(&typo, "dev", &envs(), &models()).unwrap_err();
        assert!(
            problems[0].to_string().contains("sql/checks.yaml:12"),
            "{problems:?}"
        );
        assert!(
            problems[0].to_string().contains("unknown field `wran`"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_check_may_only_warn_but_must_bound_something() {
        let warn_only = GOOD.replace("    warn: 0\n    fail: 10\n", "    warn: 0\n");
        let checks = parse(&warn_only, "dev", &envs(), &models()).unwrap();
        assert!(checks[0].warn_only());
        assert_eq!(checks[0].warn.max, Some(0.0));
        assert!(!checks[0].warn_only() || checks[0].fail.is_empty());
        let prod = parse(&warn_only, "prod", &envs(), &models()).unwrap();
        assert!(
            !prod[0].warn_only(),
            "prod's override gives it a fail threshold"
        );

        let unbounded = GOOD.replace("    warn: 0\n    fail: 10\n", "");
        let text: Vec<String> = parse(&unbounded, "dev", &envs(), &models())
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert!(
            text.iter()
                .any(|p| p.contains("checks[0].fail") && p.contains("only `warn`")),
            "{text:?}"
        );
    }

    #[test]
    fn keys_must_fit_the_type() {
        let bad = GOOD.replace(
            "    type: row_count\n",
            "    type: not_null\n    values: [a]\n",
        );
        let text: Vec<String> = parse(&bad, "prod", &envs(), &models())
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert!(
            text.iter()
                .any(|p| p.contains("a not_null check needs `columns`")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|p| p.contains("`values` does not apply to a not_null check")),
            "{text:?}"
        );
    }

    #[test]
    fn bounds_take_a_number_or_a_map() {
        let max: Bounds = serde_yaml_ng::from_str("3").unwrap();
        assert_eq!(
            max,
            Bounds {
                min: None,
                max: Some(3.0)
            }
        );
        let both: Bounds = serde_yaml_ng::from_str("{min: 1, max: 2}").unwrap();
        assert!(both.breached_by(0.5) && both.breached_by(2.5) && !both.breached_by(1.5));
        assert!(serde_yaml_ng::from_str::<Bounds>("{most: 1}").is_err());
    }
}
