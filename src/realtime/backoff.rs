//! Retry schedules. The socket reconnects after 1, 2, 5, then every 10 seconds, as the
//! official client does, so a server restart is survived without a reconnect storm.

/// Delay before reconnect attempt number `tries` (1-based), in milliseconds.
pub fn reconnect_delay_ms(tries: u32) -> u32 {
    match tries {
        0 | 1 => 1_000,
        2 => 2_000,
        3 => 5_000,
        _ => 10_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_official_schedule_and_caps_at_ten_seconds() {
        let delays: Vec<u32> = (1..=6).map(reconnect_delay_ms).collect();
        assert_eq!(delays, [1_000, 2_000, 5_000, 10_000, 10_000, 10_000]);
    }
}
