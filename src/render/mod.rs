//! Rendering: turns an [`Environment`] and the project's Tera templates into
//! a [`Bundle`] — every stack template (with its wiring and deploy waves),
//! the setup SQL and every SQL model in DAG order — and writes it to disk
//! with a manifest. Everything is checked on the way; no AWS call is made.

pub mod cfn;
mod columns;
mod functions;
mod manifest;
pub mod sql;
pub mod stacks;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};

use crate::checks::{self, Check};
use crate::config::{names::SOURCES, Environment};
use crate::dashboard::definition::{self, Definition};
use crate::plan::Waves;
pub use manifest::{sha256_hex, Manifest, WriteError};
pub use sql::{Materialization, Model};
pub use stacks::{OutputRef, RenderedStack};

/// One problem found while rendering or checking, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub location: String,
    pub message: String,
}

impl Problem {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
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

/// Tera's error plus its causes, which carry the template line.
pub(crate) fn tera_message(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
        .replace('\n', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

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

#[derive(Serialize)]
struct Source {
    name: &'static str,
    logical: String,
    stream: String,
}

/// Renders and checks every template and model of the project for `env`.
pub fn render(project_dir: &Path, env: &Environment) -> Result<Bundle, RenderError> {
    let fail = |problems: Vec<Problem>| RenderError {
        env: env.name.clone(),
        problems,
    };
    let names = env.names();
    let dialect = env.dialect();

    let wiring = stacks::load_wiring(project_dir).map_err(fail)?;
    let stack_files = stack_template_files(project_dir).map_err(fail)?;
    let model_files = sql::discover(&project_dir.join("sql")).map_err(fail)?;
    let mut problems =
        stacks::check_templates_match(&wiring, &stack_files.keys().cloned().collect());

    let recorder = functions::Recorder::default();
    let mut tera = Tera::default();
    functions::register(&mut tera, dialect, &names, &recorder);
    let mut templates: Vec<(String, String)> = stack_files
        .iter()
        .map(|(stack, text)| (stacks::template_name(stack), text.clone()))
        .collect();
    templates.extend(
        model_files
            .iter()
            .map(|m| (m.template.clone(), m.text.clone())),
    );
    for template in [sql::BOOTSTRAP_TEMPLATE, sql::SETUP_TEMPLATE] {
        let text =
            std::fs::read_to_string(project_dir.join("sql").join(template)).map_err(|e| {
                fail(vec![Problem::new(
                    format!("sql/{template}"),
                    format!("cannot read: {e}"),
                )])
            })?;
        templates.push((template.to_string(), text));
    }
    let dashboard_text =
        std::fs::read_to_string(project_dir.join(definition::TEMPLATE)).map_err(|e| {
            fail(vec![Problem::new(
                definition::TEMPLATE,
                format!("cannot read: {e}"),
            )])
        })?;
    templates.push((DASHBOARD_TEMPLATE.to_string(), dashboard_text));
    // Templates are added one by one so a syntax error names its file.
    for (name, text) in &templates {
        if let Err(e) = tera.add_raw_template(name, text) {
            problems.push(Problem::new(template_path(name), tera_message(&e)));
        }
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }

    let schemas: BTreeSet<&str> = model_files
        .iter()
        .filter_map(|m| m.name.split('.').next())
        .collect();
    let mut context = Context::new();
    context.insert("env", &env.name);
    context.insert("settings", &env.settings);
    context.insert("names", &names);
    context.insert("dialect", &dialect);
    context.insert("schemas", &schemas);
    // pricewatch's own schema holds the metadata; the reader sees no bronze.
    let owned_schemas: Vec<&str> = schemas
        .iter()
        .copied()
        .chain([crate::config::names::META_SCHEMA])
        .collect();
    context.insert("owned_schemas", &owned_schemas);
    context.insert("reader_schemas", &crate::config::names::READER_SCHEMAS);
    context.insert("roles", &names.roles(dialect));
    context.insert(
        "limits",
        &serde_json::json!({ "cell_bytes": crate::limits::MAX_CELL_BYTES }),
    );
    context.insert(
        "retain_policy",
        if env.settings.deploy.retain_data {
            "Retain"
        } else {
            "Delete"
        },
    );
    let sources: Vec<Source> = SOURCES
        .iter()
        .map(|name| Source {
            name,
            logical: capitalize(name),
            stream: names
                .stream(name)
                .expect("every source has a stream")
                .to_string(),
        })
        .collect();
    context.insert("sources", &sources);

    let models = sql::render_models(&tera, &context, &recorder, &model_files, dialect)
        .map_err(|found| problems.extend(found))
        .ok();
    // Checks need the models' columns; the monitoring stack renders their alarms.
    let checks = models.as_ref().and_then(|models| {
        let env_names = crate::config::Environments::new(project_dir)
            .list()
            .unwrap_or_default();
        checks::load(project_dir, &env.name, &env_names, models)
            .map_err(|found| problems.extend(found))
            .ok()
    });
    let alarms = checks::alarms::alarms(
        checks.as_deref().unwrap_or_default(),
        &env.name,
        &names.base,
    );
    context.insert("check_alarms", &alarms);
    let warn_alarms: Vec<checks::alarms::Alarm> = checks
        .iter()
        .flatten()
        .flat_map(|c| checks::alarms::warn_alarms(c, &env.name, &names.base))
        .collect();
    context.insert("check_warn_alarms", &warn_alarms);

    let mut rendered_stacks = BTreeMap::new();
    for stack in stack_files.keys() {
        match tera.render(&stacks::template_name(stack), &context) {
            Ok(text) => {
                rendered_stacks.insert(stack.clone(), text);
            }
            Err(e) => problems.push(Problem::new(
                template_path(&stacks::template_name(stack)),
                tera_message(&e),
            )),
        }
    }
    // The dashboard reads the models' columns, like the checks.
    let dashboard = models.as_ref().and_then(|models| {
        let rendered = tera
            .render(DASHBOARD_TEMPLATE, &context)
            .map_err(|e| problems.push(Problem::new(definition::TEMPLATE, tera_message(&e))))
            .ok()?;
        let parsed = definition::parse(&rendered)
            .map_err(|p| problems.push(p))
            .ok()?;
        let found = definition::check(&parsed, models);
        let ok = found.is_empty();
        problems.extend(found);
        ok.then_some(parsed)
    });
    let mut render_sql = |template: &str| {
        tera.render(template, &context)
            .map(|text| text.trim().to_string() + "\n")
            .map_err(|e| problems.push(Problem::new(format!("sql/{template}"), tera_message(&e))))
            .ok()
    };
    let bootstrap_sql = render_sql(sql::BOOTSTRAP_TEMPLATE);
    let setup_sql = render_sql(sql::SETUP_TEMPLATE);
    let wired = match stacks::analyze_all(rendered_stacks) {
        Ok(analyzed) => stacks::wire(&wiring, analyzed, |s| names.stack(s))
            .map_err(|found| problems.extend(found))
            .ok(),
        Err(found) => {
            problems.extend(found);
            None
        }
    };
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

/// `templates/stacks/<stack>.yaml.tera`, by stack name.
fn stack_template_files(project_dir: &Path) -> Result<BTreeMap<String, String>, Vec<Problem>> {
    let dir = project_dir.join("templates/stacks");
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        vec![Problem::new(
            "templates/stacks",
            format!("cannot read: {e}"),
        )]
    })?;
    let mut files = BTreeMap::new();
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name().to_string_lossy().to_string();
        if let Some(stack) = file_name.strip_suffix(".yaml.tera") {
            let text = std::fs::read_to_string(entry.path()).map_err(|e| {
                vec![Problem::new(
                    format!("templates/stacks/{file_name}"),
                    format!("cannot read: {e}"),
                )]
            })?;
            files.insert(stack.to_string(), text);
        }
    }
    Ok(files)
}

/// The dashboard template's name inside Tera.
const DASHBOARD_TEMPLATE: &str = "dashboard.json.tera";

/// The project-relative path of a Tera template name.
fn template_path(name: &str) -> String {
    if name == DASHBOARD_TEMPLATE {
        definition::TEMPLATE.to_string()
    } else if name.starts_with("stacks/") {
        format!("templates/{name}")
    } else {
        format!("sql/{name}")
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
