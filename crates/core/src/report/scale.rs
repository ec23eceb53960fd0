//! Axis scales for the report's charts: the range a chart plots and its
//! tick labels. A domain always reaches from a tick at or below the
//! smallest value to a tick at or above the largest, so no point can fall
//! outside its frame; labels carry the precision the step needs and never
//! repeat; time axes pick their unit (seconds to years) from the span.

use super::format::{grouped, unsigned_zero};
use crate::time::utc_timestamps;

/// Beyond this a value cannot be placed: the arithmetic of a domain around
/// it would overflow. Charts leave such values (and NaN, ±inf) out.
pub(crate) const LIMIT: f64 = 1e300;

/// Whether a value can be drawn on a linear axis.
pub(crate) fn plottable(value: f64) -> bool {
    value.is_finite() && value.abs() <= LIMIT
}

/// Whether a time (unix seconds) can be drawn on a time axis: snapshots are
/// never before 1970 nor after the year 3000.
pub(crate) fn plottable_time(seconds: f64) -> bool {
    seconds.is_finite() && (0.0..=32_503_680_000.0).contains(&seconds)
}

/// A plotted range and its ticks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// The first tick: at or below every value.
    pub(crate) lo: f64,
    /// The last tick: at or above every value.
    pub(crate) hi: f64,
    /// Ascending positions and their labels, the labels all different.
    pub(crate) ticks: Vec<(f64, String)>,
    /// What the labels leave unsaid (the date of a time axis), for the
    /// axis title.
    pub note: Option<String>,
}

impl Axis {
    /// Where `value` falls between `lo` (0) and `hi` (1). Exact at the
    /// ends, so a value equal to a bound lands on the frame's edge.
    pub(crate) fn fraction(&self, value: f64) -> f64 {
        // Halves: the difference of two values within ±LIMIT cannot overflow.
        let span = self.hi / 2.0 - self.lo / 2.0;
        if span > 0.0 {
            ((value / 2.0 - self.lo / 2.0) / span).clamp(0.0, 1.0)
        } else {
            0.5
        }
    }

    /// The widest label, in characters.
    pub(crate) fn widest(&self) -> usize {
        self.ticks
            .iter()
            .map(|(_, l)| l.chars().count())
            .max()
            .unwrap_or(0)
    }
}

/// A step of `mantissa × 10^exponent` (mantissa 1, 2 or 5).
#[derive(Debug, Clone, Copy)]
struct Step {
    mantissa: f64,
    exponent: i32,
}

impl Step {
    fn value(self) -> f64 {
        self.mantissa * 10f64.powi(self.exponent)
    }

    /// The smallest round step of at least `raw`.
    fn at_least(raw: f64) -> Step {
        let mut exponent = raw.log10().floor() as i32;
        loop {
            for mantissa in [1.0, 2.0, 5.0] {
                let step = Step { mantissa, exponent };
                if step.value() >= raw {
                    return step;
                }
            }
            exponent += 1;
        }
    }
}

