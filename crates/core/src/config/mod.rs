//! Environments: loads `environments/defaults.yaml` deep-merged with
//! `environments/<env>.yaml` into a validated [`Environment`]. Every problem
//! is reported with its file, line and key, all of them at once.

mod lines;
mod merge;
pub mod model;
pub mod names;
pub(crate) mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use crate::diag::Problem;

pub(crate) use lines::LineIndex;
pub use model::*;
pub use names::Names;

const DEFAULTS_FILE: &str = "defaults.yaml";

/// A validated environment, the input of every command.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub settings: Settings,
}

impl Environment {
    pub fn names(&self) -> Names {
        Names::new(&self.name, &self.settings)
    }

    pub fn dialect(&self) -> Dialect {
        match self.settings.warehouse.engine {
            WarehouseEngine::RedshiftServerless => Dialect::Redshift,
            WarehouseEngine::Postgres => Dialect::Postgres,
        }
    }
}

/// The SQL dialect an environment's warehouse speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Redshift,
    Postgres,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Redshift => "redshift",
            Dialect::Postgres => "postgres",
        })
    }
}

/// One problem in one config file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigIssue {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown environment `{name}`; environments in {dir}: {}", list_or_none(.available))]
    UnknownEnv {
        name: String,
        dir: PathBuf,
        available: Vec<String>,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", render_issues(.0))]
    Invalid(Vec<ConfigIssue>),
}

impl ConfigError {
    /// Unknown environments are usage errors; broken config files are not.
    pub fn is_usage(&self) -> bool {
        matches!(self, ConfigError::UnknownEnv { .. })
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none (add environments/<env>.yaml)".into()
    } else {
        names.join(", ")
    }
}

fn render_issues(issues: &[ConfigIssue]) -> String {
    let noun = if issues.len() == 1 {
        "problem"
    } else {
        "problems"
    };
    let mut text = format!("invalid configuration ({} {noun}):", issues.len());
    for issue in issues {
        text.push_str(&format!("\n  {issue}"));
    }
    text
}

/// The environments directory of a project.
pub struct Environments {
    dir: PathBuf,
}

/// How config files are named in messages: relative to the project.
const ENV_DIR: &str = "environments";

impl Environments {
    pub fn new(project_dir: &Path) -> Environments {
        Environments {
            dir: project_dir.join(ENV_DIR),
        }
    }

    /// Env names: every `*.yaml` file but the defaults, sorted.
    pub fn list(&self) -> Result<Vec<String>, ConfigError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| ConfigError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".yaml")?;
                (name != DEFAULTS_FILE).then(|| stem.to_string())
            })
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn load(&self, name: &str) -> Result<Environment, ConfigError> {
        let available = self.list()?;
        if !available.iter().any(|n| n == name) {
            return Err(ConfigError::UnknownEnv {
                name: name.to_string(),
                dir: self.dir.clone(),
                available,
            });
        }
        let defaults = self.read(DEFAULTS_FILE)?;
        let env_file = self.read(&format!("{name}.yaml"))?;
        let env = load_from(name, &defaults, &env_file)?;
        let others = self.bases(&defaults, &available);
        match validate::env_name_clash(name, &env.names().base, &others) {
            Some(clash) => Err(ConfigError::Invalid(vec![env_file.issue("", clash)])),
            None => Ok(env),
        }
    }

    /// Each env's resource-name base (`<stack_prefix>-<env>`), read from
    /// its file's own `stack_prefix` or the defaults'; an env whose file
    /// does not parse is left out (its own load reports it).
    fn bases(&self, defaults: &SourceFile, envs: &[String]) -> Vec<(String, String)> {
        let prefix_of = |file: &SourceFile| -> Option<String> {
            let value = file.parse_mapping().ok()?;
            value.get("stack_prefix")?.as_str().map(str::to_string)
        };
        let default_prefix = prefix_of(defaults).unwrap_or_default();
        envs.iter()
            .filter_map(|env| {
                let file = self.read(&format!("{env}.yaml")).ok()?;
                let prefix = prefix_of(&file).unwrap_or_else(|| default_prefix.clone());
                Some((env.clone(), names::base(&prefix, env)))
            })
            .collect()
    }

    fn read(&self, file_name: &str) -> Result<SourceFile, ConfigError> {
        let path = self.dir.join(file_name);
        let text =
            std::fs::read_to_string(&path).map_err(|source| ConfigError::Io { path, source })?;
        Ok(SourceFile::from_text(
            Path::new(ENV_DIR).join(file_name),
            text,
        ))
    }
}

