//! Sizes the record contract guarantees between ingest and the warehouse.
//! Ingest enforces them before a record reaches the stream; the bronze and
//! silver models enforce them again for anything else that lands there, so
//! no record can make a statement fail (Redshift's `JSON_SERIALIZE` and
//! `VARCHAR` stop at 65,535 bytes).

/// Characters kept of one scraped cell; longer cells are cut and end in
/// [`TRUNCATED_MARKER`].
pub const MAX_CELL_CHARS: usize = 1_000;
/// Bytes of one UTF-8 cell at most: the width of text columns.
pub(crate) const MAX_CELL_BYTES: usize = MAX_CELL_CHARS * 4;
/// What a cut cell ends with, so nobody mistakes it for the page's text.
pub const TRUNCATED_MARKER: &str = "…[truncated]";
/// Bytes of one record's JSON at most; bronze keeps larger records out.
pub(crate) const MAX_RECORD_BYTES: usize = 60_000;
/// The largest price or shipping cost silver accepts (8 digits before the
/// point, whole cents): with pricing percentages capped at 100 % every
/// gold figure built from it — twice it, a difference of two, a
/// percentage change — fits the gold models' NUMERIC columns. The SQL
/// rule is `^0*[0-9]{1,8}([.][0-9]{1,2}0*)?$`; a pricing floor or ceiling
/// above it is a config error.
pub(crate) const MAX_AMOUNT: f64 = 99_999_999.99;
