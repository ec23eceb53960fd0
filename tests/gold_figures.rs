//! Silver and gold on PostgreSQL equal figures computed here, in Rust, from
//! the pages themselves — not by re-running the models' SQL. Five snapshots
//! (prices moving, broken rows, an outlier in the last) go through the real
//! commands: deploy (moto) → sql apply → ingest ×5 → refresh.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pricewatch::config::{PricingRule, PricingStrategy, Settings};
use pricewatch::ingest::fixtures::{parsed_rows, product_page, vendor_page, PageSpec};
use support::{LocalEnv, Postgres};

/// A valid product row as silver.products keeps it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Offer {
    item: String,
    category: String,
    vendor: String,
    cents: i64,
    stock: &'static str,
}

/// Integer division rounding half away from zero, as NUMERIC casts do.
fn div_round(n: i128, d: i128) -> i128 {
    let q = (2 * n.abs() + d.abs()) / (2 * d.abs());
    if (n < 0) != (d < 0) {
        -q
    } else {
        q
    }
}

/// Hundredths as PostgreSQL prints a NUMERIC(_, 2).
fn hundredths(value: i128) -> String {
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", value.abs() / 100, value.abs() % 100)
}

fn parse_cents(text: &str) -> Result<i64, &'static str> {
    let digits: String = text.chars().filter(|c| !"$, ".contains(*c)).collect();
    if digits.starts_with('-') {
        return Err("negative price");
    }
    let (whole, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !numeric(whole) || (digits.contains('.') && !numeric(frac)) {
        return Err("unparsable price");
    }
    let frac = format!("{frac:0<2}");
    Ok(whole.parse::<i64>().unwrap() * 100 + frac[..2].parse::<i64>().unwrap())
}

/// The page's validation rules, written independently of the SQL.
fn clean(row: &[String]) -> Result<Offer, &'static str> {
    let item = row[0].trim();
    let vendor = row[2].trim();
    if item.is_empty() {
        return Err("missing item");
    }
    if vendor.is_empty() {
        return Err("missing vendor");
    }
    let cents = parse_cents(&row[3])?;
    let stock = match row[4].trim().to_lowercase().as_str() {
        "in stock" => "in_stock",
        "out of stock" => "out_of_stock",
        "limited stock" => "limited_stock",
        _ => return Err("unknown stock status"),
    };
    Ok(Offer {
        item: item.into(),
        category: row[1].trim().into(),
        vendor: vendor.into(),
        cents,
        stock,
    })
}

/// The median of sorted values, interpolated like PERCENTILE_CONT(0.5).
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values
}

fn rows(pg: &Postgres, sql: &str) -> Vec<Vec<String>> {
    pg.connect("pricewatch")
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.get::<_, Option<String>>(i).unwrap_or_default())
                .collect()
        })
        .collect()
}

fn as_set(rows: Vec<Vec<String>>) -> BTreeSet<Vec<String>> {
    rows.into_iter().collect()
}

/// Each snapshot's valid offers (distinct) and invalid rows' reasons.
struct Snapshot {
    observed_at: String,
    offers: BTreeSet<Offer>,
    quarantined: BTreeMap<&'static str, usize>,
    duplicates: usize,
    page_rows: usize,
}

fn snapshot(spec: &PageSpec, observed_at: String) -> Snapshot {
    let page = parsed_rows(&product_page(spec));
    let mut offers = BTreeSet::new();
    let mut quarantined = BTreeMap::new();
    let mut valid = 0;
    for row in &page {
        match clean(row) {
            Ok(offer) => {
                valid += 1;
                offers.insert(offer);
            }
            Err(reason) => *quarantined.entry(reason).or_default() += 1,
        }
    }
    Snapshot {
        observed_at,
        duplicates: valid - offers.len(),
        offers,
        quarantined,
        page_rows: page.len(),
    }
}

/// Each item and vendor's price per snapshot (the lowest of its offers).
type Prices = BTreeMap<(String, String), BTreeMap<usize, i64>>;

fn prices(snapshots: &[Snapshot]) -> Prices {
    let mut prices = Prices::new();
    for (seq, snap) in snapshots.iter().enumerate() {
        for offer in &snap.offers {
            let slot = prices
                .entry((offer.item.clone(), offer.vendor.clone()))
                .or_default()
                .entry(seq)
                .or_insert(offer.cents);
            *slot = (*slot).min(offer.cents);
        }
    }
    prices
}

