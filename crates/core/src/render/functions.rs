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
pub(crate) struct Recorded {
    pub(crate) refs: Vec<String>,
    pub(crate) configs: Vec<HashMap<String, Value>>,
}

/// Shared with the registered `ref`/`config` functions; the SQL renderer
/// takes its content after each model.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Arc<Mutex<Recorded>>);

impl Recorder {
    pub(crate) fn take(&self) -> Recorded {
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
    let arrival_streams = names.clone();
    tera.register_function("arrived_since", move |args: &HashMap<String, Value>| {
        let source = string_arg(args, "arrived_since", "source")?;
        if arrival_streams.stream(&source).is_none() {
            return Err(tera::Error::msg(format!(
                "arrived_since: unknown source `{source}` (known: {})",
                arrival_streams.source_list()
            )));
        }
        let column = string_arg(args, "arrived_since", "column")?;
        if !column
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        {
            return Err(tera::Error::msg(format!(
                "arrived_since: `column` must be a (qualified) lowercase column name, got `{column}`"
            )));
        }
        Ok(Value::String(super::incremental::arrived_since(
            &column, &source, dialect,
        )))
    });
    tera.register_function("rewritten_since", move |args: &HashMap<String, Value>| {
        let model = string_arg(args, "rewritten_since", "model")?;
        let column = string_arg(args, "rewritten_since", "column")?;
        super::incremental::rewritten_since(&model, &column, dialect)
            .map(Value::String)
            .ok_or_else(|| {
                tera::Error::msg(format!(
                    "rewritten_since: `column` is snapshot_id or observed_at, got `{column}`"
                ))
            })
    });
    let archive_streams = names.clone();
    tera.register_function("archived_records", move |args: &HashMap<String, Value>| {
        let source = string_arg(args, "archived_records", "source")?;
        if archive_streams.stream(&source).is_none() {
            return Err(tera::Error::msg(format!(
                "archived_records: unknown source `{source}` (known: {})",
                archive_streams.source_list()
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
                "stream_source: unknown source `{source}` (known: {})",
                streams.source_list()
            ))
        })?;
        Ok(Value::String(match dialect {
            Dialect::Redshift => format!("kinesis.\"{stream}\""),
            Dialect::Postgres => format!("pricewatch_meta.kinesis_{source}"),
        }))
    });
    // Every record lands in bronze: a loadable one with its payload, an
    // unloadable one (not JSON the warehouse parses, or over
    // MAX_RECORD_BYTES) with a NULL payload and its `load_error`, so silver
    // quarantines it instead of the refresh failing on it or dropping it
    // unseen. Redshift parses the record's VARBYTE directly (no detour
    // through a 65,535-byte VARCHAR); on PostgreSQL the loader stored NULL
    // for a record it could not parse.
    tera.register_function("stream_payload", move |_: &HashMap<String, Value>| {
        Ok(Value::String(format!(
            "CASE WHEN {} THEN {} END",
            stream_loadable(dialect),
            match dialect {
                Dialect::Redshift => "JSON_PARSE(kinesis_data)",
                Dialect::Postgres => "payload",
            }
        )))
    });
    tera.register_function("stream_load_error", move |_: &HashMap<String, Value>| {
        let parses = match dialect {
            Dialect::Redshift => "CAN_JSON_PARSE(kinesis_data)",
            Dialect::Postgres => "payload IS NOT NULL",
        };
        Ok(Value::String(format!(
            "CAST(CASE WHEN NOT ({parses}) THEN '{UNPARSABLE}' WHEN OCTET_LENGTH(kinesis_data) > {MAX_RECORD_BYTES} THEN '{TOO_LARGE}' END AS VARCHAR(32))"
        )))
    });
    tera.register_function("amount_text", move |args: &HashMap<String, Value>| {
        Ok(Value::String(amount_text(&string_arg(
            args,
            "amount_text",
            "expr",
        )?)))
    });
    tera.register_function("count_text", move |args: &HashMap<String, Value>| {
        Ok(Value::String(count_text(&string_arg(
            args,
            "count_text",
            "expr",
        )?)))
    });

    // The one way a config string enters a stack template: a quoted YAML
    // scalar no value can break out of.
    tera.register_filter(
        "yaml_string",
        |value: &Value, _: &HashMap<String, Value>| match value {
            Value::String(text) => Ok(Value::String(crate::escape::yaml_string(text))),
            other => Err(tera::Error::msg(format!(
                "yaml_string takes a string, got {other}"
            ))),
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

/// `load_error` of a record that is not JSON the warehouse can parse.
const UNPARSABLE: &str = "unparsable JSON";
/// `load_error` of a record over MAX_RECORD_BYTES.
const TOO_LARGE: &str = "record too large";

fn stream_loadable(dialect: Dialect) -> String {
    match dialect {
        Dialect::Redshift => format!(
            "CAN_JSON_PARSE(kinesis_data) AND OCTET_LENGTH(kinesis_data) <= {MAX_RECORD_BYTES}"
        ),
        Dialect::Postgres => {
            format!("payload IS NOT NULL AND OCTET_LENGTH(kinesis_data) <= {MAX_RECORD_BYTES}")
        }
    }
}

/// An amount as a page writes it (currency sign and spaces already
/// removed) as plain decimal text, or NULL when it has no one reading:
/// `1299.5`, `1,299.50` (comma thousands), `12,99` (a decimal comma: one
/// comma followed by one or two digits) and `1.299,00` (dot thousands,
/// decimal comma). Thousands groups have exactly three digits, so `12,99`
/// can only be 12.99 and `1,2,3` is nothing. Range and cents are the
/// caller's rules (see docs/data-model.md).
fn amount_text(expr: &str) -> String {
    format!(
        "CASE \
WHEN {expr} ~ '^[0-9]+([.][0-9]+)?$' THEN {expr} \
WHEN {expr} ~ '^[0-9]{{1,3}}(,[0-9]{{3}})+([.][0-9]+)?$' THEN REPLACE({expr}, ',', '') \
WHEN {expr} ~ '^[0-9]+,[0-9]{{1,2}}$' THEN REPLACE({expr}, ',', '.') \
WHEN {expr} ~ '^[0-9]{{1,3}}([.][0-9]{{3}})+,[0-9]{{1,2}}$' THEN REPLACE(REPLACE({expr}, '.', ''), ',', '.') \
END"
    )
}

/// A count as a page writes it as plain digits, or NULL: `1234`, `1,234`,
/// `1.234` and `1 234` (groups of three digits), never `1,2,3`.
fn count_text(expr: &str) -> String {
    format!(
        "CASE \
WHEN {expr} ~ '^[0-9]+$' THEN {expr} \
WHEN {expr} ~ '^[0-9]{{1,3}}([, .][0-9]{{3}})+$' THEN REPLACE(REPLACE(REPLACE({expr}, ',', ''), '.', ''), ' ', '') \
END"
    )
}

/// A JSON object's attribute as text of at most MAX_CELL_CHARS characters
/// (what ingest keeps of a cell), with an explicit width on Redshift, where
/// a VARCHAR without one has a width nobody chose.
pub(crate) fn json_text(dialect: Dialect, column: &str, key: &str) -> String {
    match dialect {
        Dialect::Redshift => format!(
            "CAST(LEFT(CAST({column}.\"{key}\" AS VARCHAR(65535)), {MAX_CELL_CHARS}) AS VARCHAR({MAX_CELL_BYTES}))"
        ),
        Dialect::Postgres => format!("LEFT({column} ->> '{key}', {MAX_CELL_CHARS})"),
    }
}

/// A JSON attribute as INTEGER, NULL when it is not a whole number: a
/// refresh must never fail on a record's content, and a string such as
/// "12" is not the number the producer wrote. Redshift checks with
/// IS_INTEGER before the cast; PostgreSQL with the JSON type and the text.
pub(crate) fn json_integer(dialect: Dialect, column: &str, key: &str) -> String {
    match dialect {
        Dialect::Redshift => format!(
            "CASE WHEN IS_INTEGER({column}.\"{key}\") THEN CAST({column}.\"{key}\" AS INTEGER) END"
        ),
        Dialect::Postgres => format!(
            "CASE WHEN JSONB_TYPEOF({column} -> '{key}') = 'number' AND {column} ->> '{key}' ~ '^[0-9]{{1,9}}$' THEN CAST({column} ->> '{key}' AS INTEGER) END"
        ),
    }
}

/// The records `pricewatch backfill` reloaded from the S3 archive, as a
/// UNION ALL arm next to a stream model's (sequence_number, payload,
/// approximate_arrival_timestamp); an archived record arrived when backfill
/// loaded it. On
/// Redshift they live in `bronze.<source>_history` (COPY cannot write into
/// a streaming view); on PostgreSQL backfill writes the stream's landing
/// table itself, so there is nothing to add.
fn archived_records(dialect: Dialect, source: &str) -> String {
    match dialect {
        Dialect::Redshift => {
            format!("UNION ALL\n    SELECT sequence_number, payload, loaded_at FROM bronze.{source}_history")
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
    fn archived_records_join_the_stream_on_redshift_only() {
        let t = r#"{{ archived_records(source="vendors") }}"#;
        assert_eq!(
            render(Dialect::Redshift, t).unwrap(),
            "UNION ALL\n    SELECT sequence_number, payload, loaded_at FROM bronze.vendors_history"
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
        assert_eq!(
            payload,
            "CASE WHEN CAN_JSON_PARSE(kinesis_data) AND OCTET_LENGTH(kinesis_data) <= 60000 THEN JSON_PARSE(kinesis_data) END"
        );
        assert!(!payload.contains("FROM_VARBYTE"), "{payload}");
        let error = render(Dialect::Redshift, "{{ stream_load_error() }}").unwrap();
        assert_eq!(
            error,
            "CAST(CASE WHEN NOT (CAN_JSON_PARSE(kinesis_data)) THEN 'unparsable JSON' WHEN OCTET_LENGTH(kinesis_data) > 60000 THEN 'record too large' END AS VARCHAR(32))"
        );
        let pg = render(Dialect::Postgres, "{{ stream_payload() }}").unwrap();
        assert_eq!(
            pg,
            "CASE WHEN payload IS NOT NULL AND OCTET_LENGTH(kinesis_data) <= 60000 THEN payload END"
        );
    }

    #[test]
    fn json_integers_per_dialect() {
        let t = r#"{{ json_integer(column="payload", key="row_number") }}"#;
        assert_eq!(
            render(Dialect::Redshift, t).unwrap(),
            r#"CASE WHEN IS_INTEGER(payload."row_number") THEN CAST(payload."row_number" AS INTEGER) END"#
        );
        assert!(render(Dialect::Postgres, t)
            .unwrap()
            .contains("JSONB_TYPEOF(payload -> 'row_number') = 'number'"));
    }

    #[test]
    fn amounts_and_counts_read_the_same_in_both_dialects() {
        // Plain SQL both accept; what each input becomes is tested on
        // PostgreSQL (tests/it/services.rs).
        for (function, arms) in [("amount_text", 4), ("count_text", 2)] {
            let t = format!("{{{{ {function}(expr=\"x\") }}}}");
            let redshift = render(Dialect::Redshift, &t).unwrap();
            assert_eq!(redshift, render(Dialect::Postgres, &t).unwrap());
            assert_eq!(redshift.matches("WHEN x ~ '^").count(), arms, "{redshift}");
            assert!(redshift.ends_with(" END"), "{redshift}");
        }
        let amount = amount_text("x");
        assert!(amount.contains("WHEN x ~ '^[0-9]+,[0-9]{1,2}$' THEN REPLACE(x, ',', '.')"));
        assert!(amount
            .contains("WHEN x ~ '^[0-9]{1,3}(,[0-9]{3})+([.][0-9]+)?$' THEN REPLACE(x, ',', '')"));
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
