//! The project on disk, read once: the env files' names, the stack
//! templates and their wiring, the SQL models, the bootstrap and setup SQL,
//! the dashboard template and the checks. Every file read of a render
//! happens here; [`crate::bundle::build`] works on what was read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::checks::CHECKS_FILE;
use crate::config::Environments;
use crate::dashboard::definition;
use crate::diag::Problem;

/// The stacks and their wiring (which output feeds which parameter).
pub(crate) const WIRING_FILE: &str = "templates/stacks.yaml";
/// `sql/bootstrap.sql`: what an administrator runs once per warehouse.
pub(crate) const BOOTSTRAP_TEMPLATE: &str = "bootstrap.sql";
/// `sql/setup.sql`: what `sql apply` runs as the owner before the models.
pub(crate) const SETUP_TEMPLATE: &str = "setup.sql";

/// Everything a render reads, as text.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    /// The env names (`environments/<name>.yaml`).
    pub(crate) env_names: Vec<String>,
    /// `templates/stacks.yaml`.
    pub(crate) wiring: String,
    /// `templates/stacks/<stack>.yaml.tera`, by stack name.
    pub(crate) stack_templates: BTreeMap<String, String>,
    /// `sql/<schema>/<name>.sql`, by model name.
    pub models: Vec<ModelFile>,
    pub bootstrap_sql: String,
    pub setup_sql: String,
    /// `templates/dashboard.json.tera`.
    pub dashboard: String,
    /// `sql/checks.yaml`; None when the project has no checks.
    pub checks: Option<String>,
}

impl Project {
    /// Reads the project in `dir`; every unreadable file is named.
    pub fn load(dir: &Path) -> Result<Project, Vec<Problem>> {
        let read = |relative: &str| {
            std::fs::read_to_string(dir.join(relative))
                .map_err(|e| Problem::new(relative, format!("cannot read: {e}")))
        };
        let mut problems = Vec::new();
        let mut text = |relative: &str| {
            read(relative)
                .map_err(|p| problems.push(p))
                .unwrap_or_default()
        };
        let wiring = text(WIRING_FILE);
        let bootstrap_sql = text(&format!("sql/{BOOTSTRAP_TEMPLATE}"));
        let setup_sql = text(&format!("sql/{SETUP_TEMPLATE}"));
        let dashboard = text(definition::TEMPLATE);
        let checks = match std::fs::read_to_string(dir.join(CHECKS_FILE)) {
            Ok(text) => Some(text),
            // A project without checks has none (and no check alarms).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                problems.push(Problem::new(CHECKS_FILE, format!("cannot read: {e}")));
                None
            }
        };
        let stack_templates = stack_templates(dir)
            .map_err(|p| problems.extend(p))
            .unwrap_or_default();
        let models = discover(&dir.join("sql"))
            .map_err(|p| problems.extend(p))
            .unwrap_or_default();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Project {
            dir: dir.to_path_buf(),
            env_names: Environments::new(dir).list().unwrap_or_default(),
            wiring,
            stack_templates,
            models,
            bootstrap_sql,
            setup_sql,
            dashboard,
            checks,
        })
    }
}

/// `templates/stacks/<stack>.yaml.tera`, by stack name.
fn stack_templates(project_dir: &Path) -> Result<BTreeMap<String, String>, Vec<Problem>> {
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

/// A model template found on disk.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub name: String,
    /// Name of the template inside Tera: `silver/products.sql`.
    pub template: String,
    pub text: String,
    /// Where it comes from, for messages and the catalog:
    /// `sql/silver/products.sql`, or the source declaration it is
    /// generated from.
    pub source: String,
}

/// Finds `sql/<schema>/<name>.sql`; the directory is the schema.
pub(crate) fn discover(sql_dir: &Path) -> Result<Vec<ModelFile>, Vec<Problem>> {
    let read_dir = |dir: &Path| {
        std::fs::read_dir(dir).map_err(|e| {
            vec![Problem::new(
                dir.display().to_string(),
                format!("cannot read: {e}"),
            )]
        })
    };
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for schema_entry in read_dir(sql_dir)?.filter_map(Result::ok) {
        if !schema_entry.path().is_dir() {
            continue;
        }
        let schema = schema_entry.file_name().to_string_lossy().to_string();
        for entry in read_dir(&schema_entry.path())?.filter_map(Result::ok) {
            let file_name = entry.file_name().to_string_lossy().to_string();
            let Some(stem) = file_name.strip_suffix(".sql") else {
                continue;
            };
            let template = format!("{schema}/{file_name}");
            if !is_identifier(&schema) || !is_identifier(stem) {
                problems.push(Problem::new(
                    format!("sql/{template}"),
                    "model schema and file names must be lowercase identifiers (a-z, 0-9, _)",
                ));
                continue;
            }
            match std::fs::read_to_string(entry.path()) {
                Ok(text) => files.push(ModelFile {
                    name: format!("{schema}.{stem}"),
                    source: format!("sql/{template}"),
                    template,
                    text,
                }),
                Err(e) => problems.push(Problem::new(
                    format!("sql/{template}"),
                    format!("cannot read: {e}"),
                )),
            }
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    if files.is_empty() {
        problems.push(Problem::new(
            "sql/",
            "no models found (expected sql/<schema>/<name>.sql)",
        ));
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
