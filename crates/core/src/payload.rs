//! The contract of a record's payload that both the config and ingest
//! know: the keys ingest writes itself (no declared column may take one)
//! and how a page's header text is compared with a declared one.

/// Payload key saying what a record is: `row` for a page row, `heartbeat`
/// for a run's heartbeat (see `heartbeat.rs`). Ingest's own keys win over a
/// page column of the same name, so no page can pass a row off as one.
pub const RECORD_TYPE_KEY: &str = "record_type";

/// Payload keys ingest writes itself; no source column may be named so.
pub(crate) const RESERVED_PAYLOAD_KEYS: [&str; 9] = [
    RECORD_TYPE_KEY,
    "source",
    "snapshot_id",
    "fetched_at",
    "row_number",
    SNAPSHOT_ROWS_KEY,
    PAGE_HASH_KEY,
    "extra_cells",
    "oversize_bytes",
];

/// `record_type` of a page row.
pub(crate) const ROW: &str = "row";

/// Payload key of a row's snapshot size: the warehouse accepts a snapshot
/// once that many distinct rows of it arrived.
pub(crate) const SNAPSHOT_ROWS_KEY: &str = "snapshot_rows";
/// Payload key of the page hash every row of a snapshot carries.
pub(crate) const PAGE_HASH_KEY: &str = "page_hash";

/// Lowercase words: "Sale  Price" and "sale_price" both read "sale price".
pub(crate) fn normalise_header(header: &str) -> String {
    header
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}
