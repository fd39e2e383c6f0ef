//! The outbox policy: messages the server has not confirmed yet, in the order they were
//! written, with their retry schedule. Pure data (the browser glue persists it and runs
//! the timer), so the rules are unit-tested natively:
//! - every attempt re-sends the same row (same id; the insert is idempotent);
//! - within a conversation only the oldest unconfirmed message is in flight, so the other
//!   person never sees a reply before the question;
//! - network errors (offline, server restarting) are retried forever with exponential
//!   backoff and jitter, capped at 30 s; a server error counts towards
//!   [`MAX_SERVER_ERRORS`], and a refusal (e.g. no permission) fails at once;
//! - a failed message stays (shown with Retry and Delete) until the person decides.

use serde::{Deserialize, Serialize};

use super::model::MessageRow;

/// Server errors (5xx) tolerated before a message is shown as failed.
pub const MAX_SERVER_ERRORS: u32 = 5;
const FIRST_DELAY_MS: f64 = 1_000.0;
const MAX_DELAY_MS: f64 = 30_000.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub row: MessageRow,
    /// Attempts that failed so far (any reason).
    pub attempts: u32,
    pub server_errors: u32,
    /// Unix milliseconds before which it is not retried.
    pub next_attempt_at: f64,
    pub failed: bool,
    /// Being sent right now (not persisted: a reload may send it again, harmlessly).
    #[serde(skip)]
    pub in_flight: bool,
}

/// How an attempt ended badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer: offline, DNS, server down.
    Network,
    /// The server answered 5xx / 429.
    Server,
    /// The server refused (4xx): retrying the same request cannot succeed.
    Refused,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    items: Vec<OutboxItem>,
}

/// Delay before attempt `attempts + 1`, scaled by `jitter` in [0, 1) to 50–100 %.
pub fn retry_delay_ms(attempts: u32, jitter: f64) -> f64 {
    let exponential = FIRST_DELAY_MS * 2f64.powi(attempts.saturating_sub(1).min(16) as i32);
    exponential.min(MAX_DELAY_MS) * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)
}

