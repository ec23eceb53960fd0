//! Deterministic vendor pages of any size, shaped like the real ones (a
//! pandas-style HTML table) with their quirks: prices written four ways,
//! stock statuses in mixed case, unicode vendor names, HTML entities, an
//! optional index column, exact duplicate rows, and — on request — broken
//! rows the warehouse must quarantine (zero and negative prices, conflicting
//! duplicates among them) and 3× price spikes, whose offers the generator
//! names so anomaly detection can be measured against them. Same spec, same
//! bytes. `Style::CaseStudy` writes pages in the case study's own shape.

use std::sync::OnceLock;

use serde::Serialize;

use super::html;
use super::records::{Source, SourceSpec};
use crate::config::SourceSettings;

/// The case study's two sources as environments/defaults.yaml declares
/// them: what the pages below are written for.
const DEFAULTS: &str = include_str!("../../../../environments/defaults.yaml");

fn declared(name: &str) -> Source {
    static SOURCES: OnceLock<Vec<Source>> = OnceLock::new();
    let sources = SOURCES.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Defaults {
            sources: std::collections::BTreeMap<String, SourceSettings>,
        }
        let defaults: Defaults = serde_yaml_ng::from_str(DEFAULTS)
            .expect("environments/defaults.yaml declares its sources");
        defaults
            .sources
            .iter()
            .map(|(name, s)| Source::declare(SourceSpec::of(name, s)))
            .collect()
    });
    *sources
        .iter()
        .find(|s| s.name() == name)
        .unwrap_or_else(|| panic!("environments/defaults.yaml declares no source {name}"))
}

impl Source {
    /// The products page's source, as environments/defaults.yaml declares it.
    pub fn products() -> Source {
        declared("products")
    }

    /// The vendors page's source, as environments/defaults.yaml declares it.
    pub fn vendors() -> Source {
        declared("vendors")
    }
}

/// Whose vocabulary and formatting a page uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Style {
    /// pricewatch's own stress pages: six categories, ten vendors (unicode
    /// names, entities), prices written four ways, mixed-case statuses,
    /// exact duplicate rows, an `<html>` document.
    #[default]
    Generated,
    /// The shape of the case study's pages as pandas' `to_html` writes
    /// them: a bare `<table class="dataframe">` with an index column, items
    /// like `Smartphone 7` in the categories Electronics, Accessories and
    /// Office Supplies, five of seven vendors per item, prices with two
    /// decimals and no symbol, `In Stock` / `Low Stock` / `Out of Stock`; a
    /// vendors page with whole shipping costs, review scores with six
    /// decimals and plain feedback counts.
    CaseStudy,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSpec {
    pub rows: usize,
    pub seed: u64,
    /// Another variant moves some prices: a changed page, same items.
    pub variant: u32,
    /// Share of product rows written broken (0.0 to 1.0).
    pub broken_ratio: f64,
    pub index_column: bool,
    /// Every 23rd offer priced at three times its usual price: the kind of
    /// outlier anomaly detection must flag.
    pub spikes: bool,
    pub style: Style,
}

impl Default for PageSpec {
    fn default() -> Self {
        PageSpec {
            rows: 200,
            seed: 7,
            variant: 0,
            broken_ratio: 0.0,
            index_column: true,
            spikes: false,
            style: Style::Generated,
        }
    }
}

/// An offer the generator priced at three times its usual price, as the
/// page shows it (rows broken afterwards are not listed: no valid price of
/// theirs reaches the warehouse).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Spike {
    pub item: String,
    pub vendor: String,
    /// The price cell as the page shows it.
    pub price: String,
}

pub(crate) const VENDORS: [&str; 10] = [
    "Acme Electronics",
    "Böse Elektronik GmbH",
    "Tōkyō Gadgets",
    "Café Tech & Co",
    "MegaMart",
    "PixelPoint",
    "Nordic Nerd",
    "Señor Circuits",
    "BudgetBytes",
    "Premium Parts Ltd",
];

