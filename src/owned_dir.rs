//! Output folders that `report` and `docs` share with their user: a
//! command writes its files through a marker listing exactly the files it
//! wrote, each with the sha256 of what it wrote, and on the next run
//! overwrites or deletes only files whose content is still that. It never
//! deletes or overwrites anything else, never writes through a symbolic
//! link, and refuses a folder that is a link, a non-empty folder without
//! its marker, a marker it cannot read as its own, and a listed file whose
//! content is not what it wrote (edited since, or listed by a planted
//! marker) — before it writes anything.
//!
//! Each file, and the marker, is written to a temporary sibling
//! (`.<name>.pricewatch-tmp`) and renamed over its name, so a file never
//! holds part of what a run wrote: a run killed at any point leaves each
//! listed file with its old or its new content, both listed, and at most
//! temporary files the next run removes.

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
    /// The temporary files a run in progress may have left (never in the
    /// marker of a finished run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    temporary: Vec<String>,
}

/// A file of the marker. While a run writes, a file it overwrites is
/// listed twice, with the old content's hash and the new one's, so that a
/// run interrupted half way leaves a marker that still owns the file
/// whichever content it holds (a rename swaps one for the other whole).
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
    /// Temporary files an interrupted run left (regular files only), which
    /// the next write removes first.
    leftovers: Vec<PathBuf>,
}

/// The suffix of the temporary files: no command writes a file named so.
const TEMP_SUFFIX: &str = ".pricewatch-tmp";

/// Where `name` is written before it is renamed over `name`.
fn temp_name(name: &str) -> String {
    format!(".{name}{TEMP_SUFFIX}")
}

