//! The outbox policy: messages the server has not confirmed yet, in the order they were
//! written, with their retry schedule. Pure data (the browser glue persists it, shares it
//! between tabs and runs the timer), so the rules are unit-tested natively:
//! - every attempt re-sends the same row (same id; the insert is idempotent);
//! - within a conversation only the oldest unconfirmed message is in flight, so the other
//!   person never sees a reply before the question;
//! - network errors (offline, server restarting, a request that never answers) are retried
//!   forever with exponential backoff and jitter, capped at 30 s; a server error counts
//!   towards [`MAX_SERVER_ERRORS`], after which the database is asked whether it has the
//!   message after all (a 5xx may come after the commit) before it is shown as failed; a
//!   refusal (e.g. no permission) fails at once;
//! - a failed message stays (shown with Retry and Delete) until the person decides;
//! - an edit or deletion of a message that has not gone yet changes what goes; of one
//!   on its way or stored, it is a [`Change`], sent once the message is stored and
//!   retried like a message (a refusal, e.g. after the 15 minutes, ends it).
//!
//! Several tabs of one person share one outbox. Each keeps a copy and they meet in
//! storage, where the last write wins; so no tab writes its copy over another's: copies
//! are *merged* by message id. An item's newer revision wins, and an id that is done
//! (delivered, or deleted by the person) stays done — a merge can only add knowledge, so
//! a write lost in a race is restored by the next tab that still knows it.

use serde::{Deserialize, Serialize};

use super::model::MessageRow;
use crate::time::parse_micros;

/// Server errors (5xx) tolerated before the database is asked and the message may fail.
pub const MAX_SERVER_ERRORS: u32 = 5;
const FIRST_DELAY_MS: f64 = 1_000.0;
const MAX_DELAY_MS: f64 = 30_000.0;
/// Done ids remembered so that late copies of them are not resurrected.
const DONE_KEPT: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub row: MessageRow,
    /// Attempts that failed so far (any reason).
    pub attempts: u32,
    pub server_errors: u32,
    /// Unix milliseconds before which it is not retried.
    pub next_attempt_at: f64,
    pub failed: bool,
    /// Bumped by every change, so merges keep the newest state of an item.
    #[serde(default)]
    pub revision: u32,
    /// Being sent by this tab right now (never shared: a reload sends it again, harmlessly).
    #[serde(skip)]
    pub in_flight: bool,
}

/// A message that left the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub id: String,
    /// The row the server stored, when it was delivered; `None` when the person deleted it.
    pub stored: Option<MessageRow>,
    /// Unix milliseconds when it left; the newest [`DONE_KEPT`] are remembered.
    #[serde(default)]
    pub at: f64,
}

/// How an attempt ended badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer: offline, DNS, server down, timed out.
    Network,
    /// The server answered 5xx / 429.
    Server,
    /// The server refused (4xx): retrying the same request cannot succeed.
    Refused,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again at `next_attempt_at`.
    Retry,
    /// Too many server errors: ask the database whether it has the message, then call
    /// `delivered` or `give_up`.
    Check,
    /// Shown as failed.
    Failed,
}

/// An edit (`body: Some`) or deletion (`None`) of one of one's own messages, waiting for
/// the server. One per message: a later change replaces an earlier one that has not gone
/// yet, and a deletion is final. Sending it again is harmless (the same text changes
/// nothing; a deleted message stays deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: String,
    pub conversation_id: String,
    pub body: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: f64,
    pub revision: u32,
    #[serde(skip)]
    pub in_flight: bool,
}

/// A change that reached the server (or was refused): its message id and revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeDone {
    pub id: String,
    pub revision: u32,
    /// Unix milliseconds; the newest [`DONE_KEPT`] are remembered.
    pub at: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    items: Vec<OutboxItem>,
    #[serde(default)]
    done: Vec<Done>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes_done: Vec<ChangeDone>,
}

