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

use std::fmt::Write as _;

use super::scale::{self, Axis};

/// Series colours, each at least 3:1 against [`BACKGROUND`] (WCAG 1.4.11)
/// and apart under simulated protan, deutan and tritan vision (tested):
/// the Okabe–Ito colours that reach 3:1 on white, black, then violet,
/// brown and wine. Series also differ by marker [`Shape`].
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#9124FF", "#6E3D1C", "#910868",
];
/// What the charts are drawn on.
pub const BACKGROUND: &str = "#FFFFFF";

/// viewBox width. Pages show a chart between about 300 px (a 375 px phone)
/// and 520 px (two columns on a laptop) wide, so [`FONT`] units of text are
/// 12 to 19 px: never the 8 px of a wider viewBox.
pub const WIDTH: f64 = 400.0;
pub const FONT: f64 = 16.0;
/// A generous estimate of a character's width, for fitting labels.
const CHAR: f64 = 0.6 * FONT;
/// Height of a legend row.
const LEGEND_ROW: f64 = 24.0;
/// Height of the plot area of line and scatter charts.
const PLOT_HEIGHT: f64 = 200.0;

/// Marker shapes, so series differ by more than colour (WCAG 1.4.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Circle,
    Square,
    Diamond,
    TriangleUp,
    TriangleDown,
}

const SHAPES: [Shape; 5] = [
    Shape::Circle,
    Shape::Square,
    Shape::Diamond,
    Shape::TriangleUp,
    Shape::TriangleDown,
];

/// The colour and shape of series `i`: 40 distinct pairs before one repeats.
pub fn style(i: usize) -> (&'static str, Shape) {
    (PALETTE[i % PALETTE.len()], SHAPES[i % SHAPES.len()])
}

/// A marker's path, centred on (x, y): `d` starts with `M x,y`. Each shape
/// is symmetric in its bounding box, whose centre is the point.
fn marker(shape: Shape, x: f64, y: f64) -> String {
    let at = format!("M{x:.1},{y:.1}");
    match shape {
        Shape::Circle => format!("{at}m-4.5,0a4.5,4.5 0 1,0 9,0a4.5,4.5 0 1,0 -9,0z"),
        Shape::Square => format!("{at}m-4,-4h8v8h-8z"),
        Shape::Diamond => format!("{at}m0,-5.5l5.5,5.5l-5.5,5.5l-5.5,-5.5z"),
        Shape::TriangleUp => format!("{at}m0,-5l5,10h-10z"),
        Shape::TriangleDown => format!("{at}m0,5l5,-10h-10z"),
    }
}

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
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-labelledby="{id}-title {id}-desc" class="chart" font-family="system-ui, sans-serif" font-size="{FONT}"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc><rect width="{WIDTH}" height="{height:.0}" fill="{BACKGROUND}"/>"#,
        escape(caption.title),
        escape(caption.desc)
    );
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR
}

