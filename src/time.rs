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

#[cfg(test)]
mod tests {
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