const CATEGORIES: [(&str, &[&str], f64); 6] = [
    ("Laptops", &["UltraBook", "ProBook", "AirLite"], 900.0),
    ("Cameras", &["SnapShot", "ProLens", "Vlogger"], 600.0),
    ("Phones", &["Smart X", "Galaxy Fold", "Pixelate"], 700.0),
    ("Headphones", &["Bass Boom", "Quiet Pro", "Ear Pods"], 150.0),
    ("Monitors", &["View 27\"", "Curve 34\"", "Sharp 4K"], 350.0),
    ("Tablets", &["Tab S", "Slate & Pen", "Pad Mini"], 450.0),
];

const BRANDS: [&str; 5] = ["Zentro", "Lumina", "Orbix", "Kestrel", "Vanta"];

/// Vendors that sell each item.
pub(crate) const VENDORS_PER_ITEM: usize = 4;

/// The case study's vendors.
pub(crate) const CASE_STUDY_VENDORS: [&str; 7] = [
    "TechGiant",
    "ElectroWorld",
    "GadgetUniverse",
    "Innovatech",
    "TechSphere",
    "MantaElectronics",
    "ElectroBuddy",
];

/// The case study's item kinds and their categories.
const CASE_STUDY_KINDS: [(&str, &str); 11] = [
    ("Smartphone", "Electronics"),
    ("Laptop", "Electronics"),
    ("Headphones", "Accessories"),
    ("Camera", "Electronics"),
    ("Smartwatch", "Accessories"),
    ("Tablet", "Electronics"),
    ("Drone", "Electronics"),
    ("Printer", "Office Supplies"),
    ("Monitor", "Electronics"),
    ("Keyboard", "Accessories"),
    ("Mouse", "Accessories"),
];

/// Vendors that sell each item on a case-study page.
pub(crate) const CASE_STUDY_VENDORS_PER_ITEM: usize = 5;

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn table(headers: &[&str], rows: &[Vec<String>], index_column: bool, style: Style) -> String {
    let mut out = String::new();
    if style == Style::Generated {
        out.push_str(
            "<html>\n<head><meta charset=\"utf-8\"><title>Vendor prices</title></head>\n<body>\n",
        );
    }
    out.push_str("<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n");
    if index_column {
        out.push_str("      <th></th>\n");
    }
    for header in headers {
        out.push_str(&format!("      <th>{}</th>\n", crate::escape::xml(header)));
    }
    out.push_str("    </tr>\n  </thead>\n  <tbody>\n");
    for (i, row) in rows.iter().enumerate() {
        out.push_str("    <tr>\n");
        if index_column {
            out.push_str(&format!("      <th>{i}</th>\n"));
        }
        for cell in row {
            out.push_str(&format!("      <td>{}</td>\n", crate::escape::xml(cell)));
        }
        out.push_str("    </tr>\n");
    }
    out.push_str("  </tbody>\n</table>");
    if style == Style::Generated {
        out.push_str("\n</body>\n</html>\n");
    }
    out
}

