//! What a SQL model is once rendered: its name, how it is stored, what it
//! depends on, its columns and the DDL that creates it. Rendering makes
//! them; checks, the dashboard, the catalog, `sql apply` and `refresh` read
//! them.

use std::fmt;

use serde::Serialize;

/// How a model is stored in the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Materialization {
    /// Bronze: a streaming materialized view over a Kinesis stream (Redshift),
    /// or a materialized view over the table pricewatch loads the stream into
    /// (PostgreSQL).
    Stream,
    View,
    MaterializedView,
    /// A table `refresh` updates for the snapshots whose records changed
    /// since its last refresh (delete-and-insert of their rows), through a
    /// procedure `sql apply` creates with it; the snapshots it has taken in
    /// are its watermark in `pricewatch_meta.incremental_state`.
    Incremental,
}

impl Materialization {
    pub(crate) fn parse(text: &str) -> Option<Materialization> {
        match text {
            "stream" => Some(Materialization::Stream),
            "view" => Some(Materialization::View),
            "materialized_view" => Some(Materialization::MaterializedView),
            "incremental" => Some(Materialization::Incremental),
            _ => None,
        }
    }

    /// Whether `refresh` has to refresh it.
    pub fn is_materialized(self) -> bool {
        !matches!(self, Materialization::View)
    }
}

impl fmt::Display for Materialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Materialization::Stream => "stream",
            Materialization::View => "view",
            Materialization::MaterializedView => "materialized_view",
            Materialization::Incremental => "incremental",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    /// `schema.name`.
    pub name: String,
    /// Source template, relative to the project: `sql/silver/products.sql`.
    pub source: String,
    pub materialized: Materialization,
    /// Recreating it loses data no rebuild brings back (stream models, and
    /// any model declared `stateful=true`): `sql apply` refuses to drop it
    /// without `--allow-replace`.
    pub stateful: bool,
    /// Why a materialized view is recomputed from all history on every
    /// refresh rather than incrementally (`config(full_refresh=...)`).
    pub full_refresh: Option<String>,
    pub description: String,
    pub depends_on: Vec<String>,
    /// Names of the columns the query returns.
    pub columns: Vec<String>,
    /// The rendered query (no DDL around it).
    pub query: String,
    /// The complete DDL statement that creates the model (without its
    /// description, so a new description never recreates it).
    pub ddl: String,
}

impl Model {
    /// What `sql apply` compares: the DDL, description excluded.
    pub fn checksum(&self) -> String {
        crate::hash::sha256_hex(self.ddl.as_bytes())
    }

    pub fn description_checksum(&self) -> String {
        crate::hash::sha256_hex(self.description.as_bytes())
    }

    /// The rendered file: the description as a comment, then the DDL.
    pub(crate) fn file_text(&self) -> String {
        format!(
            "-- {}\n{}",
            self.description.replace(['\n', '\r'], " "),
            self.ddl
        )
    }
}

#[cfg(any(test, feature = "testing"))]
impl Model {
    /// A materialized view with no SQL, for tests of logic over the graph.
    pub fn stub(name: &str, depends_on: &[&str], columns: &[&str]) -> Model {
        Model {
            name: name.into(),
            source: format!("sql/{name}.sql"),
            materialized: Materialization::MaterializedView,
            stateful: false,
            full_refresh: None,
            description: String::new(),
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            query: String::new(),
            ddl: String::new(),
        }
    }
}
