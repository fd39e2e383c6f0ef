//! Timestamps as PostgREST sends them (`2026-11-25T14:29:15.123456+00:00`, or `Z`),
//! turned into microseconds since the epoch so messages sort exactly. Pure code.

/// Microseconds since 1970-01-01T00:00:00Z, or `None` for text that is not RFC 3339.
pub fn parse_micros(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b' ')
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut micros = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded: String = fraction[..digits]
            .chars()
            .chain(std::iter::repeat('0'))
            .take(6)
            .collect();
        micros = padded.parse().ok()?;
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = match rest.get(3..) {
                Some("") | None => 0,
                Some(tail) => tail.trim_start_matches(':').parse().ok()?,
            };
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1_000_000 + micros)
}

/// The UTC RFC 3339 form of microseconds since the epoch (`2026-11-25T14:29:15.123456Z`).
pub fn format_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Someone whose app said "here" this recently counts as online: the app says so about
/// once a minute while it is open (`touch_last_seen`), so 90 s allows for one late beat.
pub const ONLINE_WITHIN_MS: f64 = 90_000.0;

/// Whether a last-seen instant (unix ms) is recent enough to count as online at `now_ms`
/// (both on the server's clock).
pub fn seen_recently(last_seen_ms: f64, now_ms: f64) -> bool {
    now_ms - last_seen_ms < ONLINE_WITHIN_MS
}

/// How to say "`elapsed_ms` ago" with `Intl.RelativeTimeFormat`: a (negative) count and
/// its unit, in the largest whole unit — "5 minutes ago", "yesterday", "3 weeks ago".
/// Less than a minute is a minute (said only of people who are no longer online).
pub fn relative_parts(elapsed_ms: f64) -> (f64, &'static str) {
    const MINUTE: f64 = 60_000.0;
    let minutes = (elapsed_ms / MINUTE).floor().max(1.0);
    let steps: [(f64, &str); 5] = [
        (60.0, "minute"),
        (24.0, "hour"),
        (7.0, "day"),
        (52.0 / 12.0, "week"),
        (12.0, "month"),
    ];
    let mut value = minutes;
    for (size, unit) in steps {
        if value < size {
            return (-value.floor(), unit);
        }
        value /= size;
    }
    (-value.floor(), "year")
}

#[cfg(test)]
mod tests {

    #[test]
    fn last_seen_is_said_in_the_largest_whole_unit() {
        let minute = 60_000.0;
        assert_eq!(relative_parts(10_000.0), (-1.0, "minute"));
        assert_eq!(relative_parts(5.5 * minute), (-5.0, "minute"));
        assert_eq!(relative_parts(59.0 * minute), (-59.0, "minute"));
        assert_eq!(relative_parts(61.0 * minute), (-1.0, "hour"));
        assert_eq!(relative_parts(25.0 * 60.0 * minute), (-1.0, "day"));
        assert_eq!(relative_parts(15.0 * 24.0 * 60.0 * minute), (-2.0, "week"));
        assert_eq!(relative_parts(65.0 * 24.0 * 60.0 * minute), (-2.0, "month"));
        assert_eq!(relative_parts(800.0 * 24.0 * 60.0 * minute), (-2.0, "year"));
    }

    #[test]
    fn online_means_seen_within_ninety_seconds() {
        assert!(seen_recently(1_000_000.0, 1_060_000.0));
        assert!(!seen_recently(1_000_000.0, 1_091_000.0));
    }
    use super::*;

    #[test]
    fn parses_postgrest_and_javascript_forms_to_the_same_instant() {
        let postgres = parse_micros("2026-11-25T14:29:15.123456+00:00").unwrap();
        let javascript = parse_micros("2026-11-25T14:29:15.123Z").unwrap();
        assert_eq!(postgres - javascript, 456);
        assert_eq!(parse_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_micros("2000-03-01T00:00:00Z"),
            Some(951_868_800_000_000)
        );
    }

    #[test]
    fn offsets_are_applied() {
        assert_eq!(
            parse_micros("2026-11-25T16:29:15+02:00"),
            parse_micros("2026-11-25T14:29:15Z")
        );
        assert_eq!(
            parse_micros("2026-11-25T14:29:15+0100"),
            parse_micros("2026-11-25T13:29:15Z")
        );
    }

    #[test]
    fn formatting_round_trips() {
        for text in [
            "2026-11-25T14:29:15.123456Z",
            "2000-02-29T00:00:00.000000Z",
            "1969-12-31T23:59:59.999999Z",
        ] {
            assert_eq!(format_micros(parse_micros(text).unwrap()), text);
        }
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-25T14:29:15.Z",
            "2026-11-25T14:29:15 UTC",
        ] {
            assert_eq!(parse_micros(text), None, "{text}");
        }
    }
}
