//! The models of a source declared with `models: generated` (the default):
//! `bronze.<name>` (its stream), `silver.<name>_validated` (every page row,
//! typed, with the reason it is invalid) and `silver.<name>` (the valid
//! rows, one per key per snapshot). They are written here as model
//! templates and rendered like the project's own, so both dialects, the
//! DAG, the incremental materialization and the catalog treat them alike.

use crate::config::{ColumnSettings, ColumnType, SourceModels, SourceSettings};
use crate::project::ModelFile;
// A column name as SQL is always quoted, so a column may be named like a
// keyword (`order`); names are lowercase identifiers, so the quotes change
// nothing else on either dialect.
use crate::config::names::quoted_identifier;

/// A decimal column's SQL type: 14 digits before the point, 4 after.
const DECIMAL_TYPE: &str = "NUMERIC(18, 4)";
/// What a decimal's text must look like once `$`, commas and spaces are gone.
const DECIMAL_PATTERN: &str = "^-?[0-9]{1,14}([.][0-9]{1,4})?$";
/// What an integer's text must look like once commas and spaces are gone.
const INTEGER_PATTERN: &str = "^-?[0-9]{1,18}$";

/// The generated models of every enabled source that has them.
pub(super) fn models<'s>(
    sources: impl Iterator<Item = (&'s str, &'s SourceSettings)>,
) -> Vec<ModelFile> {
    sources
        .filter(|(_, s)| s.enabled && s.models == SourceModels::Generated)
        .flat_map(|(name, source)| {
            [
                model(name, "bronze", name, bronze(name)),
                model(
                    name,
                    "silver",
                    &format!("{name}_validated"),
                    validated(name, source),
                ),
                model(name, "silver", name, valid(name, source)),
            ]
        })
        .collect()
}

fn model(source: &str, schema: &str, table: &str, text: String) -> ModelFile {
    ModelFile {
        name: format!("{schema}.{table}"),
        template: format!("{schema}/{table}.sql"),
        text,
        source: format!("generated from sources.{source} (environments/)"),
    }
}

/// The working column of a column's raw text (names hold no `__`).
fn raw(column: &str) -> String {
    format!("{column}__raw")
}

/// The working column of a number's text without `$`, commas and spaces.
fn compact(column: &str) -> String {
    format!("{column}__text")
}

fn bronze(name: &str) -> String {
    format!(
        r#"{{{{ config(materialized="stream", description="Raw {name} records from the {name} Kinesis stream, one row per record (generated from sources.{name}): payload parsed from JSON, or NULL with the load_error of a record the warehouse cannot load, which silver quarantines as an unloadable record.") }}}}
SELECT
    approximate_arrival_timestamp,
    partition_key,
    shard_id,
    sequence_number,
    {{{{ stream_payload() }}}} AS payload,
    {{{{ stream_load_error() }}}} AS load_error
FROM {{{{ stream_source(source="{name}") }}}}
"#
    )
}

