//! Output folders that `report` and `docs` share with their user: a
//! command writes its files through a marker listing exactly the files it
//! wrote, each with the sha256 of what it wrote, and on the next run
//! overwrites or deletes only files whose content is still that. It never
//! deletes or overwrites anything else, never writes through a symbolic
//! link, and refuses a folder that is a link, a non-empty folder without
//! its marker, a marker it cannot read as its own, and a listed file whose
//! content is not what it wrote (edited since, or listed by a planted
//! marker) — before it writes anything.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use pricewatch_core::hash::sha256_hex;
use serde::{Deserialize, Serialize};

/// What the marker file holds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Marker {
    written_by: String,
    files: Vec<Listed>,
}

/// A file of the marker. While a run writes, a file it overwrites is
/// listed twice, with the old content's hash and the new one's, so that a
/// run interrupted half way leaves a marker that still owns the file
/// whichever content it holds.
#[derive(Serialize, Deserialize, Clone)]
#[serde(untagged)]
enum Listed {
    Written {
        name: String,
        sha256: String,
    },
    /// A bare name, as markers of earlier versions held: without the
    /// content it wrote, the command cannot tell its output from a file put
    /// there under that name, so it owns none of them.
    Unhashed(String),
}

impl Listed {
    fn name(&self) -> &str {
        match self {
            Listed::Written { name, .. } | Listed::Unhashed(name) => name,
        }
    }
}

/// An output folder of one command.
pub(crate) struct OwnedDir {
    dir: PathBuf,
    marker: &'static str,
    /// `pricewatch report`, `pricewatch docs`.
    command: &'static str,
    /// The files the previous run listed that the folder still holds, all
    /// with the content it wrote (none for a new folder).
    previous: Vec<Listed>,
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

fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
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
                    let listed = Self::read_marker(&marker_path, command)?;
                    previous = Self::still_owned(dir, &marker_path, command, listed)?;
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
    fn read_marker(path: &Path, command: &str) -> anyhow::Result<Vec<Listed>> {
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
        if let Some(bad) = marker.files.iter().find(|f| !is_plain_name(f.name())) {
            return Err(refuse(&format!(
                "lists `{}`, which is not a file name of this folder",
                bad.name()
            )));
        }
        Ok(marker.files)
    }

    /// The listed files the folder still holds, once each is known to hold
    /// what the command wrote: a file whose content differs (the user
    /// edited it, or a planted marker lists someone's file) or that an
    /// older marker lists without its hash is refused by name, since
    /// overwriting or deleting it would lose something the command did not
    /// write. Files that are gone need nothing; links and other non-files
    /// are never written through nor removed, so they are left to `write`.
    fn still_owned(
        dir: &Path,
        marker_path: &Path,
        command: &str,
        listed: Vec<Listed>,
    ) -> anyhow::Result<Vec<Listed>> {
        let mut owned = Vec::new();
        for entry in &listed {
            let path = dir.join(entry.name());
            if !is_regular_file(&path) || owned.iter().any(|o: &Listed| o.name() == entry.name()) {
                continue;
            }
            let content =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let sha256 = sha256_hex(&content);
            let wrote_this = listed.iter().any(|l| {
                matches!(l, Listed::Written { name, sha256: s } if name == entry.name() && *s == sha256)
            });
            if !wrote_this {
                let why = if listed
                    .iter()
                    .any(|l| l.name() == entry.name() && matches!(l, Listed::Written { .. }))
                {
                    format!("its content is not what {command} wrote there")
                } else {
                    format!("without the checksum of what {command} wrote there (as markers of earlier versions did)")
                };
                anyhow::bail!(
                    "{} is listed in {} but {why}, so {command} neither overwrites nor deletes it and has written nothing: move the file away (or delete it if it is an old output you do not need) and run again, or choose another --out",
                    path.display(),
                    marker_path.display()
                );
            }
            owned.push(Listed::Written {
                name: entry.name().to_string(),
                sha256,
            });
        }
        Ok(owned)
    }

