//! Rendering: the one Tera instance with pricewatch's functions, the
//! context an env gives every template, and the renders of stacks, models
//! and the other templates. [`crate::bundle::build`] puts them together
//! with the checks and the dashboard; nothing here reads a file.

pub mod cfn;
mod columns;
mod functions;
mod generated;
pub mod incremental;
pub mod sql;
pub(crate) mod stacks;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tera::{Context, Tera};

use crate::config::{Environment, SourceModels};
use crate::dashboard::definition;
use crate::diag::Problem;
use crate::ingest::records::SourceConfig;
use crate::model::Model;
use crate::project::{ModelFile, Project, BOOTSTRAP_TEMPLATE, SETUP_TEMPLATE};
pub(crate) use functions::{json_integer, json_text};
pub use stacks::RenderedStack;

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

#[derive(Serialize)]
struct Source<'s> {
    name: &'s str,
    /// Its models are generated (silver.quarantine adds its invalid rows).
    generated: bool,
    validated_model: String,
    bronze_model: String,
    logical: String,
    stream: String,
    /// `provisioned` or `on_demand` (`streams.sources.<name>` or the env's).
    mode: crate::config::StreamMode,
    shards: Option<u32>,
}

/// The project's templates in one Tera instance, with an env's context.
pub(crate) struct Renderer<'p> {
    tera: Tera,
    context: Context,
    recorder: functions::Recorder,
    project: &'p Project,
    env: &'p Environment,
    /// The project's models and those generated from the env's sources.
    models: Vec<ModelFile>,
}

impl<'p> Renderer<'p> {
    /// Registers pricewatch's functions and adds every template (a syntax
    /// error names its file).
    pub(crate) fn new(
        project: &'p Project,
        env: &'p Environment,
    ) -> Result<Renderer<'p>, Vec<Problem>> {
        let names = env.names();
        let dialect = env.dialect();
        let recorder = functions::Recorder::default();
        let mut tera = Tera::default();
        functions::register(&mut tera, dialect, &names, &recorder);
        let models = all_models(project, env)?;
        let mut templates: Vec<(String, &str)> = project
            .stack_templates
            .iter()
            .map(|(stack, text)| (stacks::template_name(stack), text.as_str()))
            .collect();
        templates.extend(models.iter().map(|m| (m.template.clone(), m.text.as_str())));
        templates.push((BOOTSTRAP_TEMPLATE.into(), &project.bootstrap_sql));
        templates.push((SETUP_TEMPLATE.into(), &project.setup_sql));
        templates.push((DASHBOARD_TEMPLATE.into(), &project.dashboard));
        let mut problems = Vec::new();
        for (name, text) in &templates {
            if let Err(e) = tera.add_raw_template(name, text) {
                problems.push(Problem::new(template_path(name), tera_message(&e)));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Renderer {
            tera,
            context: context(&models, env),
            recorder,
            project,
            env,
            models,
        })
    }

    /// Every model, rendered and in DAG order.
    pub(crate) fn models(&self) -> Result<Vec<Model>, Vec<Problem>> {
        sql::render_models(
            &self.tera,
            &self.context,
            &self.recorder,
            &self.models,
            self.env.dialect(),
        )
    }

    /// Adds a value every later render sees (e.g. the check alarms).
    pub(crate) fn insert(&mut self, key: &str, value: &impl Serialize) {
        self.context.insert(key, value);
    }

    /// Every stack template rendered, by stack name.
    pub(crate) fn stacks(&self) -> Result<BTreeMap<String, String>, Vec<Problem>> {
        let mut rendered = BTreeMap::new();
        let mut problems = Vec::new();
        for stack in self.project.stack_templates.keys() {
            let template = stacks::template_name(stack);
            match self.tera.render(&template, &self.context) {
                Ok(text) => {
                    rendered.insert(stack.clone(), text);
                }
                Err(e) => problems.push(Problem::new(template_path(&template), tera_message(&e))),
            }
        }
        if problems.is_empty() {
            Ok(rendered)
        } else {
            Err(problems)
        }
    }

    /// The dashboard template rendered (JSON text).
    pub(crate) fn dashboard(&self) -> Result<String, Problem> {
        self.tera
            .render(DASHBOARD_TEMPLATE, &self.context)
            .map_err(|e| Problem::new(definition::TEMPLATE, tera_message(&e)))
    }

