//! Silver and gold on PostgreSQL equal figures computed here, in Rust, from
//! the pages themselves — not by re-running the models' SQL. Five snapshots
//! (prices moving, broken rows with zero prices and conflicting duplicates,
//! 3× spikes in the last) go through the real commands: deploy (moto) →
//! sql apply → ingest ×5 → refresh. A held-out page checks the case study
//! MVP's rules one by one, and backdated snapshots show that freshness
//! follows ingest runs, not page changes.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::support::{LocalEnv, Postgres};
use pricewatch_core::config::{PricingRule, PricingStrategy, Settings};
use pricewatch_core::ingest::fixtures::{
    parsed_rows, product_page, product_page_with_spikes, vendor_page, PageSpec,
};

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

/// A price cell in cents, or why it is not a price.
fn parse_cents(text: &str) -> Result<i64, &'static str> {
    let digits: String = text.chars().filter(|c| !"$, ".contains(*c)).collect();
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let (sign, unsigned) = match digits.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, digits.as_str()),
    };
    let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if !numeric(whole) || (unsigned.contains('.') && !numeric(frac)) {
        return Err("unparsable price");
    }
    if sign < 0 {
        return Err("non-positive price");
    }
    let frac = format!("{frac:0<2}");
    let cents = whole.parse::<i64>().unwrap() * 100 + frac[..2].parse::<i64>().unwrap();
    if cents == 0 {
        return Err("non-positive price");
    }
    Ok(cents)
}

