//! Output folders that `report` and `docs` share with their user: a
//! command writes its files through a marker listing exactly the files it
//! wrote, and on the next run deletes only those it no longer writes. It
//! never deletes or overwrites anything else, never writes through a
//! symbolic link, and refuses a folder that is a link, a non-empty folder
//! without its marker, and a marker it cannot read as its own.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// What the marker file holds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Marker {
    written_by: String,
    files: Vec<String>,
}

/// An output folder of one command.
pub(crate) struct OwnedDir {
    dir: PathBuf,
    marker: &'static str,
    /// `pricewatch report`, `pricewatch docs`.
    command: &'static str,
    /// The files the previous run listed (none for a new folder).
    previous: Vec<String>,
}

/// A file the folder may hold: one plain name, no separators.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && Path::new(name).components().count() == 1
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

impl OwnedDir {
    /// Checks `dir` before anything is read or written.
    pub(crate) fn open(
        dir: &Path,
        marker: &'static str,
        command: &'static str,
    ) -> anyhow::Result<OwnedDir> {
        let shown = dir.display();
        if is_link(dir) {
            anyhow::bail!(
                "{shown} is a symbolic link: {command} writes only into a real folder; pass the folder it points to as --out"
            );
        }
        let mut previous = Vec::new();
        match std::fs::read_dir(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
            Ok(mut entries) => {
                let marker_path = dir.join(marker);
                if std::fs::symlink_metadata(&marker_path).is_ok() {
                    previous = Self::read_marker(&marker_path, command)?;
                } else if entries.next().is_some() {
                    anyhow::bail!(
                        "{shown} is not empty and holds no earlier output of {command} ({marker}): choose another --out or empty it"
                    );
                }
            }
        }
        Ok(OwnedDir {
            dir: dir.to_path_buf(),
            marker,
            command,
            previous,
        })
    }

    /// The files an earlier run wrote, from a marker it wrote itself.
    fn read_marker(path: &Path, command: &str) -> anyhow::Result<Vec<String>> {
        let refuse = |why: &str| {
            anyhow::anyhow!(
                "{} {why}, so {command} did not write it: remove it (and the files you know {command} wrote) or choose another --out",
                path.display()
            )
        };
        if is_link(path) || !path.is_file() {
            return Err(refuse("is not a regular file"));
        }
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let marker: Marker = serde_json::from_slice(&text)
            .map_err(|_| refuse("does not hold the list of files it wrote"))?;
        if marker.written_by != command {
            return Err(refuse(&format!(
                "names `{}` as its writer",
                marker.written_by
            )));
        }
        if let Some(bad) = marker.files.iter().find(|f| !is_plain_name(f)) {
            return Err(refuse(&format!(
                "lists `{bad}`, which is not a file name of this folder"
            )));
        }
        Ok(marker.files)
    }

    /// Writes `files` (name, content), then removes the files of the
    /// previous run this one no longer writes. A file that exists but was
    /// not written by the previous run is never overwritten.
    pub(crate) fn write(&self, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
        let context = || format!("cannot write to {}", self.dir.display());
        for (name, _) in files {
            assert!(is_plain_name(name), "{name} is one file name");
            let path = self.dir.join(name);
            if is_link(&path) {
                anyhow::bail!(
                    "{} is a symbolic link: {} does not write through links; remove it",
                    path.display(),
                    self.command
                );
            }
            if path.exists() && !self.previous.contains(name) {
                anyhow::bail!(
                    "{} exists and was not written by {}: move it away or choose another --out",
                    path.display(),
                    self.command
                );
            }
        }
        std::fs::create_dir_all(&self.dir).with_context(context)?;
        // The marker first, listing both runs' files: an interrupted run
        // leaves a marker that still covers everything it may have written.
        let mut listed: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let stale: Vec<&String> = self
            .previous
            .iter()
            .filter(|p| !listed.contains(p))
            .collect();
        let mut during = listed.clone();
        during.extend(stale.iter().map(|s| s.to_string()));
        self.write_marker(during)?;
        for (name, content) in files {
            std::fs::write(self.dir.join(name), content).with_context(context)?;
        }
        for name in stale {
            let path = self.dir.join(name);
            // Only a regular file is removed; a link is never followed.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
                std::fs::remove_file(&path).with_context(context)?;
            }
        }
        listed.sort();
        self.write_marker(listed)
    }

    fn write_marker(&self, files: Vec<String>) -> anyhow::Result<()> {
        let marker = Marker {
            written_by: self.command.to_string(),
            files,
        };
        let path = self.dir.join(self.marker);
        let json = serde_json::to_string_pretty(&marker).expect("the marker serializes") + "\n";
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: &str = ".pricewatch-test";
    const COMMAND: &str = "pricewatch report";

    fn files(names: &[&str]) -> Vec<(String, Vec<u8>)> {
        names
            .iter()
            .map(|n| (n.to_string(), format!("page {n}").into_bytes()))
            .collect()
    }

    fn write(dir: &Path, names: &[&str]) -> anyhow::Result<()> {
        OwnedDir::open(dir, MARKER, COMMAND)?.write(&files(names))
    }

    #[test]
    fn a_rerun_keeps_the_users_files_and_removes_only_its_own_stale_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        write(&dir, &["index.html", "old.html"]).unwrap();
        std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
        write(&dir, &["index.html", "new.html"]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
            "keep me"
        );
        assert!(!dir.join("old.html").exists());
        assert!(dir.join("new.html").exists());
        // A file of the user's under a name the command now wants is refused.
        std::fs::write(dir.join("extra.html"), "mine").unwrap();
        let err = write(&dir, &["index.html", "extra.html"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("was not written by pricewatch report"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("extra.html")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn foreign_folders_and_planted_markers_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let foreign = tmp.path().join("foreign");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("a.txt"), "a").unwrap();
        let err = write(&foreign, &["index.html"]).unwrap_err().to_string();
        assert!(err.contains("is not empty"), "{err}");
        for planted in [
            "",
            "written by `pricewatch report`; the next run replaces this directory\n",
            r#"{"written_by": "pricewatch docs", "files": ["a.txt"]}"#,
            r#"{"written_by": "pricewatch report", "files": ["../a.txt"]}"#,
        ] {
            std::fs::write(foreign.join(MARKER), planted).unwrap();
            let err = write(&foreign, &["index.html"]).unwrap_err().to_string();
            assert!(err.contains("did not write it"), "{planted}: {err}");
            assert!(foreign.join("a.txt").exists());
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_are_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        write(&real, &["index.html"]).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = write(&link, &["other.html"]).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link"), "{err}");
        assert!(real.join("index.html").exists());
        // A link planted under one of the command's file names.
        let target = tmp.path().join("target.txt");
        std::fs::write(&target, "keep").unwrap();
        std::fs::remove_file(real.join("index.html")).unwrap();
        std::os::unix::fs::symlink(&target, real.join("index.html")).unwrap();
        let err = write(&real, &["index.html"]).unwrap_err().to_string();
        assert!(err.contains("does not write through links"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
