//! Sign-ups per client address, as GoTrue limits them (`GOTRUE_RATE_LIMIT_…`): a sliding
//! window of recent sign-ups per address; beyond the limit a 429 with GoTrue's code.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Length of the window sign-ups are counted in.
pub const SIGNUP_WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct SignupLimiter(Mutex<HashMap<IpAddr, VecDeque<Instant>>>);

impl SignupLimiter {
    /// Counts a sign-up from `address`; false when it has had `limit` in the window.
    pub fn admit(&self, address: IpAddr, limit: usize, now: Instant) -> bool {
        let mut recent = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget addresses whose sign-ups are all out of the window (bounded memory).
        recent.retain(|_, times| {
            while times
                .front()
                .is_some_and(|at| now.duration_since(*at) >= SIGNUP_WINDOW)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        let times = recent.entry(address).or_default();
        if times.len() >= limit {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_limit_per_window() {
        let limiter = SignupLimiter::default();
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.admit(a, 3, start));
        }
        assert!(!limiter.admit(a, 3, start), "a fourth within the window");
        assert!(
            limiter.admit(b, 3, start),
            "another address is not affected"
        );
        assert!(
            limiter.admit(a, 3, start + SIGNUP_WINDOW),
            "the window moved on"
        );
    }
}
