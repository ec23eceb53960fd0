//! How series look and how the legend says so: colours, marker shapes and
//! the key under a chart.

use std::fmt::Write as _;

use super::{escape, text_width, CHAR, LEGEND_ROW, WIDTH};

/// Series colours, each at least 3:1 against [`BACKGROUND`] (WCAG 1.4.11)
/// and apart under simulated protan, deutan and tritan vision (tested):
/// the Okabe–Ito colours that reach 3:1 on white, black, then violet,
/// brown and wine. Series also differ by marker [`Shape`].
pub(crate) const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#9124FF", "#6E3D1C", "#910868",
];
/// What the charts are drawn on.
pub(crate) const BACKGROUND: &str = "#FFFFFF";

/// Marker shapes, so series differ by more than colour (WCAG 1.4.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
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
pub(super) fn style(i: usize) -> (&'static str, Shape) {
    (PALETTE[i % PALETTE.len()], SHAPES[i % SHAPES.len()])
}

/// A marker's path, centred on (x, y): `d` starts with `M x,y`. Each shape
/// is symmetric in its bounding box, whose centre is the point.
pub(super) fn marker(shape: Shape, x: f64, y: f64) -> String {
    let at = format!("M{x:.1},{y:.1}");
    match shape {
        Shape::Circle => format!("{at}m-4.5,0a4.5,4.5 0 1,0 9,0a4.5,4.5 0 1,0 -9,0z"),
        Shape::Square => format!("{at}m-4,-4h8v8h-8z"),
        Shape::Diamond => format!("{at}m0,-5.5l5.5,5.5l-5.5,5.5l-5.5,-5.5z"),
        Shape::TriangleUp => format!("{at}m0,-5l5,10h-10z"),
        Shape::TriangleDown => format!("{at}m0,5l5,-10h-10z"),
    }
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

pub(super) fn legend_height(names: &[String]) -> f64 {
    match legend_layout(names).last() {
        Some((_, row, lines)) => (row + lines.len() as f64) * LEGEND_ROW,
        None => 0.0,
    }
}

/// How a legend shows what an entry looks like in the chart.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Swatch {
    /// A line through its marker (line charts).
    Line,
    /// The marker alone (scatter).
    Marker,
    /// A coloured block (bars).
    Block,
}

/// The key: a swatch and the name of each series, from `top` down.
pub(super) fn legend(out: &mut String, names: &[String], top: f64, swatch: Swatch) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