/// A row's own validation rules, written independently of the SQL.
fn clean(row: &[String], allowed: &[String]) -> Result<Offer, &'static str> {
    let item = row[0].trim();
    let category = row[1].trim();
    let vendor = row[2].trim();
    if item.is_empty() {
        return Err("missing item");
    }
    if vendor.is_empty() {
        return Err("missing vendor");
    }
    if row[3].trim().is_empty() {
        return Err("missing price");
    }
    let cents = parse_cents(&row[3])?;
    let stock = match row[4].trim().to_lowercase().as_str() {
        "in stock" | "instock" | "available" => "in_stock",
        "out of stock" | "sold out" | "unavailable" => "out_of_stock",
        "limited stock" | "low stock" | "few left" | "limited" => "limited_stock",
        _ => return Err("unknown stock status"),
    };
    if !allowed.is_empty() && !allowed.iter().any(|c| c == category) {
        return Err("category not allowed");
    }
    Ok(Offer {
        item: item.into(),
        category: category.into(),
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

/// A snapshot as silver must see it: its offers (one per item and vendor)
/// and the reason of every row that is not one.
struct Snapshot {
    observed_at: String,
    offers: BTreeSet<Offer>,
    quarantined: BTreeMap<&'static str, usize>,
    page_rows: usize,
}

fn snapshot_of(page: &[Vec<String>], allowed: &[String], observed_at: String) -> Snapshot {
    let mut quarantined: BTreeMap<&'static str, usize> = BTreeMap::new();
    // Valid copies per offer, in page order.
    let mut copies: BTreeMap<(String, String), Vec<Offer>> = BTreeMap::new();
    for row in page {
        match clean(row, allowed) {
            Ok(offer) => copies
                .entry((offer.item.clone(), offer.vendor.clone()))
                .or_default()
                .push(offer),
            Err(reason) => *quarantined.entry(reason).or_default() += 1,
        }
    }
    let mut offers = BTreeSet::new();
    for copies in copies.into_values() {
        if copies.iter().all(|c| c == &copies[0]) {
            if copies.len() > 1 {
                *quarantined.entry("duplicate").or_default() += copies.len() - 1;
            }
            offers.insert(copies[0].clone());
        } else {
            *quarantined.entry("conflicting duplicate").or_default() += copies.len();
        }
    }
    Snapshot {
        observed_at,
        offers,
        quarantined,
        page_rows: page.len(),
    }
}

/// Each item and vendor's price per snapshot.
type Prices = BTreeMap<(String, String), BTreeMap<usize, i64>>;

fn prices(snapshots: &[Snapshot]) -> Prices {
    let mut prices = Prices::new();
    for (seq, snap) in snapshots.iter().enumerate() {
        for offer in &snap.offers {
            let previous = prices
                .entry((offer.item.clone(), offer.vendor.clone()))
                .or_default()
                .insert(seq, offer.cents);
            assert!(
                previous.is_none(),
                "one offer per item, vendor and snapshot"
            );
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

/// Anomalies by (item, vendor, snapshot): (robust z, move in %), by the
/// rules docs/data-model.md states.
fn expected_anomalies(
    settings: &Settings,
    prices: &Prices,
    snapshots: &[Snapshot],
) -> BTreeMap<(String, String, String), (f64, f64)> {
    let pricing = &settings.pricing;
    let mut expected = BTreeMap::new();
    for ((item, vendor), by_seq) in prices {
        let history: Vec<f64> = by_seq.values().map(|&c| c as f64 / 100.0).collect();
        let center = median(&sorted(history.clone()));
        let deviations: Vec<f64> = history.iter().map(|p| (p - center).abs()).collect();
        let mad = median(&sorted(deviations.clone()));
        let mean = deviations.iter().sum::<f64>() / deviations.len() as f64;
        let spread = if mad > 0.0 {
            mad / 0.6745
        } else {
            1.2533 * mean
        };
        let spread = spread.max(pricing.anomaly_min_spread_pct / 100.0 * center.abs());
        for (&seq, &cents) in by_seq {
            let deviation = cents as f64 / 100.0 - center;
            let z = deviation / spread;
            let moved = 100.0 * deviation / center;
            if z.abs() > pricing.anomaly_threshold && moved.abs() >= pricing.anomaly_min_move_pct {
                expected.insert(
                    (
                        item.clone(),
                        vendor.clone(),
                        snapshots[seq].observed_at.clone(),
                    ),
                    (z, moved),
                );
            }
        }
    }
    expected
}

fn local_settings() -> Settings {
    pricewatch_core::config::Environments::new(&support::project_dir())
        .load("local")
        .expect("local env loads")
        .settings
}

/// The hour `floor` bucketing gives a `YYYY-MM-DD HH:MM:SS` time.
fn hour_of(observed_at: &str) -> String {
    format!("{}:00:00", &observed_at[..13])
}

pub(crate) fn silver_and_gold_match_figures_computed_from_the_pages() {
    let local = LocalEnv::start();
    let pg = &local.pg;
    let run = |args: &[&str]| local.run(args);
    let settings = local_settings();
    let allowed = &settings.warehouse.allowed_categories;
    assert_eq!(
        settings.warehouse.hour_bucket,
        pricewatch_core::config::HourBucket::Floor
    );

    let specs: Vec<PageSpec> = (0..5)
        .map(|variant| PageSpec {
            rows: 160,
            variant,
            broken_ratio: if variant == 2 { 0.2 } else { 0.0 },
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
        .map(|(spec, t)| snapshot_of(&parsed_rows(&product_page(spec)), allowed, t[1].clone()))
        .collect();
    let snapshot_ids: Vec<&str> = times.iter().map(|t| t[0].as_str()).collect();
    let latest = snapshots.last().unwrap();

    // silver.products: every offer of every snapshot, once.
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

    // silver.quarantine: every other row, with its reason; nothing lost.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for s in &snapshots {
        for (reason, n) in &s.quarantined {
            *reasons.entry(reason.to_string()).or_default() += n;
        }
        assert_eq!(
            s.page_rows,
            s.offers.len() + s.quarantined.values().sum::<usize>()
        );
    }
    for reason in [
        "non-positive price",
        "conflicting duplicate",
        "duplicate",
        "unparsable price",
        "unknown stock status",
    ] {
        assert!(reasons.contains_key(reason), "{reason}: {reasons:?}");
    }
    let quarantine: BTreeMap<String, usize> = rows(
        pg,
        "SELECT reason, COUNT(*)::text FROM silver.quarantine WHERE source = 'products' GROUP BY reason",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].parse().unwrap()))
    .collect();
    assert_eq!(quarantine, reasons);
    // ... and the warehouse's own accounting agrees, snapshot by snapshot,
    // with the page rows each run's heartbeat reported.
    let accounted = rows(
        pg,
        "SELECT r.source, r.snapshot_id, r.page_rows::text, \
         ((SELECT COUNT(*) FROM silver.products p WHERE p.snapshot_id = r.snapshot_id) \
          + (SELECT COUNT(*) FROM silver.vendors v WHERE v.snapshot_id = r.snapshot_id) \
          + (SELECT COUNT(*) FROM silver.quarantine q WHERE q.source = r.source AND q.snapshot_id = r.snapshot_id))::text \
         FROM silver.ingest_runs r WHERE r.outcome = 'pushed'",
    );
    assert_eq!(accounted.len(), 2 * specs.len(), "one pushed run per page");
    for row in &accounted {
        assert_eq!(row[2], row[3], "page rows = silver + quarantine: {row:?}");
    }
    for (seq, s) in snapshots.iter().enumerate() {
        let reported = rows(
            pg,
            &format!(
                "SELECT page_rows::text FROM silver.ingest_runs WHERE snapshot_id = '{}'",
                snapshot_ids[seq]
            ),
        );
        assert_eq!(reported, [[s.page_rows.to_string()]]);
    }

    // gold.hourly_prices: with category and stock counts.
    type HourKey = (String, String, String, String);
    let mut hourly: BTreeMap<HourKey, Vec<&Offer>> = BTreeMap::new();
    for s in &snapshots {
        for o in &s.offers {
            hourly
                .entry((
                    hour_of(&s.observed_at),
                    o.item.clone(),
                    o.category.clone(),
                    o.vendor.clone(),
                ))
                .or_default()
                .push(o);
        }
    }
    let expected: BTreeSet<Vec<String>> = hourly
        .into_iter()
        .map(|((hour, item, category, vendor), offers)| {
            let cents: Vec<i64> = offers.iter().map(|o| o.cents).collect();
            let stock = |s: &str| offers.iter().filter(|o| o.stock == s).count().to_string();
            vec![
                hour,
                item,
                category,
                vendor,
                hundredths(div_round(
                    cents.iter().sum::<i64>() as i128,
                    cents.len() as i128,
                )),
                hundredths(*cents.iter().min().unwrap() as i128),
                hundredths(*cents.iter().max().unwrap() as i128),
                cents.len().to_string(),
                stock("in_stock"),
                stock("limited_stock"),
                stock("out_of_stock"),
            ]
        })
        .collect();
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT hour::text, item, category, vendor, avg_price::text, min_price::text, \
             max_price::text, observations::text, n_in_stock::text, n_limited_stock::text, \
             n_out_of_stock::text FROM gold.hourly_prices"
        )),
        expected
    );
    let counted = rows(
        pg,
        "SELECT (SELECT SUM(n_in_stock + n_limited_stock + n_out_of_stock) FROM gold.hourly_prices)::text, \
         (SELECT COUNT(*) FROM silver.products)::text",
    );
    assert_eq!(
        counted[0][0], counted[0][1],
        "stock counts add up to silver"
    );

    // gold.vendor_stock_status: per hour, its last snapshot's stock.
    let mut last_in_hour: BTreeMap<String, usize> = BTreeMap::new();
    for (seq, s) in snapshots.iter().enumerate() {
        last_in_hour.insert(hour_of(&s.observed_at), seq);
    }
    let mut stock: BTreeMap<Vec<String>, BTreeSet<&str>> = BTreeMap::new();
    for (hour, &seq) in &last_in_hour {
        let s = &snapshots[seq];
        for o in &s.offers {
            stock
                .entry(vec![
                    hour.clone(),
                    s.observed_at.clone(),
                    o.vendor.clone(),
                    o.category.clone(),
                    o.stock.to_string(),
                ])
                .or_default()
                .insert(&o.item);
        }
    }
    let expected: BTreeSet<Vec<String>> = stock
        .into_iter()
        .map(|(mut key, items)| {
            key.push(items.len().to_string());
            key
        })
        .collect();
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT hour::text, observed_at::text, vendor, category, stock_status, items::text \
             FROM gold.vendor_stock_status"
        )),
        expected
    );
    let latest_hour = last_in_hour.keys().last().unwrap().clone();
    let expected_latest: BTreeSet<Vec<String>> = expected
        .iter()
        .filter(|r| r[0] == latest_hour)
        .cloned()
        .collect();
    assert!(expected_latest.iter().all(|r| r[1] == latest.observed_at));
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT hour::text, observed_at::text, vendor, category, stock_status, items::text \
             FROM gold.vendor_stock_latest"
        )),
        expected_latest
    );

    // gold.item_price_range: each item across its vendors per snapshot.
    let mut expected = BTreeSet::new();
    for (seq, s) in snapshots.iter().enumerate() {
        let mut per_item: BTreeMap<&str, Vec<&Offer>> = BTreeMap::new();
        for o in &s.offers {
            per_item.entry(&o.item).or_default().push(o);
        }
        for (item, offers) in per_item {
            let cents: Vec<i64> = offers.iter().map(|o| o.cents).collect();
            expected.insert(vec![
                item.to_string(),
                offers.iter().map(|o| o.category.clone()).min().unwrap(),
                snapshot_ids[seq].to_string(),
                s.observed_at.clone(),
                offers.len().to_string(),
                offers
                    .iter()
                    .filter(|o| o.stock == "in_stock")
                    .count()
                    .to_string(),
                hundredths(*cents.iter().min().unwrap() as i128),
                hundredths(div_round(
                    cents.iter().sum::<i64>() as i128,
                    cents.len() as i128,
                )),
                hundredths(*cents.iter().max().unwrap() as i128),
            ]);
        }
    }
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT item, category, snapshot_id, observed_at::text, vendors::text, \
             vendors_in_stock::text, min_price::text, avg_price::text, max_price::text \
             FROM gold.item_price_range"
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

    // gold.price_anomalies: robust z with a spread floor and a minimum
    // move, against each offer's own history.
    let expected = expected_anomalies(&settings, &prices, &snapshots);
    let actual: BTreeMap<(String, String, String), (f64, f64)> = rows(
        pg,
        "SELECT item, vendor, observed_at::text, robust_z::text, move_pct::text FROM gold.price_anomalies",
    )
    .into_iter()
    .map(|r| {
        (
            (r[0].clone(), r[1].clone(), r[2].clone()),
            (r[3].parse().unwrap(), r[4].parse().unwrap()),
        )
    })
    .collect();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, (z, moved)) in &expected {
        let (actual_z, actual_move) = actual[key];
        assert!(
            (actual_z - z).abs() <= 0.0051,
            "{key:?}: z {actual_z} vs {z}"
        );
        assert!(
            (actual_move - moved).abs() <= 0.0051,
            "{key:?}: move {actual_move} vs {moved}"
        );
    }
    // Measured against the generator's labels: the spiked offers of the
    // last snapshot are what it should flag, and nothing else.
    let (_, spikes) = product_page_with_spikes(specs.last().unwrap());
    let labelled: BTreeSet<(String, String, String)> = spikes
        .iter()
        .map(|s| (s.item.clone(), s.vendor.clone(), latest.observed_at.clone()))
        .collect();
    assert!(labelled.len() >= 5, "{labelled:?}");
    let flagged: BTreeSet<(String, String, String)> = actual.keys().cloned().collect();
    let hits = flagged.intersection(&labelled).count() as f64;
    let (precision, recall) = (hits / flagged.len() as f64, hits / labelled.len() as f64);
    assert!(
        precision >= 0.9 && recall >= 0.9,
        "precision {precision:.2}, recall {recall:.2}: flagged {flagged:?}, labelled {labelled:?}"
    );

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

