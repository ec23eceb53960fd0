//! The pure half of ingest: the page's table parser, the records a page
//! becomes, and generated pages for tests, the demo and benchmarks. The
//! run itself (fetch, deliver, page hashes) is the `pricewatch-ingest` crate.

pub mod fixtures;
pub mod html;
pub mod records;
