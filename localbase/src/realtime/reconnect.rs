//! The reconnect loop of localbase's background database readers (database broadcasts,
//! Postgres Changes): an attempt runs until it fails, then the next one starts after a
//! backoff — until shutdown, which ends the loop at once whatever the attempt is doing
//! (connecting to a PostgreSQL that never answers, sleeping between attempts).

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::AppState;

/// First pause before reconnecting to PostgreSQL; it doubles up to 5 s while it fails.
const FIRST_RETRY: Duration = Duration::from_millis(200);
const LONGEST_RETRY: Duration = Duration::from_secs(5);
/// A connection that lasted this long was healthy: its loss restarts the backoff.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);

/// Runs `attempt(first)` again and again while it fails; returns when an attempt ends
/// with `Ok` or when the server shuts down. `what` names the task in the log, which
/// carries each failure as the error's own words.
pub async fn run_until_shutdown<F, Fut, E>(state: &Arc<AppState>, what: &str, mut attempt: F)
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut shutdown = state.shutdown.subscribe();
    let mut delay = FIRST_RETRY;
    let mut first = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let started = tokio::time::Instant::now();
        let result = tokio::select! {
            result = attempt(first) => result,
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        };
        let Err(error) = result else {
            return;
        };
        tracing::warn!(error = %error, "{what} failed; reconnecting");
        first = false;
        // A later outage (a PostgreSQL restart) is retried within 200 ms again.
        if started.elapsed() > HEALTHY_AFTER {
            delay = FIRST_RETRY;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        delay = (delay * 2).min(LONGEST_RETRY);
    }
}
