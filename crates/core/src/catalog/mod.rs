//! The data catalog (`pricewatch docs`): every model with its description,
//! columns (with types when the warehouse answers), upstream and downstream
//! models, the checks on it and their latest results, and the lineage graph.
//! Written as Markdown (Mermaid graph) and as an HTML fragment (SVG graph)
//! that the report and the standalone page wrap.

pub(crate) mod lineage;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::checks::evaluate::describe;
use crate::checks::Check;
use crate::clusters::{CLUSTERS_TABLE, FEATURES_MODEL};
use crate::escape::xml as escape;
use crate::model::{Materialization, Model};
use crate::report::data::CLUSTER_COLUMNS;
use lineage::Node;

/// What only the warehouse knows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// `schema.name` → (column, type) in column order.
    pub types: BTreeMap<String, Vec<(String, String)>>,
    /// Check name → its latest recorded result.
    pub results: BTreeMap<String, LastResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastResult {
    pub status: String,
    pub observed: Option<String>,
    pub checked_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    /// None when the warehouse was not asked or does not have the model.
    pub(crate) data_type: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    pub warn: String,
    pub fail: String,
    pub last: Option<LastResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    pub materialized: String,
    pub description: String,
    /// The template it is rendered from.
    pub source: String,
    pub columns: Vec<Column>,
    pub(crate) upstream: Vec<String>,
    pub downstream: Vec<String>,
    pub checks: Vec<CheckEntry>,
}

fn materialization(m: Materialization) -> &'static str {
    match m {
        Materialization::Stream => "streaming materialized view",
        Materialization::View => "view",
        Materialization::MaterializedView => "materialized view",
        Materialization::Incremental => "incremental table",
    }
}

const CLUSTERS_KIND: &str = "table (k-means by pricewatch)";
const CLUSTERS_DESCRIPTION: &str = "Written by pricewatch after every successful refresh: the items of gold.item_features segmented by k-means over their standardised price level, volatility and availability (k = pricing.clusters), each cluster numbered from the cheapest up and named in plain words. A failed refresh leaves the previous clusters in place.";
const CLUSTERS_SOURCE: &str = "pricewatch refresh (k-means)";

/// One entry per model, in DAG order, then the clusters table pricewatch
/// writes from the features (when the features model exists), so every
/// node of the lineage has an entry to link to.
pub(crate) fn entries(models: &[Model], checks: &[Check], facts: &Facts) -> Vec<Entry> {
    let graph = nodes(models);
    let mut entries: Vec<Entry> = models
        .iter()
        .map(|m| Entry {
            name: m.name.clone(),
            materialized: materialization(m.materialized).into(),
            description: m.description.clone(),
            source: m.source.clone(),
            columns: columns(&m.name, &m.columns, facts),
            upstream: m.depends_on.clone(),
            downstream: Vec::new(),
            checks: Vec::new(),
        })
        .collect();
    if graph.iter().any(|n| n.name == CLUSTERS_TABLE) {
        entries.push(Entry {
            name: CLUSTERS_TABLE.into(),
            materialized: CLUSTERS_KIND.into(),
            description: CLUSTERS_DESCRIPTION.into(),
            source: CLUSTERS_SOURCE.into(),
            columns: columns(CLUSTERS_TABLE, &CLUSTER_COLUMNS.map(String::from), facts),
            upstream: vec![FEATURES_MODEL.into()],
            downstream: Vec::new(),
            checks: Vec::new(),
        });
    }
    for entry in &mut entries {
        entry.downstream = graph
            .iter()
            .filter(|n| n.inputs.contains(&entry.name))
            .map(|n| n.name.clone())
            .collect();
        entry.checks = checks_of(&entry.name, checks, facts);
    }
    entries
}

