//! SVG charts drawn in Rust: line, horizontal bar, stacked bar and scatter.
//! Each chart is an `<svg role="img">` with a `<title>` and a `<desc>`
//! that says in words what it shows, labelled axes and a legend, scaled by
//! its viewBox so it fits a laptop or a phone. No script, no fonts to load.

use std::fmt::Write as _;

/// Okabe–Ito: tells colours apart for the common colour-vision deficiencies.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

const WIDTH: f64 = 720.0;

/// What every chart needs to be understood without seeing it.
pub struct Caption<'a> {
    /// Unique in the page: the ids of the title and description.
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn open(out: &mut String, caption: &Caption, height: f64) {
    let id = escape(caption.id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc" class="chart" font-family="system-ui, sans-serif" font-size="12"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(caption.title),
        escape(caption.desc)
    );
}

/// About `count` round tick values covering `lo..=hi` (steps of 1, 2 or 5
/// times a power of ten).
pub fn ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let (lo, hi) = if (hi - lo).abs() < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() * step;
    let mut values = Vec::new();
    let mut value = first;
    while value <= hi + step * 0.5 && values.len() < 50 {
        values.push((value / step).round() * step);
        value += step;
    }
    values
}

fn number(value: f64) -> String {
    if value.abs() >= 1000.0 || value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Where each legend entry goes: (x, row), wrapping to a new row when the
/// next entry would not fit.
fn legend_layout(names: &[String]) -> Vec<(f64, f64)> {
    let mut x = 60.0;
    let mut row = 0.0;
    names
        .iter()
        .map(|name| {
            let width = 24.0 + 7.0 * name.chars().count() as f64;
            if x + width > WIDTH - 10.0 {
                x = 60.0;
                row += 1.0;
            }
            let at = (x, row);
            x += width + 12.0;
            at
        })
        .collect()
}

fn legend(out: &mut String, names: &[String], y: f64) {
    for (i, (name, (x, row))) in names.iter().zip(legend_layout(names)).enumerate() {
        let y = y + row * 18.0;
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            y - 10.0,
            PALETTE[i % PALETTE.len()],
            x + 16.0,
            y,
            escape(name)
        );
    }
}

fn legend_height(names: &[String]) -> f64 {
    let rows = legend_layout(names).last().map_or(0.0, |(_, row)| *row) + 1.0;
    rows * 18.0 + 8.0
}

/// A named series of (x, y) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A rectangle of plotting area and the value ranges mapped onto it.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        let span = (self.x.1 - self.x.0).max(1e-9);
        self.left + (x - self.x.0) / span * self.width
    }

    fn py(&self, y: f64) -> f64 {
        let span = (self.y.1 - self.y.0).max(1e-9);
        self.top + self.height - (y - self.y.0) / span * self.height
    }

    /// Grid lines and tick labels on both axes, and the axis titles.
    fn axes(
        &self,
        out: &mut String,
        x_ticks: &[(f64, String)],
        y_ticks: &[f64],
        x_label: &str,
        y_label: &str,
    ) {
        for &y in y_ticks {
            let py = self.py(y);
            let _ = write!(
                out,
                r##"<line x1="{}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                self.left,
                self.left + self.width,
                self.left - 6.0,
                py + 4.0,
                number(y)
            );
        }
        for (x, label) in x_ticks {
            let px = self.px(*x);
            let _ = write!(
                out,
                r##"<line x1="{px:.1}" y1="{}" x2="{px:.1}" y2="{}" stroke="#999"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
                self.top + self.height,
                self.top + self.height + 5.0,
                self.top + self.height + 18.0,
                escape(label)
            );
        }
        let bottom = self.top + self.height;
        let _ = write!(
            out,
            r##"<line x1="{l}" y1="{bottom}" x2="{r}" y2="{bottom}" stroke="#333"/><line x1="{l}" y1="{t}" x2="{l}" y2="{bottom}" stroke="#333"/><text x="{cx}" y="{xl}" text-anchor="middle" font-weight="bold">{x_label}</text><text transform="translate(14 {cy}) rotate(-90)" text-anchor="middle" font-weight="bold">{y_label}</text>"##,
            l = self.left,
            r = self.left + self.width,
            t = self.top,
            cx = self.left + self.width / 2.0,
            xl = bottom + 36.0,
            cy = self.top + self.height / 2.0,
            x_label = escape(x_label),
            y_label = escape(y_label),
        );
    }
}

