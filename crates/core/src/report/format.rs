//! Numbers as people read them: the report's tables show each column in
//! its own form (prices with two decimals, ratios as percentages, times to
//! the second) under a plain-words header, whatever digits the warehouse
//! printed.

/// How a column's values are shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// As the warehouse printed it.
    Text,
    /// A code in words: `out_of_stock` → `out of stock`.
    Words,
    /// Dollars, two decimals, thousands grouped.
    Money,
    /// A share (0.25) as a percentage (25 %).
    Share,
    /// A value that already is a percentage (10.5 → +10.5 %).
    Percent,
    /// A whole number, thousands grouped.
    Count,
    /// A score or z-score: two decimals at most, trailing zeros dropped.
    Decimal,
    /// A timestamp to the second.
    Time,
}

/// Header and kind of a report column (by its name in the query).
pub(crate) fn column(name: &str) -> (&'static str, Kind) {
    match name {
        "check_name" => ("check", Kind::Text),
        "model" => ("model", Kind::Text),
        "status" => ("status", Kind::Text),
        "observed" => ("observed", Kind::Text),
        "warn_threshold" => ("warn when", Kind::Text),
        "fail_threshold" => ("fail when", Kind::Text),
        "checked_at" => ("checked at (UTC)", Kind::Time),
        "item" => ("item", Kind::Text),
        "vendor" => ("vendor", Kind::Text),
        "category" => ("category", Kind::Text),
        "rule" => ("rule", Kind::Text),
        "label" => ("label", Kind::Text),
        "stock_status" => ("stock status", Kind::Words),
        "first_price" => ("first average ($)", Kind::Money),
        "last_price" => ("latest average ($)", Kind::Money),
        "avg_price" => ("average price ($)", Kind::Money),
        "shipping_cost" => ("shipping ($)", Kind::Money),
        "lowest_price" => ("lowest ($)", Kind::Money),
        "median_price" => ("median ($)", Kind::Money),
        "recommended_price" => ("recommended ($)", Kind::Money),
        "sale_price" => ("sale price ($)", Kind::Money),
        "min_price" => ("lowest ($)", Kind::Money),
        "max_price" => ("highest ($)", Kind::Money),
        "change_pct" => ("change", Kind::Percent),
        "move_pct" => ("away from median", Kind::Percent),
        "in_stock_ratio" => ("in stock", Kind::Share),
        "price_level" => ("price vs category median", Kind::Share),
        "volatility" => ("volatility", Kind::Share),
        "availability" => ("vendors with it in stock", Kind::Share),
        "snapshots" => ("snapshots", Kind::Count),
        "items" => ("items", Kind::Count),
        "observations" => ("offers", Kind::Count),
        "n_in_stock" => ("in stock", Kind::Count),
        "n_limited_stock" => ("limited stock", Kind::Count),
        "n_out_of_stock" => ("out of stock", Kind::Count),
        "vendors" => ("vendors", Kind::Count),
        "feedback_count" => ("feedbacks", Kind::Count),
        "cluster" => ("cluster", Kind::Count),
        "review_score" => ("review score", Kind::Decimal),
        "robust_z" => ("robust z", Kind::Decimal),
        "observed_at" => ("observed at (UTC)", Kind::Time),
        "hour" => ("hour (UTC)", Kind::Time),
        "computed_at" => ("computed at (UTC)", Kind::Time),
        _ => ("", Kind::Text),
    }
}

/// The header of a column: its plain words, or its name when it has none.
pub(crate) fn header(name: &str) -> String {
    match column(name).0 {
        "" => name.replace('_', " "),
        words => words.to_string(),
    }
}

/// Whether the column holds numbers (right-aligned): a check's observed
/// value too, already formatted by the check.
pub(crate) fn numeric(name: &str) -> bool {
    name == "observed" || !matches!(column(name).1, Kind::Text | Kind::Words | Kind::Time)
}

