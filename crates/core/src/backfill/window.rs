//! Which archived snapshots a backfill takes: `--since` (inclusive) and
//! `--until` (exclusive), compared with the time a snapshot was fetched,
//! which its id begins with. Times are UTC: a date, a date and time, or an
//! age (`36h`, `7d`).

use crate::time::{epoch_seconds, utc_timestamps};

/// Unix seconds; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<u64>,
    pub until: Option<u64>,
}

impl Window {
    pub fn new(since: Option<u64>, until: Option<u64>) -> Result<Window, String> {
        match (since, until) {
            (Some(s), Some(u)) if s >= u => Err(format!(
                "--since ({}) must be before --until ({})",
                utc_timestamps(s).0,
                utc_timestamps(u).0
            )),
            _ => Ok(Window { since, until }),
        }
    }

    pub(crate) fn contains(&self, time: u64) -> bool {
        self.since.is_none_or(|s| time >= s) && self.until.is_none_or(|u| time < u)
    }

    /// Bounds on snapshot ids (`YYYYMMDDTHHMMSSZ-…` sorts by time):
    /// `id >= lower` and `id < upper`.
    pub(crate) fn id_bounds(&self) -> (Option<String>, Option<String>) {
        (
            self.since.map(|t| utc_timestamps(t).1),
            self.until.map(|t| utc_timestamps(t).1),
        )
    }

    /// The first and the last day (unix seconds of their midnights) that
    /// can hold a snapshot of the window.
    pub fn days(&self) -> (Option<u64>, Option<u64>) {
        (
            self.since.map(midnight),
            self.until.map(|u| midnight(u.saturating_sub(1))),
        )
    }

    /// The window in words, for messages.
    pub fn describe(&self) -> String {
        let at = |t: u64| utc_timestamps(t).0;
        match (self.since, self.until) {
            (None, None) => "the whole archive".into(),
            (Some(s), None) => format!("since {}", at(s)),
            (None, Some(u)) => format!("before {}", at(u)),
            (Some(s), Some(u)) => format!("from {} to {}", at(s), at(u)),
        }
    }
}

fn midnight(time: u64) -> u64 {
    time - time % 86_400
}

/// (year, month, day) of a time.
pub fn ymd(time: u64) -> (i64, u32, u32) {
    let text = utc_timestamps(time).0;
    let part = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or_default();
    (i64::from(part(0..4)), part(5..7), part(8..10))
}

/// When a snapshot was fetched, from its id.
pub(crate) fn snapshot_time(id: &str) -> Option<u64> {
    let c = id.get(..16)?;
    let iso = format!(
        "{}-{}-{}T{}:{}:{}",
        &c[0..4],
        &c[4..6],
        &c[6..8],
        &c[9..11],
        &c[11..13],
        &c[13..15]
    );
    epoch_seconds(&iso).filter(|t| *t >= 0.0).map(|t| t as u64)
}

/// `2026-11-25`, `2026-11-25T10:00[:00][Z]`, `2026-11-25 10:00`, or an age
/// before `now`: `90m`, `36h`, `7d`.
pub fn parse_time(text: &str, now: u64) -> Result<u64, String> {
    let text = text.trim();
    let unit = |c: char| match c {
        'm' => Some(60),
        'h' => Some(3_600),
        'd' => Some(86_400),
        _ => None,
    };
    if let Some(last) = text.chars().last() {
        let number = &text[..text.len() - last.len_utf8()];
        if let (Some(seconds), Ok(n)) = (unit(last), number.parse::<u64>()) {
            return now
                .checked_sub(n.saturating_mul(seconds))
                .ok_or_else(|| format!("`{text}` reaches back before 1970"));
        }
    }
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((date, time)) => (date, time.trim_end_matches('Z')),
        None => (text, "00:00:00"),
    };
    let time = match time.matches(':').count() {
        1 => format!("{time}:00"),
        _ => time.to_string(),
    };
    let well_formed = date.len() == 10
        && date.as_bytes()[4] == b'-'
        && date.as_bytes()[7] == b'-'
        && time.len() == 8
        && !time.contains('.');
    well_formed
        .then(|| epoch_seconds(&format!("{date}T{time}")))
        .flatten()
        .filter(|t| *t >= 0.0 && utc_timestamps(*t as u64).0 == format!("{date}T{time}Z"))
        .map(|t| t as u64)
        .ok_or_else(|| {
            format!("`{text}` is not a UTC time: use 2026-11-25, 2026-11-25T10:00:00Z, or an age like 36h or 7d")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_568_523; // 2026-11-25T01:02:03Z

    #[test]
    fn times_are_dates_datetimes_or_ages() {
        assert_eq!(parse_time("2026-11-25", NOW), Ok(1_795_564_800));
        assert_eq!(parse_time("2026-11-25T01:02:03Z", NOW), Ok(NOW));
        assert_eq!(parse_time("2026-11-25 01:02:03", NOW), Ok(NOW));
        assert_eq!(parse_time("2026-11-25T01:02", NOW), Ok(NOW - 3));
        assert_eq!(parse_time("36h", NOW), Ok(NOW - 36 * 3600));
        assert_eq!(parse_time("7d", NOW), Ok(NOW - 7 * 86_400));
        assert_eq!(parse_time("90m", NOW), Ok(NOW - 5400));
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "25.11.2026",
            "7w",
            "",
            "2026-11-25T1:2:3",
        ] {
            let err = parse_time(bad, NOW).unwrap_err();
            assert!(err.contains("is not a UTC time"), "{bad}: {err}");
        }
        assert!(parse_time("100000d", NOW)
            .unwrap_err()
            .contains("before 1970"));
    }

    #[test]
    fn the_window_takes_since_and_leaves_until() {
        let w = Window::new(Some(100), Some(200)).unwrap();
        assert!(w.contains(100) && w.contains(199));
        assert!(!w.contains(99) && !w.contains(200));
        assert!(Window::default().contains(0));
        let err = Window::new(Some(200), Some(200)).unwrap_err();
        assert!(err.contains("must be before --until"), "{err}");
    }

    #[test]
    fn snapshot_ids_bound_the_window_in_sql_order() {
        let w = Window::new(Some(NOW), Some(NOW + 86_400)).unwrap();
        let (lower, upper) = w.id_bounds();
        assert_eq!(lower.as_deref(), Some("20261125T010203Z"));
        assert_eq!(upper.as_deref(), Some("20261126T010203Z"));
        let id = "20261125T010203Z-ab12cd34";
        assert!(id >= lower.as_deref().unwrap() && id < upper.as_deref().unwrap());
        assert_eq!(snapshot_time(id), Some(NOW));
        assert_eq!(snapshot_time("garbage"), None);
    }

    #[test]
    fn days_cover_the_window_and_until_is_exclusive() {
        let w = Window::new(Some(NOW), Some(parse_time("2026-11-27", NOW).unwrap())).unwrap();
        let (first, last) = w.days();
        assert_eq!(ymd(first.unwrap()), (2026, 11, 25));
        assert_eq!(
            ymd(last.unwrap()),
            (2026, 11, 26),
            "midnight itself is outside"
        );
        assert_eq!(
            w.describe(),
            "from 2026-11-25T01:02:03Z to 2026-11-27T00:00:00Z"
        );
    }
}
