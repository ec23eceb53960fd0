//! The pure half of ingest: the page's table parser, the records a page
//! becomes, the snapshot archive's object names and bytes, and generated pages for tests, the demo and benchmarks. The
//! run itself (fetch, deliver, page hashes) is the `pricewatch-ingest` crate.

pub mod archive;
pub mod fixtures;
pub mod html;
pub mod records;