/// Delay before attempt `attempts + 1`, scaled by `jitter` in [0, 1) to 50–100 %.
pub fn retry_delay_ms(attempts: u32, jitter: f64) -> f64 {
    let exponential = FIRST_DELAY_MS * 2f64.powi(attempts.saturating_sub(1).min(16) as i32);
    exponential.min(MAX_DELAY_MS) * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)
}

fn written_at(row: &MessageRow) -> (i64, &str) {
    (parse_micros(&row.created_at).unwrap_or(i64::MAX), &row.id)
}

impl Outbox {
    pub fn items(&self) -> &[OutboxItem] {
        &self.items
    }

    pub fn done(&self) -> &[Done] {
        &self.done
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Nothing waits and nothing is remembered: the stored copy can be removed.
    pub fn is_blank(&self) -> bool {
        self.items.is_empty()
            && self.done.is_empty()
            && self.changes.is_empty()
            && self.changes_done.is_empty()
    }

    /// Edits and deletions on their way, oldest first.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn contains(&self, id: &str) -> bool {
        self.items.iter().any(|item| item.row.id == id)
    }

    fn is_done(&self, id: &str) -> bool {
        self.done.iter().any(|done| done.id == id)
    }

    fn item_mut(&mut self, id: &str) -> Option<&mut OutboxItem> {
        self.items.iter_mut().find(|item| item.row.id == id)
    }