/// `1234567.5` → `1,234,567.5`.
pub(crate) fn grouped(text: &str) -> String {
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text), |rest| ("-", rest));
    let (whole, fraction) = digits
        .split_once('.')
        .map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut out = String::from(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// No `-0`: a value that rounds to zero is shown unsigned.
pub(crate) fn unsigned_zero(text: String) -> String {
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// A percentage with one decimal below 10, none from 10 up.
pub(crate) fn percent(value: f64) -> String {
    if value.abs() < 10.0 {
        unsigned_zero(format!("{value:.1}"))
    } else {
        grouped(&unsigned_zero(format!("{value:.0}")))
    }
}

/// A cell of column `name` as the page shows it; NULL as a dash; text that
/// is not the number the column promises stays as it is.
pub fn cell(name: &str, value: Option<&str>) -> String {
    let Some(text) = value else {
        return "—".to_string();
    };
    let kind = column(name).1;
    if kind == Kind::Words {
        return text.replace('_', " ");
    }
    if kind == Kind::Time {
        // `2026-11-25 03:47:53.123456` → to the second.
        return text.chars().take(19).collect();
    }
    let Some(number) = text.trim().parse::<f64>().ok().filter(|v| v.is_finite()) else {
        return text.to_string();
    };
    match kind {
        Kind::Text | Kind::Words | Kind::Time => text.to_string(),
        Kind::Money => grouped(&unsigned_zero(format!("{number:.2}"))),
        Kind::Share => format!("{} %", percent(number * 100.0)),
        Kind::Percent => {
            let shown = percent(number);
            if number > 0.0 && shown != "0.0" {
                format!("+{shown} %")
            } else {
                format!("{shown} %")
            }
        }
        Kind::Count if number.fract() == 0.0 => grouped(&format!("{number:.0}")),
        Kind::Count => text.to_string(),
        Kind::Decimal => {
            let fixed = unsigned_zero(format!("{number:.2}"));
            let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
            trimmed.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_have_two_decimals_and_ratios_are_percentages() {
        assert_eq!(cell("sale_price", Some("1299")), "1,299.00");
        assert_eq!(cell("avg_price", Some("60.005")), "60.01");
        assert_eq!(cell("shipping_cost", Some("0.00")), "0.00");
        assert_eq!(cell("in_stock_ratio", Some("1.00")), "100 %");
        assert_eq!(cell("in_stock_ratio", Some("0.6666666666666666")), "67 %");
        // The clusters table printed raw doubles.
        assert_eq!(cell("price_level", Some("0.9591441482984413")), "96 %");
        assert_eq!(cell("volatility", Some("0.012345")), "1.2 %");
        assert_eq!(cell("volatility", Some("0")), "0.0 %");
        assert_eq!(cell("change_pct", Some("10.00")), "+10 %");
        assert_eq!(cell("change_pct", Some("-2.345")), "-2.3 %");
        assert_eq!(cell("change_pct", Some("0.00")), "0.0 %");
        assert_eq!(cell("change_pct", Some("-0.01")), "0.0 %");
    }

    #[test]
    fn counts_scores_and_times_read_naturally() {
        assert_eq!(cell("feedback_count", Some("12345")), "12,345");
        assert_eq!(cell("review_score", Some("4.50")), "4.5");
        assert_eq!(cell("review_score", Some("4.257")), "4.26");
        assert_eq!(cell("robust_z", Some("-4.20")), "-4.2");
        assert_eq!(cell("robust_z", Some("3")), "3");
        assert_eq!(
            cell("observed_at", Some("2026-11-25 03:47:53.123456")),
            "2026-11-25 03:47:53"
        );
        assert_eq!(cell("item", Some("TV 55\"")), "TV 55\"");
        assert_eq!(cell("stock_status", Some("out_of_stock")), "out of stock");
        assert_eq!(cell("sale_price", None), "—");
        assert_eq!(cell("sale_price", Some("n/a")), "n/a", "not a number: kept");
        assert_eq!(cell("items", Some("NaN")), "NaN");
        assert_eq!(cell("n_limited_stock", Some("1234")), "1,234");
        assert_eq!(cell("move_pct", Some("200.00")), "+200 %");
        assert_eq!(cell("max_price", Some("1699.5")), "1,699.50");
        assert_eq!(
            cell("hour", Some("2026-11-25 03:00:00")),
            "2026-11-25 03:00:00"
        );
    }

    #[test]
    fn headers_are_words_and_numbers_align_right() {
        assert_eq!(header("recommended_price"), "recommended ($)");
        assert_eq!(header("something_new"), "something new");
        assert!(numeric("robust_z") && numeric("items") && !numeric("vendor"));
        assert!(!numeric("observed_at"));
    }
}