fn validated(name: &str, source: &SourceSettings) -> String {
    let columns: Vec<(&str, &ColumnSettings)> = source.columns.iter().collect();
    let key: Vec<String> = source.key.iter().map(|k| quoted_identifier(k)).collect();
    let key = key.join(", ");
    let extracted: String = columns
        .iter()
        .map(|(c, _)| {
            format!(
                "        NULLIF(TRIM({{{{ json_text(column=\"payload\", key=\"{c}\") }}}}), '') AS {},\n",
                raw(c)
            )
        })
        .collect();
    let cleaned: String = columns
        .iter()
        .map(|(c, column)| match column.kind {
            ColumnType::Text => format!("        {},\n", raw(c)),
            ColumnType::Decimal => format!(
                "        {r},\n        {{{{ regexp_replace_all(expr=\"{r}\", pattern=\"[$, ]\", replacement=\"\") }}}} AS {t},\n",
                r = raw(c),
                t = compact(c)
            ),
            ColumnType::Integer => format!(
                "        {r},\n        {{{{ regexp_replace_all(expr=\"{r}\", pattern=\"[, ]\", replacement=\"\") }}}} AS {t},\n",
                r = raw(c),
                t = compact(c)
            ),
        })
        .collect();
    let typed: String = columns
        .iter()
        .map(|(c, column)| match column.kind {
            ColumnType::Text => format!("        {} AS {},\n", raw(c), quoted_identifier(c)),
            ColumnType::Decimal => format!(
                "        CASE WHEN {t} ~ '{DECIMAL_PATTERN}' THEN CAST({t} AS {DECIMAL_TYPE}) END AS {},\n",
                quoted_identifier(c),
                t = compact(c)
            ),
            ColumnType::Integer => format!(
                "        CASE WHEN {t} ~ '{INTEGER_PATTERN}' THEN CAST({t} AS BIGINT) END AS {},\n",
                quoted_identifier(c),
                t = compact(c)
            ),
        })
        .collect();
    let mut reasons = String::new();
    for (c, column) in &columns {
        if column.kind == ColumnType::Text {
            // A value ingest had to cut is not the page's value.
            reasons.push_str(&format!(
                "            WHEN {} LIKE {{{{ limits.truncated_like | sql_string }}}} THEN '{c} too long'\n",
                raw(c)
            ));
        }
    }
    for (c, column) in &columns {
        if column.required {
            reasons.push_str(&format!(
                "            WHEN {} IS NULL THEN 'missing {c}'\n",
                raw(c)
            ));
        }
    }
    for (c, column) in &columns {
        let pattern = match column.kind {
            ColumnType::Text => continue,
            ColumnType::Decimal => DECIMAL_PATTERN,
            ColumnType::Integer => INTEGER_PATTERN,
        };
        reasons.push_str(&format!(
            "            WHEN {r} IS NOT NULL AND NOT {t} ~ '{pattern}' THEN 'unparsable {c}'\n",
            r = raw(c),
            t = compact(c)
        ));
    }
    // What tells copies of a row apart: every column that is not the key,
    // as text (NULL and a value differ). A text value goes with its length,
    // so no value can imitate the separator: `a|=b` and `a`, `b` differ.
    let signature: Vec<String> = columns
        .iter()
        .filter(|(c, _)| !source.key.iter().any(|k| k == c))
        .map(|(c, column)| match column.kind {
            ColumnType::Text => format!(
                "COALESCE(CAST(LENGTH({c}) AS VARCHAR(12)) || '=' || {c}, '-')",
                c = quoted_identifier(c)
            ),
            _ => format!(
                "COALESCE('=' || CAST({} AS VARCHAR(40)), '-')",
                quoted_identifier(c)
            ),
        })
        .collect();
    let signature = if signature.is_empty() {
        "''".to_string()
    } else {
        signature.join(" || '|' || ")
    };
    let outputs: String = columns
        .iter()
        .map(|(c, _)| format!("    {},\n", quoted_identifier(c)))
        .collect();
    format!(
        r#"{{{{ config(materialized="incremental", description="Every {name} row of every complete snapshot (generated from sources.{name}), typed, with the reason it is invalid (NULL when valid): a required value missing, a number that does not parse, a value ingest had to cut; then duplicates of the key within the snapshot: copies that differ are all conflicting duplicates, an exact copy beyond the first is a duplicate. silver.{name} and silver.quarantine read from it, so page rows = silver rows + quarantined rows.") }}}}
WITH records AS (
    SELECT sequence_number, payload, approximate_arrival_timestamp FROM {{{{ ref(model="bronze.{name}") }}}}
    {{{{ archived_records(source="{name}") }}}}
),

extracted AS (
    SELECT
        sequence_number,
        {{{{ json_text(column="payload", key="snapshot_id") }}}} AS snapshot_id,
        {{{{ json_integer(column="payload", key="row_number") }}}} AS page_row,
        {{{{ json_text(column="payload", key="fetched_at") }}}} AS fetched_at,
        {{{{ json_text(column="payload", key="oversize_bytes") }}}} AS oversize_bytes,
{extracted}        {{{{ json_to_text(column="payload") }}}} AS "raw"
    FROM records
    WHERE payload IS NOT NULL
        AND COALESCE({{{{ json_text(column="payload", key="record_type") }}}}, 'row') = 'row'
),

-- One record per page row (a retried put or a reloaded archive counts
-- once), of complete snapshots only.
delivered AS (
    SELECT
        e.*,
        ROW_NUMBER() OVER (
            PARTITION BY e.snapshot_id, e.page_row
            ORDER BY LENGTH(e.sequence_number), e.sequence_number
        ) AS delivery
    FROM extracted AS e
    LEFT JOIN {{{{ ref(model="silver.snapshots") }}}} AS s
        ON s.source = '{name}' AND e.snapshot_id = s.snapshot_id
    WHERE e.snapshot_id IS NULL OR s.complete
),

cleaned AS (
    SELECT
        sequence_number,
        snapshot_id,
        page_row,
        oversize_bytes,
        CASE
            WHEN fetched_at ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}'
                THEN CAST(REPLACE(LEFT(fetched_at, 19), 'T', ' ') AS TIMESTAMP)
        END AS observed_at,
{cleaned}        "raw"
    FROM delivered
    WHERE delivery = 1 OR snapshot_id IS NULL OR page_row IS NULL
),

typed AS (
    SELECT
        sequence_number,
        snapshot_id,
        page_row,
        observed_at,
{typed}        CASE
            WHEN oversize_bytes IS NOT NULL THEN 'record too large'
            WHEN snapshot_id IS NULL OR observed_at IS NULL THEN 'missing snapshot metadata'
{reasons}        END AS row_reason,
        "raw"
    FROM cleaned
),

-- Valid copies of the same key in the same snapshot, compared: NULL for
-- invalid rows, so only valid copies count.
compared AS (
    SELECT
        *,
        MIN(CASE WHEN row_reason IS NULL THEN {signature} END) OVER (PARTITION BY snapshot_id, {key}) AS first_copy,
        MAX(CASE WHEN row_reason IS NULL THEN {signature} END) OVER (PARTITION BY snapshot_id, {key}) AS last_copy,
        ROW_NUMBER() OVER (
            PARTITION BY snapshot_id, {key}, CASE WHEN row_reason IS NULL THEN 1 ELSE 0 END
            ORDER BY page_row, LENGTH(sequence_number), sequence_number
        ) AS copy
    FROM typed
)

SELECT
    snapshot_id,
    observed_at,
{outputs}    CASE
        WHEN row_reason IS NOT NULL THEN row_reason
        WHEN first_copy <> last_copy THEN 'conflicting duplicate'
        WHEN copy > 1 THEN 'duplicate'
    END AS reason,
    "raw"
FROM compared
"#
    )
}

