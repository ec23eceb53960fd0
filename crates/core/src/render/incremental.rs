//! Incremental models: a table plus the procedure that refreshes it for
//! the snapshots whose records changed since its last refresh.
//!
//! The watermark of an incremental model is the state of every snapshot it
//! has taken in: one row per source and snapshot in
//! `pricewatch_meta.incremental_state` with the snapshot's record count and
//! completeness as silver.snapshots reported them. A single high-water mark
//! (the latest arrival time) cannot be used: `pricewatch backfill` adds
//! archived records to an old snapshot, and a snapshot cut off mid-delivery
//! becomes complete when its last rows arrive later, so old snapshots change.
//!
//! What the model takes in (its input state) is silver.snapshots, when it
//! reads it, and the recorded state of every incremental model it reads (so
//! a model never gets ahead of an upstream model refreshed less recently).
//! A refresh compares the input state with its own, deletes and inserts the
//! rows of every snapshot that differs (plus the rows without a snapshot,
//! which no state covers), and records the input state as its own — all in
//! the procedure's one transaction, so an interrupted refresh leaves the
//! table and its watermark as they were.

use crate::config::Dialect;
use crate::sql_text::literal;

/// The watermarks: what each incremental model has taken in.
pub const STATE_TABLE: &str = "pricewatch_meta.incremental_state";
/// The model that tells which snapshots changed.
pub const SNAPSHOTS_MODEL: &str = "silver.snapshots";
/// What the state of a snapshot is made of (silver.snapshots' columns):
/// bronze records are only ever added, so a snapshot whose records changed
/// has another count, arrival or observation time.
pub(crate) const STATE_COLUMNS: &str =
    "source, snapshot_id, observed_at, records, last_arrival, complete";
/// The column every incremental model's rows are keyed by.
pub(crate) const KEY: &str = "snapshot_id";
/// Above this many changed snapshots a refresh rebuilds the whole table:
/// one statement is cheaper than a long key list, and the list of quoted
/// keys stays within a Redshift VARCHAR (LISTAGG's result).
pub(crate) const MAX_KEYS: usize = 500;
/// The same bound in bytes of the quoted key list.
pub(crate) const MAX_KEY_BYTES: usize = 60_000;

/// The procedure that refreshes `model`.
pub(crate) fn procedure(model: &str) -> String {
    format!("pricewatch_meta.incremental__{}", model.replace('.', "__"))
}

/// The procedure with its argument types, as GRANT and DROP name it.
pub fn procedure_signature(model: &str) -> String {
    format!("{}(BOOLEAN)", procedure(model))
}

/// The statement `refresh` runs; `full` rebuilds the whole table.
pub fn refresh_call(model: &str, full: bool) -> String {
    format!(
        "CALL {}({});",
        procedure(model),
        if full { "TRUE" } else { "FALSE" }
    )
}

