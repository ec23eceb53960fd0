//! `pricewatch validate`: config, rendering, template references, stack
//! wiring and the SQL model graph of one env or all of them. No AWS call.

use serde::Serialize;

use super::Session;
use crate::cli::ValidateArgs;
use crate::error::ExitStatus;

#[derive(Serialize)]
struct EnvReport {
    env: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stacks: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waves: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    models: Option<usize>,
    checks: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dialect: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

pub(super) fn run(session: &Session, args: ValidateArgs) -> anyhow::Result<ExitStatus> {
    let names = if args.all_envs {
        session.environments().list()?
    } else {
        vec![session.env_name("validate")?.to_string()]
    };
    let reports: Vec<EnvReport> = names
        .iter()
        .map(|name| validate_env(session, name))
        .collect::<Result<_, _>>()?;

    let all_ok = reports.iter().all(|r| r.ok);
    if !session.printer.is_json() {
        for report in reports.iter().filter(|r| !r.ok) {
            for problem in &report.problems {
                eprintln!("{}: {problem}", report.env);
            }
        }
    }
    session.printer.result(
        || {
            reports
                .iter()
                .map(|r| match (r.ok, r.stacks, r.waves, r.models, r.checks, &r.dialect) {
                    (true, Some(stacks), Some(waves), Some(models), Some(checks), Some(dialect)) => format!(
                        "ok      {:<8} {stacks} stacks in {waves} waves, {models} SQL models ({dialect}), {checks} checks",
                        r.env
                    ),
                    _ => format!("invalid {:<8} {} problem(s)", r.env, r.problems.len()),
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
        &reports,
    );
    Ok(if all_ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// Validates one env; an unknown env name stays an error (a usage error).
fn validate_env(session: &Session, name: &str) -> anyhow::Result<EnvReport> {
    session.reporter.debug(&format!("validating env {name}"));
    let failed = |problems: Vec<String>| EnvReport {
        env: name.to_string(),
        ok: false,
        stacks: None,
        waves: None,
        models: None,
        checks: None,
        dialect: None,
        problems,
    };
    let env = match session.environments().load(name) {
        Ok(env) => env,
        Err(pricewatch_core::config::ConfigError::Invalid(issues)) => {
            return Ok(failed(issues.iter().map(ToString::to_string).collect()))
        }
        Err(other) => return Err(other.into()),
    };
    Ok(
        match pricewatch_core::bundle::load(&session.project_dir, &env) {
            Ok(bundle) => EnvReport {
                env: name.to_string(),
                ok: true,
                stacks: Some(bundle.stacks.len()),
                waves: Some(bundle.waves.len()),
                models: Some(bundle.models.len()),
                checks: Some(bundle.checks.len()),
                dialect: Some(env.dialect().to_string()),
                problems: Vec::new(),
            },
            Err(e) => failed(e.problems.iter().map(ToString::to_string).collect()),
        },
    )
}