    /// `sql/bootstrap.sql` or `sql/setup.sql` rendered.
    pub(crate) fn sql(&self, template: &str) -> Result<String, Problem> {
        self.tera
            .render(template, &self.context)
            .map(|text| text.trim().to_string() + "\n")
            .map_err(|e| Problem::new(format!("sql/{template}"), tera_message(&e)))
    }
}

/// What every template sees of the env.
fn context(models: &[ModelFile], env: &Environment) -> Context {
    let names = env.names();
    let dialect = env.dialect();
    let schemas: BTreeSet<&str> = models
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
        &serde_json::json!({
            "cell_bytes": crate::limits::MAX_CELL_BYTES,
            // A LIKE pattern matching a cell ingest cut: the marker holds
            // neither `%` nor `_`, so it matches only itself.
            "truncated_like": format!("%{}", crate::limits::TRUNCATED_MARKER),
        }),
    );
    context.insert(
        "retain_policy",
        if env.settings.deploy.retain_data {
            "Retain"
        } else {
            "Delete"
        },
    );
    let sources: Vec<Source> = env
        .settings
        .enabled_sources()
        .map(|(name, settings)| {
            let capacity = env.settings.streams.capacity(name);
            Source {
                name,
                generated: settings.models == SourceModels::Generated,
                validated_model: format!("silver.{name}_validated"),
                bronze_model: format!("bronze.{name}"),
                logical: crate::config::names::logical_id(name),
                stream: names
                    .stream(name)
                    .expect("every source has a stream")
                    .to_string(),
                mode: capacity.mode,
                shards: capacity.shards,
            }
        })
        .collect();
    context.insert("sources", &sources);
    // The ingest Lambda's source list (its PRICEWATCH_SOURCES).
    context.insert(
        "ingest_sources_json",
        &serde_json::to_string(&SourceConfig::enabled(&env.settings, &names))
            .expect("the source list serialises"),
    );
    context
}

/// The checks of the env's generated models (sql/checks.yaml's format),
/// if any source has them.
pub(crate) fn generated_checks(settings: &crate::config::Settings) -> Option<String> {
    generated::checks_yaml(settings.sources.iter().map(|(n, s)| (n.as_str(), s)))
}

/// Lambda keeps at most 4 KB of environment variables per function; the
/// ingest Lambda's other variables take well under 500 bytes.
const MAX_SOURCE_LIST_BYTES: usize = 3_500;

/// The project's models and the env's generated ones. A hand-written
/// source needs its `bronze.<name>` model; a generated one's models may
/// not take the name of one of the project's; the ingest Lambda's source
/// list must fit its environment.
fn all_models(project: &Project, env: &Environment) -> Result<Vec<ModelFile>, Vec<Problem>> {
    let mut problems = Vec::new();
    for (name, source) in env.settings.enabled_sources() {
        let bronze = format!("bronze.{name}");
        let written = project.models.iter().any(|m| m.name == bronze);
        if source.models == SourceModels::HandWritten && !written {
            problems.push(Problem::new(
                format!("sources.{name}"),
                format!("models: hand_written, but the project has no sql/bronze/{name}.sql; write it or drop `models` to have them generated"),
            ));
        }
    }
    let generated = generated::models(env.settings.sources.iter().map(|(n, s)| (n.as_str(), s)));
    for model in &generated {
        if project.models.iter().any(|m| m.name == model.name) {
            problems.push(Problem::new(
                format!("sql/{}", model.template),
                format!(
                    "{} is also generated for the source of that name; declare the source with `models: hand_written` or rename one",
                    model.name
                ),
            ));
        }
    }
    let list = SourceConfig::enabled(&env.settings, &env.names());
    let bytes = serde_json::to_string(&list)
        .expect("the source list serialises")
        .len();
    if bytes > MAX_SOURCE_LIST_BYTES {
        problems.push(Problem::new(
            "sources",
            format!(
                "the ingest Lambda's source list (PRICEWATCH_SOURCES) would be {bytes} bytes: Lambda holds at most 4 KB of environment variables, so at most {MAX_SOURCE_LIST_BYTES} for it; shorten column names, headers or URLs, or split sources over envs"
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(project.models.iter().cloned().chain(generated).collect())
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
