//! The e-mail notifier: every `interval`, digests of messages still unread after `delay`
//! are claimed in the database (`claim.rs`), written in the recipient's language
//! (`compose.rs`) and handed to SMTP or a mail folder (`mailer.rs`); the digest's link
//! unsubscribes (`unsubscribe.rs`). It needs only a database URL with a privileged role,
//! so it runs beside hosted Supabase (`localbase notify`) as well as inside `localbase
//! serve`. Delivery is at most once: see `claim.rs`.

pub mod claim;
pub mod compose;
pub mod mailer;
pub mod unsubscribe;

use std::time::Duration;

use deadpool_postgres::Pool;
use lettre::message::Mailbox;
use tokio::sync::watch;

use self::mailer::{Mailer, SendError};

#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// How long a message stays unread (and its recipient away) before it is mailed.
    pub delay: Duration,
    /// Pause between rounds.
    pub interval: Duration,
    /// Where the app lives; the digest links to `<app_url>/?conversation=<id>`.
    pub app_url: String,
    /// Public base URL of this notifier's HTTP endpoint (unsubscribe links).
    pub public_url: String,
    pub from: Mailbox,
    /// A digest still `sending` this long after its claim is given up (its notifier died
    /// while sending).
    pub abandon_after: Duration,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    /// Refused or unreachable: released, retried next round.
    pub retry: usize,
    /// Broke mid-delivery: not retried.
    pub unknown: usize,
}

/// One round: claims what is due and sends it.
pub async fn round(
    pool: &Pool,
    settings: &NotifierSettings,
    mailer: &Mailer,
) -> crate::error::Result<Round> {
    let abandoned = claim::abandon_stale(pool, settings.abandon_after).await?;
    if abandoned > 0 {
        tracing::warn!(
            abandoned,
            "digests whose delivery is unknown are not sent again"
        );
    }
    let mut done = Round::default();
    let unsubscribe_base = format!(
        "{}{}",
        settings.public_url.trim_end_matches('/'),
        unsubscribe::PATH
    );
    for digest in claim::claim(pool, settings.delay).await? {
        let email = compose::compose(&digest, &settings.app_url, &unsubscribe_base);
        match mailer.send(&settings.from, &digest.to_email, &email).await {
            Ok(()) => {
                claim::confirm(pool, digest.id).await?;
                done.sent += 1;
            }
            Err(SendError::NotSent(reason)) => {
                tracing::warn!(%reason, digest = digest.id, "digest not sent; will retry");
                claim::release(pool, digest.id).await?;
                done.retry += 1;
            }
            Err(SendError::Unknown(reason)) => {
                tracing::warn!(%reason, digest = digest.id, "digest may or may not have been sent");
                done.unknown += 1;
            }
        }
    }
    Ok(done)
}

/// Rounds until `shutdown` flips.
pub async fn run(
    pool: Pool,
    settings: NotifierSettings,
    mailer: Mailer,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(delay = ?settings.delay, app = %settings.app_url, "e-mail notifier running");
    loop {
        if *shutdown.borrow() {
            return;
        }
        match round(&pool, &settings, &mailer).await {
            Ok(done) if done != Round::default() => tracing::info!(?done, "e-mail digests"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "e-mail notifier round failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}