/// A model's columns with their types, where the warehouse told them.
fn columns(model: &str, names: &[String], facts: &Facts) -> Vec<Column> {
    let types = facts.types.get(model);
    names
        .iter()
        .map(|c| Column {
            name: c.clone(),
            data_type: types.and_then(|t| {
                t.iter()
                    .find(|(name, _)| name == c)
                    .map(|(_, ty)| ty.clone())
            }),
        })
        .collect()
}

/// The checks on a model with their latest results.
fn checks_of(model: &str, checks: &[Check], facts: &Facts) -> Vec<CheckEntry> {
    checks
        .iter()
        .filter(|c| c.model == model)
        .map(|c| CheckEntry {
            name: c.name.clone(),
            kind: serde_json::to_value(&c.kind)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_string))
                .unwrap_or_default(),
            description: c.description.clone(),
            warn: describe(&c.warn),
            fail: describe(&c.fail),
            last: facts.results.get(&c.name).cloned(),
        })
        .collect()
}

/// Every model, plus the clusters table pricewatch writes from the features.
pub(crate) fn nodes(models: &[Model]) -> Vec<Node> {
    let mut nodes: Vec<Node> = models
        .iter()
        .map(|m| Node {
            name: m.name.clone(),
            kind: materialization(m.materialized).into(),
            inputs: m.depends_on.clone(),
        })
        .collect();
    if models.iter().any(|m| m.name == FEATURES_MODEL) {
        nodes.push(Node {
            name: CLUSTERS_TABLE.into(),
            kind: CLUSTERS_KIND.into(),
            inputs: vec![FEATURES_MODEL.into()],
        });
    }
    nodes
}

/// An env's catalog, built once and written in every form.
pub struct Catalog {
    pub entries: Vec<Entry>,
    pub(crate) nodes: Vec<Node>,
    /// Where the types and check results came from (or why they are missing).
    pub note: &'static str,
}

impl Catalog {
    /// `facts`: what the warehouse said; None when it was not asked or did
    /// not answer.
    pub fn new(models: &[Model], checks: &[Check], facts: Option<&Facts>) -> Catalog {
        Catalog {
            entries: entries(models, checks, facts.unwrap_or(&Facts::default())),
            nodes: nodes(models),
            note: if facts.is_some() {
                "column types and the latest check results read from the warehouse"
            } else {
                "column names from the SQL models; types and check results need a reachable warehouse"
            },
        }
    }

    pub fn markdown(&self, env: &str) -> String {
        markdown(env, &self.entries, &self.nodes, self.note)
    }

    pub fn html(&self) -> String {
        html(&self.entries, &self.nodes, self.note)
    }
}

fn last_text(last: &Option<LastResult>) -> String {
    match last {
        Some(r) => format!(
            "{} ({} at {})",
            r.status,
            r.observed.as_deref().unwrap_or("no value"),
            r.checked_at
        ),
        None => "not run".into(),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "—".into()
    } else {
        names.join(", ")
    }
}

/// The catalog as Markdown, lineage as a Mermaid block.
pub fn markdown(env: &str, entries: &[Entry], nodes: &[Node], facts_note: &str) -> String {
    let mut out = format!(
        "# Data catalog · {env}\n\n{}; {facts_note}\n\n## Lineage\n\n```mermaid\n{}```\n\n## Models\n",
        counted(entries),
        lineage::mermaid(nodes)
    );
    for e in entries {
        let _ = write!(
            out,
            "\n### {}\n\n{}\n\n- materialized: {}\n- source: `{}`\n- upstream: {}\n- downstream: {}\n\n| column | type |\n|---|---|\n",
            e.name,
            e.description,
            e.materialized,
            e.source,
            list(&e.upstream),
            list(&e.downstream)
        );
        for c in &e.columns {
            let _ = writeln!(
                out,
                "| {} | {} |",
                c.name,
                c.data_type.as_deref().unwrap_or("?")
            );
        }
        if !e.checks.is_empty() {
            out.push_str(
                "\n| check | type | warn when | fail when | latest |\n|---|---|---|---|---|\n",
            );
            for c in &e.checks {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    c.name,
                    c.kind,
                    c.warn,
                    c.fail,
                    last_text(&c.last)
                );
            }
        }
    }
    out
}

