//! The charts' geometry as drawn: every mark inside its frame, every tick
//! label of an axis different, for fixed and for random data.

use super::*;
use proptest::prelude::*;

fn caption() -> Caption<'static> {
    Caption {
        id: "c1",
        title: "Prices <& more>",
        desc: "What it shows",
    }
}

/// The numbers of an attribute of every element with this class.
fn attribute_of(svg: &str, class: &str, attribute: &str) -> Vec<String> {
    svg.split('<')
        .filter(|element| element.contains(&format!("class=\"{class}\"")))
        .filter_map(|element| {
            let start = element.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
            let rest = &element[start..];
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// (x, y, width, height) of the chart's frame.
fn frame_of(svg: &str) -> (f64, f64, f64, f64) {
    let get = |a: &str| attribute_of(svg, "frame", a)[0].parse::<f64>().unwrap();
    (get("x"), get("y"), get("width"), get("height"))
}

/// Every point of every mark and line inside the frame; every tick label
/// of an axis different. Returns how many points were checked.
pub(crate) fn assert_inside(svg: &str) -> usize {
    let (x, y, w, h) = frame_of(svg);
    let inside = |px: f64, py: f64| px >= x && px <= x + w && py >= y && py <= y + h;
    let mut checked = 0;
    for d in attribute_of(svg, "mark", "d") {
        let n = numbers(&d[1..]);
        assert!(
            inside(n[0], n[1]),
            "mark at {},{} outside {x},{y} {w}x{h}",
            n[0],
            n[1]
        );
        checked += 1;
    }
    for points in attribute_of(svg, "series", "points") {
        let n = numbers(&points);
        for p in n.chunks(2) {
            assert!(inside(p[0], p[1]), "vertex {p:?} outside {x},{y} {w}x{h}");
            checked += 1;
        }
    }
    let (bars_x, bars_w) = (
        attribute_of(svg, "mark", "x"),
        attribute_of(svg, "mark", "width"),
    );
    for (bx, bw) in bars_x.iter().zip(&bars_w) {
        let (bx, bw): (f64, f64) = (bx.parse().unwrap(), bw.parse().unwrap());
        assert!(
            bx >= x && bx + bw <= x + w + 1e-9,
            "bar {bx}+{bw} outside {x} {w}"
        );
        checked += 1;
    }
    for axis in ["ticks x", "ticks y"] {
        let Some(start) = svg.find(&format!("<g class=\"{axis}\">")) else {
            continue;
        };
        let group = &svg[start..start + svg[start..].find("</g>").unwrap()];
        let labels: Vec<&str> = group
            .split("<text")
            .skip(1)
            .map(|t| &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])
            .collect();
        let mut unique = labels.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            labels.len(),
            "repeated {axis} labels: {labels:?}"
        );
    }
    checked
}

#[test]
fn a_time_axis_label_never_starts_left_of_the_picture() {
    // Hours across midnight (`12-03 18:00` labels) over small counts
    // (`150`: narrow y labels).
    let start = 1_796_320_800.0; // 2026-12-03 18:00:00 UTC
    let series = vec![Series {
        name: "in stock".into(),
        points: (0..6).map(|h| (start + 3600.0 * h as f64, 135.0)).collect(),
    }];
    let svg = time_chart(&caption(), "items", &series, |v| format!("{v:.0}"));
    let start = svg.find("<g class=\"ticks x\">").unwrap();
    let group = &svg[start..start + svg[start..].find("</g>").unwrap()];
    for text in group.split("<text").skip(1) {
        let x: f64 = text[text.find("x=\"").unwrap() + 3..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let label = &text[text.find('>').unwrap() + 1..text.find("</text>").unwrap()];
        assert!(
            x - text_width(label) / 2.0 >= 0.0,
            "`{label}` at {x} starts left of the picture"
        );
    }
    assert_inside(&svg);
}

#[test]
fn charts_are_accessible_and_escaped() {
    let series = vec![Series {
        name: "Vendor <A>".into(),
        points: vec![(1_795_578_473.0, 10.0), (1_795_582_073.0, 12.5)],
    }];
    let line = time_chart(&caption(), "price", &series, |v| format!("${v:.2}"));
    assert!(line.starts_with("<svg") && line.ends_with("</svg>"));
    assert!(line.contains(r#"role="img" aria-labelledby="c1-title c1-desc""#));
    assert!(line.contains("<title id=\"c1-title\">Prices &lt;&amp; more&gt;</title>"));
    assert!(line.contains("Vendor &lt;A&gt;") && !line.contains("<A>"));
    assert_eq!(line.matches("class=\"mark\"").count(), 2);
    assert!(
        line.contains("Vendor &lt;A&gt;: $12.50 at 2026-11-25 04:47 UTC"),
        "{line}"
    );
    assert!(line.contains("snapshot time (UTC, 2026-11-25)"));
    assert_eq!(assert_inside(&line), 4);

    let bars = bar_chart(
        &caption(),
        "score",
        &[("a".into(), 4.5), ("b".into(), 3.0)],
        |v| format!("{v:.1}"),
    );
    assert_eq!(bars.matches("class=\"mark\"").count(), 2);
    assert!(bars.contains(">4.5<"));
    assert_inside(&bars);

    let parts = vec!["in_stock".to_string(), "out_of_stock".to_string()];
    let stacked = stacked_bar_chart(&caption(), "items", &parts, &[("v".into(), vec![3.0, 0.0])]);
    assert_eq!(
        stacked.matches("class=\"mark\"").count(),
        1,
        "one non-empty part"
    );
    assert_eq!(stacked.matches("<rect x=").count(), 2, "two legend keys");
    assert_inside(&stacked);

    let dots = vec![(
        "premium".to_string(),
        vec![Dot {
            name: "tv".into(),
            x: 1.2,
            y: 0.9,
        }],
    )];
    let scatter = scatter_chart(
        &caption(),
        ("price level", "availability"),
        &dots,
        (|v: f64| format!("{v}"), |v: f64| format!("{v}")),
    );
    assert!(scatter.contains("tv (premium)"));
    assert_inside(&scatter);
}

#[test]
fn empty_data_still_draws_a_valid_chart() {
    let line = time_chart(&caption(), "y", &[], |v| v.to_string());
    assert!(line.ends_with("</svg>") && !line.contains("NaN") && !line.contains("inf"));
    let scatter = scatter_chart(
        &caption(),
        ("x", "y"),
        &[],
        (|v: f64| v.to_string(), |v: f64| v.to_string()),
    );
    assert!(!scatter.contains("NaN"));
    let bars = bar_chart(&caption(), "v", &[], |v| format!("{v}"));
    assert!(!bars.contains("NaN"));
}

#[test]
fn unplottable_values_are_left_out_not_drawn_anywhere() {
    let series = vec![Series {
        name: "s".into(),
        points: vec![(1e9, f64::NAN), (1e9 + 60.0, 5.0), (f64::INFINITY, 1.0)],
    }];
    let line = time_chart(&caption(), "y", &series, |v| v.to_string());
    assert_eq!(assert_inside(&line), 2, "one vertex and one mark");
    let bars = bar_chart(&caption(), "v", &[("x".into(), f64::NAN)], |v| {
        format!("{v}")
    });
    assert_inside(&bars);
    assert!(!bars.contains("NaN\"") && !bars.contains("width=\"NaN"));
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e3..1e3f64,
        -1e12..1e12f64,
        0.0..1e-6f64,
        Just(0.0),
        Just(scale::LIMIT),
        Just(-scale::LIMIT),
        Just(f64::NAN),
    ]
}

fn time() -> impl Strategy<Value = f64> {
    prop_oneof![
        1.7e9..1.8e9f64,
        Just(1_795_578_473.0),
        0.0..3e10f64,
        Just(-1.0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_mark_of_a_time_chart_is_inside_its_frame(
        series in proptest::collection::vec(
            proptest::collection::vec((time(), value()), 1..12), 0..7),
        constant in proptest::option::of(value()),
    ) {
        let series: Vec<Series> = series
            .into_iter()
            .enumerate()
            .map(|(i, points)| Series {
                name: format!("series {i}"),
                points: points.into_iter().map(|(t, v)| (t, constant.unwrap_or(v))).collect(),
            })
            .collect();
        let svg = time_chart(&caption(), "y", &series, |v| v.to_string());
        assert_inside(&svg);
        prop_assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn every_mark_of_a_scatter_is_inside_its_frame(
        groups in proptest::collection::vec(
            proptest::collection::vec((value(), value()), 1..15), 0..5),
    ) {
        let groups: Vec<(String, Vec<Dot>)> = groups
            .into_iter()
            .enumerate()
            .map(|(i, dots)| (
                format!("cluster {i}"),
                dots.into_iter().map(|(x, y)| Dot { name: "item".into(), x, y }).collect(),
            ))
            .collect();
        let svg = scatter_chart(
            &caption(),
            ("x", "y"),
            &groups,
            (|v: f64| v.to_string(), |v: f64| v.to_string()),
        );
        assert_inside(&svg);
        prop_assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn every_bar_is_inside_its_frame(
        bars in proptest::collection::vec(value(), 0..12),
    ) {
        let named: Vec<(String, f64)> =
            bars.iter().enumerate().map(|(i, v)| (format!("v{i}"), *v)).collect();
        assert_inside(&bar_chart(&caption(), "v", &named, |v| format!("{v:.2}")));
        let parts = vec!["a".to_string(), "b".to_string()];
        let stacked: Vec<(String, Vec<f64>)> = bars
            .chunks(2)
            .enumerate()
            .map(|(i, c)| (format!("v{i}"), c.to_vec()))
            .collect();
        assert_inside(&stacked_bar_chart(&caption(), "n", &parts, &stacked));
    }
}
