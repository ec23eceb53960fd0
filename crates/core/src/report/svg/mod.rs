//! SVG charts drawn in Rust: lines over time, horizontal bars, stacked bars
//! and a scatter. Each chart is an `<svg role="img">` with a `<title>` and a
//! `<desc>` that says in words what it shows, labelled axes and a legend,
//! scaled by its viewBox so it fits a laptop or a phone. No script, no
//! fonts to load.
//!
//! Geometry is checkable from the markup: the plot area is
//! `<rect class="frame">`, every data point is a `class="mark"` path whose
//! `d` starts at the point, every line a `class="series"` polyline, and
//! tick labels sit in `<g class="ticks x|y">`. Tests (here and in the
//! browser) hold every mark inside its frame and every tick label unique.

mod key;
#[cfg(test)]
pub(crate) mod tests;

use std::fmt::Write as _;

use crate::escape::xml as escape;

use super::scale::{self, Axis};
use key::{legend, legend_height, marker, style, Swatch};
pub(crate) use key::{BACKGROUND, PALETTE};

/// viewBox width. Pages show a chart between about 340 px (a 375 px phone)
/// and 560 px (its largest, base.html) wide, so [`FONT`] units of text are
/// 13.5 to 22 px: never the 8 px of a wider viewBox.
pub(crate) const WIDTH: f64 = 400.0;
pub(crate) const FONT: f64 = 16.0;
/// A generous estimate of a character's width, for fitting labels.
const CHAR: f64 = 0.6 * FONT;
/// Height of a legend row.
const LEGEND_ROW: f64 = 24.0;
/// Height of the plot area of line and scatter charts.
const PLOT_HEIGHT: f64 = 200.0;

/// What every chart needs to be understood without seeing it.
pub(crate) struct Caption<'a> {
    /// Unique in the page: the ids of the title and description.
    pub id: &'a str,
    pub title: &'a str,
    pub(crate) desc: &'a str,
}

fn open(out: &mut String, caption: &Caption, height: f64) {
    let id = escape(caption.id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-labelledby="{id}-title {id}-desc" class="chart" font-family="system-ui, sans-serif" font-size="{FONT}"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc><rect width="{WIDTH}" height="{height:.0}" fill="{BACKGROUND}"/>"#,
        escape(caption.title),
        escape(caption.desc)
    );
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR
}

/// A named series of (x, y) points.
pub(crate) struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A rectangle of plotting area and the axes mapped onto it.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x: Axis,
    y: Axis,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        self.left + self.x.fraction(x) * self.width
    }

    fn py(&self, y: f64) -> f64 {
        self.top + self.height - self.y.fraction(y) * self.height
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }

    /// The frame, grid lines and tick labels on both axes, and the axis
    /// titles.
    fn axes(&self, out: &mut String, x_title: &str, y_title: &str) {
        let (l, r, t, b) = (self.left, self.left + self.width, self.top, self.bottom());
        let _ = write!(
            out,
            r##"<rect class="frame" x="{l}" y="{t}" width="{}" height="{}" fill="none"/><g class="ticks y">"##,
            self.width, self.height
        );
        for (y, label) in &self.y.ticks {
            let py = self.py(*y);
            let _ = write!(
                out,
                r##"<line x1="{l}" y1="{py:.1}" x2="{r}" y2="{py:.1}" stroke="#d9d9de"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                l - 6.0,
                py + 5.0,
                escape(label)
            );
        }
        out.push_str(r#"</g><g class="ticks x">"#);
        for (x, label) in &self.x.ticks {
            let px = self.px(*x);
            let _ = write!(
                out,
                r##"<line x1="{px:.1}" y1="{b}" x2="{px:.1}" y2="{}" stroke="#6b6b6b"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
                b + 5.0,
                b + 24.0,
                escape(label)
            );
        }
        let _ = write!(
            out,
            r##"</g><line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#333"/><text x="{cx:.1}" y="{xt}" text-anchor="middle" font-weight="bold">{x_title}</text><text x="8" y="{yt}" font-weight="bold">{y_title}</text>"##,
            cx = l + self.width / 2.0,
            xt = b + 48.0,
            yt = t - 12.0,
            x_title = escape(x_title),
            y_title = escape(y_title),
        );
    }
}

