//! "Live now" flags of the background database readers, which joins wait for: a channel
//! is "subscribed" only once what it subscribed to can reach it.

use std::time::Duration;

use tokio::sync::watch;

/// How long a join waits for a reader to be live before it reports an error.
pub const JOIN_WAIT: Duration = Duration::from_secs(10);

/// Whether a reader is live; flips as it connects and loses its connection.
pub struct Readiness(watch::Sender<bool>);

impl Default for Readiness {
    fn default() -> Self {
        Readiness(watch::channel(false).0)
    }
}

impl Readiness {
    pub fn set(&self, live: bool) {
        self.0.send_replace(live);
    }

    /// Waits until the reader is live; false if it is not within `limit`.
    pub async fn wait(&self, limit: Duration) -> bool {
        let mut live = self.0.subscribe();
        tokio::time::timeout(limit, live.wait_for(|live| *live))
            .await
            .is_ok_and(|result| result.is_ok())
    }
}
