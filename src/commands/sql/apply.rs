//! `pricewatch sql apply`: brings the warehouse's models to the rendered ones.

use serde::Serialize;

use super::super::{with_warehouse, Session};
use crate::cli::SqlApplyArgs;
use crate::error::ExitStatus;
use crate::warehouse::apply::{self, ApplyPlan};

#[derive(Serialize)]
struct Applied<'a> {
    env: &'a str,
    dry_run: bool,
    plan: &'a ApplyPlan,
    statements: Vec<Statement<'a>>,
}

#[derive(Serialize)]
struct Statement<'a> {
    context: &'a str,
    sql: &'a str,
}

pub fn run(session: &Session, args: SqlApplyArgs) -> anyhow::Result<ExitStatus> {
    let bundle = session.load_bundle("sql apply")?;
    let env = &bundle.env;
    let (plan, statements) = with_warehouse(env, async |warehouse| {
        Ok(apply::apply(warehouse, &bundle, args.dry_run).await?)
    })?;
    let result = Applied {
        env: &env.name,
        dry_run: args.dry_run,
        plan: &plan,
        statements: statements
            .iter()
            .map(|(context, sql)| Statement { context, sql })
            .collect(),
    };
    session.printer.result(
        || {
            let mut lines = Vec::new();
            if args.dry_run {
                for (context, sql) in &statements {
                    lines.push(format!("-- {context}\n{}", sql.trim_end()));
                }
            }
            let verb = if args.dry_run {
                "would create"
            } else {
                "created"
            };
            lines.push(format!(
                "env {}: {verb} {} model(s) ({} dropped first), {} removed, {} unchanged{}",
                env.name,
                plan.create.len(),
                plan.drop.len(),
                plan.removed.len(),
                plan.unchanged.len(),
                session.elapsed()
            ));
            lines.join("\n")
        },
        &result,
    );
    Ok(ExitStatus::Success)
}
