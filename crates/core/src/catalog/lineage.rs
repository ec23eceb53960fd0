//! The model graph drawn two ways: Mermaid source for Markdown viewers
//! (GitHub renders it) and an SVG laid out in layers for the static page,
//! which must work without scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::dag::Dag;
use crate::escape::xml as escape;

/// A node of the lineage graph and the nodes it reads from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// `stream`, `view`, `materialized view`, `table` ...
    pub kind: String,
    pub inputs: Vec<String>,
}

fn mermaid_id(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `flowchart LR` with one node per model and an edge per dependency.
pub(crate) fn mermaid(nodes: &[Node]) -> String {
    let mut out = String::from("flowchart LR\n");
    for node in nodes {
        let _ = writeln!(
            out,
            "    {}[\"{}<br/><i>{}</i>\"]",
            mermaid_id(&node.name),
            node.name,
            node.kind
        );
    }
    for node in nodes {
        for input in &node.inputs {
            let _ = writeln!(
                out,
                "    {} --> {}",
                mermaid_id(input),
                mermaid_id(&node.name)
            );
        }
    }
    out
}

/// Each node's layer: 0 for nodes without inputs, else one more than its
/// deepest input — the dependency graph's waves (inputs that are not nodes
/// are left out; a cycle, which rendering already refuses, has no layers).
pub(crate) fn layers(nodes: &[Node]) -> BTreeMap<String, usize> {
    let mut dag = Dag::new();
    for node in nodes {
        let inputs: Vec<String> = node
            .inputs
            .iter()
            .filter(|i| nodes.iter().any(|n| &n.name == *i))
            .cloned()
            .collect();
        dag.add(node.name.clone(), inputs);
    }
    dag.waves()
        .map(|waves| {
            waves
                .into_iter()
                .enumerate()
                .flat_map(|(layer, names)| names.into_iter().map(move |n| (n, layer)))
                .collect()
        })
        .unwrap_or_default()
}

/// Text size in viewBox units. The graph's `width` and `height` are the
/// smallest size at which that text renders at [`MIN_PX`]; the page lets it
/// grow to its column (`min-width: 100%`) and scroll sideways where even
/// that smallest size does not fit (a phone).
const FONT: f64 = 14.0;
const MIN_PX: f64 = 12.0;
/// A generous estimate of a bold character's width, for sizing the boxes.
const CHAR: f64 = 0.65 * FONT;
const BOX_H: f64 = 46.0;
const GAP_X: f64 = 30.0;
const GAP_Y: f64 = 14.0;

/// What a box says: the model's name within its schema, then the schema and
/// what kind of relation it is, so no line is long.
fn box_lines(node: &Node) -> (String, String) {
    let (schema, name) = node.name.split_once('.').unwrap_or(("", &node.name));
    let kind = match node.kind.as_str() {
        "streaming materialized view" => "streaming",
        "materialized view" => "materialized",
        "table (k-means by pricewatch)" => "k-means table",
        other => other,
    };
    let second = if schema.is_empty() {
        kind.to_string()
    } else {
        format!("{schema}, {kind}")
    };
    (name.to_string(), second)
}

/// Layers left to right, nodes of a layer top to bottom, edges as curves.
/// Not an image: each box is a link to the model's entry, reachable by
/// keyboard (an `img` role would hide the links); the edges are decoration
/// for eyes, the same graph is in words under it ([`describe`]).
pub(crate) fn svg(nodes: &[Node]) -> String {
    let layer = layers(nodes);
    let mut rows: BTreeMap<usize, Vec<&Node>> = BTreeMap::new();
    for node in nodes {
        rows.entry(layer[&node.name]).or_default().push(node);
    }
    let longest = nodes
        .iter()
        .flat_map(|n| {
            let (a, b) = box_lines(n);
            [a.chars().count(), b.chars().count()]
        })
        .max()
        .unwrap_or(10);
    let box_w = (longest as f64 * CHAR + 16.0).round();
    let mut at: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (l, members) in &rows {
        for (i, node) in members.iter().enumerate() {
            let x = 4.0 + *l as f64 * (box_w + GAP_X);
            let y = 4.0 + i as f64 * (BOX_H + GAP_Y);
            at.insert(&node.name, (x, y));
        }
    }
    let width = 8.0 + rows.len() as f64 * (box_w + GAP_X) - GAP_X;
    let tallest = rows.values().map(Vec::len).max().unwrap_or(1) as f64;
    let height = 8.0 + tallest * (BOX_H + GAP_Y) - GAP_Y;
    let smallest = |v: f64| (v * MIN_PX / FONT).ceil();
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {width} {height}" role="group" aria-labelledby="lineage-title" class="lineage" font-family="system-ui, sans-serif" font-size="{FONT}"><title id="lineage-title">Model lineage: each box links to the model's entry below</title><g aria-hidden="true">"#,
        smallest(width),
        smallest(height)
    );
    for node in nodes {
        let (x2, y2) = at[node.name.as_str()];
        for input in &node.inputs {
            let Some(&(x1, y1)) = at.get(input.as_str()) else {
                continue;
            };
            let (sx, sy, ex, ey) = (x1 + box_w, y1 + BOX_H / 2.0, x2, y2 + BOX_H / 2.0);
            let mid = (sx + ex) / 2.0;
            let _ = write!(
                out,
                r##"<path d="M{sx:.1},{sy:.1} C{mid:.1},{sy:.1} {mid:.1},{ey:.1} {ex:.1},{ey:.1}" fill="none" stroke="#6b6b6b" stroke-width="1.5"/>"##,
            );
        }
    }
    out.push_str("</g>");
    for node in nodes {
        let (x, y) = at[node.name.as_str()];
        let (name, kind) = box_lines(node);
        let _ = write!(
            out,
            r##"<a href="#{id}"><title>{full} ({long_kind})</title><rect x="{x}" y="{y}" width="{box_w}" height="{BOX_H}" rx="6" fill="#eef4fb" stroke="#0072B2"/><text x="{tx}" y="{ty1}" text-anchor="middle" font-weight="bold" fill="#1d1d1f">{name}</text><text x="{tx}" y="{ty2}" text-anchor="middle" fill="#4d5156">{kind}</text></a>"##,
            id = mermaid_id(&node.name),
            tx = x + box_w / 2.0,
            ty1 = y + 19.0,
            ty2 = y + 37.0,
            full = escape(&node.name),
            long_kind = escape(&node.kind),
            name = escape(&name),
            kind = escape(&kind),
        );
    }
    out.push_str("</svg>");
    out
}