/// "15 SQL model(s) and the clusters table".
fn counted(entries: &[Entry]) -> String {
    let models = entries
        .iter()
        .filter(|e| e.materialized != CLUSTERS_KIND)
        .count();
    if models < entries.len() {
        format!("{models} SQL model(s) and the clusters table")
    } else {
        format!("{models} SQL model(s)")
    }
}

fn links(names: &[String]) -> String {
    if names.is_empty() {
        return "—".into();
    }
    names
        .iter()
        .map(|n| format!("<a href=\"#{}\">{}</a>", lineage::anchor(n), escape(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalog as an HTML fragment (no scripts: the lineage is an SVG).
pub fn html(entries: &[Entry], nodes: &[Node], facts_note: &str) -> String {
    let mut out = format!(
        "<h2>Data catalog</h2>\n<p>{}; {}</p>\n<section><figure><figcaption>Lineage</figcaption><p>Each box links to its entry below; on a narrow screen the graph scrolls sideways.</p><div class=\"scroll-x\">{}</div><p class=\"muted\">{}</p></figure></section>\n",
        counted(entries),
        escape(facts_note),
        lineage::svg(nodes),
        escape(&lineage::describe(nodes))
    );
    for e in entries {
        let _ = write!(
            out,
            "<section id=\"{id}\">\n<h3>{name}</h3>\n<p>{}</p>\n<p class=\"muted\">{} · <code>{}</code></p>\n<p>Upstream: {}<br>Downstream: {}</p>\n<section class=\"table-wrap\" tabindex=\"0\" aria-labelledby=\"{id}-columns\"><table><caption id=\"{id}-columns\">Columns of {name}</caption><thead><tr><th scope=\"col\">column</th><th scope=\"col\">type</th></tr></thead><tbody>",
            escape(&e.description),
            escape(&e.materialized),
            escape(&e.source),
            links(&e.upstream),
            links(&e.downstream),
            id = lineage::anchor(&e.name),
            name = escape(&e.name),
        );
        for c in &e.columns {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(&c.name),
                escape(c.data_type.as_deref().unwrap_or("?"))
            );
        }
        out.push_str("</tbody></table></section>\n");
        if !e.checks.is_empty() {
            let _ = write!(out, "<section class=\"table-wrap\" tabindex=\"0\" aria-labelledby=\"{id}-checks\"><table><caption id=\"{id}-checks\">Checks on {name}</caption><thead><tr><th scope=\"col\">check</th><th scope=\"col\">type</th><th scope=\"col\">warn when</th><th scope=\"col\">fail when</th><th scope=\"col\">latest</th></tr></thead><tbody>",
                id = lineage::anchor(&e.name),
                name = escape(&e.name),
            );
            for c in &e.checks {
                let status = c.last.as_ref().map_or("none", |r| r.status.as_str());
                let _ = write!(
                    out,
                    "<tr><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"status status-{}\">{}</span></td></tr>",
                    escape(&c.description),
                    escape(&c.name),
                    escape(&c.kind),
                    escape(&c.warn),
                    escape(&c.fail),
                    escape(status),
                    escape(&last_text(&c.last))
                );
            }
            out.push_str("</tbody></table></section>\n");
        }
        out.push_str("</section>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Bounds, Kind};

    fn models() -> Vec<Model> {
        let mut bronze = Model::stub("bronze.products", &[], &["payload"]);
        bronze.materialized = Materialization::Stream;
        let mut silver = Model::stub("silver.products", &["bronze.products"], &["item", "price"]);
        silver.description = "Typed <offers>".into();
        let features = Model::stub(FEATURES_MODEL, &["silver.products"], &["item"]);
        vec![bronze, silver, features]
    }

    fn check() -> Check {
        Check {
            name: "price_positive".into(),
            description: "prices are above zero".into(),
            owner: "data".into(),
            runbook: "pricewatch explain-check price_positive".into(),
            model: "silver.products".into(),
            kind: Kind::RowCount,
            filter: None,
            warn: Bounds {
                min: None,
                max: Some(0.0),
            },
            fail: Bounds {
                min: None,
                max: Some(5.0),
            },
        }
    }

    fn facts() -> Facts {
        let mut facts = Facts::default();
        facts.types.insert(
            "silver.products".into(),
            vec![
                ("item".into(), "character varying(256)".into()),
                ("price".into(), "numeric(12,2)".into()),
            ],
        );
        facts.results.insert(
            "price_positive".into(),
            LastResult {
                status: "warn".into(),
                observed: Some("2".into()),
                checked_at: "2026-11-25 04:00:00".into(),
            },
        );
        facts
    }

    #[test]
    fn entries_join_types_lineage_and_check_results() {
        let entries = entries(&models(), &[check()], &facts());
        let silver = &entries[1];
        assert_eq!(silver.upstream, vec!["bronze.products"]);
        assert_eq!(silver.downstream, vec![FEATURES_MODEL]);
        assert_eq!(
            silver.columns[1].data_type.as_deref(),
            Some("numeric(12,2)")
        );
        assert_eq!(entries[0].columns[0].data_type, None, "no facts, no type");
        assert_eq!(silver.checks[0].kind, "row_count");
        assert_eq!(silver.checks[0].fail, "> 5");
        assert_eq!(silver.checks[0].last.as_ref().unwrap().status, "warn");
        let features = &entries[2];
        assert_eq!(features.downstream, vec![CLUSTERS_TABLE]);
        let clusters = entries.last().unwrap();
        assert_eq!(clusters.name, CLUSTERS_TABLE);
        assert_eq!(clusters.upstream, vec![FEATURES_MODEL]);
        assert_eq!(clusters.columns.len(), CLUSTER_COLUMNS.len());
    }

    #[test]
    fn the_graph_covers_every_model_and_the_clusters_table() {
        let nodes = nodes(&models());
        let md = markdown(
            "local",
            &entries(&models(), &[check()], &facts()),
            &nodes,
            "types from the warehouse",
        );
        for m in models() {
            assert!(md.contains(&format!("### {}", m.name)));
        }
        assert!(md.contains("    gold_item_features --> gold_item_clusters\n"));
        assert!(md.contains("| price | numeric(12,2) |"));
        assert!(md.contains(
            "| price_positive | row_count | > 0 | > 5 | warn (2 at 2026-11-25 04:00:00) |"
        ));
    }

    #[test]
    fn html_is_escaped_and_links_models() {
        let html = html(
            &entries(&models(), &[check()], &Facts::default()),
            &nodes(&models()),
            "no warehouse",
        );
        assert!(html.contains("Typed &lt;offers&gt;"));
        assert!(html.contains("<section id=\"silver_products\">"));
        assert!(html.contains("Upstream: <a href=\"#bronze_products\">bronze.products</a>"));
        assert!(html.contains("status-none\">not run"));
        assert!(!html.contains("<script"));
        // The lineage used to link #gold_item_clusters, which had no entry.
        assert!(html.contains("<section id=\"gold_item_clusters\">"));
        for link in html.split("href=\"#").skip(1) {
            let id = &link[..link.find('"').unwrap()];
            assert!(
                html.contains(&format!(" id=\"{id}\"")),
                "#{id} has a target"
            );
        }
        assert!(html.contains("3 SQL model(s) and the clusters table"));
        // Every scrolling table is a labelled region a keyboard can reach.
        assert_eq!(
            html.matches("<section class=\"table-wrap\" tabindex=\"0\" aria-labelledby=")
                .count(),
            html.matches("<table>").count()
        );
    }
}