/// Where the plot starts: room for the widest y tick label. The y title
/// reads horizontally above the plot (nobody tilts their head).
fn left_margin(y: &Axis) -> f64 {
    (8.0 + y.widest() as f64 * CHAR + 8.0).round()
}

/// The top of the plot: below the y title.
const PLOT_TOP: f64 = 32.0;

/// Room right of the plot for half of the widest x label.
fn right_margin(x: &Axis) -> f64 {
    (x.widest() as f64 * CHAR / 2.0 + 6.0).max(14.0).round()
}

/// Total height of a line or scatter chart with this legend.
fn xy_height(names: &[String]) -> f64 {
    PLOT_TOP + PLOT_HEIGHT + 60.0 + legend_height(names) + 8.0
}

/// Lines over time (x in unix seconds), one colour and marker per series,
/// so a series of one point still shows. Points that cannot be placed (see
/// [`scale::plottable`]) are left out.
pub(crate) fn time_chart(
    caption: &Caption,
    y_title: &str,
    series: &[Series],
    y_format: impl Fn(f64) -> String,
) -> String {
    let series: Vec<Series> = series
        .iter()
        .map(|s| Series {
            name: s.name.clone(),
            points: s
                .points
                .iter()
                .copied()
                .filter(|&(x, y)| scale::plottable_time(x) && scale::plottable(y))
                .collect(),
        })
        .collect();
    let names: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    let y = scale::linear(&ys, 6);
    let mut left = left_margin(&y);
    let mut x = scale::time(&xs, WIDTH - left - 40.0, CHAR);
    // The first x label is centred on the frame's left edge: with narrow y
    // labels (`150`) a long one (`12-03 18:00`) would start left of the
    // picture, so the plot moves right to make room for half of it.
    let half_x_label = (x.widest() as f64 * CHAR / 2.0 + 4.0).round();
    if half_x_label > left {
        left = half_x_label;
        x = scale::time(&xs, WIDTH - left - 40.0, CHAR);
    }
    let right = right_margin(&x);
    let x_title = match &x.note {
        Some(date) => format!("snapshot time (UTC, {date})"),
        None => "snapshot time (UTC)".to_string(),
    };
    let frame = Frame {
        left,
        top: PLOT_TOP,
        width: WIDTH - left - right,
        height: PLOT_HEIGHT,
        x,
        y,
    };
    let height = xy_height(&names);
    let mut out = String::new();
    open(&mut out, caption, height);
    frame.axes(&mut out, &x_title, y_title);
    for (i, s) in series.iter().enumerate() {
        let (colour, shape) = style(i);
        let vertices: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", frame.px(x), frame.py(y)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}</title></polyline>"#,
            vertices.join(" "),
            escape(&s.name)
        );
        for &(x, y) in &s.points {
            let (date, time) = when(x);
            let _ = write!(
                out,
                r#"<path class="mark" d="{}" fill="{colour}"><title>{}: {} at {date} {time} UTC</title></path>"#,
                marker(shape, frame.px(x), frame.py(y)),
                escape(&s.name),
                escape(&y_format(y)),
            );
        }
    }
    legend(&mut out, &names, frame.bottom() + 60.0, Swatch::Line);
    out.push_str("</svg>");
    out
}

/// `(YYYY-MM-DD, HH:MM)` of unix seconds, for tooltips.
fn when(seconds: f64) -> (String, String) {
    let (iso, _) = crate::time::utc_timestamps(seconds.max(0.0) as u64);
    (iso[..10].to_string(), iso[11..16].to_string())
}

/// Bars and their value labels: one row per bar, its label above it.
struct Rows {
    frame_left: f64,
    frame_width: f64,
    height: f64,
}

