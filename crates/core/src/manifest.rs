//! The on-disk form of a [`Bundle`]: `stacks/<stack>.yaml`,
//! `sql/NNN_<schema>.<model>.sql` (names sort in DAG order), `dashboard.json`
//! and `manifest.json` with the sha256 of each file. Same bundle, same bytes.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::hash::sha256_hex;

pub(crate) const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub env: String,
    pub account_id: String,
    pub region: String,
    pub dialect: String,
    pub stacks: Vec<ManifestStack>,
    pub sql: Vec<ManifestSql>,
    pub dashboard: ManifestFile,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ManifestStack {
    pub name: String,
    pub stack_name: String,
    pub wave: usize,
    pub file: String,
    pub sha256: String,
    pub parameters: BTreeMap<String, String>,
    pub artifacts: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ManifestSql {
    /// None for the setup file.
    pub model: Option<String>,
    pub materialized: Option<String>,
    pub depends_on: Vec<String>,
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("refusing to render into {0}: it is the project directory; choose a separate --out directory")]
    IntoProject(PathBuf),
    #[error("refusing to render through {0}: it is a symbolic link; render writes and cleans only real folders and files (pass the folder it points to as --out, or remove the link)")]
    Link(PathBuf),
}

/// Whether `path` itself is a symbolic link (not followed).
fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The first symbolic link among `out` and the folders between it and
/// `relative` (the file itself included): writing or removing there would
/// follow it out of `out`.
fn link_on_the_way(out: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = out.to_path_buf();
    if is_link(&path) {
        return Some(path);
    }
    for part in Path::new(relative).components() {
        path.push(part);
        if is_link(&path) {
            return Some(path);
        }
    }
    None
}

impl Bundle {
    /// Every file of the rendered env (relative path, content), manifest last.
    pub fn files(&self) -> (Vec<(String, String)>, Manifest) {
        let mut files = Vec::new();
        let mut stacks = Vec::new();
        for stack in &self.stacks {
            let file = format!("stacks/{}.yaml", stack.name);
            let wave = self
                .waves
                .iter()
                .position(|w| w.contains(&stack.name))
                .expect("every stack is in a wave");
            stacks.push(ManifestStack {
                name: stack.name.clone(),
                stack_name: stack.stack_name.clone(),
                wave,
                file: file.clone(),
                sha256: sha256_hex(stack.template.as_bytes()),
                parameters: stack
                    .parameters
                    .iter()
                    .map(|(p, o)| (p.clone(), format!("{}.{}", o.stack, o.output)))
                    .collect(),
                artifacts: stack.artifacts.clone(),
            });
            files.push((file, stack.template.clone()));
        }
        let mut sql = Vec::new();
        for (file, text) in [
            ("sql/000_bootstrap.sql", &self.bootstrap_sql),
            ("sql/000_setup.sql", &self.setup_sql),
        ] {
            sql.push(ManifestSql {
                model: None,
                materialized: None,
                depends_on: Vec::new(),
                file: file.into(),
                sha256: sha256_hex(text.as_bytes()),
            });
            files.push((file.into(), text.clone()));
        }
        for (i, model) in self.models.iter().enumerate() {
            let file = format!("sql/{:03}_{}.sql", i + 1, model.name);
            sql.push(ManifestSql {
                model: Some(model.name.clone()),
                materialized: Some(model.materialized.to_string()),
                depends_on: model.depends_on.clone(),
                file: file.clone(),
                sha256: sha256_hex(model.file_text().as_bytes()),
            });
            files.push((file, model.file_text()));
        }
        let dashboard = serde_json::to_string_pretty(&self.dashboard)
            .expect("the definition serializes")
            + "\n";
        let dashboard_file = ManifestFile {
            file: "dashboard.json".into(),
            sha256: sha256_hex(dashboard.as_bytes()),
        };
        files.push((dashboard_file.file.clone(), dashboard));
        let manifest = Manifest {
            env: self.env.name.clone(),
            account_id: self.env.settings.account_id.clone(),
            region: self.env.settings.region.clone(),
            dialect: self.env.dialect().to_string(),
            stacks,
            sql,
            dashboard: dashboard_file,
        };
        (files, manifest)
    }

    /// Writes the bundle under `out`, removing files a previous render there
    /// listed that this one no longer has (and nothing else).
    pub fn write(&self, out: &Path, project_dir: &Path) -> Result<Manifest, WriteError> {
        if same_dir(out, project_dir) {
            return Err(WriteError::IntoProject(out.to_path_buf()));
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WriteError::Io { path, source }
        };
        let (files, manifest) = self.files();
        if let Some(link) = std::iter::once(MANIFEST_FILE)
            .chain(files.iter().map(|(f, _)| f.as_str()))
            .find_map(|relative| link_on_the_way(out, relative))
        {
            return Err(WriteError::Link(link));
        }
        let manifest_path = out.join(MANIFEST_FILE);
        if let Some(previous) = std::fs::read(&manifest_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
        {
            let previous_files = previous
                .stacks
                .iter()
                .map(|s| &s.file)
                .chain(previous.sql.iter().map(|s| &s.file));
            for stale in previous_files {
                if is_plain_relative(stale) && !files.iter().any(|(f, _)| f == stale) {
                    if let Some(link) = link_on_the_way(out, stale) {
                        return Err(WriteError::Link(link));
                    }
                    let path = out.join(stale);
                    // Only a regular file is removed.
                    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
                        std::fs::remove_file(&path).map_err(io(&path))?;
                    }
                }
            }
        }
        for (relative, content) in &files {
            let path = out.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, content).map_err(io(&path))?;
        }
        let json = serde_json::to_string_pretty(&manifest).expect("manifest serializes") + "\n";
        std::fs::write(&manifest_path, json).map_err(io(&manifest_path))?;
        Ok(manifest)
    }
}

fn is_plain_relative(path: &str) -> bool {
    Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_on_the_way_are_found_without_following_them() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir_all(out.join("stacks")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        assert_eq!(link_on_the_way(&out, "stacks/a.yaml"), None);
        std::os::unix::fs::symlink(&elsewhere, out.join("sql")).unwrap();
        assert_eq!(
            link_on_the_way(&out, "sql/001_a.sql"),
            Some(out.join("sql"))
        );
        std::os::unix::fs::symlink(elsewhere.join("x"), out.join("stacks/b.yaml")).unwrap();
        assert_eq!(
            link_on_the_way(&out, "stacks/b.yaml"),
            Some(out.join("stacks/b.yaml"))
        );
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        assert_eq!(link_on_the_way(&link, "stacks/a.yaml"), Some(link.clone()));
    }

    #[test]
    fn only_plain_relative_paths_are_removed() {
        assert!(is_plain_relative("sql/001_a.sql"));
        assert!(!is_plain_relative("../x"));
        assert!(!is_plain_relative("/etc/passwd"));
    }
}