impl Outbox {
    pub fn items(&self) -> &[OutboxItem] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.items.iter().any(|item| item.row.id == id)
    }

    fn item_mut(&mut self, id: &str) -> Option<&mut OutboxItem> {
        self.items.iter_mut().find(|item| item.row.id == id)
    }

    /// A new message, to be sent as soon as possible.
    pub fn enqueue(&mut self, row: MessageRow, now: f64) {
        if self.contains(&row.id) {
            return;
        }
        self.items.push(OutboxItem {
            row,
            attempts: 0,
            server_errors: 0,
            next_attempt_at: now,
            failed: false,
            in_flight: false,
        });
    }

    /// Messages to send now: per conversation, the oldest that is neither failed nor in
    /// flight, if its time has come and nothing older of that conversation is in flight.
    pub fn take_due(&mut self, now: f64) -> Vec<MessageRow> {
        let mut busy: Vec<String> = Vec::new();
        let mut due = Vec::new();
        for item in &mut self.items {
            if item.failed || busy.contains(&item.row.conversation_id) {
                continue;
            }
            busy.push(item.row.conversation_id.clone());
            if !item.in_flight && item.next_attempt_at <= now {
                item.in_flight = true;
                due.push(item.row.clone());
            }
        }
        due
    }

    /// The server has the message: it leaves the outbox.
    pub fn delivered(&mut self, id: &str) {
        self.items.retain(|item| item.row.id != id);
    }

    /// An attempt failed; returns true when the message is now shown as failed.
    pub fn attempt_failed(&mut self, id: &str, failure: Failure, now: f64, jitter: f64) -> bool {
        let Some(item) = self.item_mut(id) else {
            return false;
        };
        item.in_flight = false;
        item.attempts += 1;
        match failure {
            Failure::Refused => item.failed = true,
            Failure::Server => {
                item.server_errors += 1;
                item.failed = item.server_errors >= MAX_SERVER_ERRORS;
            }
            Failure::Network => {}
        }
        item.next_attempt_at = now + retry_delay_ms(item.attempts, jitter);
        item.failed
    }

    /// Retry pressed: back in line at once, with a clean slate.
    pub fn retry(&mut self, id: &str, now: f64) {
        if let Some(item) = self.item_mut(id) {
            item.failed = false;
            item.attempts = 0;
            item.server_errors = 0;
            item.next_attempt_at = now;
        }
    }

    /// Delete pressed: the message is dropped unsent.
    pub fn remove(&mut self, id: &str) {
        self.items.retain(|item| item.row.id != id);
    }

    /// The connection is back: waiting messages go now instead of at their backoff time.
    pub fn hurry(&mut self, now: f64) {
        for item in self.items.iter_mut().filter(|item| !item.failed) {
            item.next_attempt_at = item.next_attempt_at.min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, conversation: &str) -> MessageRow {
        MessageRow {
            id: id.into(),
            conversation_id: conversation.into(),
            sender_id: "me".into(),
            body: format!("body {id}"),
            created_at: "2026-11-25T10:00:00Z".into(),
            read_at: None,
        }
    }

    fn ids(rows: &[MessageRow]) -> Vec<&str> {
        rows.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn one_message_per_conversation_is_in_flight_in_order() {
        let mut outbox = Outbox::default();
        outbox.enqueue(row("a1", "a"), 0.0);
        outbox.enqueue(row("a2", "a"), 0.0);
        outbox.enqueue(row("b1", "b"), 0.0);
        assert_eq!(ids(&outbox.take_due(0.0)), ["a1", "b1"]);
        assert!(
            outbox.take_due(0.0).is_empty(),
            "in flight ones are not sent twice"
        );
        outbox.delivered("a1");
        assert_eq!(ids(&outbox.take_due(0.0)), ["a2"]);
    }

    #[test]
    fn network_errors_back_off_with_jitter_and_never_give_up() {
        let mut outbox = Outbox::default();
        outbox.enqueue(row("m", "c"), 0.0);
        let mut now = 0.0;
        for _ in 0..50 {
            assert_eq!(outbox.take_due(now).len(), 1);
            assert!(!outbox.attempt_failed("m", Failure::Network, now, 0.999));
            let wait = outbox.items()[0].next_attempt_at - now;
            assert!(wait <= 30_000.0, "capped: {wait}");
            assert!(
                outbox.take_due(now + wait - 1.0).is_empty(),
                "not before its time"
            );
            now += wait;
        }
        assert_eq!(retry_delay_ms(1, 0.0), 500.0);
        assert_eq!(retry_delay_ms(3, 0.999_999).round(), 4_000.0);
    }

    #[test]
    fn repeated_server_errors_fail_and_refusals_fail_at_once() {
        let mut outbox = Outbox::default();
        outbox.enqueue(row("s", "c"), 0.0);
        outbox.enqueue(row("r", "d"), 0.0);
        for attempt in 1..=MAX_SERVER_ERRORS {
            outbox.take_due(f64::MAX);
            let failed = outbox.attempt_failed("s", Failure::Server, 0.0, 0.5);
            assert_eq!(failed, attempt == MAX_SERVER_ERRORS);
        }
        assert!(outbox.attempt_failed("r", Failure::Refused, 0.0, 0.5));
        assert!(
            outbox.take_due(f64::MAX).is_empty(),
            "failed messages wait for the person"
        );
        outbox.retry("s", 10.0);
        assert_eq!(ids(&outbox.take_due(10.0)), ["s"]);
        outbox.remove("r");
        assert!(!outbox.contains("r"));
    }

    #[test]
    fn a_failed_message_does_not_block_later_ones() {
        let mut outbox = Outbox::default();
        outbox.enqueue(row("first", "c"), 0.0);
        outbox.enqueue(row("second", "c"), 0.0);
        outbox.take_due(0.0);
        outbox.attempt_failed("first", Failure::Refused, 0.0, 0.0);
        assert_eq!(ids(&outbox.take_due(0.0)), ["second"]);
    }

    #[test]
    fn hurry_sends_waiting_messages_now_and_survives_a_round_trip_through_json() {
        let mut outbox = Outbox::default();
        outbox.enqueue(row("m", "c"), 0.0);
        outbox.take_due(0.0);
        outbox.attempt_failed("m", Failure::Network, 0.0, 0.5);
        assert!(outbox.take_due(100.0).is_empty());
        outbox.hurry(100.0);
        let restored: Outbox =
            serde_json::from_str(&serde_json::to_string(&outbox).unwrap()).unwrap();
        let mut restored = restored;
        assert_eq!(
            ids(&restored.take_due(100.0)),
            ["m"],
            "a reload keeps and resends it"
        );
    }
}