/// The graph in words, for readers who cannot see it.
pub(crate) fn describe(nodes: &[Node]) -> String {
    let sentences: Vec<String> = nodes
        .iter()
        .map(|n| {
            if n.inputs.is_empty() {
                format!("{} ({}) is a source", n.name, n.kind)
            } else {
                format!("{} ({}) reads {}", n.name, n.kind, n.inputs.join(", "))
            }
        })
        .collect();
    format!("{}.", sentences.join("; "))
}

/// The anchor of a node in the page.
pub(crate) fn anchor(name: &str) -> String {
    mermaid_id(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, inputs: &[&str]) -> Node {
        Node {
            name: name.into(),
            kind: "view".into(),
            inputs: inputs.iter().map(|i| i.to_string()).collect(),
        }
    }

    fn graph() -> Vec<Node> {
        vec![
            node("bronze.products", &[]),
            node("silver.products", &["bronze.products"]),
            node("bronze.vendors", &[]),
            node("gold.scorecard", &["silver.products", "bronze.vendors"]),
        ]
    }

    #[test]
    fn mermaid_has_every_node_and_edge() {
        let text = mermaid(&graph());
        assert!(text.starts_with("flowchart LR\n"));
        assert!(text.contains("    silver_products[\"silver.products<br/><i>view</i>\"]"));
        assert!(text.contains("    bronze_products --> silver_products\n"));
        assert!(text.contains("    bronze_vendors --> gold_scorecard\n"));
        assert_eq!(text.matches("-->").count(), 3);
    }

    #[test]
    fn layers_follow_the_longest_path() {
        let l = layers(&graph());
        assert_eq!(l["bronze.products"], 0);
        assert_eq!(l["bronze.vendors"], 0);
        assert_eq!(l["silver.products"], 1);
        assert_eq!(l["gold.scorecard"], 2);
    }

    #[test]
    fn the_svg_draws_a_box_per_node_and_a_curve_per_edge() {
        let svg = svg(&graph());
        assert_eq!(svg.matches("<rect").count(), 4);
        assert_eq!(svg.matches("<path").count(), 3);
        assert!(svg.contains("href=\"#gold_scorecard\""));
        // Links inside role="img" are unreachable (axe: nested-interactive).
        assert!(!svg.contains("role=\"img\"") && svg.contains("role=\"group\""));
        assert_eq!(svg.matches("<a href=").count(), 4, "every box a link");
    }
}