const BAR_ROW: f64 = 50.0;

/// The frame of horizontal bars: the full width but room for the widest
/// value label right of the longest bar (at most 40 % of the width).
fn rows(count: usize, widest_value: &str) -> Rows {
    let value_room = (text_width(widest_value) + 14.0).min(WIDTH * 0.4);
    Rows {
        frame_left: 8.0,
        frame_width: (WIDTH - 8.0 - value_room).round(),
        height: BAR_ROW * count.max(1) as f64,
    }
}

/// One horizontal bar per label, the value printed at its end. Bars start
/// at zero; a negative or unplottable value draws no bar but keeps its
/// label.
pub(crate) fn bar_chart(
    caption: &Caption,
    value_title: &str,
    bars: &[(String, f64)],
    value_format: impl Fn(f64) -> String,
) -> String {
    let values: Vec<f64> = bars
        .iter()
        .map(|b| {
            if scale::plottable(b.1) {
                b.1.max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    let max = values.iter().copied().fold(0.0, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let labels: Vec<String> = bars.iter().map(|b| value_format(b.1)).collect();
    let widest = labels
        .iter()
        .max_by_key(|l| l.chars().count())
        .cloned()
        .unwrap_or_default();
    let layout = rows(bars.len(), &widest);
    let top = 8.0;
    let height = top + layout.height + 36.0;
    let mut out = String::new();
    open(&mut out, caption, height);
    let _ = write!(
        out,
        r#"<rect class="frame" x="{}" y="{top}" width="{}" height="{}" fill="none"/>"#,
        layout.frame_left, layout.frame_width, layout.height
    );
    for (i, ((label, _), value)) in bars.iter().zip(&values).enumerate() {
        let y = top + i as f64 * BAR_ROW;
        let w = value / max * layout.frame_width;
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}">{}</text><rect class="mark" x="{}" y="{:.1}" width="{w:.1}" height="18" fill="{}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}">{}</text>"#,
            layout.frame_left,
            y + 17.0,
            escape(label),
            layout.frame_left,
            y + 24.0,
            PALETTE[0],
            escape(label),
            escape(&labels[i]),
            layout.frame_left + w + 6.0,
            y + 39.0,
            escape(&labels[i])
        );
    }
    value_axis(&mut out, layout.frame_left, top, layout.height, value_title);
    out.push_str("</svg>");
    out
}

/// The line the bars start from and the value title below the bars.
fn value_axis(out: &mut String, left: f64, top: f64, height: f64, title: &str) {
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{:.1}" stroke="#333"/><text x="{left}" y="{:.1}" font-weight="bold">{}</text>"##,
        top + height,
        top + height + 24.0,
        escape(title)
    );
}

