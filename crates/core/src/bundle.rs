//! One env's [`Bundle`]: every stack template (with its wiring and deploy
//! waves), the bootstrap and setup SQL, every SQL model in DAG order, the
//! env's checks and the dashboard definition — rendered from a [`Project`]
//! and checked on the way. Pure: the project was read before.

use std::path::Path;

use crate::checks::{self, alarms, Check};
use crate::config::Environment;
use crate::dag::Waves;
use crate::dashboard::definition::{self, Definition};
use crate::diag::Problem;
use crate::model::Model;

use crate::project::{Project, BOOTSTRAP_TEMPLATE, SETUP_TEMPLATE};
use crate::render::{stacks, RenderedStack, Renderer};

/// Everything rendered for one env.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub env: Environment,
    /// In deploy order.
    pub stacks: Vec<RenderedStack>,
    /// Stack names grouped in waves that can deploy in parallel.
    pub waves: Waves,
    /// What an administrator runs once per warehouse (`sql apply --bootstrap`).
    pub bootstrap_sql: String,
    /// What `sql apply` runs as the owner before the models.
    pub setup_sql: String,
    /// In DAG order.
    pub models: Vec<Model>,
    /// The data-quality checks enabled in this env.
    pub checks: Vec<Check>,
    /// The QuickSight dashboard's definition.
    pub dashboard: Definition,
}

#[derive(Debug, thiserror::Error)]
#[error("env `{env}` does not render ({} {}):{}", .problems.len(), if .problems.len() == 1 { "problem" } else { "problems" }, list(.problems))]
pub struct RenderError {
    pub env: String,
    pub problems: Vec<Problem>,
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

/// Reads the project in `dir` and builds `env`'s bundle.
pub fn load(dir: &Path, env: &Environment) -> Result<Bundle, RenderError> {
    let project = Project::load(dir).map_err(|problems| RenderError {
        env: env.name.clone(),
        problems,
    })?;
    build(&project, env)
}

/// Renders and checks every template and model of `project` for `env`;
/// every problem found is reported, all at once.
pub fn build(project: &Project, env: &Environment) -> Result<Bundle, RenderError> {
    let fail = |problems: Vec<Problem>| RenderError {
        env: env.name.clone(),
        problems,
    };
    let names = env.names();
    let wiring = stacks::parse_wiring(&project.wiring).map_err(fail)?;
    let mut problems =
        stacks::check_templates_match(&wiring, &project.stack_templates.keys().cloned().collect());
    let mut renderer = Renderer::new(project, env).map_err(|found| {
        let mut all = problems.clone();
        all.extend(found);
        fail(all)
    })?;
    let models = renderer
        .models()
        .map_err(|found| problems.extend(found))
        .ok();
    // Checks need the models' columns; the monitoring stack renders their alarms.
    let checks = models.as_ref().and_then(|models| {
        let mut all = match project.checks.as_deref() {
            Some(text) => checks::parse(text, &env.name, &project.env_names, models)
                .map_err(|found| problems.extend(found))
                .ok()?,
            None => Vec::new(),
        };
        // The generated sources' own checks, next to the project's.
        if let Some(text) = crate::render::generated_checks(&env.settings) {
            let generated = checks::parse(&text, &env.name, &project.env_names, models)
                .map_err(|found| problems.extend(found))
                .ok()?;
            for check in generated {
                if all.iter().any(|c| c.name == check.name) {
                    problems.push(Problem::new(
                        checks::CHECKS_FILE,
                        format!(
                            "check {} is also generated for a declared source; rename it",
                            check.name
                        ),
                    ));
                    return None;
                }
                all.push(check);
            }
        }
        Some(all)
    });
    let all_checks = checks.as_deref().unwrap_or_default();
    renderer.insert(
        "check_alarms",
        &alarms::alarms(all_checks, &env.name, &names.base),
    );
    let warn_alarms: Vec<alarms::Alarm> = all_checks
        .iter()
        .flat_map(|c| alarms::warn_alarms(c, &env.name, &names.base))
        .collect();
    renderer.insert("check_warn_alarms", &warn_alarms);
    let rendered_stacks = renderer
        .stacks()
        .map_err(|found| problems.extend(found))
        .ok();
    // The dashboard reads the models' columns, like the checks.
    let dashboard = models.as_ref().and_then(|models| {
        let rendered = renderer.dashboard().map_err(|p| problems.push(p)).ok()?;
        let parsed = definition::parse(&rendered)
            .map_err(|p| problems.push(p))
            .ok()?;
        let found = definition::check(&parsed, models);
        let ok = found.is_empty();
        problems.extend(found);
        ok.then_some(parsed)
    });
    let bootstrap_sql = renderer
        .sql(BOOTSTRAP_TEMPLATE)
        .map_err(|p| problems.push(p))
        .ok();
    let setup_sql = renderer
        .sql(SETUP_TEMPLATE)
        .map_err(|p| problems.push(p))
        .ok();
    let wired = rendered_stacks.and_then(|rendered| match stacks::analyze_all(rendered) {
        Ok(analyzed) => stacks::wire(&wiring, analyzed, |s| names.stack(s))
            .map_err(|found| problems.extend(found))
            .ok(),
        Err(found) => {
            problems.extend(found);
            None
        }
    });
    match (wired, bootstrap_sql, setup_sql, models, checks, dashboard) {
        (
            Some((stacks, waves)),
            Some(bootstrap_sql),
            Some(setup_sql),
            Some(models),
            Some(checks),
            Some(dashboard),
        ) if problems.is_empty() => Ok(Bundle {
            env: env.clone(),
            stacks,
            waves,
            bootstrap_sql,
            setup_sql,
            models,
            checks,
            dashboard,
        }),
        _ => Err(fail(problems)),
    }
}