/// Ticks over `lo..=hi`, or over 0..=1 when there was no value.
fn ticks_over(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if lo.is_finite() {
        ticks(lo, hi, count)
    } else {
        ticks(0.0, 1.0, count)
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// Lines over time (or any x), one colour per series, with point markers
/// so a series of one point still shows.
pub fn line_chart(
    caption: &Caption,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    x_format: impl Fn(f64) -> String,
) -> String {
    let names: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (x_lo, x_hi) = bounds(all().map(|p| p.0));
    let (y_lo, y_hi) = bounds(all().map(|p| p.1));
    let (x_lo, x_hi) = if x_lo.is_finite() {
        (x_lo, x_hi)
    } else {
        (0.0, 1.0)
    };
    let y_ticks = ticks_over(y_lo, y_hi, 5);
    let height = 300.0 + legend_height(&names);
    let mut frame = Frame {
        left: 70.0,
        top: 16.0,
        width: WIDTH - 120.0,
        height: 220.0,
        x: (x_lo, x_hi),
        y: (y_ticks[0], *y_ticks.last().expect("ticks")),
    };
    if (x_hi - x_lo).abs() < 1e-9 {
        frame.x = (x_lo - 1.0, x_hi + 1.0);
    }
    let mut out = String::new();
    open(&mut out, caption, height);
    let x_ticks: Vec<(f64, String)> = {
        let mut xs: Vec<f64> = all().map(|p| p.0).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        // At most 6 labels, evenly picked from the x values there are.
        let step = xs.len().div_ceil(6).max(1);
        xs.iter().step_by(step).map(|&x| (x, x_format(x))).collect()
    };
    frame.axes(&mut out, &x_ticks, &y_ticks, x_label, y_label);
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let path: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", frame.px(x), frame.py(y)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}</title></polyline>"#,
            path.join(" "),
            escape(&s.name)
        );
        for &(x, y) in &s.points {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: {} at {}</title></circle>"#,
                frame.px(x),
                frame.py(y),
                escape(&s.name),
                number(y),
                escape(&x_format(x))
            );
        }
    }
    legend(&mut out, &names, 300.0);
    out.push_str("</svg>");
    out
}

/// One horizontal bar per label, the value printed at its end.
pub fn bar_chart(
    caption: &Caption,
    value_label: &str,
    bars: &[(String, f64)],
    value_format: impl Fn(f64) -> String,
) -> String {
    let row = 26.0;
    let height = 60.0 + row * bars.len().max(1) as f64;
    let (_, hi) = bounds(bars.iter().map(|b| b.1).chain([0.0]));
    let max = if hi > 0.0 { hi } else { 1.0 };
    let (left, width) = (170.0, WIDTH - 170.0 - 90.0);
    let mut out = String::new();
    open(&mut out, caption, height);
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 10.0 + i as f64 * row;
        let w = (value.max(0.0) / max * width).max(1.0);
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text><rect x="{left}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}">{}</text>"#,
            left - 8.0,
            y + row * 0.6,
            escape(label),
            row - 8.0,
            PALETTE[0],
            escape(label),
            escape(&value_format(*value)),
            left + w + 6.0,
            y + row * 0.6,
            escape(&value_format(*value))
        );
    }
    let bottom = 14.0 + bars.len() as f64 * row;
    value_axis(&mut out, left, width, bottom, bottom + 30.0, value_label);
    out.push_str("</svg>");
    out
}

/// The vertical line the bars start from and the value axis title below.
fn value_axis(out: &mut String, left: f64, width: f64, bottom: f64, title_y: f64, title: &str) {
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="6" x2="{left}" y2="{bottom:.1}" stroke="#333"/><text x="{:.1}" y="{title_y:.1}" text-anchor="middle" font-weight="bold">{}</text>"##,
        left + width / 2.0,
        escape(title)
    );
}

/// One horizontal bar per row, split into parts (one colour per part name).
pub fn stacked_bar_chart(
    caption: &Caption,
    value_label: &str,
    parts: &[String],
    rows: &[(String, Vec<f64>)],
) -> String {
    let row = 26.0;
    let body = 14.0 + row * rows.len().max(1) as f64;
    let height = body + 40.0 + legend_height(parts);
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0);
    let (left, width) = (170.0, WIDTH - 170.0 - 60.0);
    let mut out = String::new();
    open(&mut out, caption, height);
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * row;
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + row * 0.6,
            escape(label)
        );
        let mut x = left;
        for (p, value) in values.iter().enumerate() {
            let w = value / max * width;
            if w > 0.0 {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{}, {}: {}</title></rect>"#,
                    row - 8.0,
                    PALETTE[p % PALETTE.len()],
                    escape(label),
                    escape(&parts[p]),
                    number(*value)
                );
            }
            x += w;
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            x + 6.0,
            y + row * 0.6,
            number(values.iter().sum())
        );
    }
    value_axis(&mut out, left, width, body, body + 20.0, value_label);
    legend(&mut out, parts, body + 48.0);
    out.push_str("</svg>");
    out
}

