//! pricewatch's own Tera functions and filters, registered in one place:
//! `ref()` and `config()` for SQL models (recorded per render), the SQL
//! dialect helpers that hide Redshift/PostgreSQL differences, and the
//! `sql_string` filter (a literal escaped for the env's dialect).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tera::{Tera, Value};

use crate::config::{Dialect, Names};
use crate::limits::{MAX_CELL_BYTES, MAX_CELL_CHARS, MAX_RECORD_BYTES};
use crate::sql_text::literal;

/// What a model template declared while it rendered.
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    pub refs: Vec<String>,
    pub configs: Vec<HashMap<String, Value>>,
}

/// Shared with the registered `ref`/`config` functions; the SQL renderer
/// takes its content after each model.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Recorded>>);

impl Recorder {
    pub fn take(&self) -> Recorded {
        std::mem::take(&mut *self.0.lock().expect("recorder lock"))
    }
}

pub(super) fn register(tera: &mut Tera, dialect: Dialect, names: &Names, recorder: &Recorder) {
    let refs = recorder.clone();
    tera.register_function("ref", move |args: &HashMap<String, Value>| {
        let model = string_arg(args, "ref", "model")?;
        refs.0
            .lock()
            .expect("recorder lock")
            .refs
            .push(model.clone());
        Ok(Value::String(model))
    });
    let configs = recorder.clone();
    tera.register_function("config", move |args: &HashMap<String, Value>| {
        configs
            .0
            .lock()
            .expect("recorder lock")
            .configs
            .push(args.clone());
        Ok(Value::String(String::new()))
    });

    tera.register_function("json_text", move |args: &HashMap<String, Value>| {
        let column = identifier_arg(args, "json_text", "column")?;
        let key = identifier_arg(args, "json_text", "key")?;
        Ok(Value::String(json_text(dialect, &column, &key)))
    });
    tera.register_function("json_integer", move |args: &HashMap<String, Value>| {
        let column = identifier_arg(args, "json_integer", "column")?;
        let key = identifier_arg(args, "json_integer", "key")?;
        Ok(Value::String(json_integer(dialect, &column, &key)))
    });
    let archive_streams = names.clone();
    tera.register_function("archived_records", move |args: &HashMap<String, Value>| {
        let source = string_arg(args, "archived_records", "source")?;
        if archive_streams.stream(&source).is_none() {
            return Err(tera::Error::msg(format!(
                "archived_records: unknown source `{source}` (known: products, vendors)"
            )));
        }
        Ok(Value::String(archived_records(dialect, &source)))
    });
    tera.register_function("json_to_text", move |args: &HashMap<String, Value>| {
        let column = identifier_arg(args, "json_to_text", "column")?;
        Ok(Value::String(match dialect {
            Dialect::Redshift => format!("JSON_SERIALIZE({column})"),
            Dialect::Postgres => format!("CAST({column} AS TEXT)"),
        }))
    });
    tera.register_function(
        "regexp_replace_all",
        move |args: &HashMap<String, Value>| {
            let expr = string_arg(args, "regexp_replace_all", "expr")?;
            let pattern = literal(&string_arg(args, "regexp_replace_all", "pattern")?, dialect);
            let replacement = literal(
                &string_arg(args, "regexp_replace_all", "replacement")?,
                dialect,
            );
            Ok(Value::String(match dialect {
                // Redshift replaces every match by default; PostgreSQL needs 'g'.
                Dialect::Redshift => format!("REGEXP_REPLACE({expr}, {pattern}, {replacement})"),
                Dialect::Postgres => {
                    format!("REGEXP_REPLACE({expr}, {pattern}, {replacement}, 'g')")
                }
            }))
        },
    );
    let streams = names.clone();
    tera.register_function("stream_source", move |args: &HashMap<String, Value>| {
        let source = string_arg(args, "stream_source", "source")?;
        let stream = streams.stream(&source).ok_or_else(|| {
            tera::Error::msg(format!(
                "stream_source: unknown source `{source}` (known: products, vendors)"
            ))
        })?;
        Ok(Value::String(match dialect {
            Dialect::Redshift => format!("kinesis.\"{stream}\""),
            Dialect::Postgres => format!("pricewatch_meta.kinesis_{source}"),
        }))
    });
    // Redshift parses the record's VARBYTE directly (no detour through a
    // 65,535-byte VARCHAR); records over MAX_RECORD_BYTES are kept out, so
    // serialising the payload again in silver always fits a VARCHAR.
    tera.register_function("stream_payload", move |_: &HashMap<String, Value>| {
        Ok(Value::String(match dialect {
            Dialect::Redshift => "JSON_PARSE(kinesis_data)".into(),
            Dialect::Postgres => "payload".into(),
        }))
    });
    tera.register_function(
        "stream_record_is_loadable",
        move |_: &HashMap<String, Value>| {
            Ok(Value::String(match dialect {
                Dialect::Redshift => format!(
                    "CAN_JSON_PARSE(kinesis_data) AND OCTET_LENGTH(kinesis_data) <= {MAX_RECORD_BYTES}"
                ),
                Dialect::Postgres => format!(
                    "payload IS NOT NULL AND OCTET_LENGTH(kinesis_data) <= {MAX_RECORD_BYTES}"
                ),
            }))
        },
    );

    tera.register_filter(
        "sql_string",
        move |value: &Value, _: &HashMap<String, Value>| match value {
            Value::String(text) => Ok(Value::String(literal(text, dialect))),
            other => Ok(Value::String(literal(&other.to_string(), dialect))),
        },
    );
}