fn format_price(value: f64, style: usize) -> String {
    let cents = (value * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    let grouped = {
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    match style % 4 {
        0 => format!("${grouped}.{frac:02}"),
        1 => format!(" {whole}.{frac:02} "),
        2 => format!("{whole}.{frac:02}"),
        _ => format!("$ {whole}.{frac:02}"),
    }
}

/// Item, category, vendor and usual price of the page's `i`th offer.
fn offer(spec: &PageSpec, i: usize, rng: &mut Rng) -> (String, &'static str, &'static str, f64) {
    match spec.style {
        Style::Generated => {
            let item_index = i / VENDORS_PER_ITEM;
            let (category, kinds, base) = CATEGORIES[item_index % CATEGORIES.len()];
            let item = format!(
                "{} {} {}",
                BRANDS[item_index / CATEGORIES.len() % BRANDS.len()],
                kinds[item_index / (CATEGORIES.len() * BRANDS.len()) % kinds.len()],
                100 + item_index
            );
            let vendor = VENDORS[(item_index + i % VENDORS_PER_ITEM * 3) % VENDORS.len()];
            let item_price = base * (0.6 + 0.8 * item_hash(spec.seed, item_index));
            (
                item,
                category,
                vendor,
                item_price * (0.9 + 0.2 * rng.unit()),
            )
        }
        Style::CaseStudy => {
            // Three numbers of a kind, then the next kind: Smartphone 1-3,
            // Laptop 1-3, ..., Mouse 1-3, Smartphone 4-6, ...
            let item_index = i / CASE_STUDY_VENDORS_PER_ITEM;
            let (kind, category) = CASE_STUDY_KINDS[item_index / 3 % CASE_STUDY_KINDS.len()];
            let number = item_index / (3 * CASE_STUDY_KINDS.len()) * 3 + item_index % 3 + 1;
            let vendor = CASE_STUDY_VENDORS
                [(item_index * 3 + i % CASE_STUDY_VENDORS_PER_ITEM) % CASE_STUDY_VENDORS.len()];
            // Vendors' prices for one item differ widely on the real page.
            let price = 60.0 + 1640.0 * item_hash(spec.seed ^ 0xCA5E, i);
            rng.unit();
            (format!("{kind} {number}"), category, vendor, price)
        }
    }
}

fn stock_status(style: Style, roll: f64, i: usize) -> &'static str {
    match style {
        Style::Generated => match (roll < 0.7, roll < 0.9, i % 5) {
            (true, _, 0) => "in stock",
            (true, _, 1) => "IN STOCK ",
            (true, _, _) => "In Stock",
            (false, true, 2) => "out of stock",
            (false, true, _) => "Out of Stock",
            (false, false, _) => "Limited Stock",
        },
        Style::CaseStudy if roll < 0.34 => "In Stock",
        Style::CaseStudy if roll < 0.68 => "Low Stock",
        Style::CaseStudy => "Out of Stock",
    }
}

/// The products page: Item, Category, Vendor, Sale Price, Stock Status.
pub fn product_page(spec: &PageSpec) -> String {
    product_page_with_spikes(spec).0
}

/// The products page and the offers on it priced at a 3× spike.
pub fn product_page_with_spikes(spec: &PageSpec) -> (String, Vec<Spike>) {
    let mut rng = Rng(spec.seed);
    // Each row, and whether it shows a spiked price.
    let mut rows: Vec<(Vec<String>, bool)> = Vec::with_capacity(spec.rows);
    for i in 0..spec.rows {
        let (item, category, vendor, mut price) = offer(spec, i, &mut rng);
        // A changed page: every third offer moves by up to ±10 % per variant.
        if spec.variant > 0 && i % 3 == 0 {
            let step = item_hash(spec.seed ^ u64::from(spec.variant), i) - 0.5;
            price *= 1.0 + 0.2 * step;
        }
        let spiked = spec.spikes && i % 23 == 5;
        if spiked {
            price *= 3.0;
        }
        let status = stock_status(spec.style, rng.unit(), i);
        let price_style = rng.below(4);
        let price_text = match spec.style {
            Style::Generated => format_price(price, price_style),
            Style::CaseStudy => format_price(price, 2),
        };
        let mut row = vec![
            item,
            category.to_string(),
            vendor.to_string(),
            price_text,
            status.to_string(),
        ];
        let mut conflicting_twin = None;
        let broken = rng.unit() < spec.broken_ratio;
        if broken {
            match rng.below(7) {
                0 => row[0] = String::new(),
                1 => row[3] = "N/A".into(),
                2 => row[3] = format!("-{}", format_price(price, 2)),
                3 => row[4] = "Backorder".into(),
                4 => row[2] = "  ".into(),
                // A zero price: a page error, not a free offer.
                5 => row[3] = "0.00".into(),
                // The offer listed twice with different prices: neither
                // copy can be trusted.
                _ => {
                    let mut twin = row.clone();
                    twin[3] = format_price(price * 1.15, 2);
                    conflicting_twin = Some(twin);
                }
            }
        }
        rows.push((row, spiked && !broken));
        if let Some(twin) = conflicting_twin {
            rows.push((twin, false));
        }
        // Pages repeat a row now and then: an exact duplicate.
        if spec.style == Style::Generated && i % 97 == 13 && rows.len() < spec.rows {
            rows.push(rows.last().cloned().expect("a row was just pushed"));
        }
    }
    rows.truncate(spec.rows);
    let mut spikes: Vec<Spike> = rows
        .iter()
        .filter(|(_, spiked)| *spiked)
        .map(|(row, _)| Spike {
            item: row[0].clone(),
            vendor: row[2].clone(),
            price: row[3].trim().to_string(),
        })
        .collect();
    spikes.sort();
    spikes.dedup();
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(row, _)| row).collect();
    let page = table(
        &["Item", "Category", "Vendor", "Sale Price", "Stock Status"],
        &rows,
        spec.index_column,
        spec.style,
    );
    (page, spikes)
}