/// A config file's project-relative path, text and key→line index.
struct SourceFile {
    path: PathBuf,
    text: String,
    lines: LineIndex,
}

impl SourceFile {
    fn from_text(path: PathBuf, text: String) -> SourceFile {
        let lines = LineIndex::build(&text);
        SourceFile { path, text, lines }
    }

    fn issue(&self, key: &str, message: impl Into<String>) -> ConfigIssue {
        ConfigIssue {
            file: self.path.clone(),
            line: self.lines.line_of(key),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Parses the file as a YAML mapping, or says why it is not one.
    fn parse_mapping(&self) -> Result<Value, ConfigIssue> {
        let value: Value = serde_yaml_ng::from_str(&self.text).map_err(|e| ConfigIssue {
            file: self.path.clone(),
            line: e.location().map(|l| l.line()),
            key: String::new(),
            message: format!("YAML syntax error: {}", strip_location(&e.to_string())),
        })?;
        match value {
            Value::Mapping(_) => Ok(value),
            Value::Null => Err(self.issue("", "the file is empty; it must be a YAML mapping")),
            _ => Err(self.issue("", "the top level must be a YAML mapping of keys")),
        }
    }
}

fn strip_location(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

fn load_from(
    name: &str,
    defaults: &SourceFile,
    env_file: &SourceFile,
) -> Result<Environment, ConfigError> {
    let mut issues = Vec::new();
    if !validate::is_name(name, validate::MAX_ENV_NAME_LEN) {
        issues.push(env_file.issue(
            "",
            format!(
                "the env name `{name}` (from the file name) must be 2-{} characters of a-z, 0-9 and single hyphens",
                validate::MAX_ENV_NAME_LEN
            ),
        ));
    }
    let base = defaults.parse_mapping().map_err(|i| issues.push(i)).ok();
    let overlay = env_file.parse_mapping().map_err(|i| issues.push(i)).ok();
    if let Some(overlay) = &overlay {
        for key in ["account_id", "region"] {
            if overlay.get(key).is_none() {
                issues.push(env_file.issue(
                    key,
                    format!("missing; every env file states its own `{key}` at the top level"),
                ));
            }
        }
    }
    let (Some(base), Some(overlay)) = (base, overlay) else {
        return Err(ConfigError::Invalid(issues));
    };

    for (file, value) in [(defaults, &base), (env_file, &overlay)] {
        let mut secrets = Vec::new();
        validate::find_secrets(value, "", &mut secrets);
        issues.extend(
            secrets
                .into_iter()
                .map(|p| file.issue(&p.location, p.message)),
        );
    }

    let blame = |key: &str, message: String| -> ConfigIssue {
        let file = if env_file.lines.contains(key) || !defaults.lines.contains(key) {
            env_file
        } else {
            defaults
        };
        file.issue(key, message)
    };

    let Deserialized {
        settings,
        mut problems,
    } = deserialize_all(merge::deep_merge(base, overlay));
    if let Some(settings) = &settings {
        // Rules on placeholder values would only repeat a schema problem.
        let patched: Vec<String> = problems.iter().map(|p| p.location.clone()).collect();
        problems.extend(
            validate::check_settings(settings)
                .into_iter()
                .filter(|problem| {
                    let key = &problem.location;
                    !patched
                        .iter()
                        .any(|p| key == p || key.starts_with(&format!("{p}.")))
                }),
        );
    }
    for Problem {
        location: key,
        message,
    } in problems
    {
        // The env file's own "missing account_id" already covers serde's.
        if !issues.iter().any(|i| i.key == key) {
            issues.push(blame(&key, message));
        }
    }
    issues.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    match settings {
        Some(settings) if issues.is_empty() => Ok(Environment {
            name: name.to_string(),
            settings,
        }),
        _ => Err(ConfigError::Invalid(issues)),
    }
}

/// The outcome of deserializing the merged config.
struct Deserialized {
    /// The settings, with unknown keys removed and mistyped values replaced
    /// by placeholders when there were schema problems.
    settings: Option<Settings>,
    problems: Vec<Problem>,
}

/// Deserializes the merged config, collecting every schema error: after an
/// error, an unknown key is removed and a mistyped value is replaced by a
/// placeholder of a fitting type, and deserialization is retried.
fn deserialize_all(mut merged: Value) -> Deserialized {
    const MAX_ERRORS: usize = 50;
    let mut problems: Vec<Problem> = Vec::new();
    // The key being patched and which placeholder is tried next.
    let mut patching: Option<(String, usize)> = None;
    loop {
        let error = match serde_path_to_error::deserialize::<_, Settings>(merged.clone()) {
            Ok(settings) => {
                return Deserialized {
                    settings: Some(settings),
                    problems,
                }
            }
            Err(error) => error,
        };
        let key = path_string(error.path());
        let message = error.inner().to_string();
        if let Some(field) = missing_field(&message) {
            // An env file overrides sources key by key; one that names a
            // source the defaults do not declare declares a new one.
            let message = match key.strip_prefix("sources.") {
                Some(source) if !source.contains('.') => format!(
                    "missing; a source is declared whole (url, key, columns) — if `{source}` was meant to override one in environments/defaults.yaml, that file does not declare it"
                ),
                _ => "missing; this key is required".into(),
            };
            problems.push(Problem::new(join_key(&key, field), message));
            return Deserialized {
                settings: None,
                problems,
            };
        }
        let attempt = match &mut patching {
            Some((patched, attempt)) if *patched == key => {
                *attempt += 1;
                *attempt
            }
            _ => {
                problems.push(Problem::new(key.clone(), friendly(&message)));
                patching = Some((key.clone(), 0));
                0
            }
        };
        let patched = if message.starts_with("unknown field") {
            remove_path(&mut merged, error.path())
        } else {
            match placeholders(&message).into_iter().nth(attempt) {
                Some(placeholder) => replace_path(&mut merged, error.path(), placeholder),
                None => false,
            }
        };
        if !patched || problems.len() >= MAX_ERRORS {
            return Deserialized {
                settings: None,
                problems,
            };
        }
    }
}

/// Values to try in place of a mistyped one so the rest can be checked.
fn placeholders(message: &str) -> Vec<Value> {
    let mut values = Vec::new();
    if let Some((_, expected)) = message.split_once("expected one of `") {
        let variant = expected.split('`').next().unwrap_or_default();
        values.push(Value::String(variant.to_string()));
    }
    values.extend([
        Value::Number(0.into()),
        Value::String(String::new()),
        Value::Bool(false),
        Value::Sequence(Vec::new()),
        Value::Mapping(Default::default()),
        Value::Null,
    ]);
    values
}

fn join_key(parent: &str, field: &str) -> String {
    if parent.is_empty() || parent == "." {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

pub(crate) fn path_string(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            serde_path_to_error::Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// serde's messages are precise but terse; keep them, minus noise.
fn friendly(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("");
        let expected = rest.split_once("expected ").map(|(_, e)| e).unwrap_or("");
        return format!("unknown key `{field}` (expected {expected})");
    }
    message.to_string()
}

/// Removes the key at `path` from the merged tree; false if not found.
fn remove_path(root: &mut Value, path: &serde_path_to_error::Path) -> bool {
    let segments: Vec<_> = path.iter().collect();
    let Some((serde_path_to_error::Segment::Map { key }, parents)) = segments.split_last() else {
        return false;
    };
    match value_at(root, parents) {
        Some(Value::Mapping(map)) => map.remove(key.as_str()).is_some(),
        _ => false,
    }
}

/// Replaces the value at `path`; false if not found.
fn replace_path(root: &mut Value, path: &serde_path_to_error::Path, value: Value) -> bool {
    let segments: Vec<_> = path.iter().collect();
    match value_at(root, &segments) {
        Some(slot) => {
            *slot = value;
            true
        }
        None => false,
    }
}

fn value_at<'v>(
    mut node: &'v mut Value,
    segments: &[&serde_path_to_error::Segment],
) -> Option<&'v mut Value> {
    for segment in segments {
        node = match segment {
            serde_path_to_error::Segment::Map { key } => node.get_mut(key.as_str())?,
            serde_path_to_error::Segment::Seq { index } => node.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests;