/// A JSON object's attribute as text of at most MAX_CELL_CHARS characters
/// (what ingest keeps of a cell), with an explicit width on Redshift, where
/// a VARCHAR without one has a width nobody chose.
fn json_text(dialect: Dialect, column: &str, key: &str) -> String {
    match dialect {
        Dialect::Redshift => format!(
            "CAST(LEFT(CAST({column}.\"{key}\" AS VARCHAR(65535)), {MAX_CELL_CHARS}) AS VARCHAR({MAX_CELL_BYTES}))"
        ),
        Dialect::Postgres => format!("LEFT({column} ->> '{key}', {MAX_CELL_CHARS})"),
    }
}

/// A JSON attribute as INTEGER, NULL when it is not a whole number: a
/// refresh must never fail on a record's content. Redshift turns a failed
/// SUPER cast into NULL by itself ("Amazon Redshift converts SUPER-related
/// errors to null", "Limitations", docs/decisions.md); PostgreSQL would
/// raise, so the text is checked first.
fn json_integer(dialect: Dialect, column: &str, key: &str) -> String {
    match dialect {
        Dialect::Redshift => format!("CAST({column}.\"{key}\" AS INTEGER)"),
        Dialect::Postgres => format!(
            "CASE WHEN {column} ->> '{key}' ~ '^[0-9]{{1,9}}$' THEN CAST({column} ->> '{key}' AS INTEGER) END"
        ),
    }
}

/// The records `pricewatch backfill` reloaded from the S3 archive, as a
/// UNION ALL arm next to a stream model's (sequence_number, payload). On
/// Redshift they live in `bronze.<source>_history` (COPY cannot write into
/// a streaming view); on PostgreSQL backfill writes the stream's landing
/// table itself, so there is nothing to add.
fn archived_records(dialect: Dialect, source: &str) -> String {
    match dialect {
        Dialect::Redshift => {
            format!("UNION ALL\n    SELECT sequence_number, payload FROM bronze.{source}_history")
        }
        Dialect::Postgres => String::new(),
    }
}

fn string_arg(args: &HashMap<String, Value>, function: &str, name: &str) -> tera::Result<String> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(tera::Error::msg(format!(
            "{function}: argument `{name}` must be a string, got {other}"
        ))),
        None => Err(tera::Error::msg(format!(
            "{function}: missing argument `{name}`"
        ))),
    }
}

