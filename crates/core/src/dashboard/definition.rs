//! The dashboard as code: `templates/dashboard.json.tera`, rendered per env,
//! parsed into a small typed model (data sets on gold models, sheets,
//! visuals) and checked against the models' columns, so a visual naming a
//! column that does not exist fails `validate`, not a publish.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::diag::Problem;
use crate::model::Model;

/// Project-relative path of the dashboard template.
pub(crate) const TEMPLATE: &str = "templates/dashboard.json.tera";

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The dashboard's display name.
    pub name: String,
    pub data_sets: Vec<DataSet>,
    pub sheets: Vec<Sheet>,
}

/// One QuickSight data set: a gold model, with the columns the dashboard reads.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataSet {
    /// Short id, unique in the dashboard (`price_evolution`); visuals refer to it.
    pub id: String,
    /// `schema.model`.
    pub model: String,
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
}

/// QuickSight's input column types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ColumnType {
    String,
    Integer,
    Decimal,
    Datetime,
    Boolean,
}

impl ColumnType {
    fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Integer | ColumnType::Decimal)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sheet {
    pub id: String,
    pub title: String,
    pub visuals: Vec<Visual>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Aggregation {
    Sum,
    Average,
    Min,
    Max,
    Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    Horizontal,
    Vertical,
}

/// The visual kinds the dashboard uses; each names its data set and columns.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Visual {
    /// `value` aggregated per `x` (a DATETIME column), one line per `series`.
    Line {
        id: String,
        title: String,
        data_set: String,
        x: String,
        value: String,
        aggregation: Aggregation,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        series: Option<String>,
    },
    /// `value` aggregated per `category`, stacked or grouped by `series`.
    Bar {
        id: String,
        title: String,
        data_set: String,
        category: String,
        value: String,
        aggregation: Aggregation,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        series: Option<String>,
        orientation: Orientation,
    },
    /// The rows of the data set, these columns.
    Table {
        id: String,
        title: String,
        data_set: String,
        columns: Vec<String>,
    },
}

impl Visual {
    pub fn id(&self) -> &str {
        match self {
            Visual::Line { id, .. } | Visual::Bar { id, .. } | Visual::Table { id, .. } => id,
        }
    }

    pub fn title(&self) -> &str {
        match self {
            Visual::Line { title, .. }
            | Visual::Bar { title, .. }
            | Visual::Table { title, .. } => title,
        }
    }

    pub fn data_set(&self) -> &str {
        match self {
            Visual::Line { data_set, .. }
            | Visual::Bar { data_set, .. }
            | Visual::Table { data_set, .. } => data_set,
        }
    }

    /// Every column the visual reads, with the key that names it.
    fn columns(&self) -> Vec<(String, &str)> {
        match self {
            Visual::Line {
                x, value, series, ..
            } => [
                ("x", Some(x)),
                ("value", Some(value)),
                ("series", series.as_ref()),
            ]
            .into_iter()
            .filter_map(|(key, c)| c.map(|c| (key.to_string(), c.as_str())))
            .collect(),
            Visual::Bar {
                category,
                value,
                series,
                ..
            } => [
                ("category", Some(category)),
                ("value", Some(value)),
                ("series", series.as_ref()),
            ]
            .into_iter()
            .filter_map(|(key, c)| c.map(|c| (key.to_string(), c.as_str())))
            .collect(),
            Visual::Table { columns, .. } => columns
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("columns[{i}]"), c.as_str()))
                .collect(),
        }
    }
}

impl Definition {
    pub fn data_set(&self, id: &str) -> Option<&DataSet> {
        self.data_sets.iter().find(|d| d.id == id)
    }
}

/// Parses the rendered template; a JSON or shape error names its line or key.
pub fn parse(rendered: &str) -> Result<Definition, Problem> {
    let mut deserializer = serde_json::Deserializer::from_str(rendered);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let inner = e.inner();
        let at = match e.path().to_string() {
            path if path == "." => format!("line {}", inner.line()),
            path => format!("line {}, {path}", inner.line()),
        };
        Problem::new(format!("{TEMPLATE} (rendered, {at})"), inner.to_string())
    })
}

