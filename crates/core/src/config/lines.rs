//! Maps dotted key paths (`streams.shards`, `pricing.rules[0].name`) to the
//! line where they are written in a YAML file, so config errors can point at
//! the exact line. serde_yaml_ng has no span API, so this walks yaml-rust2's
//! marked parser events once per file.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Key path → 1-based line of that key (or sequence item) in one file.
#[derive(Debug, Default, Clone)]
pub(crate) struct LineIndex {
    lines: BTreeMap<String, usize>,
}

impl LineIndex {
    /// Builds the index; a file that does not parse yields an empty index
    /// (the syntax error itself is reported by the loader).
    pub(crate) fn build(text: &str) -> LineIndex {
        let mut recorder = Recorder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut recorder, false).is_err() {
            return LineIndex::default();
        }
        LineIndex {
            lines: recorder.lines,
        }
    }

    /// The line of `path`, or of its nearest ancestor that is written in the file.
    pub(crate) fn line_of(&self, path: &str) -> Option<usize> {
        let mut candidate = path;
        loop {
            if let Some(line) = self.lines.get(candidate) {
                return Some(*line);
            }
            candidate = parent_path(candidate)?;
        }
    }

    /// Whether `path` itself is written in the file.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.lines.contains_key(path)
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a`; `None` at the root.
pub(super) fn parent_path(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

enum Frame {
    /// Inside a mapping: the path of the mapping and whether the next scalar is a key.
    Map {
        path: String,
        pending_key: Option<String>,
    },
    Seq {
        path: String,
        next_index: usize,
    },
}

#[derive(Default)]
struct Recorder {
    stack: Vec<Frame>,
    lines: BTreeMap<String, usize>,
}

impl Recorder {
    /// Path of the value that starts now (a scalar or a nested collection),
    /// or `None` when the event is a mapping key.
    fn value_path(&mut self, key_text: Option<&str>, line: usize) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { path, pending_key }) => match pending_key.take() {
                Some(key) => Some(join(path, &key)),
                None => {
                    // This event is a key: remember it for the value that follows.
                    let key = key_text.unwrap_or_default().to_string();
                    self.lines.entry(join(path, &key)).or_insert(line);
                    *pending_key = Some(key);
                    None
                }
            },
            Some(Frame::Seq { path, next_index }) => {
                let item = format!("{path}[{next_index}]");
                *next_index += 1;
                self.lines.entry(item.clone()).or_insert(line);
                Some(item)
            }
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(text, ..) => {
                self.value_path(Some(&text), line);
            }
            Event::Alias(_) => {
                self.value_path(Some(""), line);
            }
            Event::MappingStart(..) => {
                if let Some(path) = self.value_path(None, line) {
                    self.stack.push(Frame::Map {
                        path,
                        pending_key: None,
                    });
                } else {
                    // A complex (mapping) key: not used in config; track it opaquely.
                    self.stack.push(Frame::Map {
                        path: "?".into(),
                        pending_key: None,
                    });
                }
            }
            Event::SequenceStart(..) => {
                let path = self.value_path(None, line).unwrap_or_else(|| "?".into());
                self.stack.push(Frame::Seq {
                    path,
                    next_index: 0,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_sequence_items() {
        let text = "account_id: '1'\nstreams:\n  mode: provisioned\n  shards: 2\npricing:\n  rules:\n    - name: a\n      percent: 3\n    - name: b\n";
        let index = LineIndex::build(text);
        assert_eq!(index.line_of("account_id"), Some(1));
        assert_eq!(index.line_of("streams.shards"), Some(4));
        assert_eq!(index.line_of("pricing.rules[0].percent"), Some(8));
        assert_eq!(index.line_of("pricing.rules[1].name"), Some(9));
        // Unknown leaf: falls back to the nearest written ancestor.
        assert_eq!(index.line_of("streams.retention_hours"), Some(2));
        assert!(index.contains("streams.mode"));
        assert!(!index.contains("streams.retention_hours"));
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("a.b[2].c"), Some("a.b[2]"));
        assert_eq!(parent_path("a.b[2]"), Some("a.b"));
        assert_eq!(parent_path("a"), None);
    }

    #[test]
    fn broken_yaml_gives_empty_index() {
        assert_eq!(LineIndex::build("a: [").line_of("a"), None);
    }
}