/// The lines of a legend name: broken at spaces so each fits beside its
/// swatch (a word longer than that stays whole).
fn legend_lines(name: &str) -> Vec<String> {
    let room = ((WIDTH - 8.0 - 28.0 - 4.0) / CHAR).floor() as usize;
    let mut lines: Vec<String> = Vec::new();
    for word in name.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= room => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Where each legend entry goes: (x, first row, its lines), wrapping to a
/// new row when the next entry would not fit; an entry of several lines
/// takes a row of its own for each.
fn legend_layout(names: &[String]) -> Vec<(f64, f64, Vec<String>)> {
    let mut x = 8.0;
    let mut row = 0.0;
    names
        .iter()
        .map(|name| {
            let lines = legend_lines(name);
            let width = 28.0 + lines.iter().map(|l| text_width(l)).fold(0.0, f64::max);
            if x > 8.0 && (lines.len() > 1 || x + width > WIDTH - 4.0) {
                x = 8.0;
                row += 1.0;
            }
            let at = (x, row, lines);
            if at.2.len() > 1 {
                row += at.2.len() as f64 - 1.0;
                x = WIDTH;
            } else {
                x += width + 10.0;
            }
            at
        })
        .collect()
}

fn legend_height(names: &[String]) -> f64 {
    match legend_layout(names).last() {
        Some((_, row, lines)) => (row + lines.len() as f64) * LEGEND_ROW,
        None => 0.0,
    }
}

/// How a legend shows what an entry looks like in the chart.
#[derive(Clone, Copy, PartialEq)]
enum Swatch {
    /// A line through its marker (line charts).
    Line,
    /// The marker alone (scatter).
    Marker,
    /// A coloured block (bars).
    Block,
}

/// The key: a swatch and the name of each series, from `top` down.
fn legend(out: &mut String, names: &[String], top: f64, swatch: Swatch) {
    out.push_str(r#"<g class="legend">"#);
    for (i, (x, row, lines)) in legend_layout(names).into_iter().enumerate() {
        let y = top + row * LEGEND_ROW + 16.0;
        let (colour, shape) = style(i);
        match swatch {
            Swatch::Block => {
                let _ = write!(
                    out,
                    r#"<rect x="{x}" y="{}" width="22" height="14" fill="{colour}"/>"#,
                    y - 12.0
                );
            }
            Swatch::Line => {
                let _ = write!(
                    out,
                    r#"<line x1="{x}" y1="{my}" x2="{}" y2="{my}" stroke="{colour}" stroke-width="2"/>"#,
                    x + 22.0,
                    my = y - 5.0,
                );
            }
            Swatch::Marker => {}
        }
        if swatch != Swatch::Block {
            let _ = write!(
                out,
                r#"<path d="{}" fill="{colour}"/>"#,
                marker(shape, x + 11.0, y - 5.0)
            );
        }
        let _ = write!(out, r#"<text x="{}" y="{y}">"#, x + 28.0);
        for (n, line) in lines.iter().enumerate() {
            let dy = if n == 0 { 0.0 } else { LEGEND_ROW };
            let _ = write!(
                out,
                r#"<tspan x="{}" dy="{dy}">{}</tspan>"#,
                x + 28.0,
                escape(line)
            );
        }
        out.push_str("</text>");
    }
    out.push_str("</g>");
}

/// A named series of (x, y) points.
pub struct Series {
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
pub fn time_chart(
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
    let left = left_margin(&y);
    let x = scale::time(&xs, WIDTH - left - 40.0, CHAR);
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
    let (iso, _) = crate::ingest::records::utc_timestamps(seconds.max(0.0) as u64);
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
pub fn bar_chart(
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
pub fn stacked_bar_chart(
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
pub struct Dot {
    pub name: String,
    pub x: f64,
    pub y: f64,
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
pub fn scatter_chart(
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

#[cfg(test)]
pub mod tests {
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
    pub fn assert_inside(svg: &str) -> usize {
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
        let stacked =
            stacked_bar_chart(&caption(), "items", &parts, &[("v".into(), vec![3.0, 0.0])]);
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
    fn long_legend_names_wrap_inside_the_picture() {
        let names = vec![
            "cluster 3: premium & stable, often out of stock".to_string(),
            "cluster 1: budget & volatile".to_string(),
        ];
        let layout = legend_layout(&names);
        assert!(layout[0].2.len() > 1, "{layout:?}");
        assert_eq!(
            layout[1].1,
            layout[0].2.len() as f64,
            "the next entry starts below"
        );
        for (x, _, lines) in &layout {
            for line in lines {
                assert!(x + 28.0 + text_width(line) <= WIDTH, "{line} fits");
            }
        }
        assert_eq!(legend_height(&names), 3.0 * LEGEND_ROW);
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

    /// Relative luminance (WCAG 2.x) of `#RRGGBB`.
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    #[test]
    fn every_series_colour_has_3_to_1_contrast_on_the_background() {
        let background = luminance(BACKGROUND);
        for colour in PALETTE {
            let ratio = (background + 0.05) / (luminance(colour) + 0.05);
            assert!(ratio >= 3.0, "{colour}: {ratio:.2}:1");
        }
    }

    /// CIELAB of a colour as seen with a colour-vision deficiency (Machado,
    /// Oliveira and Fernandes 2009, severity 1).
    fn seen(hex: &str, deficiency: &[[f64; 3]; 3]) -> [f64; 3] {
        let linear = |i: usize| {
            let c = u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let rgb = [linear(1), linear(3), linear(5)];
        let sim: Vec<f64> = deficiency
            .iter()
            .map(|row| (0..3).map(|j| row[j] * rgb[j]).sum::<f64>().clamp(0.0, 1.0))
            .collect();
        let xyz = [
            (0.4124 * sim[0] + 0.3576 * sim[1] + 0.1805 * sim[2]) / 0.95047,
            0.2126 * sim[0] + 0.7152 * sim[1] + 0.0722 * sim[2],
            (0.0193 * sim[0] + 0.1192 * sim[1] + 0.9505 * sim[2]) / 1.08883,
        ];
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let (fx, fy, fz) = (f(xyz[0]), f(xyz[1]), f(xyz[2]));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    #[test]
    fn series_colours_stay_apart_with_colour_vision_deficiencies() {
        let visions: [(&str, [[f64; 3]; 3]); 4] = [
            (
                "typical",
                [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            ),
            (
                "protan",
                [
                    [0.152286, 1.052583, -0.204868],
                    [0.114503, 0.786281, 0.099216],
                    [-0.003882, -0.048116, 1.051998],
                ],
            ),
            (
                "deutan",
                [
                    [0.367322, 0.860646, -0.227968],
                    [0.280085, 0.672501, 0.047413],
                    [-0.011820, 0.042940, 0.968881],
                ],
            ),
            (
                "tritan",
                [
                    [1.255528, -0.076749, -0.178779],
                    [-0.078411, 0.930809, 0.147602],
                    [0.004733, 0.691367, 0.303900],
                ],
            ),
        ];
        for (vision, matrix) in &visions {
            for (i, a) in PALETTE.iter().enumerate() {
                for b in &PALETTE[i + 1..] {
                    let (la, lb) = (seen(a, matrix), seen(b, matrix));
                    let distance = (0..3).map(|k| (la[k] - lb[k]).powi(2)).sum::<f64>().sqrt();
                    // ΔE*ab above 15: told apart at a glance.
                    assert!(
                        distance > 15.0,
                        "{vision}: {a} and {b} are {distance:.1} apart"
                    );
                }
            }
        }
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
}
