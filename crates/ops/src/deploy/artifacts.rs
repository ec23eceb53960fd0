//! Artifacts the stacks need (the ingest Lambda's zip): packed as a
//! deterministic zip (sorted entries, fixed timestamps and modes, so the same
//! files give the same bytes) and stored under a content-addressed key, so
//! an unchanged artifact is neither uploaded again nor changes a template.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

use super::api::{AwsResult, ObjectStore};
use pricewatch_core::bundle::Bundle;

/// A packaged artifact, ready to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub name: String,
    pub sha256: String,
    /// `artifacts/<name>/<sha256>.zip`
    pub key: String,
    pub zip: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifact `{name}` is missing: no files in {dir} ({hint})")]
    Missing {
        name: String,
        dir: PathBuf,
        hint: String,
    },
    #[error("cannot read artifact `{name}` from {path}: {source}")]
    Io {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The operator Lambda runs `pricewatch run` in AWS: it renders the env
/// itself, from these project folders packed under `project/` beside its
/// binary, so it always runs the models and checks that were deployed.
pub(crate) const OPERATOR_ARTIFACT: &str = "operator-lambda";
pub(crate) const PROJECT_FOLDERS: [&str; 3] = ["environments", "sql", "templates"];

/// Packs every artifact the bundle's stacks need from `<dir>/<name>/`
/// (the operator's also gets the project folders of `project_dir`).
pub fn collect(
    bundle: &Bundle,
    dir: &Path,
    project_dir: &Path,
) -> Result<BTreeMap<String, Artifact>, ArtifactError> {
    let mut artifacts = BTreeMap::new();
    for name in bundle.stacks.iter().flat_map(|s| s.artifacts.values()) {
        if !artifacts.contains_key(name) {
            let mut extra = Vec::new();
            if name == OPERATOR_ARTIFACT {
                for folder in PROJECT_FOLDERS {
                    let files = list_files(name, &project_dir.join(folder))?;
                    extra.extend(
                        files
                            .into_iter()
                            .map(|(relative, path)| (format!("project/{folder}/{relative}"), path)),
                    );
                }
            }
            artifacts.insert(name.clone(), package(name, &dir.join(name), extra)?);
        }
    }
    Ok(artifacts)
}

/// Zips the files of one artifact directory, plus `extra` (path in the
/// zip, file), deterministically.
pub(crate) fn package(
    name: &str,
    dir: &Path,
    extra: Vec<(String, PathBuf)>,
) -> Result<Artifact, ArtifactError> {
    let mut files = list_files(name, dir)?;
    if files.is_empty() {
        return Err(ArtifactError::Missing {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            hint: build_hint(name),
        });
    }
    files.extend(extra);
    files.sort();
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    for (relative, path) in &files {
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Io {
            name: name.to_string(),
            path: path.clone(),
            source,
        })?;
        let executable = is_executable(path);
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(if executable { 0o755 } else { 0o644 });
        zip.start_file(relative.as_str(), options)
            .expect("zip entry starts");
        zip.write_all(&bytes).expect("zip writes to memory");
    }
    zip.finish().expect("zip finishes in memory");
    let bytes = buffer.into_inner();
    let sha256 = pricewatch_core::hash::sha256_hex(&bytes);
    Ok(Artifact {
        name: name.to_string(),
        key: format!("artifacts/{name}/{sha256}.zip"),
        sha256,
        zip: bytes,
    })
}

fn build_hint(name: &str) -> String {
    match name {
        "ingest-lambda" | OPERATOR_ARTIFACT => {
            "build the Lambdas into it first: scripts/build-lambda.sh (their `bootstrap` binaries)"
                .into()
        }
        _ => "put the artifact's files there first".into(),
    }
}

fn list_files(name: &str, dir: &Path) -> Result<Vec<(String, PathBuf)>, ArtifactError> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|source| ArtifactError::Io {
            name: name.to_string(),
            path: current.clone(),
            source,
        })?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .expect("listed under dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((relative, path));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// Uploads an artifact unless its content-addressed key is already there.
/// Returns whether it uploaded.
pub(crate) async fn upload(
    store: &impl ObjectStore,
    bucket: &str,
    artifact: &Artifact,
) -> AwsResult<bool> {
    if store.exists(bucket, &artifact.key).await? {
        return Ok(false);
    }
    store
        .put(
            bucket,
            &artifact.key,
            artifact.zip.clone(),
            "application/zip",
        )
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8], mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn same_files_give_the_same_zip_whatever_their_timestamps() {
        let a = tempfile::tempdir().unwrap();
        write(a.path(), "bootstrap", b"binary", 0o755);
        write(a.path(), "lib/data.txt", b"data", 0o644);
        let first = package("x", a.path(), Vec::new()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = tempfile::tempdir().unwrap();
        write(b.path(), "lib/data.txt", b"data", 0o644);
        write(b.path(), "bootstrap", b"binary", 0o755);
        let second = package("x", b.path(), Vec::new()).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.key, format!("artifacts/x/{}.zip", first.sha256));

        write(b.path(), "bootstrap", b"binary v2", 0o755);
        assert_ne!(
            package("x", b.path(), Vec::new()).unwrap().sha256,
            first.sha256
        );
    }

    #[test]
    fn the_zip_keeps_the_executable_bit() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bootstrap", b"binary", 0o755);
        let artifact = package("x", dir.path(), Vec::new()).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(artifact.zip)).unwrap();
        let entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().unwrap() & 0o777, 0o755);
    }

    #[test]
    fn extra_files_join_the_zip_in_order() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bin/bootstrap", b"binary", 0o755);
        write(
            dir.path(),
            "project/environments/local.yaml",
            b"region: x",
            0o644,
        );
        let artifact = package(
            "operator-lambda",
            &dir.path().join("bin"),
            vec![(
                "project/environments/local.yaml".into(),
                dir.path().join("project/environments/local.yaml"),
            )],
        )
        .unwrap();
        let archive = zip::ZipArchive::new(std::io::Cursor::new(artifact.zip)).unwrap();
        let names: Vec<&str> = archive.file_names().collect();
        assert_eq!(names, vec!["bootstrap", "project/environments/local.yaml"]);
    }

    #[test]
    fn a_missing_artifact_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = package(
            "ingest-lambda",
            &dir.path().join("ingest-lambda"),
            Vec::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("bootstrap"), "{err}");
    }
}