    /// Writes `files` (name, content), then removes the files of the
    /// previous run this one no longer writes. A file that exists but was
    /// not written by the previous run is never overwritten.
    pub(crate) fn write(&self, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
        let context = || format!("cannot write to {}", self.dir.display());
        let was_written = |name: &str| self.previous.iter().any(|p| p.name() == name);
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
            if path.exists() && !was_written(name) {
                anyhow::bail!(
                    "{} exists and was not written by {}: move it away or choose another --out",
                    path.display(),
                    self.command
                );
            }
        }
        std::fs::create_dir_all(&self.dir).with_context(context)?;
        let mut listed: Vec<Listed> = files
            .iter()
            .map(|(name, content)| Listed::Written {
                name: name.clone(),
                sha256: sha256_hex(content),
            })
            .collect();
        let stale: Vec<&Listed> = self
            .previous
            .iter()
            .filter(|p| !files.iter().any(|(name, _)| name == p.name()))
            .collect();
        // The marker first, listing both runs' files with both contents: an
        // interrupted run leaves a marker that still covers everything it
        // may have written, whichever content each file holds by then.
        let mut during = listed.clone();
        during.extend(self.previous.iter().cloned());
        self.write_marker(during)?;
        for (name, content) in files {
            std::fs::write(self.dir.join(name), content).with_context(context)?;
        }
        for stale in stale {
            let path = self.dir.join(stale.name());
            // Only a regular file is removed; a link is never followed.
            if is_regular_file(&path) {
                std::fs::remove_file(&path).with_context(context)?;
            }
        }
        listed.sort_by(|a, b| a.name().cmp(b.name()));
        self.write_marker(listed)
    }

    fn write_marker(&self, files: Vec<Listed>) -> anyhow::Result<()> {
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

    /// The marker as the command left it.
    fn marker(dir: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join(MARKER)).unwrap()).unwrap()
    }

    /// Refused, naming `name`, with the folder as it was.
    fn refused_naming(dir: &Path, name: &str, why: &str) {
        let before = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<std::collections::BTreeSet<_>>();
        let err = write(dir, &["index.html", "new.html"])
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("{name} is listed in")), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(err.contains("has written nothing"), "{err}");
        let after = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(before, after);
        assert!(!dir.join("new.html").exists());
    }

    #[test]
    fn the_marker_records_what_each_file_held() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        write(&dir, &["b.html", "a.html"]).unwrap();
        assert_eq!(
            marker(&dir),
            serde_json::json!({
                "written_by": COMMAND,
                "files": [
                    {"name": "a.html", "sha256": sha256_hex(b"page a.html")},
                    {"name": "b.html", "sha256": sha256_hex(b"page b.html")},
                ],
            })
        );
    }

    #[test]
    fn a_planted_marker_listing_someones_file_deletes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("precious.txt"), "mine").unwrap();
        // The shape of markers before checksums, naming the right command.
        std::fs::write(
            dir.join(MARKER),
            format!(r#"{{"written_by":"{COMMAND}","files":["precious.txt"]}}"#),
        )
        .unwrap();
        refused_naming(&dir, "precious.txt", "without the checksum");
        // With a checksum that is not the file's.
        std::fs::write(
            dir.join(MARKER),
            serde_json::json!({
                "written_by": COMMAND,
                "files": [{"name": "precious.txt", "sha256": sha256_hex(b"something else")}],
            })
            .to_string(),
        )
        .unwrap();
        refused_naming(&dir, "precious.txt", "its content is not what");
        assert_eq!(
            std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
            "mine"
        );
        // A listed file that is gone asks for nothing.
        std::fs::rename(dir.join("precious.txt"), tmp.path().join("moved.txt")).unwrap();
        write(&dir, &["index.html"]).unwrap();
    }

    #[test]
    fn an_edited_output_is_kept_and_named_until_moved_away() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        write(&dir, &["index.html", "old.html"]).unwrap();
        for edited in ["index.html", "old.html"] {
            std::fs::write(dir.join(edited), "my edits").unwrap();
            refused_naming(
                &dir,
                edited,
                "its content is not what pricewatch report wrote",
            );
            assert_eq!(
                std::fs::read_to_string(dir.join(edited)).unwrap(),
                "my edits"
            );
            std::fs::write(dir.join(edited), format!("page {edited}")).unwrap();
        }
        // An old output under an unhashed name: refused even when unchanged.
        write(&dir, &["index.html", "old.html"]).unwrap();
        std::fs::write(
            dir.join(MARKER),
            format!(r#"{{"written_by":"{COMMAND}","files":["index.html","old.html"]}}"#),
        )
        .unwrap();
        refused_naming(&dir, "index.html", "without the checksum");
        std::fs::remove_file(dir.join("index.html")).unwrap();
        std::fs::remove_file(dir.join("old.html")).unwrap();
        write(&dir, &["index.html", "new.html"]).unwrap();
    }

    #[test]
    fn a_run_interrupted_half_way_leaves_a_marker_owning_either_content() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        write(&dir, &["index.html"]).unwrap();
        // What a run that writes "v2" leaves when stopped before or after
        // writing the file: the marker lists it with both checksums.
        let both = serde_json::json!({
            "written_by": COMMAND,
            "files": [
                {"name": "index.html", "sha256": sha256_hex(b"v2")},
                {"name": "index.html", "sha256": sha256_hex(b"page index.html")},
            ],
        })
        .to_string();
        std::fs::write(dir.join(MARKER), &both).unwrap();
        write(&dir, &["index.html"]).unwrap();
        std::fs::write(dir.join(MARKER), &both).unwrap();
        std::fs::write(dir.join("index.html"), "v2").unwrap();
        write(&dir, &["other.html"]).unwrap();
        assert!(!dir.join("index.html").exists());
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
