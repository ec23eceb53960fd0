//! The one clock and the calendar arithmetic pricewatch needs: unix
//! seconds now, UTC text in the forms the warehouse and snapshot ids use,
//! and back. No time zone other than UTC is ever involved.

/// Seconds since the unix epoch, now.
pub fn now_unix() -> u64 {
    now_unix_nanos() / 1_000_000_000
}

/// Nanoseconds since the unix epoch, now (unique ids, jitter seeds).
pub fn now_unix_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

/// `2026-11-25T03:47:53.544246` or `2026-11-25 03:47:53` (UTC) → seconds.
pub fn epoch_seconds(text: &str) -> Option<f64> {
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let mut t = time.splitn(3, ':');
    let (hour, minute) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let second: f64 = t.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3_600 + minute * 60) as f64 + second)
}

/// `2026-11-25 01:02:03` for unix seconds (UTC), as the warehouse prints
/// timestamps.
pub fn utc_text(unix_seconds: u64) -> String {
    utc_timestamps(unix_seconds)
        .0
        .trim_end_matches('Z')
        .replace('T', " ")
}

/// `2026-11-25T01:02:03Z` and `20261125T010203Z` for unix seconds (UTC).
pub fn utc_timestamps(unix_seconds: u64) -> (String, String) {
    let days = (unix_seconds / 86_400) as i64;
    let seconds_of_day = unix_seconds % 86_400;
    let (hour, minute, second) = (
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60,
        seconds_of_day % 60,
    );
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"),
        format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_become_epoch_seconds() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00"), Some(0.0));
        assert_eq!(epoch_seconds("2026-11-25 03:47:53"), Some(1_795_578_473.0));
        assert_eq!(epoch_seconds("2000-02-29T12:00:00.5"), Some(951_825_600.5));
        assert_eq!(epoch_seconds("pricewatch"), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamps(0).0, "1970-01-01T00:00:00Z");
        assert_eq!(
            utc_timestamps(1_795_568_523),
            ("2026-11-25T01:02:03Z".into(), "20261125T010203Z".into())
        );
        assert_eq!(utc_timestamps(951_782_400).0, "2000-02-29T00:00:00Z");
    }
}