/// The range to divide into ticks: the values' own, widened around a single
/// value (or values equal to the last few digits) so the axis has a span,
/// but not below zero when no value is.
fn span_of(values: &[f64]) -> (f64, f64) {
    let (lo, hi) = values
        .iter()
        .copied()
        .filter(|v| plottable(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let magnitude = lo.abs().max(hi.abs());
    if hi - lo > magnitude * 1e-9 {
        return (lo, hi);
    }
    let pad = if magnitude > 1e-100 {
        magnitude * 0.1
    } else {
        1.0
    };
    // Values that cannot be negative (prices, shares) get no negative axis.
    (
        (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
        hi + pad,
    )
}

/// Round ticks covering every plottable value, at most about `max_ticks`
/// of them (never fewer than two).
pub(crate) fn linear(values: &[f64], max_ticks: usize) -> Axis {
    let (lo, hi) = span_of(values);
    let intervals = max_ticks.max(2) - 1;
    let step = Step::at_least((hi / 2.0 - lo / 2.0) * 2.0 / intervals as f64);
    let size = step.value();
    let mut first = (lo / size).floor();
    while first * size > lo {
        first -= 1.0;
    }
    let mut last = (hi / size).ceil();
    while last * size < hi {
        last += 1.0;
    }
    let positions: Vec<f64> = (0..=(last - first) as usize)
        .map(|i| (first + i as f64) * size)
        .collect();
    let labels = number_labels(&positions, step);
    Axis {
        lo: positions[0],
        hi: *positions.last().expect("two ticks at least"),
        ticks: positions.into_iter().zip(labels).collect(),
        note: None,
    }
}

/// Labels for ticks `step` apart: as many decimals as the step needs, the
/// same for every tick; scientific notation for very large or very small
/// numbers.
fn number_labels(positions: &[f64], step: Step) -> Vec<String> {
    let largest = positions.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if largest >= 1e9 || step.exponent < -6 {
        let digits = (largest.log10().floor() as i32 - step.exponent).max(0) as usize;
        return positions
            .iter()
            .map(|&v| {
                if v == 0.0 {
                    return "0".into();
                }
                let text = format!("{v:.digits$e}");
                let (mantissa, exponent) = text.split_once('e').expect("scientific notation");
                let mantissa = if mantissa.contains('.') {
                    mantissa.trim_end_matches('0').trim_end_matches('.')
                } else {
                    mantissa
                };
                format!("{mantissa}e{exponent}")
            })
            .collect();
    }
    let decimals = (-step.exponent).max(0) as usize;
    positions
        .iter()
        .map(|&v| grouped(&unsigned_zero(format!("{v:.decimals$}"))))
        .collect()
}

const MINUTE: f64 = 60.0;
const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// Round steps of a time axis, in seconds.
const TIME_STEPS: [f64; 31] = [
    1.0,
    2.0,
    5.0,
    10.0,
    15.0,
    30.0,
    MINUTE,
    2.0 * MINUTE,
    5.0 * MINUTE,
    10.0 * MINUTE,
    15.0 * MINUTE,
    30.0 * MINUTE,
    HOUR,
    2.0 * HOUR,
    3.0 * HOUR,
    6.0 * HOUR,
    12.0 * HOUR,
    DAY,
    2.0 * DAY,
    7.0 * DAY,
    14.0 * DAY,
    30.0 * DAY,
    91.0 * DAY,
    182.0 * DAY,
    365.0 * DAY,
    3652.0 * DAY,
    7305.0 * DAY,
    18_262.0 * DAY,
    36_524.0 * DAY,
    182_621.0 * DAY,
    365_242.0 * DAY,
];

/// `(YYYY-MM-DD, HH:MM:SS)` of unix seconds.
fn civil(seconds: f64) -> (String, String) {
    let (iso, _) = utc_timestamps(seconds as u64);
    (iso[..10].to_string(), iso[11..19].to_string())
}

/// Labels of ticks `step` seconds apart and what they leave unsaid.
fn time_labels(positions: &[f64], step: f64) -> (Vec<String>, Option<String>) {
    let stamps: Vec<(String, String)> = positions.iter().map(|&t| civil(t)).collect();
    let one_date = stamps.windows(2).all(|w| w[0].0 == w[1].0);
    let one_year = stamps.windows(2).all(|w| w[0].0[..4] == w[1].0[..4]);
    let date = stamps[0].0.clone();
    if step < MINUTE && one_date {
        let labels = stamps.iter().map(|(_, t)| t.clone()).collect();
        (labels, Some(date))
    } else if step < DAY && one_date {
        let labels = stamps.iter().map(|(_, t)| t[..5].to_string()).collect();
        (labels, Some(date))
    } else if step < MINUTE {
        let labels = stamps
            .iter()
            .map(|(d, t)| format!("{} {t}", &d[5..]))
            .collect();
        (labels, None)
    } else if step < DAY {
        let labels = stamps
            .iter()
            .map(|(d, t)| format!("{} {}", &d[5..], &t[..5]))
            .collect();
        (labels, None)
    } else if one_year {
        let labels = stamps.iter().map(|(d, _)| d[5..].to_string()).collect();
        (labels, Some(date[..4].to_string()))
    } else {
        (stamps.into_iter().map(|(d, _)| d).collect(), None)
    }
}

/// A time axis over unix seconds: the finest round step whose labels fit
/// `width` when each character takes `char_width` (labels need a gap of two
/// characters between them).
pub(crate) fn time(values: &[f64], width: f64, char_width: f64) -> Axis {
    let (lo, hi) = values
        .iter()
        .copied()
        .filter(|v| plottable_time(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
    let candidate = |step: f64| {
        let first = (lo / step).floor();
        let mut last = (hi / step).ceil();
        if last <= first {
            last = first + 1.0;
        }
        let positions: Vec<f64> = (0..=(last - first) as usize)
            .map(|i| (first + i as f64) * step)
            .collect();
        let (labels, note) = time_labels(&positions, step);
        let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let needed = positions.len() as f64 * (widest + 2) as f64 * char_width;
        (positions, labels, note, needed <= width)
    };
    let mut chosen = None;
    for step in TIME_STEPS {
        // Too many ticks to ever fit: skip the label work.
        if (hi - lo) / step > width / char_width {
            continue;
        }
        let (positions, labels, note, fits) = candidate(step);
        chosen = Some((positions, labels, note));
        if fits {
            break;
        }
    }
    let (positions, labels, note) = chosen.unwrap_or_else(|| {
        let (p, l, n, _) = candidate(TIME_STEPS[TIME_STEPS.len() - 1]);
        (p, l, n)
    });
    Axis {
        lo: positions[0],
        hi: *positions.last().expect("two ticks at least"),
        ticks: positions.into_iter().zip(labels).collect(),
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(axis: &Axis) -> Vec<&str> {
        axis.ticks.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn ticks_are_round_and_reach_past_the_data() {
        let axis = linear(&[0.0, 10.0], 6);
        assert_eq!(labels(&axis), ["0", "2", "4", "6", "8", "10"]);
        // The old axis stopped before the largest value.
        let axis = linear(&[97.3, 112.4], 5);
        assert!(axis.lo <= 97.3 && axis.hi >= 112.4, "{axis:?}");
        assert_eq!(labels(&axis), ["95", "100", "105", "110", "115"]);
    }

    #[test]
    fn labels_carry_the_precision_the_step_needs() {
        // The volatility axis used to read 0, 0.01, 0.01, 0.01.
        let axis = linear(&[0.0, 0.012], 5);
        assert_eq!(labels(&axis), ["0.000", "0.005", "0.010", "0.015"]);
        assert_eq!(labels(&linear(&[0.0, 1.0], 3)), ["0.0", "0.5", "1.0"]);
        assert_eq!(
            labels(&linear(&[-20_000.0, 20_000.0], 3)),
            ["-20,000", "0", "20,000"]
        );
        assert_eq!(
            labels(&linear(&[0.0, 3e12], 4)),
            ["0", "1e12", "2e12", "3e12"]
        );
        assert_eq!(labels(&linear(&[1e-9, 3e-9], 3)), ["1e-9", "2e-9", "3e-9"]);
    }

    #[test]
    fn a_single_value_gets_an_axis_around_it() {
        let axis = linear(&[5.0], 5);
        assert!(axis.lo < 5.0 && axis.hi > 5.0, "{axis:?}");
        let axis = linear(&[0.0, 0.0], 5);
        assert_eq!((axis.lo, axis.hi), (0.0, 1.0), "no negative axis for zeros");
        let axis = linear(&[], 5);
        assert_eq!((axis.lo, axis.hi), (0.0, 1.0));
        let axis = linear(&[f64::NAN, f64::INFINITY, 2.0], 5);
        assert!(
            axis.lo < 2.0 && axis.hi > 2.0,
            "not-finite values are left out"
        );
    }

    #[test]
    fn extreme_values_stay_finite() {
        for values in [[-LIMIT, LIMIT], [LIMIT, LIMIT], [-LIMIT, -LIMIT]] {
            let axis = linear(&values, 5);
            assert!(axis.lo.is_finite() && axis.hi.is_finite(), "{axis:?}");
            assert!(axis.lo <= values[0] && axis.hi >= values[1], "{axis:?}");
            assert_eq!(
                axis.fraction(values[1]).clamp(0.0, 1.0),
                axis.fraction(values[1])
            );
        }
    }

    #[test]
    fn time_axes_pick_their_unit_from_the_span() {
        // 2026-11-25 03:47:53 and one second later: two seconds apart, not
        // the same minute twice.
        let t = 1_795_578_473.0;
        let axis = time(&[t, t + 1.0], 300.0, 9.0);
        assert_eq!(labels(&axis), ["03:47:53", "03:47:54"]);
        assert_eq!(axis.note.as_deref(), Some("2026-11-25"));
        let axis = time(&[t, t + 2.0 * HOUR], 300.0, 9.0);
        assert_eq!(labels(&axis), ["03:00", "04:00", "05:00", "06:00"]);
        let axis = time(&[t, t + 3.0 * DAY], 400.0, 9.0);
        assert_eq!(labels(&axis), ["11-25", "11-26", "11-27", "11-28", "11-29"]);
        assert_eq!(axis.note.as_deref(), Some("2026"));
        let axis = time(&[t], 300.0, 9.0);
        assert!(axis.lo <= t && axis.hi > t, "{axis:?}");
        assert_eq!(labels(&axis), ["03:47:53", "03:47:54"]);
    }

    #[test]
    fn dates_are_shown_when_the_ticks_cross_midnight() {
        let before_midnight = 1_795_564_800.0 - 1800.0; // 2026-11-24 23:30
        let axis = time(&[before_midnight, before_midnight + HOUR], 400.0, 9.0);
        assert!(labels(&axis).iter().all(|l| l.contains(' ')), "{axis:?}");
        assert_eq!(axis.note, None);
    }

    fn assert_sound(axis: &Axis, values: &[f64]) -> Result<(), TestCaseError> {
        prop_assert!(
            axis.lo.is_finite() && axis.hi.is_finite() && axis.lo < axis.hi,
            "{axis:?}"
        );
        prop_assert!(axis.ticks.len() >= 2);
        prop_assert_eq!(axis.ticks[0].0, axis.lo);
        prop_assert_eq!(axis.ticks.last().unwrap().0, axis.hi);
        for &v in values {
            prop_assert!(axis.lo <= v && v <= axis.hi, "{v} outside {axis:?}");
            let f = axis.fraction(v);
            prop_assert!((0.0..=1.0).contains(&f), "{v} at {f}");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (_, label) in &axis.ticks {
            prop_assert!(
                seen.insert(label.clone()),
                "repeated label {label} in {axis:?}"
            );
        }
        prop_assert!(axis.ticks.windows(2).all(|w| w[0].0 < w[1].0));
        Ok(())
    }

    fn values() -> impl Strategy<Value = Vec<f64>> {
        let magnitude = prop_oneof![
            Just(1.0),
            Just(1e-3),
            Just(1e6),
            Just(1e12),
            Just(1e-12),
            Just(LIMIT)
        ];
        (magnitude, 1..40usize).prop_flat_map(|(m, n)| {
            prop_oneof![
                // Any values of that magnitude, negative ones too.
                proptest::collection::vec(-m..=m, n),
                // One value repeated: a constant series.
                (-m..=m).prop_map(move |v| vec![v; n]),
                // Values close together far from zero.
                (-m..=m, proptest::collection::vec(0.0..1e-6, n)).prop_map(|(base, offsets)| {
                    offsets.iter().map(|o| base + o * base.abs()).collect()
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn linear_axes_cover_every_value_with_distinct_labels(values in values(), max_ticks in 2..10usize) {
            let axis = linear(&values, max_ticks);
            assert_sound(&axis, &values)?;
            prop_assert!(axis.ticks.len() <= max_ticks + 3, "{} ticks", axis.ticks.len());
        }

        #[test]
        fn time_axes_cover_every_time_with_distinct_labels(
            start in 0.0..3e10f64,
            offsets in proptest::collection::vec(0.0..1e9f64, 1..30),
            scale in prop_oneof![Just(1e-6), Just(1e-3), Just(1.0)],
            width in 150.0..700.0f64,
        ) {
            let values: Vec<f64> = offsets.iter().map(|o| (start + o * scale).floor()).collect();
            let axis = time(&values, width, 9.0);
            assert_sound(&axis, &values)?;
        }
    }
}