/// A pandas-shaped page (index column) of these rows.
fn pandas_page(headers: &[&str], rows: &[&[&str]]) -> String {
    let mut html = String::from(
        "<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th></th>\n",
    );
    for h in headers {
        html.push_str(&format!("      <th>{h}</th>\n"));
    }
    html.push_str("    </tr>\n  </thead>\n  <tbody>\n");
    for (i, row) in rows.iter().enumerate() {
        html.push_str(&format!("    <tr>\n      <th>{i}</th>\n"));
        for cell in *row {
            html.push_str(&format!("      <td>{cell}</td>\n"));
        }
        html.push_str("    </tr>\n");
    }
    html.push_str("  </tbody>\n</table>");
    html
}

const PRODUCT_HEADERS: [&str; 5] = ["Item", "Category", "Vendor", "Sale Price", "Stock Status"];
const VENDOR_HEADERS: [&str; 4] = [
    "Vendor Name",
    "Shipping Cost",
    "Customer Review Score",
    "Number of Feedbacks",
];

/// Serves these two pages and ingests them (must succeed).
fn ingest_pages(local: &LocalEnv, products: &str, vendors: &str) -> serde_json::Value {
    std::fs::write(local.pages.path().join("product_data.html"), products).unwrap();
    std::fs::write(local.pages.path().join("vendor_data.html"), vendors).unwrap();
    let mut args = vec!["--output".to_string(), "json".to_string()];
    args.extend(local.server.ingest_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::succeeded(local.run(&args))
}

pub(crate) fn a_held_out_page_keeps_the_mvp_rules_and_loses_no_row() {
    let local = LocalEnv::start();
    let pg = &local.pg;
    let products: &[&[&str]] = &[
        &[
            "Drone 4",
            "Electronics",
            "TechSphere",
            "412.50",
            "Low Stock",
        ],
        // A zero price: quarantined, never a 0 recommendation.
        &["Drone 4", "Electronics", "Innovatech", "0.00", "In Stock"],
        // Conflicting copies of one offer: neither reaches silver.
        &[
            "Drone 4",
            "Electronics",
            "ElectroWorld",
            "399.00",
            "In Stock",
        ],
        &[
            "Drone 4",
            "Electronics",
            "ElectroWorld",
            "449.00",
            "In Stock",
        ],
        // Same price, another stock status: conflicting too.
        &["Mouse 2", "Accessories", "TechGiant", "19.99", "In Stock"],
        &[
            "Mouse 2",
            "Accessories",
            "TechGiant",
            "19.99",
            "Out of Stock",
        ],
        // Exact copies (written differently, the same typed offer): one
        // reaches silver, the others are recorded.
        &[
            "Printer 2",
            "Office Supplies",
            "ElectroBuddy",
            "129.00",
            "Out of Stock",
        ],
        &[
            "Printer 2",
            "Office Supplies",
            "ElectroBuddy",
            "$129.00",
            "out of stock",
        ],
        &[
            "Printer 2",
            "Office Supplies",
            "ElectroBuddy",
            "129.00",
            "Out of Stock",
        ],
        &[
            "Printer 2",
            "Office Supplies",
            "TechSphere",
            "-5.00",
            "In Stock",
        ],
        &["Lawn Mower 1", "Garden", "TechSphere", "250.00", "In Stock"],
        &[
            "Mouse 2",
            "Accessories",
            "ElectroWorld",
            "21.50",
            "Low Stock",
        ],
    ];
    let vendors: &[&[&str]] = &[
        &["TechSphere", "10", "4.413885", "314"],
        &["ElectroWorld", "12", "2.526162", "185"],
        &["ElectroWorld", "12", "2.526162", "185"],
        &["TechGiant", "13", "3.320925", "119"],
        &["TechGiant", "9", "3.320925", "119"],
    ];
    let report = ingest_pages(
        &local,
        &pandas_page(&PRODUCT_HEADERS, products),
        &pandas_page(&VENDOR_HEADERS, vendors),
    );
    assert!(
        report
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["heartbeat"] == true),
        "{report}"
    );
    support::succeeded(local.run(&["--env", "local", "refresh"]));

    let silver = as_set(rows(
        pg,
        "SELECT item, vendor, sale_price::text, stock_status FROM silver.products",
    ));
    let expected: BTreeSet<Vec<String>> = [
        ["Drone 4", "TechSphere", "412.50", "limited_stock"],
        ["Printer 2", "ElectroBuddy", "129.00", "out_of_stock"],
        ["Mouse 2", "ElectroWorld", "21.50", "limited_stock"],
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect();
    assert_eq!(silver, expected);

    let quarantine = as_set(rows(
        pg,
        "SELECT source, reason, COUNT(*)::text FROM silver.quarantine GROUP BY source, reason",
    ));
    let expected: BTreeSet<Vec<String>> = [
        ["products", "non-positive price", "2"],
        ["products", "conflicting duplicate", "4"],
        ["products", "duplicate", "2"],
        ["products", "category not allowed", "1"],
        ["vendors", "duplicate", "1"],
        ["vendors", "conflicting duplicate", "2"],
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect();
    assert_eq!(quarantine, expected);
    // The quarantined rows are the page's own, each with its raw payload.
    let raw = as_set(rows(
        pg,
        "SELECT CAST(\"raw\" AS JSONB) ->> 'sale_price' FROM silver.quarantine \
         WHERE reason = 'non-positive price'",
    ));
    assert_eq!(raw, as_set(vec![vec!["0.00".into()], vec!["-5.00".into()]]));

    // Page rows = silver + quarantine, for both pages.
    let counts = rows(
        pg,
        "SELECT (SELECT COUNT(*) FROM silver.products)::text, \
         (SELECT COUNT(*) FROM silver.quarantine WHERE source = 'products')::text, \
         (SELECT COUNT(*) FROM silver.vendors)::text, \
         (SELECT COUNT(*) FROM silver.quarantine WHERE source = 'vendors')::text",
    );
    let n = |i: usize| counts[0][i].parse::<usize>().unwrap();
    assert_eq!(n(0) + n(1), products.len());
    assert_eq!(n(2) + n(3), vendors.len());
    assert_eq!(
        as_set(rows(
            pg,
            "SELECT vendor_name, shipping_cost::text, review_score::text FROM silver.vendors"
        )),
        as_set(vec![
            vec!["TechSphere".into(), "10.00".into(), "4.4".into()],
            vec!["ElectroWorld".into(), "12.00".into(), "2.5".into()],
        ])
    );

    // Gold sees only the trusted offers: no zero lowest price.
    let lowest = rows(
        pg,
        "SELECT lowest_price::text FROM gold.price_recommendations WHERE item = 'Drone 4'",
    );
    assert_eq!(lowest, [["412.50"]]);
    let stock = rows(
        pg,
        "SELECT SUM(n_in_stock)::text, SUM(n_limited_stock)::text, SUM(n_out_of_stock)::text, \
         SUM(observations)::text FROM gold.hourly_prices",
    );
    assert_eq!(stock, [["0", "2", "1", "3"]]);

    // The checks that guard these rules pass on it.
    let out = local.run(&[
        "--env",
        "local",
        "--output",
        "json",
        "check",
        "--no-publish",
        "--select",
        "snapshot_rows_accounted",
        "--select",
        "products_one_offer_per_snapshot",
        "--select",
        "vendors_one_row_per_snapshot",
        "--select",
        "hourly_prices_consistent",
    ]);
    let report = support::succeeded(out);
    assert_eq!(report["pass"], 4, "{report}");
}

/// (status, observed) of the selected checks, by name.
fn checks(local: &LocalEnv, names: &[&str]) -> BTreeMap<String, (String, f64)> {
    let mut args = vec![
        "--env",
        "local",
        "--output",
        "json",
        "check",
        "--no-publish",
    ];
    for name in names {
        args.extend(["--select", name]);
    }
    let out = local.run(&args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                (
                    c["status"].as_str().unwrap().to_string(),
                    c["observed"].as_f64().unwrap_or(f64::NAN),
                ),
            )
        })
        .collect()
}