fn valid(name: &str, source: &SourceSettings) -> String {
    let outputs: String = source
        .columns
        .iter()
        .map(|(c, _)| format!("    {},\n", quoted_identifier(c)))
        .collect();
    let key = source.key.join(", ");
    format!(
        r#"{{{{ config(materialized="incremental", description="Valid {name} rows (generated from sources.{name}): one row per {key} per snapshot, typed as declared. Copies of a key that disagree are all quarantined ('conflicting duplicate'); of exact copies the first is kept.") }}}}
SELECT
{outputs}    snapshot_id,
    observed_at
FROM {{{{ ref(model="silver.{name}_validated") }}}}
WHERE reason IS NULL
"#
    )
}

/// The checks of the generated models, as a checks file (sql/checks.yaml's
/// format): each generated source's latest snapshot has valid rows, its
/// last successful ingest run is recent, one row per key per snapshot in
/// silver, its page rows all accounted for (silver + quarantine), and its
/// share of invalid rows.
/// None when no source has generated models.
pub(crate) fn checks_yaml<'s>(
    sources: impl Iterator<Item = (&'s str, &'s SourceSettings)>,
) -> Option<String> {
    let mut text = String::new();
    for (name, source) in sources.filter(|(_, s)| s.enabled && s.models == SourceModels::Generated)
    {
        let owner = json(&format!("sources.{name}"));
        let key: Vec<String> = source.key.iter().map(|k| json(k)).collect();
        let key = key.join(", ");
        let entries = [
            format!(
                "  - name: {name}_arriving\n    description: {}\n    owner: {owner}\n    runbook: {}\n    model: silver.{name}\n    type: row_count\n    where: snapshot_id = (SELECT MAX(snapshot_id) FROM silver.snapshots WHERE source = '{name}' AND complete)\n    fail: {{min: 1}}\n",
                json(&format!("The latest {name} snapshot has valid rows (generated from sources.{name}).")),
                json(&format!("No valid {name} rows: run `pricewatch status` and `pricewatch ingest --source {name}=…`; if the page changed shape, look at silver.quarantine where source = '{name}'.")),
            ),
            format!(
                "  - name: {name}_fresh\n    description: {}\n    owner: {owner}\n    runbook: {}\n    model: silver.ingest_runs\n    type: freshness\n    column: run_at\n    where: source = '{name}' AND outcome IN ('pushed', 'unchanged')\n    warn: 30\n    fail: 60\n",
                json(&format!("The last successful ingest run of the {name} page is recent, from its heartbeat (generated from sources.{name}).")),
                json(&format!("No recent {name} ingest run: check the ingest Lambda and the last `pricewatch refresh`; silver.ingest_runs shows each run's outcome and error.")),
            ),
            format!(
                "  - name: {name}_one_row_per_key\n    description: {}\n    owner: {owner}\n    runbook: {}\n    model: silver.{name}\n    type: unique\n    columns: [{key}, snapshot_id]\n    fail: 0\n",
                json(&format!("Each key of {name} appears once per snapshot (generated from sources.{name}).")),
                json(&format!("Duplicate keys reached silver.{name}: check that sources.{name}.key names the columns that identify a row.")),
            ),
            format!(
                "  - name: {name}_rows_accounted\n    description: {}\n    owner: {owner}\n    runbook: {}\n    model: silver.{name}\n    type: custom_sql\n    sql: {}\n    fail: 0\n",
                json(&format!("Nothing is dropped silently: in the latest {name} snapshot, the rows ingest read (its heartbeat's page_rows) equal the rows in silver.{name} plus those quarantined (generated from sources.{name}).")),
                json(&format!("Rows lost or invented between the {name} page and silver: `pricewatch explain-check {name}_rows_accounted`, then compare silver.ingest_runs.page_rows with silver.{name} and silver.quarantine (source = '{name}') for that snapshot_id.")),
                json(&format!(
                    "SELECT COUNT(*) FROM (SELECT snapshot_id, MAX(page_rows) AS page_rows FROM silver.ingest_runs \
                     WHERE source = '{name}' AND outcome = 'pushed' AND snapshot_id = (SELECT MAX(snapshot_id) FROM silver.ingest_runs WHERE source = '{name}' AND outcome = 'pushed') \
                     GROUP BY snapshot_id) AS r \
                     LEFT JOIN (SELECT snapshot_id, COUNT(*) AS n FROM silver.{name} GROUP BY snapshot_id) AS s ON r.snapshot_id = s.snapshot_id \
                     LEFT JOIN (SELECT snapshot_id, COUNT(*) AS n FROM silver.quarantine WHERE source = '{name}' GROUP BY snapshot_id) AS q ON r.snapshot_id = q.snapshot_id \
                     WHERE r.page_rows <> COALESCE(s.n, 0) + COALESCE(q.n, 0)"
                )),
            ),
            format!(
                "  - name: {name}_quarantine_ratio\n    description: {}\n    owner: {owner}\n    runbook: {}\n    model: silver.{name}_validated\n    type: quarantine_ratio\n    warn: 0.02\n    fail: 0.2\n",
                json(&format!("Share of {name} rows in the latest snapshot that failed validation (generated from sources.{name}).")),
                json(&format!("Too many invalid {name} rows: `pricewatch explain-check {name}_quarantine_ratio` lists them with their reason; a declared column the page no longer fills: adapt sources.{name}.columns.")),
            ),
        ];
        for entry in entries {
            text.push_str(&entry);
        }
    }
    (!text.is_empty()).then(|| format!("checks:\n{text}"))
}

