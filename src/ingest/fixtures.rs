//! Deterministic vendor pages of any size, shaped like the real ones (a
//! pandas-style HTML table) with their quirks: prices written four ways,
//! stock statuses in mixed case, unicode vendor names, HTML entities, an
//! optional index column, exact duplicate rows, and — on request — broken
//! rows the warehouse must quarantine. Same spec, same bytes.

use super::html;

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
        }
    }
}

pub const VENDORS: [&str; 10] = [
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
pub const VENDORS_PER_ITEM: usize = 4;

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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table(headers: &[&str], rows: &[Vec<String>], index_column: bool) -> String {
    let mut out = String::from("<html>\n<head><meta charset=\"utf-8\"><title>Vendor prices</title></head>\n<body>\n<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n");
    if index_column {
        out.push_str("      <th></th>\n");
    }
    for header in headers {
        out.push_str(&format!("      <th>{}</th>\n", escape(header)));
    }
    out.push_str("    </tr>\n  </thead>\n  <tbody>\n");
    for (i, row) in rows.iter().enumerate() {
        out.push_str("    <tr>\n");
        if index_column {
            out.push_str(&format!("      <th>{i}</th>\n"));
        }
        for cell in row {
            out.push_str(&format!("      <td>{}</td>\n", escape(cell)));
        }
        out.push_str("    </tr>\n");
    }
    out.push_str("  </tbody>\n</table>\n</body>\n</html>\n");
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

/// The products page: Item, Category, Vendor, Sale Price, Stock Status.
pub fn product_page(spec: &PageSpec) -> String {
    let mut rng = Rng(spec.seed);
    let mut rows = Vec::with_capacity(spec.rows);
    for i in 0..spec.rows {
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
        let mut price = item_price * (0.9 + 0.2 * rng.unit());
        // A changed page: every third offer moves by up to ±10 % per variant.
        if spec.variant > 0 && i % 3 == 0 {
            let step = item_hash(spec.seed ^ u64::from(spec.variant), i) - 0.5;
            price *= 1.0 + 0.2 * step;
        }
        if spec.spikes && i % 23 == 5 {
            price *= 3.0;
        }
        let roll = rng.unit();
        let status = match (roll < 0.7, roll < 0.9, i % 5) {
            (true, _, 0) => "in stock",
            (true, _, 1) => "IN STOCK ",
            (true, _, _) => "In Stock",
            (false, true, 2) => "out of stock",
            (false, true, _) => "Out of Stock",
            (false, false, _) => "Limited Stock",
        };
        let mut row = vec![
            item,
            category.to_string(),
            vendor.to_string(),
            format_price(price, rng.below(4)),
            status.to_string(),
        ];
        if rng.unit() < spec.broken_ratio {
            match rng.below(5) {
                0 => row[0] = String::new(),
                1 => row[3] = "N/A".into(),
                2 => row[3] = format!("-{}", format_price(price, 2)),
                3 => row[4] = "Backorder".into(),
                _ => row[2] = "  ".into(),
            }
        }
        rows.push(row);
        // Pages repeat a row now and then: an exact duplicate.
        if i % 97 == 13 && rows.len() < spec.rows {
            rows.push(rows.last().cloned().expect("a row was just pushed"));
        }
    }
    rows.truncate(spec.rows);
    table(
        &["Item", "Category", "Vendor", "Sale Price", "Stock Status"],
        &rows,
        spec.index_column,
    )
}

/// The vendors page: Vendor Name, Shipping Cost, Customer Review Score,
/// Number of Feedbacks.
pub fn vendor_page(spec: &PageSpec) -> String {
    let mut rng = Rng(spec.seed ^ 0x5EED);
    let rows: Vec<Vec<String>> = VENDORS
        .iter()
        .enumerate()
        .map(|(i, vendor)| {
            let shipping = if i % 4 == 0 {
                "Free".to_string()
            } else {
                format_price(2.0 + 10.0 * rng.unit(), i)
            };
            let score = 2.5 + 2.5 * rng.unit()
                - if spec.variant > 0 && i % 2 == 0 {
                    0.3
                } else {
                    0.0
                };
            let feedbacks = 50 + rng.below(5000) + spec.variant as usize * 17;
            let feedback_text = if feedbacks >= 1000 {
                format!("{},{:03}", feedbacks / 1000, feedbacks % 1000)
            } else {
                feedbacks.to_string()
            };
            vec![
                vendor.to_string(),
                shipping,
                format!("{score:.1}"),
                feedback_text,
            ]
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
        assert!(snapshot(Source::Products, &table, 0).is_ok());
        let vendors = html::parse_table(&vendor_page(&spec)).unwrap();
        assert_eq!(vendors.rows.len(), VENDORS.len());
        assert!(vendors.rows.iter().any(|r| r[0] == "Café Tech & Co"));
        assert!(snapshot(Source::Vendors, &vendors, 0).is_ok());
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
                    || r[3].starts_with('-')
                    || r[4] == "Backorder"
            })
            .count();
        assert!((200..400).contains(&broken), "{broken}");
    }

    #[test]
    fn prices_are_formatted_four_ways() {
        assert_eq!(format_price(1299.0, 0), "$1,299.00");
        assert_eq!(format_price(123.45, 1), " 123.45 ");
        assert_eq!(format_price(5.5, 2), "5.50");
        assert_eq!(format_price(1234567.891, 3), "$ 1234567.89");
    }
}