/// The input state of a model reading `inputs`: each is silver.snapshots
/// or an incremental model. None when it reads neither.
pub(crate) fn input_state(inputs: &[(&str, bool)], dialect: Dialect) -> Option<String> {
    let parts: Vec<String> = inputs
        .iter()
        .filter_map(|(name, incremental)| {
            if *name == SNAPSHOTS_MODEL {
                Some(format!("SELECT {STATE_COLUMNS} FROM {SNAPSHOTS_MODEL}"))
            } else if *incremental {
                Some(format!(
                    "SELECT {STATE_COLUMNS} FROM {STATE_TABLE} WHERE model = {}",
                    literal(name, dialect)
                ))
            } else {
                None
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n    UNION\n    "))
}

/// The snapshots (non-NULL keys) whose state differs between the input
/// state and what `model` recorded, each once.
fn changed_keys(model: &str, input: &str, dialect: Dialect) -> String {
    let own = format!(
        "SELECT {STATE_COLUMNS} FROM {STATE_TABLE} WHERE model = {}",
        literal(model, dialect)
    );
    format!(
        "SELECT DISTINCT {KEY} FROM (\n            (SELECT * FROM (\n    {input}\n    ) AS i EXCEPT {own})\n            UNION ALL\n            (SELECT * FROM ({own}) AS o EXCEPT SELECT * FROM (\n    {input}\n    ) AS i)\n        ) AS d WHERE {KEY} IS NOT NULL"
    )
}

/// The CREATE statements of an incremental model: the table filled from
/// the whole query, its watermark cleared (so the first refresh takes in
/// every snapshot: a recreated model is rebuilt) and its procedure.
/// `reads_earlier`: a snapshot's rows depend on earlier snapshots, so a
/// changed snapshot rewrites itself and every later one (see
/// [`rewritten_since`]).
/// `timed`: it has an `observed_at` column, which the models reading
/// earlier snapshots bound their reads by (indexed on PostgreSQL too).
pub(crate) fn ddl(
    dialect: Dialect,
    name: &str,
    input: &str,
    query: &str,
    reads_earlier: bool,
    timed: bool,
) -> String {
    let model = literal(name, dialect);
    let changed = changed_keys(name, input, dialect);
    let key_list = match dialect {
        Dialect::Postgres => format!("string_agg(quote_literal({KEY}), ',')"),
        Dialect::Redshift => format!("LISTAGG(quote_literal({KEY}), ',')"),
    };
    let (header, footer) = procedure_wrapping(dialect);
    let query_text = literal(query, dialect);
    let scope = literal(&scope_model(name), dialect);
    let rewrite = if reads_earlier {
        format!(
            "SELECT INTO since MIN({KEY}) FROM ({changed}) AS c;
        -- From the row holding the earliest change: a row keyed by an
        -- earlier snapshot (its hour's, its time's) may cover it.
        SELECT INTO since COALESCE(MAX({KEY}), since) FROM {name} WHERE {KEY} <= since;
        IF since IS NOT NULL THEN
            -- The snapshots rewritten, for the query's read bounds.
            INSERT INTO {STATE_TABLE} (model, source, {KEY}, observed_at)
            SELECT {scope}, source, {KEY}, observed_at FROM (
    {input}
            ) AS i WHERE {KEY} >= since;
            INSERT INTO {STATE_TABLE} (model, {KEY}) VALUES ({scope}, since);
            DELETE FROM {name} WHERE {KEY} >= since;
            INSERT INTO {name} SELECT * FROM (
{query}
            ) AS q WHERE q.{KEY} >= since;
            DELETE FROM {STATE_TABLE} WHERE model = {scope};
        END IF;"
        )
    } else {
        format!(
            "SELECT INTO keys {key_list} FROM ({changed}) AS c;
        DELETE FROM {name} WHERE {KEY} IS NULL OR {KEY} IN ({changed});
        -- The keys as literals, so the filter reaches inside the query
        -- (its windows and joins are per snapshot) rather than joining
        -- its full result.
        EXECUTE 'INSERT INTO {name} SELECT * FROM (' || {query_text} || ') AS q WHERE q.{KEY} IS NULL OR q.{KEY} IN (' || COALESCE(keys, 'NULL') || ')';"
        )
    };
    // Rows of one snapshot are read, deleted and rewritten together: an
    // index (PostgreSQL) or sort key (Redshift, whose zone maps then skip
    // the other snapshots' blocks) on the key.
    let create = match dialect {
        Dialect::Postgres => format!(
            "CREATE TABLE {name} AS\nSELECT * FROM (\n{query}\n) AS q;\nCREATE INDEX ON {name} ({KEY});{}",
            if timed {
                format!("\nCREATE INDEX ON {name} (observed_at);")
            } else {
                String::new()
            }
        ),
        Dialect::Redshift => format!(
            "CREATE TABLE {name}\nSORTKEY ({KEY})\nAS\nSELECT * FROM (\n{query}\n) AS q;"
        ),
    };
    format!(
        "{create}
DELETE FROM {STATE_TABLE} WHERE model = {model};
-- No TRUNCATE below: on Redshift it commits, and the rows and the
-- watermark must change in one transaction.
CREATE OR REPLACE PROCEDURE {proc}(full_rebuild BOOLEAN)
{header}
DECLARE
    changed BIGINT;
    key_bytes BIGINT;
    keys VARCHAR(65535);
    since VARCHAR(65535);
BEGIN
    SELECT INTO changed, key_bytes COUNT(*), COALESCE(SUM(OCTET_LENGTH(quote_literal({KEY})) + 1), 0)
    FROM ({changed}) AS c;
    IF full_rebuild OR changed > {MAX_KEYS} OR key_bytes > {MAX_KEY_BYTES} THEN
        DELETE FROM {name};
        INSERT INTO {name} SELECT * FROM (
{query}
        ) AS q;
    ELSE
        {rewrite}
    END IF;
    DELETE FROM {STATE_TABLE} WHERE model = {model};
    INSERT INTO {STATE_TABLE} (model, {STATE_COLUMNS})
    SELECT {model}, {STATE_COLUMNS} FROM (
    {input}
    ) AS i;
END;
{footer}
",
        proc = procedure(name),
    )
}

/// Where a `reads_earlier` model keeps, inside its refresh's transaction,
/// the snapshots that refresh rewrites.
pub(crate) fn scope_model(model: &str) -> String {
    format!("{model}:rewriting")
}

/// The earliest `column` (`snapshot_id` or `observed_at`) of the snapshots
/// the refresh of `model` (declared `reads_earlier`) is rewriting: the
/// query bounds what it reads by it. Outside the refresh's transaction
/// there are no such rows, and the bound is the beginning: the query means
/// all snapshots.
pub(crate) fn rewritten_since(model: &str, column: &str, dialect: Dialect) -> Option<String> {
    let beginning = match column {
        KEY => "''",
        "observed_at" => BEGINNING,
        _ => return None,
    };
    Some(format!(
        "(SELECT COALESCE(MIN({column}), {beginning}) FROM {STATE_TABLE} WHERE model = {})",
        literal(&scope_model(model), dialect)
    ))
}

/// How far before the latest arrival silver.snapshots has taken in its
/// next refresh looks for records (see [`arrival_ddl`]): a record that was
/// not in bronze when that arrival was read must have arrived later than
/// this before it — a slack for records put while bronze was being read.
pub(crate) const ARRIVAL_LOOKBACK: &str = "1 hour";
/// A date before any record: "from the beginning" as a timestamp both
/// dialects compare with (Redshift has no '-infinity').
const BEGINNING: &str = "CAST('1970-01-01 00:00:00' AS TIMESTAMP)";

/// The predicate silver.snapshots' query puts on its records' arrival
/// column (`column`) for `source`: the lower bound its refresh procedure
/// writes to the state table inside its own transaction. Outside that
/// transaction there is no bound row, so the query means all records.
pub(crate) fn arrived_since(column: &str, source: &str, dialect: Dialect) -> String {
    format!(
        "{column} >= (SELECT COALESCE(MIN(last_arrival), {BEGINNING}) FROM {STATE_TABLE} WHERE model = {} AND source = {})",
        literal(SNAPSHOTS_MODEL, dialect),
        literal(source, dialect)
    )
}

/// The CREATE statements of silver.snapshots, incremental by arrival: it
/// tells the other incremental models which snapshots changed, so it cannot
/// compare snapshot states itself. Its refresh reads only the records that
/// arrived since the latest arrival it holds (less [`ARRIVAL_LOOKBACK`]),
/// takes the snapshots those records belong to, and rewrites each of them
/// from all its records — which arrived no earlier than the snapshot's
/// first arrival it holds, or are new. Its query bounds its scan with
/// [`arrived_since`]; the bounds and the changed snapshots are rows of the
/// state table that live only inside the procedure's one transaction.
pub(crate) fn arrival_ddl(dialect: Dialect, query: &str) -> String {
    let name = SNAPSHOTS_MODEL;
    let model = literal(name, dialect);
    let (header, footer) = procedure_wrapping(dialect);
    let query_text = literal(query, dialect);
    // A snapshot is a source and an id; sources have no '/'.
    let pair = "source || '/' || snapshot_id";
    let pair_list = match dialect {
        Dialect::Postgres => format!("string_agg(quote_literal({pair}), ',')"),
        Dialect::Redshift => format!("LISTAGG(quote_literal({pair}), ',')"),
    };
    format!(
        "CREATE TABLE {name} AS\nSELECT * FROM (\n{query}\n) AS q;
DELETE FROM {STATE_TABLE} WHERE model = {model};
CREATE OR REPLACE PROCEDURE {proc}(full_rebuild BOOLEAN)
{header}
DECLARE
    changed BIGINT;
    key_bytes BIGINT;
    keys VARCHAR(65535);
BEGIN
    DELETE FROM {STATE_TABLE} WHERE model = {model};
    IF NOT full_rebuild THEN
        -- Per source, the records since the latest arrival taken in (less
        -- the lookback): a source without rows yet is read whole.
        INSERT INTO {STATE_TABLE} (model, source, last_arrival)
        SELECT {model}, source, MAX(last_arrival) - INTERVAL '{ARRIVAL_LOOKBACK}'
        FROM {name} GROUP BY source;
        -- The snapshots those records belong to.
        INSERT INTO {STATE_TABLE} (model, source, snapshot_id)
        SELECT {model}, source, snapshot_id FROM (
{query}
        ) AS q;
        -- Their earlier records arrived no earlier than their first arrival.
        INSERT INTO {STATE_TABLE} (model, source, last_arrival)
        SELECT {model}, t.source, MIN(s.first_arrival)
        FROM {STATE_TABLE} AS t
        INNER JOIN {name} AS s ON s.source = t.source AND s.snapshot_id = t.snapshot_id
        WHERE t.model = {model}
        GROUP BY t.source;
        SELECT INTO changed, key_bytes COUNT(*), COALESCE(SUM(OCTET_LENGTH(quote_literal({pair})) + 1), 0)
        FROM {STATE_TABLE} WHERE model = {model} AND snapshot_id IS NOT NULL;
    END IF;
    IF full_rebuild OR changed > {MAX_KEYS} OR key_bytes > {MAX_KEY_BYTES} THEN
        DELETE FROM {STATE_TABLE} WHERE model = {model};
        DELETE FROM {name};
        INSERT INTO {name} SELECT * FROM (
{query}
        ) AS q;
    ELSE
        SELECT INTO keys {pair_list}
        FROM {STATE_TABLE} WHERE model = {model} AND snapshot_id IS NOT NULL;
        DELETE FROM {name} USING {STATE_TABLE} AS t
        WHERE t.model = {model} AND t.source = {name}.source AND t.snapshot_id = {name}.snapshot_id;
        -- The snapshots as literals, so the filter reaches the records
        -- (the query groups by source and snapshot).
        EXECUTE 'INSERT INTO {name} SELECT * FROM (' || {query_text} || ') AS q WHERE ' || {source_pair} || ' IN (' || COALESCE(keys, 'NULL') || ')';
        DELETE FROM {STATE_TABLE} WHERE model = {model};
    END IF;
END;
{footer}
",
        proc = procedure(name),
        source_pair = literal("q.source || '/' || q.snapshot_id", dialect),
    )
}

/// The procedure's language clauses: it runs as its definer (the owner),
/// so operators refresh through it without rights on the table.
fn procedure_wrapping(dialect: Dialect) -> (&'static str, &'static str) {
    match dialect {
        Dialect::Postgres => (
            "LANGUAGE plpgsql\nSECURITY DEFINER\nSET search_path = pg_catalog, pg_temp\nAS $$",
            "$$;",
        ),
        Dialect::Redshift => (
            "AS $$",
            "$$ LANGUAGE plpgsql\nSECURITY DEFINER\nSET search_path TO pricewatch_meta;",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_column_cannot_be_named_like_a_procedure_variable() {
        let input = input_state(&[("silver.snapshots", false)], Dialect::Postgres).unwrap();
        for ddl in [
            ddl(
                Dialect::Postgres,
                "silver.p",
                &input,
                "SELECT 1",
                true,
                true,
            ),
            arrival_ddl(Dialect::Redshift, "SELECT 1"),
        ] {
            let declared = ddl
                .split_once("DECLARE\n")
                .and_then(|(_, rest)| rest.split_once("BEGIN\n"))
                .map(|(vars, _)| vars)
                .expect("a DECLARE section");
            let names = declared
                .lines()
                .filter_map(|line| line.split_whitespace().next())
                .chain(["full_rebuild"]);
            for name in names {
                assert!(
                    crate::config::validate::GENERATED_COLUMNS.contains(&name),
                    "{name} is a procedure variable a column could shadow"
                );
            }
        }
    }

    #[test]
    fn input_state_reads_snapshots_and_upstream_watermarks() {
        let input = input_state(
            &[
                ("bronze.products", false),
                ("silver.snapshots", false),
                ("silver.vendors_validated", true),
            ],
            Dialect::Postgres,
        )
        .unwrap();
        assert_eq!(
            input,
            "SELECT source, snapshot_id, observed_at, records, last_arrival, complete FROM silver.snapshots\n    UNION\n    SELECT source, snapshot_id, observed_at, records, last_arrival, complete FROM pricewatch_meta.incremental_state WHERE model = 'silver.vendors_validated'"
        );
        assert!(input_state(&[("bronze.products", false)], Dialect::Postgres).is_none());
    }

    #[test]
    fn redshift_procedure_commits_once_and_lists_keys_with_listagg() {
        let input = input_state(&[("silver.snapshots", false)], Dialect::Redshift).unwrap();
        let ddl = ddl(
            Dialect::Redshift,
            "silver.p",
            &input,
            "SELECT snapshot_id, 'a\\b' AS x FROM silver.snapshots",
            false,
            false,
        );
        assert!(ddl.starts_with(
            "CREATE TABLE silver.p\nSORTKEY (snapshot_id)\nAS\nSELECT * FROM (\nSELECT snapshot_id, 'a\\b' AS x FROM silver.snapshots\n) AS q;\nDELETE FROM pricewatch_meta.incremental_state WHERE model = 'silver.p';\n"
        ), "{ddl}");
        assert!(ddl.contains("CREATE OR REPLACE PROCEDURE pricewatch_meta.incremental__silver__p(full_rebuild BOOLEAN)\nAS $$\n"));
        assert!(ddl.contains("SELECT INTO keys LISTAGG(quote_literal(snapshot_id), ',')"));
        assert!(ddl.ends_with(
            "$$ LANGUAGE plpgsql\nSECURITY DEFINER\nSET search_path TO pricewatch_meta;\n"
        ));
        // The query inside EXECUTE is a Redshift literal (backslash doubled).
        assert!(ddl.contains("EXECUTE 'INSERT INTO silver.p SELECT * FROM (' || 'SELECT snapshot_id, ''a\\\\b'' AS x FROM silver.snapshots' || ') AS q WHERE q.snapshot_id IS NULL OR q.snapshot_id IN (' || COALESCE(keys, 'NULL') || ')';"), "{ddl}");
        // Rows and watermark in the call's one transaction: no statement that commits.
        assert!(!ddl.contains("TRUNCATE silver") && !ddl.contains("COMMIT"));
        assert_eq!(
            crate::sql_text::split_statements(&ddl, Dialect::Redshift).len(),
            3,
            "{ddl}"
        );
    }

    #[test]
    fn a_model_reading_earlier_snapshots_rewrites_from_the_earliest_change_on() {
        for dialect in [Dialect::Postgres, Dialect::Redshift] {
            let input = input_state(&[("silver.i", true)], dialect).unwrap();
            let since = rewritten_since("gold.e", KEY, dialect).unwrap();
            assert_eq!(
                since,
                "(SELECT COALESCE(MIN(snapshot_id), '') FROM pricewatch_meta.incremental_state WHERE model = 'gold.e:rewriting')"
            );
            assert_eq!(
                rewritten_since("gold.e", "observed_at", dialect).unwrap(),
                "(SELECT COALESCE(MIN(observed_at), CAST('1970-01-01 00:00:00' AS TIMESTAMP)) FROM pricewatch_meta.incremental_state WHERE model = 'gold.e:rewriting')"
            );
            assert!(rewritten_since("gold.e", "item", dialect).is_none());
            let lowered = "SELECT INTO since COALESCE(MAX(snapshot_id), since) FROM gold.e WHERE snapshot_id <= since;";
            let query = format!("SELECT snapshot_id FROM silver.i WHERE snapshot_id >= {since}");
            let ddl = ddl(dialect, "gold.e", &input, &query, true, true);
            assert_eq!(
                ddl.contains("CREATE INDEX ON gold.e (snapshot_id);\nCREATE INDEX ON gold.e (observed_at);\n"),
                dialect == Dialect::Postgres
            );
            // The rewritten snapshots are recorded for the query's bounds,
            // used and cleared in the one transaction; no key list.
            assert!(
                ddl.contains(
                    "SELECT INTO since MIN(snapshot_id) FROM (SELECT DISTINCT snapshot_id FROM"
                ),
                "{ddl}"
            );
            assert!(
                ddl.contains("SELECT 'gold.e:rewriting', source, snapshot_id, observed_at FROM (")
            );
            assert!(ddl.contains("INSERT INTO pricewatch_meta.incremental_state (model, snapshot_id) VALUES ('gold.e:rewriting', since);"));
            assert!(ddl.contains(lowered), "{ddl}");
            assert!(ddl.contains("DELETE FROM gold.e WHERE snapshot_id >= since;"));
            assert!(ddl.contains(&format!("INSERT INTO gold.e SELECT * FROM (\n{query}\n            ) AS q WHERE q.snapshot_id >= since;")));
            assert!(ddl.contains("DELETE FROM pricewatch_meta.incremental_state WHERE model = 'gold.e:rewriting';\n        END IF;"));
            assert!(!ddl.contains("EXECUTE") && !ddl.contains("COMMIT"));
        }
    }

    #[test]
    fn silver_snapshots_reads_only_records_since_its_latest_arrival() {
        assert_eq!(
            arrived_since("r.approximate_arrival_timestamp", "products", Dialect::Redshift),
            "r.approximate_arrival_timestamp >= (SELECT COALESCE(MIN(last_arrival), CAST('1970-01-01 00:00:00' AS TIMESTAMP)) FROM pricewatch_meta.incremental_state WHERE model = 'silver.snapshots' AND source = 'products')"
        );
        let query = "SELECT source, snapshot_id, first_arrival, last_arrival FROM x";
        let redshift = arrival_ddl(Dialect::Redshift, query);
        assert!(redshift.starts_with(
            "CREATE TABLE silver.snapshots AS\nSELECT * FROM (\nSELECT source, snapshot_id, first_arrival, last_arrival FROM x\n) AS q;\n"
        ));
        assert!(redshift.ends_with(
            "$$ LANGUAGE plpgsql\nSECURITY DEFINER\nSET search_path TO pricewatch_meta;\n"
        ));
        for ddl in [redshift, arrival_ddl(Dialect::Postgres, query)] {
            // The bound per source: the latest arrival held, less the lookback.
            assert!(ddl.contains("SELECT 'silver.snapshots', source, MAX(last_arrival) - INTERVAL '1 hour'\n        FROM silver.snapshots GROUP BY source;"), "{ddl}");
            // Lowered to the first arrival of every snapshot rewritten.
            assert!(ddl.contains("SELECT 'silver.snapshots', t.source, MIN(s.first_arrival)"));
            assert!(ddl.contains("DELETE FROM silver.snapshots USING pricewatch_meta.incremental_state AS t\n        WHERE t.model = 'silver.snapshots' AND t.source = silver.snapshots.source AND t.snapshot_id = silver.snapshots.snapshot_id;"));
            // The snapshots recounted, as literals that reach the records.
            assert!(ddl.contains("quote_literal(source || '/' || snapshot_id), ',')\n        FROM pricewatch_meta.incremental_state WHERE model = 'silver.snapshots' AND snapshot_id IS NOT NULL;"), "{ddl}");
            assert!(ddl.contains(") AS q WHERE ' || 'q.source || ''/'' || q.snapshot_id' || ' IN (' || COALESCE(keys, 'NULL') || ')';"), "{ddl}");
            // Its bounds never outlive the transaction (nor bound a
            // rebuild); nothing commits.
            assert!(ddl.contains("    IF full_rebuild OR changed > 500 OR key_bytes > 60000 THEN\n        DELETE FROM pricewatch_meta.incremental_state WHERE model = 'silver.snapshots';\n        DELETE FROM silver.snapshots;"));
            assert!(ddl.trim_end().rsplit("END IF;").nth(1).unwrap().ends_with("DELETE FROM pricewatch_meta.incremental_state WHERE model = 'silver.snapshots';\n    "), "{ddl}");
            assert!(!ddl.contains("COMMIT") && !ddl.contains("TRUNCATE"));
        }
    }

    #[test]
    fn postgres_procedure_is_a_security_definer_with_a_fixed_search_path() {
        let input = input_state(&[("silver.snapshots", false)], Dialect::Postgres).unwrap();
        let ddl = ddl(
            Dialect::Postgres,
            "gold.g",
            &input,
            "SELECT snapshot_id FROM silver.snapshots",
            false,
            false,
        );
        assert!(ddl.contains(") AS q;\nCREATE INDEX ON gold.g (snapshot_id);\n"));
        assert!(ddl.contains("(full_rebuild BOOLEAN)\nLANGUAGE plpgsql\nSECURITY DEFINER\nSET search_path = pg_catalog, pg_temp\nAS $$\n"));
        assert!(ddl.contains("string_agg(quote_literal(snapshot_id), ',')"));
        assert!(ddl.contains(&format!(
            "changed > {MAX_KEYS} OR key_bytes > {MAX_KEY_BYTES}"
        )));
        assert_eq!(
            crate::sql_text::split_statements(&ddl, Dialect::Postgres).len(),
            4
        );
        assert_eq!(
            refresh_call("gold.g", true),
            "CALL pricewatch_meta.incremental__gold__g(TRUE);"
        );
    }
}