/// A YAML scalar that reads back as `text` (JSON strings are YAML).
fn json(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

#[cfg(test)]
mod tests {
    use crate::config::{ColumnSettings, ColumnType, Columns, Environments, SourceSettings};
    use crate::model::Model;

    fn column(header: &str, kind: ColumnType, required: bool) -> ColumnSettings {
        ColumnSettings {
            header: header.into(),
            kind,
            required,
        }
    }

    /// The project's bundle for `env`, with a `prices` source declared.
    fn bundle(env: &str) -> crate::bundle::Bundle {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let project = crate::project::Project::load(dir).unwrap();
        let mut env = Environments::new(dir).load(env).unwrap();
        env.settings.sources.insert(
            "prices".into(),
            SourceSettings {
                enabled: true,
                url: "https://example.com/prices.html".into(),
                key: vec!["item".into(), "vendor".into()],
                columns: Columns(vec![
                    ("item".into(), column("Item", ColumnType::Text, true)),
                    ("vendor".into(), column("Vendor", ColumnType::Text, true)),
                    ("price".into(), column("Price", ColumnType::Decimal, true)),
                    ("order".into(), column("Units", ColumnType::Integer, false)),
                    ("note".into(), column("Note", ColumnType::Text, false)),
                ]),
                models: Default::default(),
            },
        );
        crate::bundle::build(&project, &env).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// The render problems of `dev` with `change` made to its sources.
    fn problems(
        change: impl FnOnce(&mut std::collections::BTreeMap<String, SourceSettings>),
    ) -> String {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let project = crate::project::Project::load(dir).unwrap();
        let mut env = Environments::new(dir).load("dev").unwrap();
        change(&mut env.settings.sources);
        match crate::bundle::build(&project, &env) {
            Ok(_) => panic!("dev renders"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_hand_written_source_needs_its_models_and_the_source_list_must_fit_the_lambda() {
        let err = problems(|sources| {
            let mut extra = sources["vendors"].clone();
            extra.models = crate::config::SourceModels::HandWritten;
            sources.insert("extra".into(), extra);
        });
        assert!(
            err.contains(
                "sources.extra: models: hand_written, but the project has no sql/bronze/extra.sql"
            ),
            "{err}"
        );
        let err = problems(|sources| {
            for i in 0..40 {
                let mut more = sources["vendors"].clone();
                more.models = Default::default();
                sources.insert(format!("source_{i:02}"), more);
            }
        });
        assert!(
            err.contains("the ingest Lambda's source list (PRICEWATCH_SOURCES) would be"),
            "{err}"
        );
    }

    fn model<'m>(models: &'m [Model], name: &str) -> &'m Model {
        models
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no model {name}"))
    }

    #[test]
    fn a_declared_source_gets_typed_redshift_models() {
        let models = bundle("dev").models;
        let bronze = model(&models, "bronze.prices");
        assert_eq!(
            bronze.source,
            "generated from sources.prices (environments/)"
        );
        assert!(
            bronze
                .query
                .contains("FROM kinesis.\"pricewatch-dev-prices\""),
            "{}",
            bronze.query
        );
        let validated = model(&models, "silver.prices_validated");
        assert_eq!(
            validated.columns,
            [
                "snapshot_id",
                "observed_at",
                "item",
                "vendor",
                "price",
                "order",
                "note",
                "reason",
                "raw"
            ]
        );
        let q = &validated.query;
        // Copies are told apart by their non-key columns; a text value
        // goes with its length, so `a|=b` cannot pass for two values.
        assert!(
            q.contains("COALESCE(CAST(LENGTH(\"note\") AS VARCHAR(12)) || '=' || \"note\", '-')"),
            "{q}"
        );
        // `$1,234.56` and stray spaces: `$`, commas and spaces go first
        // (Redshift replaces every match without a flag).
        assert!(
            q.contains("REGEXP_REPLACE(price__raw, '[$, ]', '') AS price__text"),
            "{q}"
        );
        assert!(q.contains("CASE WHEN price__text ~ '^-?[0-9]{1,14}([.][0-9]{1,4})?$' THEN CAST(price__text AS NUMERIC(18, 4)) END AS \"price\""), "{q}");
        assert!(
            q.contains("CAST(order__text AS BIGINT) END AS \"order\""),
            "{q}"
        );
        assert!(
            q.contains("WHEN price__raw IS NULL THEN 'missing price'"),
            "{q}"
        );
        assert!(q.contains("THEN 'unparsable price'"), "{q}");
        assert!(!q.contains("'missing order'"), "order is optional");
        assert!(
            q.contains("FROM bronze.prices_history"),
            "archived records on Redshift: {q}"
        );
        assert!(q.contains("ON s.source = 'prices'"), "{q}");
        assert!(
            q.contains("PARTITION BY snapshot_id, \"item\", \"vendor\""),
            "{q}"
        );
        let valid = model(&models, "silver.prices");
        assert_eq!(
            valid.columns,
            [
                "item",
                "vendor",
                "price",
                "order",
                "note",
                "snapshot_id",
                "observed_at"
            ]
        );
        let quarantine = model(&models, "silver.quarantine");
        assert!(quarantine
            .depends_on
            .contains(&"silver.prices_validated".to_string()));
        assert!(quarantine
            .query
            .contains("CAST('prices' AS VARCHAR(16)) AS source"));
        for reader in ["silver.snapshots", "silver.ingest_runs"] {
            assert!(
                model(&models, reader)
                    .depends_on
                    .contains(&"bronze.prices".to_string()),
                "{reader}"
            );
        }
    }

    #[test]
    fn a_declared_source_gets_postgres_models_and_checks() {
        let bundle = bundle("local");
        let models = bundle.models;
        let validated = model(&models, "silver.prices_validated");
        assert!(validated
            .query
            .contains("REGEXP_REPLACE(price__raw, '[$, ]', '', 'g') AS price__text"));
        assert!(model(&models, "bronze.prices")
            .query
            .contains("FROM pricewatch_meta.kinesis_prices"));
        let checks: Vec<&str> = bundle
            .checks
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| n.starts_with("prices_"))
            .collect();
        assert_eq!(
            checks,
            [
                "prices_arriving",
                "prices_fresh",
                "prices_one_row_per_key",
                "prices_rows_accounted",
                "prices_quarantine_ratio"
            ]
        );
    }
}