/// Everything wrong with the definition against the env's models.
pub(crate) fn check(definition: &Definition, models: &[Model]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |at: String, message: String| {
        problems.push(Problem::new(format!("{TEMPLATE}: {at}"), message));
    };
    if definition.name.trim().is_empty() {
        problem("name".into(), "must not be empty".into());
    }
    let mut data_set_ids = BTreeSet::new();
    for (i, data_set) in definition.data_sets.iter().enumerate() {
        let at = format!("data_sets[{i}]");
        if !is_id(&data_set.id) {
            problem(
                format!("{at}.id"),
                format!("`{}` must be lowercase letters, digits and _", data_set.id),
            );
        }
        if !data_set_ids.insert(data_set.id.as_str()) {
            problem(
                format!("{at}.id"),
                format!("`{}` is declared twice", data_set.id),
            );
        }
        let Some(model) = models.iter().find(|m| m.name == data_set.model) else {
            problem(
                format!("{at}.model"),
                format!("no SQL model `{}` (models are schema.name)", data_set.model),
            );
            continue;
        };
        if data_set.columns.is_empty() {
            problem(
                format!("{at}.columns"),
                "must name at least one column".into(),
            );
        }
        let mut seen = BTreeSet::new();
        for (j, column) in data_set.columns.iter().enumerate() {
            if !model.columns.contains(&column.name) {
                problem(
                    format!("{at}.columns[{j}]"),
                    format!(
                        "`{}` has no column `{}` (it has: {})",
                        model.name,
                        column.name,
                        model.columns.join(", ")
                    ),
                );
            }
            if !seen.insert(column.name.as_str()) {
                problem(
                    format!("{at}.columns[{j}]"),
                    format!("`{}` is listed twice", column.name),
                );
            }
        }
    }

    let mut sheet_ids = BTreeSet::new();
    let mut visual_ids = BTreeSet::new();
    if definition.sheets.is_empty() {
        problem("sheets".into(), "must have at least one sheet".into());
    }
    for (i, sheet) in definition.sheets.iter().enumerate() {
        if !is_visual_id(&sheet.id) || !sheet_ids.insert(sheet.id.as_str()) {
            problem(
                format!("sheets[{i}].id"),
                format!("`{}` must be unique, letters, digits, - and _", sheet.id),
            );
        }
        for (j, visual) in sheet.visuals.iter().enumerate() {
            let at = format!("sheets[{i}].visuals[{j}]");
            if !is_visual_id(visual.id()) || !visual_ids.insert(visual.id()) {
                problem(
                    format!("{at}.id"),
                    format!(
                        "`{}` must be unique in the dashboard, letters, digits, - and _",
                        visual.id()
                    ),
                );
            }
            let Some(data_set) = definition.data_set(visual.data_set()) else {
                problem(
                    format!("{at}.data_set"),
                    format!("no data set `{}` in data_sets", visual.data_set()),
                );
                continue;
            };
            for (key, name) in visual.columns() {
                match data_set.columns.iter().find(|c| c.name == name) {
                    None => problem(
                        format!("{at}.{key}"),
                        format!("data set `{}` declares no column `{name}`", data_set.id),
                    ),
                    Some(column) => {
                        if let Some(message) = type_problem(visual, &key, column) {
                            problem(format!("{at}.{key}"), message);
                        }
                    }
                }
            }
        }
    }
    problems
}

/// A line's x axis is time; summing or averaging needs numbers.
fn type_problem(visual: &Visual, key: &str, column: &Column) -> Option<String> {
    let aggregation = match visual {
        Visual::Line { aggregation, .. } | Visual::Bar { aggregation, .. } => *aggregation,
        Visual::Table { .. } => return None,
    };
    match key {
        "x" if column.kind != ColumnType::Datetime => Some(format!(
            "a line chart's x axis must be a DATETIME column; `{}` is {:?}",
            column.name, column.kind
        )),
        "value" if aggregation != Aggregation::Count && !column.kind.is_numeric() => Some(format!(
            "{aggregation:?} needs a numeric column; `{}` is {:?} (use COUNT)",
            column.name, column.kind
        )),
        _ => None,
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_visual_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, columns: &[&str]) -> Model {
        Model::stub(name, &[], columns)
    }

    fn definition(visual: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "name": "Pricing",
            "data_sets": [{
                "id": "prices",
                "model": "gold.price_evolution",
                "columns": [
                    {"name": "item", "type": "STRING"},
                    {"name": "observed_at", "type": "DATETIME"},
                    {"name": "sale_price", "type": "DECIMAL"}
                ]
            }],
            "sheets": [{"id": "overview", "title": "Overview", "visuals": [visual]}]
        })
    }

    fn problems(value: serde_json::Value) -> Vec<String> {
        let parsed = parse(&value.to_string()).expect("parses");
        let models = [model(
            "gold.price_evolution",
            &["item", "observed_at", "sale_price"],
        )];
        check(&parsed, &models)
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn a_consistent_definition_has_no_problems() {
        let value = definition(serde_json::json!({
            "kind": "line", "id": "trend", "title": "Price", "data_set": "prices",
            "x": "observed_at", "value": "sale_price", "aggregation": "AVERAGE", "series": "item"
        }));
        assert_eq!(problems(value), Vec::<String>::new());
    }

    #[test]
    fn visual_columns_must_be_declared_and_typed_for_their_role() {
        let value = definition(serde_json::json!({
            "kind": "line", "id": "trend", "title": "Price", "data_set": "prices",
            "x": "item", "value": "vendor", "aggregation": "SUM"
        }));
        let found = problems(value);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("visuals[0].x") && found[0].contains("DATETIME"));
        assert!(found[1].contains("visuals[0].value") && found[1].contains("no column `vendor`"));
    }

    #[test]
    fn data_set_columns_must_exist_in_the_model() {
        let mut value = definition(serde_json::json!({
            "kind": "table", "id": "t", "title": "T", "data_set": "prices", "columns": ["item"]
        }));
        value["data_sets"][0]["columns"][2]["name"] = "price".into();
        let found = problems(value);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("data_sets[0].columns[2]"));
        assert!(found[0].contains("has no column `price`"));
    }

    #[test]
    fn unknown_keys_and_unknown_data_sets_are_named() {
        let value = definition(serde_json::json!({
            "kind": "table", "id": "t", "title": "T", "data_set": "nope", "columns": ["item"]
        }));
        assert!(problems(value)[0].contains("no data set `nope`"));

        let mut value = definition(serde_json::json!({
            "kind": "table", "id": "t", "title": "T", "data_set": "prices", "columns": ["item"]
        }));
        value["sheets"][0]["colour"] = "red".into();
        let error = parse(&value.to_string()).unwrap_err().to_string();
        assert!(
            error.contains("sheets[0]") && error.contains("colour"),
            "{error}"
        );
    }

    #[test]
    fn visual_ids_are_unique_across_sheets() {
        let visual = serde_json::json!({
            "kind": "table", "id": "t", "title": "T", "data_set": "prices", "columns": ["item"]
        });
        let mut value = definition(visual.clone());
        value["sheets"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"id": "second", "title": "Second", "visuals": [visual]}));
        let found = problems(value);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("sheets[1].visuals[0].id"));
    }
}