pub(crate) fn an_unchanged_page_keeps_ingest_fresh_and_only_warns_that_the_page_is_old() {
    let local = LocalEnv::start();
    let spec = PageSpec {
        rows: 40,
        ..PageSpec::default()
    };
    let ingest = || ingest_pages(&local, &product_page(&spec), &vendor_page(&spec));
    ingest();
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    // Two days ago: the last snapshot and the last heartbeat alike.
    local.pg.backdate(48);
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    let names = ["products_fresh", "vendors_fresh", "products_page_unchanged"];
    let stale = checks(&local, &names);
    assert_eq!(stale["products_fresh"].0, "fail", "{stale:?}");
    assert!(stale["products_fresh"].1 >= 47.0 * 60.0, "{stale:?}");
    assert_eq!(stale["vendors_fresh"].0, "fail", "{stale:?}");

    // Ingest runs again; the vendor has not touched the page since.
    let report = ingest();
    let outcomes: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["unchanged", "unchanged"], "{report}");
    support::succeeded(local.run(&["--env", "local", "refresh"]));
    let now = checks(&local, &names);
    assert_eq!(now["products_fresh"].0, "pass", "{now:?}");
    assert!(now["products_fresh"].1 < 5.0, "{now:?}");
    assert_eq!(now["vendors_fresh"].0, "pass", "{now:?}");
    // The page itself is two days old: a warning, never a failure.
    assert_eq!(now["products_page_unchanged"].0, "warn", "{now:?}");
    assert!(now["products_page_unchanged"].1 >= 47.0 * 60.0, "{now:?}");
    let runs = rows(
        &local.pg,
        "SELECT source, outcome, COUNT(*)::text FROM silver.ingest_runs GROUP BY source, outcome ORDER BY 1, 2",
    );
    assert_eq!(
        runs,
        [
            ["products", "pushed", "1"],
            ["products", "unchanged", "1"],
            ["vendors", "pushed", "1"],
            ["vendors", "unchanged", "1"],
        ]
    );

    // The warn-only check opens a ticket and never pages; the run freshness checks page.
    let bundle = support::bundle("dev");
    let monitoring = &bundle
        .stacks
        .iter()
        .find(|s| s.name == "monitoring")
        .unwrap()
        .template;
    assert!(monitoring.contains("check-products-fresh"));
    assert!(monitoring.contains("check-vendors-fresh"));
    assert!(monitoring.contains("check-products-page-unchanged-warn"));
    assert!(!monitoring.contains("check-products-page-unchanged\n"));
}