    /// A new message, to be sent as soon as possible.
    pub fn enqueue(&mut self, row: MessageRow, now: f64) {
        if self.contains(&row.id) || self.is_done(&row.id) {
            return;
        }
        let item = OutboxItem {
            row,
            attempts: 0,
            server_errors: 0,
            next_attempt_at: now,
            failed: false,
            revision: 0,
            in_flight: false,
        };
        let at = self
            .items
            .partition_point(|other| written_at(&other.row) < written_at(&item.row));
        self.items.insert(at, item);
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

    /// The server has the message (`stored` is its row): it leaves the outbox.
    pub fn delivered(&mut self, stored: MessageRow, now: f64) {
        let id = stored.id.clone();
        self.finish(Done {
            id,
            stored: Some(stored),
            at: now,
        });
    }

    /// The person deleted an unsent message.
    pub fn remove(&mut self, id: &str, now: f64) {
        self.finish(Done {
            id: id.to_string(),
            stored: None,
            at: now,
        });
    }

    fn finish(&mut self, done: Done) {
        self.items.retain(|item| item.row.id != done.id);
        match self.done.iter_mut().find(|known| known.id == done.id) {
            Some(known) => {
                if known.stored.is_none() {
                    known.stored = done.stored;
                }
            }
            None => {
                // Kept in (time, id) order, so every tab forgets the same oldest ones.
                let at = self
                    .done
                    .partition_point(|known| (known.at, &known.id) < (done.at, &done.id));
                self.done.insert(at, done);
                if self.done.len() > DONE_KEPT {
                    self.done.remove(0);
                }
            }
        }
    }

    /// An attempt failed.
    pub fn attempt_failed(&mut self, id: &str, failure: Failure, now: f64, jitter: f64) -> Verdict {
        let Some(item) = self.item_mut(id) else {
            return Verdict::Retry;
        };
        item.in_flight = false;
        item.attempts += 1;
        item.revision += 1;
        item.next_attempt_at = now + retry_delay_ms(item.attempts, jitter);
        match failure {
            Failure::Refused => {
                item.failed = true;
                Verdict::Failed
            }
            Failure::Server => {
                item.server_errors += 1;
                if item.server_errors >= MAX_SERVER_ERRORS {
                    item.in_flight = true; // until the check answers
                    Verdict::Check
                } else {
                    Verdict::Retry
                }
            }
            Failure::Network => Verdict::Retry,
        }
    }

    /// The database does not have a message that kept failing: show it as failed.
    pub fn give_up(&mut self, id: &str) {
        if let Some(item) = self.item_mut(id) {
            item.in_flight = false;
            item.failed = true;
            item.revision += 1;
        }
    }

    /// The check could not be made (offline): the message waits for its next attempt.
    pub fn check_unanswered(&mut self, id: &str) {
        if let Some(item) = self.item_mut(id) {
            item.in_flight = false;
        }
    }

    /// Retry pressed: back in line at once, with a clean slate.
    pub fn retry(&mut self, id: &str, now: f64) {
        if let Some(item) = self.item_mut(id) {
            item.failed = false;
            item.attempts = 0;
            item.server_errors = 0;
            item.next_attempt_at = now;
            item.revision += 1;
        }
    }

    /// The connection is back: waiting messages go now instead of at their backoff time.
    pub fn hurry(&mut self, now: f64) {
        for item in self.items.iter_mut().filter(|item| !item.failed) {
            item.next_attempt_at = item.next_attempt_at.min(now);
        }
        for change in &mut self.changes {
            change.next_attempt_at = change.next_attempt_at.min(now);
        }
    }

    /// A request of this tab was abandoned (timed out, or cut short to resend at once).
    pub fn release(&mut self, id: &str) {
        if let Some(item) = self.item_mut(id) {
            item.in_flight = false;
        }
    }

    /// The person edits (`Some(text)`) or deletes (`None`) one of their messages. A message
    /// that has not gone yet simply goes changed (or not at all); one on its way or stored
    /// gets a change, sent once the message is stored.
    pub fn change(&mut self, id: &str, conversation_id: &str, body: Option<String>, now: f64) {
        if let Some(item) = self.item_mut(id) {
            if !item.in_flight {
                match body {
                    Some(body) => {
                        item.row.body = body;
                        item.revision += 1;
                    }
                    None => self.remove(id, now),
                }
                return;
            }
        }
        if let Some(change) = self.changes.iter_mut().find(|c| c.id == id) {
            if change.body.is_none() {
                return; // deleted is final
            }
            change.body = body;
            change.attempts = 0;
            change.next_attempt_at = now;
            change.revision += 1;
            return;
        }
        let revision = self
            .changes_done
            .iter()
            .find(|done| done.id == id)
            .map_or(0, |done| done.revision + 1);
        let at = self.changes.partition_point(|c| c.id.as_str() < id);
        self.changes.insert(
            at,
            Change {
                id: id.to_string(),
                conversation_id: conversation_id.to_string(),
                body,
                attempts: 0,
                next_attempt_at: now,
                revision,
                in_flight: false,
            },
        );
    }

    /// Changes to send now: due, not in flight, and of messages the server already has.
    pub fn take_due_changes(&mut self, now: f64) -> Vec<Change> {
        let unsent: Vec<String> = self.items.iter().map(|i| i.row.id.clone()).collect();
        let mut due = Vec::new();
        for change in &mut self.changes {
            if !change.in_flight && change.next_attempt_at <= now && !unsent.contains(&change.id) {
                change.in_flight = true;
                due.push(change.clone());
            }
        }
        due
    }

    /// The server has the change of `revision` (or refused it for good): it leaves, unless
    /// the person changed the message again meanwhile (that newer change goes next).
    pub fn change_done(&mut self, id: &str, revision: u32, now: f64) {
        match self.changes.iter_mut().find(|c| c.id == id) {
            Some(change) if change.revision > revision => change.in_flight = false,
            _ => self.changes.retain(|c| c.id != id),
        }
        self.remember_change_done(ChangeDone {
            id: id.to_string(),
            revision,
            at: now,
        });
    }

    fn remember_change_done(&mut self, done: ChangeDone) {
        if let Some(known) = self.changes_done.iter_mut().find(|k| k.id == done.id) {
            known.revision = known.revision.max(done.revision);
            return;
        }
        // Kept in (time, id) order, so every tab forgets the same oldest ones.
        let at = self
            .changes_done
            .partition_point(|k| (k.at, &k.id) < (done.at, &done.id));
        self.changes_done.insert(at, done);
        if self.changes_done.len() > DONE_KEPT {
            self.changes_done.remove(0);
        }
    }

    /// A change could not reach the server: tried again later (1, 2, 4… s, at most 30 s).
    pub fn change_failed(&mut self, id: &str, now: f64, jitter: f64) {
        if let Some(change) = self.changes.iter_mut().find(|c| c.id == id) {
            change.in_flight = false;
            change.attempts += 1;
            change.next_attempt_at = now + retry_delay_ms(change.attempts, jitter);
        }
    }

    fn change_is_done(&self, change: &Change) -> bool {
        self.changes_done
            .iter()
            .any(|done| done.id == change.id && done.revision >= change.revision)
    }

    fn merge_changes(&mut self, other: &Outbox) {
        for done in &other.changes_done {
            self.changes
                .retain(|c| c.id != done.id || c.revision > done.revision);
            self.remember_change_done(done.clone());
        }
        for theirs in &other.changes {
            if self.change_is_done(theirs) {
                continue;
            }
            match self.changes.iter_mut().find(|c| c.id == theirs.id) {
                Some(mine) if theirs.revision > mine.revision => {
                    let in_flight = mine.in_flight;
                    *mine = theirs.clone();
                    mine.in_flight = in_flight;
                }
                Some(_) => {}
                None => {
                    let mut copy = theirs.clone();
                    copy.in_flight = false;
                    // In id order, so every tab holds them alike.
                    let at = self.changes.partition_point(|c| c.id < copy.id);
                    self.changes.insert(at, copy);
                }
            }
        }
    }

    /// Takes in another tab's copy. Returns true when that copy lacks something this one
    /// knows (so this one should be written back for the other tabs).
    pub fn merge(&mut self, other: &Outbox) -> bool {
        for done in &other.done {
            self.finish(done.clone());
        }
        self.merge_changes(other);
        for theirs in &other.items {
            if self.is_done(&theirs.row.id) {
                continue;
            }
            match self.item_mut(&theirs.row.id) {
                Some(mine) if newer(theirs, mine) => {
                    let in_flight = mine.in_flight;
                    *mine = theirs.clone();
                    mine.in_flight = in_flight;
                }
                Some(_) => {}
                None => {
                    let mut copy = theirs.clone();
                    copy.in_flight = false;
                    let at = self
                        .items
                        .partition_point(|item| written_at(&item.row) < written_at(&copy.row));
                    self.items.insert(at, copy);
                }
            }
        }
        !self.same_knowledge(other)
    }

    fn same_knowledge(&self, other: &Outbox) -> bool {
        let item_key = |item: &OutboxItem| (item.row.id.clone(), item.revision, item.failed);
        let items = |outbox: &Outbox| outbox.items.iter().map(item_key).collect::<Vec<_>>();
        let done = |outbox: &Outbox| {
            outbox
                .done
                .iter()
                .map(|done| (done.id.clone(), done.stored.is_some()))
                .collect::<Vec<_>>()
        };
        let changes = |outbox: &Outbox| {
            outbox
                .changes
                .iter()
                .map(|c| (c.id.clone(), c.revision))
                .collect::<Vec<_>>()
        };
        let changes_done = |outbox: &Outbox| {
            outbox
                .changes_done
                .iter()
                .map(|d| (d.id.clone(), d.revision))
                .collect::<Vec<_>>()
        };
        items(self) == items(other)
            && done(self) == done(other)
            && changes(self) == changes(other)
            && changes_done(self) == changes_done(other)
    }
}

/// Whether `a` is a later state of an item than `b`. Equal revisions made in two tabs
/// at once are ordered by what they say, so every tab picks the same one.
fn newer(a: &OutboxItem, b: &OutboxItem) -> bool {
    let key = |item: &OutboxItem| {
        (
            item.revision,
            !item.failed,
            item.attempts,
            item.server_errors,
        )
    };
    match key(a).cmp(&key(b)) {
        std::cmp::Ordering::Equal => a.next_attempt_at > b.next_attempt_at,
        order => order.is_gt(),
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