fn expected_recommendation(
    rules: &[PricingRule],
    category: &str,
    lowest: i64,
    median: i64,
) -> (String, String) {
    let Some(rule) = rules
        .iter()
        .find(|r| r.category.as_deref().is_none_or(|c| c == category))
    else {
        return (String::new(), String::new());
    };
    let basis_points = (rule.percent * 100.0).round() as i128;
    let mut cents = match rule.strategy {
        PricingStrategy::UndercutLowest => {
            div_round(lowest as i128 * (10_000 - basis_points), 10_000)
        }
        PricingStrategy::MatchMedian => median as i128,
        PricingStrategy::PremiumOverMedian => {
            div_round(median as i128 * (10_000 + basis_points), 10_000)
        }
    };
    if let Some(floor) = rule.floor {
        cents = cents.max((floor * 100.0).round() as i128);
    }
    if let Some(ceiling) = rule.ceiling {
        cents = cents.min((ceiling * 100.0).round() as i128);
    }
    (rule.name.clone(), hundredths(cents))
}

fn local_settings() -> Settings {
    pricewatch::config::Environments::new(&support::project_dir())
        .load("local")
        .expect("local env loads")
        .settings
}

#[test]
fn silver_and_gold_match_figures_computed_from_the_pages() {
    let Some(local) = LocalEnv::start() else {
        return;
    };
    let pg = &local.pg;
    let run = |args: &[&str]| local.run(args);

    let specs: Vec<PageSpec> = (0..5)
        .map(|variant| PageSpec {
            rows: 160,
            variant,
            broken_ratio: if variant == 2 { 0.15 } else { 0.0 },
            spikes: variant == 4,
            ..PageSpec::default()
        })
        .collect();
    for spec in &specs {
        local.ingest(spec);
        // Snapshot ids order by their second; keep the five apart.
        std::thread::sleep(Duration::from_millis(1100));
    }
    support::succeeded(run(&["--env", "local", "refresh"]));

    let times = rows(
        pg,
        "SELECT DISTINCT snapshot_id, observed_at::text FROM silver.products_validated \
         ORDER BY snapshot_id",
    );
    assert_eq!(times.len(), specs.len(), "one snapshot per ingest");
    let snapshots: Vec<Snapshot> = specs
        .iter()
        .zip(&times)
        .map(|(spec, t)| snapshot(spec, t[1].clone()))
        .collect();
    let snapshot_ids: Vec<&str> = times.iter().map(|t| t[0].as_str()).collect();
    let latest = snapshots.last().unwrap();

    // silver.products: every distinct valid row of every snapshot.
    let expected: BTreeSet<Vec<String>> = snapshots
        .iter()
        .enumerate()
        .flat_map(|(seq, s)| {
            let id = snapshot_ids[seq];
            s.offers.iter().map(move |o| {
                vec![
                    id.to_string(),
                    o.item.clone(),
                    o.category.clone(),
                    o.vendor.clone(),
                    hundredths(o.cents as i128),
                    o.stock.to_string(),
                ]
            })
        })
        .collect();
    let silver = rows(
        pg,
        "SELECT snapshot_id, item, category, vendor, sale_price::text, stock_status FROM silver.products",
    );
    assert_eq!(silver.len(), expected.len(), "no duplicate survives");
    assert_eq!(as_set(silver), expected);

    // silver.quarantine: the reasons, and nothing lost.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for s in &snapshots {
        for (reason, n) in &s.quarantined {
            *reasons.entry(reason.to_string()).or_default() += n;
        }
        assert_eq!(
            s.page_rows,
            s.offers.len() + s.duplicates + s.quarantined.values().sum::<usize>()
        );
    }
    assert!(
        reasons.len() >= 4,
        "the broken snapshot has every kind: {reasons:?}"
    );
    let quarantine: BTreeMap<String, usize> = rows(
        pg,
        "SELECT reason, COUNT(*)::text FROM silver.quarantine WHERE source = 'products' GROUP BY reason",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].parse().unwrap()))
    .collect();
    assert_eq!(quarantine, reasons);

    // gold.hourly_prices.
    let mut hourly: BTreeMap<(String, String, String), Vec<i64>> = BTreeMap::new();
    for s in &snapshots {
        let hour = format!("{}:00:00", &s.observed_at[..13]);
        for o in &s.offers {
            hourly
                .entry((hour.clone(), o.item.clone(), o.vendor.clone()))
                .or_default()
                .push(o.cents);
        }
    }
    let expected: BTreeSet<Vec<String>> = hourly
        .into_iter()
        .map(|((hour, item, vendor), cents)| {
            let sum: i64 = cents.iter().sum();
            vec![
                hour,
                item,
                vendor,
                hundredths(div_round(sum as i128, cents.len() as i128)),
                hundredths(*cents.iter().min().unwrap() as i128),
                hundredths(*cents.iter().max().unwrap() as i128),
                cents.len().to_string(),
            ]
        })
        .collect();
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT hour::text, item, vendor, avg_price::text, min_price::text, max_price::text, \
             observations::text FROM gold.hourly_prices"
        )),
        expected
    );

    // gold.vendor_stock_status: the latest snapshot.
    let mut stock: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for o in &latest.offers {
        stock
            .entry((o.vendor.clone(), o.stock.to_string()))
            .or_default()
            .insert(o.item.clone());
    }
    let expected: BTreeSet<Vec<String>> = stock
        .into_iter()
        .map(|((vendor, status), items)| vec![vendor, status, items.len().to_string()])
        .collect();
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT vendor, stock_status, items::text FROM gold.vendor_stock_status"
        )),
        expected
    );

    // gold.price_evolution: each snapshot's price next to the previous one.
    let prices = prices(&snapshots);
    let mut expected = BTreeSet::new();
    for ((item, vendor), by_seq) in &prices {
        for (&seq, &cents) in by_seq {
            let previous = seq.checked_sub(1).and_then(|p| by_seq.get(&p)).copied();
            let (prev, change, pct) = match previous {
                Some(prev) => (
                    hundredths(prev as i128),
                    hundredths((cents - prev) as i128),
                    hundredths(div_round((cents - prev) as i128 * 10_000, prev as i128)),
                ),
                None => Default::default(),
            };
            expected.insert(vec![
                item.clone(),
                vendor.clone(),
                snapshots[seq].observed_at.clone(),
                hundredths(cents as i128),
                prev,
                change,
                pct,
            ]);
        }
    }
    let moved = expected
        .iter()
        .filter(|r| !r[5].is_empty() && r[5] != "0.00")
        .count();
    assert!(moved > 10, "prices moved between snapshots");
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT item, vendor, observed_at::text, sale_price::text, previous_price::text, \
             price_change::text, price_change_pct::text FROM gold.price_evolution"
        )),
        expected
    );

    // gold.vendor_scorecard: the latest snapshot of both pages joined.
    let vendor_rows = parsed_rows(&vendor_page(specs.last().unwrap()));
    let mut expected = BTreeSet::new();
    for vendor in &vendor_rows {
        let offers: Vec<&Offer> = latest
            .offers
            .iter()
            .filter(|o| o.vendor == vendor[0])
            .collect();
        let items: BTreeSet<&str> = offers.iter().map(|o| o.item.as_str()).collect();
        let in_stock = offers.iter().filter(|o| o.stock == "in_stock").count() as i128;
        let sum: i64 = offers.iter().map(|o| o.cents).sum();
        let shipping = if vendor[1] == "Free" {
            0
        } else {
            parse_cents(&vendor[1]).unwrap()
        };
        let (avg, ratio) = if offers.is_empty() {
            (String::new(), String::new())
        } else {
            let ratio = div_round(in_stock * 10_000, offers.len() as i128);
            (
                hundredths(div_round(sum as i128, offers.len() as i128)),
                format!("{}.{:04}", ratio / 10_000, ratio % 10_000),
            )
        };
        expected.insert(vec![
            vendor[0].clone(),
            items.len().to_string(),
            avg,
            ratio,
            hundredths(shipping as i128),
            vendor[2].clone(),
            vendor[3].replace(',', ""),
        ]);
    }
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT vendor, items::text, avg_price::text, in_stock_ratio::text, shipping_cost::text, \
             review_score::text, feedback_count::text FROM gold.vendor_scorecard"
        )),
        expected
    );

    // gold.price_recommendations: the env's rules on the latest snapshot.
    let settings = local_settings();
    let last_seq = snapshots.len() - 1;
    let mut per_item: BTreeMap<&str, (String, Vec<i64>)> = BTreeMap::new();
    for ((item, _), by_seq) in &prices {
        if let Some(&cents) = by_seq.get(&last_seq) {
            let category = latest
                .offers
                .iter()
                .find(|o| &o.item == item)
                .unwrap()
                .category
                .clone();
            per_item
                .entry(item)
                .or_insert((category, Vec::new()))
                .1
                .push(cents);
        }
    }
    let expected: BTreeSet<Vec<String>> = per_item
        .into_iter()
        .map(|(item, (category, mut cents))| {
            cents.sort();
            let n = cents.len();
            let median = if n % 2 == 1 {
                cents[n / 2]
            } else {
                div_round((cents[n / 2 - 1] + cents[n / 2]) as i128, 2) as i64
            };
            let (rule, recommended) =
                expected_recommendation(&settings.pricing.rules, &category, cents[0], median);
            vec![
                item.to_string(),
                category,
                hundredths(cents[0] as i128),
                hundredths(median as i128),
                n.to_string(),
                rule,
                recommended,
            ]
        })
        .collect();
    let rules_used: BTreeSet<&String> = expected.iter().map(|r| &r[5]).collect();
    assert!(
        rules_used.len() >= 3,
        "every rule applies somewhere: {rules_used:?}"
    );
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT item, category, lowest_price::text, median_price::text, vendors::text, rule, \
             recommended_price::text FROM gold.price_recommendations"
        )),
        expected
    );

    // gold.price_anomalies: robust z against each offer's own history.
    let threshold = settings.pricing.anomaly_threshold;
    let mut expected: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    for ((item, vendor), by_seq) in &prices {
        let history: Vec<f64> = by_seq.values().map(|&c| c as f64 / 100.0).collect();
        let center = median(&sorted(history.clone()));
        let deviations: Vec<f64> = history.iter().map(|p| (p - center).abs()).collect();
        let mad = median(&sorted(deviations.clone()));
        let mean = deviations.iter().sum::<f64>() / deviations.len() as f64;
        for (&seq, &cents) in by_seq {
            let deviation = cents as f64 / 100.0 - center;
            let z = if mad > 0.0 {
                0.6745 * deviation / mad
            } else if mean > 0.0 {
                deviation / (1.2533 * mean)
            } else {
                0.0
            };
            if z.abs() > threshold {
                expected.insert(
                    (
                        item.clone(),
                        vendor.clone(),
                        snapshots[seq].observed_at.clone(),
                    ),
                    z,
                );
            }
        }
    }
    assert!(!expected.is_empty(), "the spiked snapshot has outliers");
    let actual: BTreeMap<(String, String, String), f64> = rows(
        pg,
        "SELECT item, vendor, observed_at::text, robust_z::text FROM gold.price_anomalies",
    )
    .into_iter()
    .map(|r| {
        (
            (r[0].clone(), r[1].clone(), r[2].clone()),
            r[3].parse().unwrap(),
        )
    })
    .collect();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, z) in &expected {
        assert!(
            (actual[key] - z).abs() <= 0.0051,
            "{key:?}: {} vs {z}",
            actual[key]
        );
    }

    // gold.price_trends: all five snapshots fall inside the window.
    assert!(settings.pricing.trend_window_hours >= 1);
    let mut per_snapshot: BTreeMap<&str, BTreeMap<usize, Vec<i64>>> = BTreeMap::new();
    for ((item, _), by_seq) in &prices {
        for (&seq, &cents) in by_seq {
            per_snapshot
                .entry(item)
                .or_default()
                .entry(seq)
                .or_default()
                .push(cents);
        }
    }
    let mut expected = BTreeSet::new();
    for (item, by_seq) in &per_snapshot {
        let averages: Vec<(usize, i128)> = by_seq
            .iter()
            .map(|(&seq, cents)| {
                (
                    seq,
                    div_round(cents.iter().sum::<i64>() as i128, cents.len() as i128),
                )
            })
            .collect();
        let (_, start) = averages[0];
        for (i, &(seq, avg)) in averages.iter().enumerate() {
            let window: Vec<i128> = averages[..=i].iter().map(|a| a.1).collect();
            expected.insert(vec![
                item.to_string(),
                snapshots[seq].observed_at.clone(),
                hundredths(avg),
                (i + 1).to_string(),
                hundredths(div_round(window.iter().sum(), window.len() as i128)),
                hundredths(start),
                hundredths(avg - start),
                hundredths(div_round((avg - start) * 10_000, start)),
            ]);
        }
    }
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT item, observed_at::text, avg_price::text, snapshots_in_window::text, \
             window_avg_price::text, window_start_price::text, price_change::text, \
             price_change_pct::text FROM gold.price_trends"
        )),
        expected
    );
}
