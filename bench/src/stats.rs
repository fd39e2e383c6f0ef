//! Latency summaries from raw samples: sort once, read percentiles by rank.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Microseconds since the benchmark's start, the clock every timestamp in a payload uses
/// (sender and receivers are tasks of this one process, so one monotonic clock is shared).
pub fn now_micros() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Percentiles of a set of latencies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// Summarises latencies given in microseconds.
    pub fn of_micros(mut samples: Vec<u64>) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_unstable();
        let at = |quantile: f64| {
            // Nearest rank: the smallest sample with at least `quantile` of all at or below it.
            let rank = (quantile * samples.len() as f64).ceil() as usize;
            Duration::from_micros(samples[rank.clamp(1, samples.len()) - 1])
        };
        Summary {
            count: samples.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: Duration::from_micros(samples[samples.len() - 1]),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "p50 {:.1} ms | p95 {:.1} ms | p99 {:.1} ms | max {:.1} ms",
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let summary = Summary::of_micros((1..=100).rev().collect());
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50, Duration::from_micros(50));
        assert_eq!(summary.p95, Duration::from_micros(95));
        assert_eq!(summary.p99, Duration::from_micros(99));
        assert_eq!(summary.max, Duration::from_micros(100));
        assert_eq!(Summary::of_micros(vec![7]).p99, Duration::from_micros(7));
        assert_eq!(Summary::of_micros(Vec::new()).count, 0);
    }
}