/// One horizontal bar per row, split into parts (one colour per part name).
pub(crate) fn stacked_bar_chart(
    caption: &Caption,
    value_title: &str,
    parts: &[String],
    rows_in: &[(String, Vec<f64>)],
) -> String {
    let clean = |v: f64| if scale::plottable(v) { v.max(0.0) } else { 0.0 };
    let totals: Vec<f64> = rows_in
        .iter()
        .map(|(_, v)| v.iter().map(|x| clean(*x)).sum::<f64>())
        .collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let labels: Vec<String> = totals.iter().map(|t| number(*t)).collect();
    let widest = labels
        .iter()
        .max_by_key(|l| l.chars().count())
        .cloned()
        .unwrap_or_default();
    let layout = rows(rows_in.len(), &widest);
    let top = 8.0;
    let body = top + layout.height + 36.0;
    let height = body + legend_height(parts) + 8.0;
    let mut out = String::new();
    open(&mut out, caption, height);
    let _ = write!(
        out,
        r#"<rect class="frame" x="{}" y="{top}" width="{}" height="{}" fill="none"/>"#,
        layout.frame_left, layout.frame_width, layout.height
    );
    for (i, (label, values)) in rows_in.iter().enumerate() {
        let y = top + i as f64 * BAR_ROW;
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}">{}</text>"#,
            layout.frame_left,
            y + 17.0,
            escape(label)
        );
        let mut sum = 0.0;
        for (p, value) in values.iter().enumerate() {
            let value = clean(*value);
            if value > 0.0 {
                // Both edges rounded as printed: the last part ends exactly
                // where the frame allows, never a rounding past it.
                let edge = |at: f64| {
                    ((layout.frame_left + at / max * layout.frame_width) * 10.0).round() / 10.0
                };
                let (x, w) = (edge(sum), edge(sum + value) - edge(sum));
                let _ = write!(
                    out,
                    r#"<rect class="mark" x="{x:.1}" y="{:.1}" width="{w:.1}" height="18" fill="{}"><title>{}, {}: {}</title></rect>"#,
                    y + 24.0,
                    PALETTE[p % PALETTE.len()],
                    escape(label),
                    escape(&parts[p]),
                    number(value)
                );
            }
            sum += value;
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            layout.frame_left + sum / max * layout.frame_width + 6.0,
            y + 39.0,
            labels[i]
        );
    }
    value_axis(&mut out, layout.frame_left, top, layout.height, value_title);
    legend(&mut out, parts, body, Swatch::Block);
    out.push_str("</svg>");
    out
}

/// A count or amount as a person reads it: no decimals when whole.
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// A labelled point of a scatter group.
pub(crate) struct Dot {
    pub name: String,
    pub x: f64,
    pub(crate) y: f64,
}

/// An x axis whose labels fit the plot: fewer ticks until they do.
fn fitting_linear(values: &[f64], width: f64) -> Axis {
    let mut max_ticks = 7;
    loop {
        let axis = scale::linear(values, max_ticks);
        let needed = axis.ticks.len() as f64 * (axis.widest() + 2) as f64 * CHAR;
        if needed <= width || max_ticks <= 2 {
            return axis;
        }
        max_ticks -= 1;
    }
}

/// Points in groups, one colour and marker (and legend entry) per group.
/// `format` turns an x or y value into the text of the tooltips.
pub(crate) fn scatter_chart(
    caption: &Caption,
    (x_title, y_title): (&str, &str),
    groups: &[(String, Vec<Dot>)],
    format: (impl Fn(f64) -> String, impl Fn(f64) -> String),
) -> String {
    let names: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
    let placed = |d: &&Dot| scale::plottable(d.x) && scale::plottable(d.y);
    let all = || groups.iter().flat_map(|g| g.1.iter()).filter(placed);
    let xs: Vec<f64> = all().map(|d| d.x).collect();
    let ys: Vec<f64> = all().map(|d| d.y).collect();
    let y = scale::linear(&ys, 6);
    let left = left_margin(&y);
    let x = fitting_linear(&xs, WIDTH - left - 40.0);
    let right = right_margin(&x);
    let frame = Frame {
        left,
        top: PLOT_TOP,
        width: WIDTH - left - right,
        height: PLOT_HEIGHT,
        x,
        y,
    };
    let mut out = String::new();
    open(&mut out, caption, xy_height(&names));
    frame.axes(&mut out, x_title, y_title);
    for (i, (group, dots)) in groups.iter().enumerate() {
        let (colour, shape) = style(i);
        for dot in dots.iter().filter(placed) {
            let _ = write!(
                out,
                r#"<path class="mark" d="{}" fill="{colour}" fill-opacity="0.85"><title>{} ({}): {} {}, {} {}</title></path>"#,
                marker(shape, frame.px(dot.x), frame.py(dot.y)),
                escape(&dot.name),
                escape(group),
                escape(x_title),
                escape(&(format.0)(dot.x)),
                escape(y_title),
                escape(&(format.1)(dot.y))
            );
        }
    }
    legend(&mut out, &names, frame.bottom() + 60.0, Swatch::Marker);
    out.push_str("</svg>");
    out
}