/// A labelled point of a scatter group.
pub struct Dot {
    pub name: String,
    pub x: f64,
    pub y: f64,
}

/// Points in groups, one colour (and legend entry) per group.
pub fn scatter_chart(
    caption: &Caption,
    x_label: &str,
    y_label: &str,
    groups: &[(String, Vec<Dot>)],
) -> String {
    let names: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
    let all = || groups.iter().flat_map(|g| g.1.iter());
    let (x_lo, x_hi) = bounds(all().map(|d| d.x));
    let (y_lo, y_hi) = bounds(all().map(|d| d.y));
    let x_ticks = ticks_over(x_lo, x_hi, 6);
    let y_ticks = ticks_over(y_lo, y_hi, 5);
    let height = 300.0 + legend_height(&names);
    let frame = Frame {
        left: 70.0,
        top: 16.0,
        width: WIDTH - 120.0,
        height: 220.0,
        x: (x_ticks[0], *x_ticks.last().expect("ticks")),
        y: (y_ticks[0], *y_ticks.last().expect("ticks")),
    };
    let mut out = String::new();
    open(&mut out, caption, height);
    let labelled: Vec<(f64, String)> = x_ticks.iter().map(|&x| (x, number(x))).collect();
    frame.axes(&mut out, &labelled, &y_ticks, x_label, y_label);
    for (i, (group, dots)) in groups.iter().enumerate() {
        for dot in dots {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="5" fill="{}" fill-opacity="0.8"><title>{} ({}): {} {}, {} {}</title></circle>"#,
                frame.px(dot.x),
                frame.py(dot.y),
                PALETTE[i % PALETTE.len()],
                escape(&dot.name),
                escape(group),
                escape(x_label),
                number(dot.x),
                escape(y_label),
                number(dot.y)
            );
        }
    }
    legend(&mut out, &names, 300.0);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caption() -> Caption<'static> {
        Caption {
            id: "c1",
            title: "Prices <& more>",
            desc: "What it shows",
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(123.0, 987.0, 5);
        assert!(t[0] <= 123.0 && *t.last().unwrap() >= 987.0, "{t:?}");
        assert!(
            t.windows(2).all(|w| (w[1] - w[0] - 200.0).abs() < 1e-9),
            "{t:?}"
        );
        assert!(
            ticks(5.0, 5.0, 5).len() >= 2,
            "a flat range still has an axis"
        );
    }

    #[test]
    fn charts_are_accessible_and_escaped() {
        let series = vec![Series {
            name: "Vendor <A>".into(),
            points: vec![(0.0, 10.0), (3600.0, 12.5)],
        }];
        let line = line_chart(&caption(), "time", "price", &series, |x| format!("{x}"));
        assert!(line.starts_with("<svg") && line.ends_with("</svg>"));
        assert!(line.contains(r#"role="img" aria-labelledby="c1-title c1-desc""#));
        assert!(line.contains("<title id=\"c1-title\">Prices &lt;&amp; more&gt;</title>"));
        assert!(line.contains("Vendor &lt;A&gt;") && !line.contains("<A>"));
        assert_eq!(line.matches("<circle").count(), 2);

        let bars = bar_chart(
            &caption(),
            "score",
            &[("a".into(), 4.5), ("b".into(), 3.0)],
            |v| format!("{v:.1}"),
        );
        assert_eq!(bars.matches("<rect").count(), 2);
        assert!(bars.contains(">4.5<"));

        let parts = vec!["in_stock".to_string(), "out_of_stock".to_string()];
        let stacked =
            stacked_bar_chart(&caption(), "items", &parts, &[("v".into(), vec![3.0, 0.0])]);
        assert_eq!(
            stacked.matches("<rect").count(),
            1 + 2,
            "one non-empty part + two legend keys"
        );

        let dots = vec![(
            "premium".to_string(),
            vec![Dot {
                name: "tv".into(),
                x: 1.2,
                y: 0.9,
            }],
        )];
        let scatter = scatter_chart(&caption(), "price level", "availability", &dots);
        assert!(scatter.contains("tv (premium)"));
    }

    #[test]
    fn empty_data_still_draws_a_valid_chart() {
        let line = line_chart(&caption(), "x", "y", &[], |x| format!("{x}"));
        assert!(line.ends_with("</svg>") && !line.contains("NaN") && !line.contains("inf"));
        let scatter = scatter_chart(&caption(), "x", "y", &[]);
        assert!(!scatter.contains("NaN"));
        let bars = bar_chart(&caption(), "v", &[], |v| format!("{v}"));
        assert!(!bars.contains("NaN"));
    }
}