/// The vendors page: Vendor Name, Shipping Cost, Customer Review Score,
/// Number of Feedbacks.
pub fn vendor_page(spec: &PageSpec) -> String {
    let mut rng = Rng(spec.seed ^ 0x5EED);
    let vendors: &[&str] = match spec.style {
        Style::Generated => &VENDORS,
        Style::CaseStudy => &CASE_STUDY_VENDORS,
    };
    let rows: Vec<Vec<String>> = vendors
        .iter()
        .enumerate()
        .map(|(i, vendor)| {
            let free = spec.style == Style::Generated && i % 4 == 0;
            let shipping = if free { 0.0 } else { 2.0 + 10.0 * rng.unit() };
            let score = 2.5 + 2.5 * rng.unit()
                - if spec.variant > 0 && i % 2 == 0 {
                    0.3
                } else {
                    0.0
                };
            let feedbacks = 50 + rng.below(5000) + spec.variant as usize * 17;
            match spec.style {
                Style::Generated => vec![
                    vendor.to_string(),
                    if free {
                        "Free".to_string()
                    } else {
                        format_price(shipping, i)
                    },
                    format!("{score:.1}"),
                    if feedbacks >= 1000 {
                        format!("{},{:03}", feedbacks / 1000, feedbacks % 1000)
                    } else {
                        feedbacks.to_string()
                    },
                ],
                Style::CaseStudy => vec![
                    vendor.to_string(),
                    format!("{}", shipping.round() as u32 + 1),
                    format!("{:.6}", score - 1.0),
                    (feedbacks / 10).to_string(),
                ],
            }
        })
        .collect();
    table(
        &[
            "Vendor Name",
            "Shipping Cost",
            "Customer Review Score",
            "Number of Feedbacks",
        ],
        &rows,
        spec.index_column,
        spec.style,
    )
}

/// A stable pseudo-random number in [0, 1) for (seed, n).
fn item_hash(seed: u64, n: usize) -> f64 {
    let mut rng = Rng(seed.wrapping_mul(31).wrapping_add(n as u64));
    rng.next();
    rng.unit()
}