fn is_temp_name(name: &str) -> bool {
    is_plain_name(name)
        && name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
            .is_some_and(is_plain_name)
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
        let mut leftovers = Vec::new();
        // The marker's own temporary file is the command's by its name: it
        // is left only by a run killed while writing the marker, before or
        // after a marker exists.
        let marker_temp = dir.join(temp_name(marker));
        if is_regular_file(&marker_temp) {
            leftovers.push(marker_temp.clone());
        }
        match std::fs::read_dir(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
            Ok(entries) => {
                let marker_path = dir.join(marker);
                if std::fs::symlink_metadata(&marker_path).is_ok() {
                    let (listed, temporary) = Self::read_marker(&marker_path, command)?;
                    previous = Self::still_owned(dir, &marker_path, command, listed)?;
                    leftovers.extend(
                        temporary
                            .iter()
                            .map(|t| dir.join(t))
                            .filter(|t| is_regular_file(t)),
                    );
                } else {
                    let mut others = entries
                        .map(|e| e.map(|e| dir.join(e.file_name())))
                        .filter(|p| !p.as_ref().is_ok_and(|p| leftovers.contains(p)));
                    if let Some(other) = others.next() {
                        other.with_context(|| format!("cannot read {shown}"))?;
                        anyhow::bail!(
                            "{shown} is not empty and holds no earlier output of {command} ({marker}): choose another --out or empty it"
                        );
                    }
                }
            }
        }
        Ok(OwnedDir {
            dir: dir.to_path_buf(),
            marker,
            command,
            previous,
            leftovers,
        })
    }

    /// The files an earlier run wrote, from a marker it wrote itself, and
    /// the temporary files it may have left.
    fn read_marker(path: &Path, command: &str) -> anyhow::Result<(Vec<Listed>, Vec<String>)> {
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
        if let Some(bad) = marker.temporary.iter().find(|t| !is_temp_name(t)) {
            return Err(refuse(&format!(
                "lists `{bad}` as a temporary file, which is not a name {command} gives its temporary files"
            )));
        }
        Ok((marker.files, marker.temporary))
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
        let is_leftover = |path: &Path| self.leftovers.iter().any(|l| l == path);
        let refuse_link = |path: &Path| {
            anyhow::anyhow!(
                "{} is a symbolic link: {} does not write through links; remove it",
                path.display(),
                self.command
            )
        };
        let refuse_foreign = |path: &Path| {
            anyhow::anyhow!(
                "{} exists and was not written by {}: move it away or choose another --out",
                path.display(),
                self.command
            )
        };
        for (name, _) in files {
            assert!(is_plain_name(name), "{name} is one file name");
            let path = self.dir.join(name);
            if is_link(&path) {
                return Err(refuse_link(&path));
            }
            if path.exists() && !was_written(name) {
                return Err(refuse_foreign(&path));
            }
        }
        let temps = files
            .iter()
            .map(|(name, _)| temp_name(name))
            .chain([temp_name(self.marker)]);
        for temp in temps {
            let path = self.dir.join(temp);
            if is_link(&path) {
                return Err(refuse_link(&path));
            }
            if std::fs::symlink_metadata(&path).is_ok() && !is_leftover(&path) {
                return Err(refuse_foreign(&path));
            }
        }
        std::fs::create_dir_all(&self.dir).with_context(context)?;
        for leftover in &self.leftovers {
            match std::fs::remove_file(leftover) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                r => r.with_context(|| format!("cannot remove {}", leftover.display()))?,
            }
        }
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
        // It also lists the temporary files, so that the next run removes
        // the one a kill leaves.
        let mut during = listed.clone();
        during.extend(self.previous.iter().cloned());
        let temporary = files.iter().map(|(name, _)| temp_name(name)).collect();
        self.write_marker(during, temporary)?;
        for (name, content) in files {
            self.replace(name, content)?;
        }
        for stale in stale {
            let path = self.dir.join(stale.name());
            // Only a regular file is removed; a link is never followed.
            if is_regular_file(&path) {
                std::fs::remove_file(&path).with_context(context)?;
            }
        }
        listed.sort_by(|a, b| a.name().cmp(b.name()));
        self.write_marker(listed, Vec::new())
    }

    fn write_marker(&self, files: Vec<Listed>, temporary: Vec<String>) -> anyhow::Result<()> {
        let marker = Marker {
            written_by: self.command.to_string(),
            files,
            temporary,
        };
        let json = serde_json::to_string_pretty(&marker).expect("the marker serializes") + "\n";
        self.replace(self.marker, json.as_bytes())
    }

    /// Writes `content` to `name`'s temporary file, then renames it over
    /// `name`: a kill leaves `name` whole, old or new. The temporary file is
    /// created new, so nothing that appeared there since the checks (a link
    /// included) is written through or over.
    fn replace(&self, name: &str, content: &[u8]) -> anyhow::Result<()> {
        use std::io::Write as _;
        let path = self.dir.join(name);
        let temp = self.dir.join(temp_name(name));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .and_then(|mut f| f.write_all(content))
            .with_context(|| format!("cannot write {}", temp.display()))?;
        std::fs::rename(&temp, &path)
            .with_context(|| format!("cannot rename {} to {}", temp.display(), path.display()))
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

    /// The names the folder holds.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_write_killed_half_way_is_cleaned_up_by_the_next_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        write(&dir, &["index.html", "old.html"]).unwrap();
        // What a run writing "v2" to index.html leaves when killed while
        // writing the temporary file: the marker it wrote first, the file
        // unchanged, and part of "v2" in the temporary file.
        std::fs::write(
            dir.join(MARKER),
            serde_json::json!({
                "written_by": COMMAND,
                "files": [
                    {"name": "index.html", "sha256": sha256_hex(b"v2")},
                    {"name": "index.html", "sha256": sha256_hex(b"page index.html")},
                    {"name": "old.html", "sha256": sha256_hex(b"page old.html")},
                ],
                "temporary": [temp_name("index.html")],
            })
            .to_string(),
        )
        .unwrap();
        std::fs::write(dir.join(temp_name("index.html")), "v").unwrap();
        write(&dir, &["index.html", "new.html"]).unwrap();
        assert_eq!(names(&dir), [MARKER, "index.html", "new.html"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("index.html")).unwrap(),
            "page index.html"
        );
        assert_eq!(
            marker(&dir),
            serde_json::json!({
                "written_by": COMMAND,
                "files": [
                    {"name": "index.html", "sha256": sha256_hex(b"page index.html")},
                    {"name": "new.html", "sha256": sha256_hex(b"page new.html")},
                ],
            })
        );
        // A file under a temporary name the marker does not list is not
        // the command's: refused, and kept.
        std::fs::write(dir.join(temp_name("index.html")), "mine").unwrap();
        let err = write(&dir, &["index.html"]).unwrap_err().to_string();
        assert!(
            err.contains("exists and was not written by pricewatch report"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(temp_name("index.html"))).unwrap(),
            "mine"
        );
        // Nor may a marker name any other file as its temporary one.
        std::fs::remove_file(dir.join(temp_name("index.html"))).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        std::fs::write(
            dir.join(MARKER),
            serde_json::json!({"written_by": COMMAND, "files": [], "temporary": ["notes.txt"]})
                .to_string(),
        )
        .unwrap();
        let err = write(&dir, &["index.html"]).unwrap_err().to_string();
        assert!(err.contains("did not write it"), "{err}");
        assert!(err.contains("as a temporary file"), "{err}");
        assert!(dir.join("notes.txt").exists());
    }

    #[test]
    fn a_marker_write_killed_half_way_does_not_block_the_next_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        write(&dir, &["index.html"]).unwrap();
        // Killed while writing the marker: the old marker stays whole and
        // the new one is half in its temporary file.
        std::fs::write(dir.join(temp_name(MARKER)), r#"{"written_by": "pri"#).unwrap();
        write(&dir, &["index.html", "new.html"]).unwrap();
        assert_eq!(names(&dir), [MARKER, "index.html", "new.html"]);
        // Killed while writing the first marker into a new folder.
        let fresh = tmp.path().join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        std::fs::write(fresh.join(temp_name(MARKER)), "{").unwrap();
        write(&fresh, &["index.html"]).unwrap();
        assert_eq!(names(&fresh), [MARKER, "index.html"]);
        // Any other file still makes a folder without a marker foreign.
        let foreign = tmp.path().join("foreign");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join(temp_name(MARKER)), "{").unwrap();
        std::fs::write(foreign.join("a.txt"), "a").unwrap();
        let err = write(&foreign, &["index.html"]).unwrap_err().to_string();
        assert!(err.contains("is not empty"), "{err}");
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
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep"); // A link planted under a temporary name.
        std::fs::remove_file(real.join("index.html")).unwrap();
        std::os::unix::fs::symlink(&target, real.join(temp_name("index.html"))).unwrap();
        let err = write(&real, &["index.html"]).unwrap_err().to_string();
        assert!(err.contains("does not write through links"), "{err}");
        std::fs::remove_file(real.join(temp_name("index.html"))).unwrap();
        std::os::unix::fs::symlink(&target, real.join(temp_name(MARKER))).unwrap();
        let err = write(&real, &["index.html"]).unwrap_err().to_string();
        assert!(err.contains("does not write through links"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