pub(crate) fn the_hour_can_be_the_nearest_as_in_the_mvp() {
    let moto = support::Moto::start();
    let pg = Postgres::start();
    let project = support::project_copy();
    let defaults = project.path().join("environments/defaults.yaml");
    let text = std::fs::read_to_string(&defaults)
        .unwrap()
        .replace("  hour_bucket: floor\n", "  hour_bucket: nearest\n");
    std::fs::write(&defaults, text).unwrap();
    let run = |args: &[&str]| support::pricewatch_with_warehouse(project.path(), &moto, &pg, args);
    support::succeeded(run(&["--env", "local", "sql", "apply"]));
    // Two snapshots, at 10:20 and 10:40: nearest puts them in 10:00 and 11:00.
    let mut db = pg.connect("pricewatch");
    for (i, (snapshot, at, price)) in [
        ("20261125T102000Z-aa", "2026-11-25T10:20:00Z", "100.00"),
        ("20261125T104000Z-bb", "2026-11-25T10:40:00Z", "120.00"),
    ]
    .into_iter()
    .enumerate()
    {
        let payload = serde_json::json!({
            "record_type": "row", "source": "products", "snapshot_id": snapshot,
            "fetched_at": at, "row_number": 1, "item": "Laptop 1", "category": "Laptops",
            "vendor": "Acme", "sale_price": price, "stock_status": "In Stock",
        })
        .to_string();
        db.execute(
            "INSERT INTO pricewatch_meta.kinesis_products VALUES ('shardId-000000000000', $1, 'k', NOW(), CAST($2 AS TEXT), CAST(CAST($2 AS TEXT) AS JSONB))",
            &[&format!("{i:05}"), &payload],
        )
        .unwrap();
    }
    db.batch_execute("REFRESH MATERIALIZED VIEW bronze.products")
        .unwrap();
    support::succeeded(run(&[
        "--env",
        "local",
        "refresh",
        "--select",
        "silver.snapshots+",
    ]));
    assert_eq!(
        rows(
            &pg,
            "SELECT hour::text, avg_price::text FROM gold.hourly_prices ORDER BY hour"
        ),
        [
            ["2026-11-25 10:00:00", "100.00"],
            ["2026-11-25 11:00:00", "120.00"]
        ]
    );
    assert_eq!(
        rows(
            &pg,
            "SELECT hour::text, observed_at::text FROM gold.vendor_stock_status ORDER BY hour"
        ),
        [
            ["2026-11-25 10:00:00", "2026-11-25 10:20:00"],
            ["2026-11-25 11:00:00", "2026-11-25 10:40:00"]
        ]
    );
}

pub(crate) fn deployed_envs_ingest_the_case_study_pages() {
    let site = "https://temus-northstar.github.io/data_engineering_case_study_public";
    for env in ["dev", "test", "prod"] {
        let bundle = support::bundle(env);
        let ingest = &bundle
            .stacks
            .iter()
            .find(|s| s.name == "ingest")
            .unwrap()
            .template;
        // In the ingest Lambda's source list (JSON in a YAML string).
        for page in ["product_data.html", "vendor_data.html"] {
            assert!(
                ingest.contains(&format!("\\\"url\\\":\\\"{site}/{page}\\\"")),
                "{env}: {page}"
            );
        }
    }
}