/// The rows a page shows, parsed back: what tests compare against.
pub fn parsed_rows(page: &str) -> Vec<Vec<String>> {
    html::parse_table(page).map(|t| t.rows).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::records::{snapshot, Source};

    #[test]
    fn pages_are_deterministic_and_parse_back() {
        let spec = PageSpec {
            rows: 120,
            ..PageSpec::default()
        };
        assert_eq!(product_page(&spec), product_page(&spec));
        let table = html::parse_table(&product_page(&spec)).unwrap();
        assert_eq!(
            table.headers,
            ["Item", "Category", "Vendor", "Sale Price", "Stock Status"]
        );
        assert_eq!(table.rows.len(), 120);
        assert!(snapshot(Source::products(), &table, 0).is_ok());
        let vendors = html::parse_table(&vendor_page(&spec)).unwrap();
        assert_eq!(vendors.rows.len(), VENDORS.len());
        assert!(vendors.rows.iter().any(|r| r[0] == "Café Tech & Co"));
        assert!(snapshot(Source::vendors(), &vendors, 0).is_ok());
    }

    #[test]
    fn quirks_are_present() {
        let page = product_page(&PageSpec {
            rows: 400,
            ..PageSpec::default()
        });
        let rows = parsed_rows(&page);
        assert!(rows
            .iter()
            .any(|r| r[3].starts_with('$') && r[3].contains(',')));
        assert!(rows.iter().any(|r| r[4] == "IN STOCK"));
        assert!(
            rows.windows(2).any(|w| w[0] == w[1]),
            "an exact duplicate row"
        );
        assert!(page.contains("&amp;") && page.contains("Böse"));
        let no_index = product_page(&PageSpec {
            rows: 3,
            index_column: false,
            ..PageSpec::default()
        });
        assert!(!no_index.contains("<th></th>"));
        assert_eq!(parsed_rows(&no_index).len(), 3);
    }

    #[test]
    fn a_variant_changes_some_prices_but_no_items() {
        let base = parsed_rows(&product_page(&PageSpec::default()));
        let changed = parsed_rows(&product_page(&PageSpec {
            variant: 1,
            ..PageSpec::default()
        }));
        let keys = |rows: &[Vec<String>]| {
            rows.iter()
                .map(|r| (r[0].clone(), r[2].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&base), keys(&changed));
        let moved = base
            .iter()
            .zip(&changed)
            .filter(|(a, b)| a[3] != b[3])
            .count();
        assert!(moved > 10 && moved < base.len(), "{moved}");
    }

    #[test]
    fn broken_rows_appear_at_the_requested_rate() {
        let rows = parsed_rows(&product_page(&PageSpec {
            rows: 1000,
            broken_ratio: 0.3,
            ..PageSpec::default()
        }));
        let broken = rows
            .iter()
            .filter(|r| {
                r[0].is_empty()
                    || r[2].trim().is_empty()
                    || r[3] == "N/A"
                    || r[3] == "0.00"
                    || r[3].starts_with('-')
                    || r[4] == "Backorder"
            })
            .count();
        let conflicting = rows
            .windows(2)
            .filter(|w| w[0][0] == w[1][0] && w[0][2] == w[1][2] && w[0][3] != w[1][3])
            .count();
        assert!(rows.iter().any(|r| r[3] == "0.00"), "a zero price");
        assert!(conflicting > 10, "conflicting duplicates: {conflicting}");
        assert!((200..400).contains(&(broken + conflicting)), "{broken}");
    }

    #[test]
    fn spiked_offers_are_named_with_the_price_the_page_shows() {
        let plain = PageSpec {
            rows: 400,
            variant: 4,
            ..PageSpec::default()
        };
        let (page, spikes) = product_page_with_spikes(&PageSpec {
            spikes: true,
            ..plain
        });
        assert!(product_page_with_spikes(&plain).1.is_empty());
        assert!((15..=18).contains(&spikes.len()), "{}", spikes.len());
        let usual = parsed_rows(&product_page(&plain));
        let cents = |text: &str| {
            let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
            digits.parse::<f64>().unwrap()
        };
        let rows = parsed_rows(&page);
        for spike in &spikes {
            let at = rows
                .iter()
                .position(|r| r[0] == spike.item && r[2] == spike.vendor)
                .unwrap();
            assert_eq!(rows[at][3], spike.price);
            let ratio = cents(&spike.price) / cents(&usual[at][3]);
            assert!((ratio - 3.0).abs() < 0.01, "{spike:?}: {ratio}");
        }
        // A spiked row that is also broken is not a price the warehouse
        // keeps, so it is not listed.
        let (page, spikes) = product_page_with_spikes(&PageSpec {
            spikes: true,
            broken_ratio: 0.5,
            ..plain
        });
        let rows = parsed_rows(&page);
        for spike in &spikes {
            assert!(rows.iter().any(|r| r[0] == spike.item
                && r[2] == spike.vendor
                && r[3] == spike.price
                && r[4] != "Backorder"));
        }
    }

    /// What pandas' `DataFrame.to_html()` writes for the case study's
    /// products page (values made up): no document around the table, an
    /// empty header over the index, the index as `<th>` in every row.
    const PANDAS_PRODUCTS: &str = "<table border=\"1\" class=\"dataframe\">
  <thead>
    <tr style=\"text-align: right;\">
      <th></th>
      <th>Item</th>
      <th>Category</th>
      <th>Vendor</th>
      <th>Sale Price</th>
      <th>Stock Status</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <th>0</th>
      <td>Drone 4</td>
      <td>Electronics</td>
      <td>TechSphere</td>
      <td>412.50</td>
      <td>Low Stock</td>
    </tr>
    <tr>
      <th>1</th>
      <td>Printer 2</td>
      <td>Office Supplies</td>
      <td>ElectroWorld</td>
      <td>1290.05</td>
      <td>Out of Stock</td>
    </tr>
  </tbody>
</table>";

    const PANDAS_VENDORS: &str = "<table border=\"1\" class=\"dataframe\">
  <thead>
    <tr style=\"text-align: right;\">
      <th></th>
      <th>Vendor Name</th>
      <th>Shipping Cost</th>
      <th>Customer Review Score</th>
      <th>Number of Feedbacks</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <th>0</th>
      <td>Innovatech</td>
      <td>11</td>
      <td>3.905127</td>
      <td>268</td>
    </tr>
  </tbody>
</table>";

    #[test]
    fn the_case_study_shape_parses_into_the_warehouse_contract() {
        let products = html::parse_table(PANDAS_PRODUCTS).unwrap();
        assert_eq!(
            products.headers,
            ["Item", "Category", "Vendor", "Sale Price", "Stock Status"],
            "the index column is dropped"
        );
        assert_eq!(
            products.rows[1],
            [
                "Printer 2",
                "Office Supplies",
                "ElectroWorld",
                "1290.05",
                "Out of Stock"
            ]
        );
        let snap = snapshot(Source::products(), &products, 0).unwrap();
        let first: serde_json::Value = serde_json::from_slice(&snap.records[0].data).unwrap();
        assert_eq!(first["sale_price"], "412.50");
        assert_eq!(first["stock_status"], "Low Stock");
        assert_eq!(first["row_number"], 1);
        let vendors = html::parse_table(PANDAS_VENDORS).unwrap();
        let snap = snapshot(Source::vendors(), &vendors, 0).unwrap();
        let row: serde_json::Value = serde_json::from_slice(&snap.records[0].data).unwrap();
        assert_eq!(row["vendor_name"], "Innovatech");
        assert_eq!(row["shipping_cost"], "11");
        assert_eq!(row["review_score"], "3.905127");
        assert_eq!(row["feedback_count"], "268");
    }

    #[test]
    fn case_study_pages_have_the_real_pages_shape() {
        let spec = PageSpec {
            rows: 1000,
            style: Style::CaseStudy,
            ..PageSpec::default()
        };
        let page = product_page(&spec);
        // Byte for byte the layout pandas writes (see PANDAS_PRODUCTS).
        let head_len = PANDAS_PRODUCTS.find("<tbody>").unwrap();
        assert_eq!(page[..head_len], PANDAS_PRODUCTS[..head_len]);
        assert!(page.contains("  <tbody>\n    <tr>\n      <th>0</th>\n      <td>Smartphone 1</td>"));
        assert!(page.ends_with("  </tbody>\n</table>"));
        let rows = parsed_rows(&page);
        assert_eq!(rows.len(), 1000);
        let categories: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(
            categories.into_iter().collect::<Vec<_>>(),
            ["Accessories", "Electronics", "Office Supplies"]
        );
        let statuses: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r[4].as_str()).collect();
        assert_eq!(
            statuses.into_iter().collect::<Vec<_>>(),
            ["In Stock", "Low Stock", "Out of Stock"]
        );
        let two_decimals = |p: &str| {
            p.split_once('.').is_some_and(|(whole, cents)| {
                !whole.is_empty()
                    && whole.bytes().all(|b| b.is_ascii_digit())
                    && cents.len() == 2
                    && cents.bytes().all(|b| b.is_ascii_digit())
            })
        };
        assert!(rows.iter().all(|r| two_decimals(&r[3])));
        assert_eq!(rows.iter().filter(|r| r[0] == "Printer 2").count(), 5);
        let mut offers: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r[0].as_str(), r[2].as_str()))
            .collect();
        offers.sort();
        offers.dedup();
        assert_eq!(offers.len(), 1000, "one row per item and vendor");
        assert!(snapshot(Source::products(), &html::parse_table(&page).unwrap(), 0).is_ok());

        let vendors = parsed_rows(&vendor_page(&spec));
        assert_eq!(vendors.len(), CASE_STUDY_VENDORS.len());
        for v in &vendors {
            assert!(v[1].bytes().all(|b| b.is_ascii_digit()), "{v:?}");
            assert_eq!(v[2].split_once('.').unwrap().1.len(), 6, "{v:?}");
            assert!(v[3].bytes().all(|b| b.is_ascii_digit()), "{v:?}");
        }
    }

    #[test]
    fn prices_are_formatted_four_ways() {
        assert_eq!(format_price(1299.0, 0), "$1,299.00");
        assert_eq!(format_price(123.45, 1), " 123.45 ");
        assert_eq!(format_price(5.5, 2), "5.50");
        assert_eq!(format_price(1234567.891, 3), "$ 1234567.89");
    }
}
