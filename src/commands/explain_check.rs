//! `pricewatch explain-check NAME`: for on-call triage, the SQL a check
//! runs, its value now against its thresholds, and the rows that violate it.

use serde::Serialize;

use super::{with_services, Session};
use crate::cli::ExplainCheckArgs;
use crate::error::{ExitStatus, UsageError};
use pricewatch_core::checks::compile::{observed_sql, violations_sql};
use pricewatch_core::checks::evaluate::{self, format_value, CheckResult};
use pricewatch_ops::warehouse::Statements;

#[derive(Serialize)]
struct Explained {
    check: String,
    model: String,
    description: String,
    owner: String,
    runbook: String,
    sql: String,
    outcome: CheckResult,
    violations_sql: Option<String>,
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

pub(super) fn run(session: &Session, args: ExplainCheckArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("explain-check")?;
    let env = &bundle.env;
    let Some(check) = bundle.checks.iter().find(|c| c.name == args.name) else {
        let names: Vec<&str> = bundle.checks.iter().map(|c| c.name.as_str()).collect();
        return Err(UsageError(format!(
            "no check `{}` enabled in env `{}`; checks: {}",
            args.name,
            env.name,
            names.join(", ")
        ))
        .into());
    };
    let model_columns = bundle
        .models
        .iter()
        .find(|m| m.name == check.model)
        .map(|m| m.columns.clone())
        .unwrap_or_default();
    let sql = observed_sql(check, env.dialect());
    let violations = violations_sql(check, &model_columns, args.limit, env.dialect());
    let (outcome, rows) = with_services(env, async |services| {
        let warehouse = services.connect_one().await?;
        let value = warehouse
            .query(&format!("check {}", check.name), &sql)
            .await?;
        let outcome = evaluate::evaluate(std::slice::from_ref(check), &value)
            .map_err(anyhow::Error::msg)?
            .remove(0);
        let rows = match &violations {
            Some((query, _)) => {
                warehouse
                    .query(&format!("rows violating {}", check.name), query)
                    .await?
            }
            None => Vec::new(),
        };
        Ok((outcome, rows))
    })?;
    let explained = Explained {
        check: check.name.clone(),
        model: check.model.clone(),
        description: check.description.clone(),
        owner: check.owner.clone(),
        runbook: check.runbook.clone(),
        sql,
        outcome,
        violations_sql: violations.as_ref().map(|(q, _)| q.clone()),
        columns: violations.map(|(_, c)| c).unwrap_or_default(),
        rows,
    };
    session.printer.result(|| text(&explained), &explained);
    Ok(ExitStatus::Success)
}

fn text(e: &Explained) -> String {
    let mut lines = vec![
        format!("check {} on {} (owner {})", e.check, e.model, e.owner),
        format!("  {}", e.description),
        format!("  runbook: {}", e.runbook),
        String::new(),
        "-- the value it measures:".into(),
        e.sql.clone(),
        String::new(),
        format!(
            "observed {}: warn when {}, fail when {} → {:?}",
            format_value(e.outcome.observed),
            e.outcome.warn,
            e.outcome.fail,
            e.outcome.status
        )
        .to_lowercase(),
    ];
    match &e.violations_sql {
        None => lines.push("(this check measures the model as a whole: no rows to list)".into()),
        Some(sql) => {
            lines.push(String::new());
            lines.push("-- rows behind it:".into());
            lines.push(sql.clone());
            lines.push(String::new());
            if e.rows.is_empty() {
                lines.push("(no rows)".into());
            } else {
                lines.push(e.columns.join(" | "));
                for row in &e.rows {
                    lines.push(
                        row.iter()
                            .map(|v| v.as_deref().unwrap_or("NULL"))
                            .collect::<Vec<_>>()
                            .join(" | "),
                    );
                }
                lines.push(format!("({} row(s) shown)", e.rows.len()));
            }
        }
    }
    lines.join("\n")
}
