//! The server's clock as this browser sees it. A laptop's clock may be minutes or hours
//! off; the server's is the one that stamps tokens and messages. Every answer that
//! carries a server time (a token's issue time, a stored message's `created_at`) bounds
//! the offset between the two clocks: the server read its clock somewhere between our
//! request leaving and its answer arriving. The tightest consistent bound wins; a bound
//! that contradicts it (the local clock was changed) starts over. Pure code.

/// Server time ≈ local time + offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServerClock {
    /// The offset lies within `low..=high` milliseconds; unknown until first observed.
    bounds: Option<(f64, f64)>,
}

impl ServerClock {
    /// A clock already known to be `offset_ms` ahead of this one (e.g. remembered).
    pub fn with_offset(offset_ms: f64) -> Self {
        ServerClock {
            bounds: Some((offset_ms, offset_ms)),
        }
    }

    /// The server's clock read `server_ms` (exact to `resolution_ms`, e.g. 1000 for a
    /// whole-second timestamp) at some moment between local `sent_ms` and `received_ms`.
    pub fn observe(&mut self, server_ms: f64, resolution_ms: f64, sent_ms: f64, received_ms: f64) {
        if !(server_ms.is_finite() && sent_ms.is_finite() && received_ms >= sent_ms) {
            return;
        }
        let low = server_ms - received_ms;
        let high = server_ms + resolution_ms - sent_ms;
        self.bounds = Some(match self.bounds {
            Some((old_low, old_high)) if low <= old_high && old_low <= high => {
                (old_low.max(low), old_high.min(high))
            }
            _ => (low, high),
        });
    }

    /// Milliseconds to add to local time to get server time (0 while unknown).
    pub fn offset_ms(&self) -> f64 {
        self.bounds.map_or(0.0, |(low, high)| (low + high) / 2.0)
    }

    /// Server time now, given local time now (ms).
    pub fn server_ms(&self, local_ms: f64) -> f64 {
        local_ms + self.offset_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: f64 = 3_600_000.0;

    #[test]
    fn unknown_means_trust_the_local_clock() {
        assert_eq!(ServerClock::default().server_ms(1_000.0), 1_000.0);
    }

    #[test]
    fn a_clock_an_hour_ahead_is_corrected_to_within_the_round_trip() {
        let mut clock = ServerClock::default();
        // Local clock reads an hour more than the server's; 40 ms round trip.
        let server_now = 10.0 * HOUR;
        clock.observe(
            server_now,
            1_000.0,
            server_now + HOUR - 20.0,
            server_now + HOUR + 20.0,
        );
        let error = clock.server_ms(server_now + HOUR) - server_now;
        assert!(error.abs() <= 520.0, "off by {error} ms");
        // A millisecond-exact message timestamp narrows it to the round trip.
        clock.observe(
            server_now + 5_000.0,
            0.001,
            server_now + HOUR + 4_990.0,
            server_now + HOUR + 5_020.0,
        );
        let error = clock.server_ms(server_now + HOUR + 5_000.0) - (server_now + 5_000.0);
        assert!(error.abs() <= 20.0, "off by {error} ms");
    }

    #[test]
    fn a_contradicting_reading_starts_over() {
        let mut clock = ServerClock::with_offset(HOUR);
        clock.observe(1_000.0, 1.0, 1_000.0, 1_010.0);
        assert!(
            clock.offset_ms().abs() < 20.0,
            "the local clock was set right"
        );
    }

    #[test]
    fn nonsense_is_ignored() {
        let mut clock = ServerClock::with_offset(5.0);
        clock.observe(f64::NAN, 1.0, 0.0, 1.0);
        clock.observe(100.0, 1.0, 50.0, 10.0);
        assert_eq!(clock.offset_ms(), 5.0);
    }
}