/// A string argument that is spliced into SQL unquoted, so it must be a plain identifier.
fn identifier_arg(
    args: &HashMap<String, Value>,
    function: &str,
    name: &str,
) -> tera::Result<String> {
    let value = string_arg(args, function, name)?;
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        Ok(value)
    } else {
        Err(tera::Error::msg(format!(
            "{function}: `{name}` must be a lowercase identifier (a-z, 0-9, _), got `{value}`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environments;

    fn render(dialect: Dialect, template: &str) -> tera::Result<String> {
        let env = Environments::new(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../.."
        )))
        .load("dev")
        .unwrap();
        let mut tera = Tera::default();
        register(&mut tera, dialect, &env.names(), &Recorder::default());
        tera.render_str(template, &tera::Context::new())
    }

    #[test]
    fn json_text_per_dialect() {
        let t = r#"{{ json_text(column="payload", key="item") }}"#;
        assert_eq!(
            render(Dialect::Redshift, t).unwrap(),
            r#"CAST(LEFT(CAST(payload."item" AS VARCHAR(65535)), 1000) AS VARCHAR(4000))"#
        );
        assert_eq!(
            render(Dialect::Postgres, t).unwrap(),
            "LEFT(payload ->> 'item', 1000)"
        );
    }

    #[test]
    fn identifiers_are_checked() {
        let t = r#"{{ json_text(column="payload; DROP TABLE x", key="item") }}"#;
        let err = render(Dialect::Postgres, t).unwrap_err();
        assert!(format!("{err:?}").contains("lowercase identifier"));
    }

    #[test]
    fn json_integer_never_fails_a_refresh() {
        let t = r#"{{ json_integer(column="payload", key="row_number") }}"#;
        assert_eq!(
            render(Dialect::Redshift, t).unwrap(),
            r#"CAST(payload."row_number" AS INTEGER)"#
        );
        assert_eq!(
            render(Dialect::Postgres, t).unwrap(),
            "CASE WHEN payload ->> 'row_number' ~ '^[0-9]{1,9}$' THEN CAST(payload ->> 'row_number' AS INTEGER) END"
        );
    }

    #[test]
    fn archived_records_join_the_stream_on_redshift_only() {
        let t = r#"{{ archived_records(source="vendors") }}"#;
        assert_eq!(
            render(Dialect::Redshift, t).unwrap(),
            "UNION ALL\n    SELECT sequence_number, payload FROM bronze.vendors_history"
        );
        assert_eq!(render(Dialect::Postgres, t).unwrap(), "");
        let err = render(
            Dialect::Redshift,
            r#"{{ archived_records(source="x; drop") }}"#,
        );
        assert!(format!("{:?}", err.unwrap_err()).contains("unknown source"));
    }

    #[test]
    fn regexp_replace_all_per_dialect() {
        let t = r#"{{ regexp_replace_all(expr="x", pattern="[$, ]", replacement="") }}"#;
        assert_eq!(
            render(Dialect::Redshift, t).unwrap(),
            "REGEXP_REPLACE(x, '[$, ]', '')"
        );
        assert_eq!(
            render(Dialect::Postgres, t).unwrap(),
            "REGEXP_REPLACE(x, '[$, ]', '', 'g')"
        );
    }

    #[test]
    fn stream_source_names_the_env_stream() {
        let t = r#"{{ stream_source(source="products") }}"#;
        assert_eq!(
            render(Dialect::Redshift, t).unwrap(),
            r#"kinesis."pricewatch-dev-products""#
        );
        assert_eq!(
            render(Dialect::Postgres, t).unwrap(),
            "pricewatch_meta.kinesis_products"
        );
        assert!(render(Dialect::Postgres, r#"{{ stream_source(source="x") }}"#).is_err());
    }

    #[test]
    fn sql_string_escapes_for_the_dialect() {
        let t = r#"{{ "a'b\" | sql_string }}"#;
        assert_eq!(render(Dialect::Postgres, t).unwrap(), r"'a''b\'");
        assert_eq!(render(Dialect::Redshift, t).unwrap(), r"'a''b\\'");
    }

    #[test]
    fn stream_records_parse_from_varbyte_within_the_size_limit() {
        let payload = render(Dialect::Redshift, "{{ stream_payload() }}").unwrap();
        assert_eq!(payload, "JSON_PARSE(kinesis_data)");
        let loadable = render(Dialect::Redshift, "{{ stream_record_is_loadable() }}").unwrap();
        assert!(!loadable.contains("FROM_VARBYTE"), "{loadable}");
        assert!(
            loadable.contains("OCTET_LENGTH(kinesis_data) <= 60000"),
            "{loadable}"
        );
    }

    #[test]
    fn ref_and_config_are_recorded() {
        let env = Environments::new(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../.."
        )))
        .load("dev")
        .unwrap();
        let recorder = Recorder::default();
        let mut tera = Tera::default();
        register(&mut tera, Dialect::Postgres, &env.names(), &recorder);
        let out = tera
            .render_str(
                r#"{{ config(materialized="view") }}SELECT * FROM {{ ref(model="silver.products") }}"#,
                &tera::Context::new(),
            )
            .unwrap();
        assert_eq!(out, "SELECT * FROM silver.products");
        let recorded = recorder.take();
        assert_eq!(recorded.refs, ["silver.products"]);
        assert_eq!(recorded.configs[0]["materialized"], "view");
        assert!(recorder.take().refs.is_empty());
    }
}
