//! `MessageStore`: every message of one conversation, keyed by id, in (created_at, id)
//! order. History, broadcasts, database events and the sender's own optimistic copy all
//! merge here, so a message is shown once whatever arrives first or twice.
//!
//! The database is the truth. A broadcast is a hint another client made: its message is
//! shown at once but stays *unconfirmed* until the database's row arrives (which then
//! replaces it whole), and a `message_read` broadcast only *claims* a receipt. What is
//! still unconfirmed after a moment is asked of the database; what it does not have goes.

use std::collections::HashMap;

use super::model::MessageRow;
use crate::api::rest::HISTORY_PAGE;
use crate::time::{format_micros, parse_micros};

/// Gap fills re-read this much before the newest row read so far: a row whose
/// transaction started earlier but committed after that read is not skipped.
const GAP_FILL_OVERLAP_MICROS: i64 = 5_000_000;

/// Where a copy of a message came from. Higher ranks are more authoritative: the
/// database row wins over a broadcast (which another client made) and over our own
/// optimistic copy (whose timestamp is the browser's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Local,
    Broadcast,
    Database,
}

/// Sending progress of one's own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendState {
    Pending,
    Sent,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub row: MessageRow,
    pub sort_key: (i64, String),
    pub source: Source,
    pub send_state: SendState,
    /// The other person's client said it was read; the database has not said so yet.
    pub read_claimed: bool,
}

impl StoredMessage {
    pub fn is_read(&self) -> bool {
        self.row.read_at.is_some() || self.read_claimed
    }

    /// Changes whenever what the bubble says changes (an edit, a deletion): a cheap
    /// FNV-1a of the text and its marks, for keying the rendered bubble.
    pub fn text_tag(&self) -> u64 {
        let marks = [self.row.edited_at.is_some(), self.row.is_deleted()];
        let reactions = self.row.reactions.values().flat_map(|r| r.bytes());
        let bytes = self
            .row
            .body
            .bytes()
            .chain(marks.map(u8::from))
            .chain(reactions);
        bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// What `apply` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Inserted,
    Updated,
    Unchanged,
    /// The row belongs to another conversation or has an unreadable timestamp.
    Rejected,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageStore {
    conversation_id: String,
    ordered: Vec<StoredMessage>,
    positions: HashMap<String, usize>,
    /// Newest `created_at` among rows *read* from the database (history, gap fills).
    /// Our own confirmed inserts do not count: others' rows may commit around them.
    read_until: Option<i64>,
    /// The database has messages older than the oldest one here.
    more_before: bool,
}

/// How many messages to open a conversation with: one page, or enough to reach back to
/// the first unread message (most of the time), within a bound.
pub fn first_page_size(unread: i64) -> usize {
    let unread = usize::try_from(unread).unwrap_or(0);
    (unread + 10).clamp(HISTORY_PAGE, MAX_FIRST_PAGE)
}

/// The most a conversation opens with, however much is unread.
const MAX_FIRST_PAGE: usize = 500;

impl MessageStore {
    pub fn new(conversation_id: &str) -> Self {
        MessageStore {
            conversation_id: conversation_id.to_string(),
            ..Default::default()
        }
    }

    pub fn messages(&self) -> &[StoredMessage] {
        &self.ordered
    }

    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&StoredMessage> {
        self.positions.get(id).map(|&index| &self.ordered[index])
    }

    /// Rows read from the database (history or a gap fill): merged, and the read
    /// watermark moves forward.
    pub fn apply_read(&mut self, rows: Vec<MessageRow>) {
        for row in rows {
            if let Some(micros) = parse_micros(&row.created_at) {
                if self.apply(row, Source::Database) != Applied::Rejected {
                    self.read_until =
                        Some(self.read_until.map_or(micros, |until| until.max(micros)));
                }
            }
        }
    }

    /// The conversation's newest rows (asked for `asked` of them): shown, and whether older
    /// ones exist is known from how many came.
    pub fn apply_history(&mut self, rows: Vec<MessageRow>, asked: usize) {
        self.more_before = rows.len() >= asked;
        self.apply_read(rows);
    }

    /// A page of rows before the oldest shown ([`HISTORY_PAGE`] asked for).
    pub fn apply_older(&mut self, rows: Vec<MessageRow>) {
        self.more_before = rows.len() >= HISTORY_PAGE;
        self.apply_read(rows);
    }

    /// The database has older messages than those shown.
    pub fn has_older(&self) -> bool {
        self.more_before
    }

    /// Where the page before the shown ones ends: `(created_at, id)` of the oldest row
    /// that came from the database (one's own unsent messages are always the newest).
    pub fn oldest_cursor(&self) -> Option<(String, String)> {
        self.ordered
            .iter()
            .find(|m| m.source == Source::Database)
            .map(|m| (m.row.created_at.clone(), m.row.id.clone()))
    }

    /// The first stored message of someone other than `me` that nobody has read.
    pub fn first_unread(&self, me: &str) -> Option<String> {
        self.ordered
            .iter()
            .find(|m| m.source == Source::Database && m.row.sender_id != me && !m.is_read())
            .map(|m| m.row.id.clone())
    }

    /// Rows of a gap fill: merged like `apply_read`, except those older than the oldest
    /// row shown. The fill's overlap reaches back into history that was not loaded (a burst
    /// of messages within seconds), which must not appear in the middle of the page.
    pub fn apply_gap(&mut self, rows: Vec<MessageRow>) {
        let oldest = self.ordered.first().map(|m| m.sort_key.clone());
        let rows = rows
            .into_iter()
            .filter(|row| match (&oldest, parse_micros(&row.created_at)) {
                (Some(oldest), Some(micros)) => (micros, row.id.clone()) >= *oldest,
                _ => true,
            })
            .collect();
        self.apply_read(rows);
    }

    /// Where the next gap fill starts (`None`: nothing read yet, load the history).
    pub fn gap_fill_since(&self) -> Option<String> {
        self.read_until
            .map(|until| format_micros(until - GAP_FILL_OVERLAP_MICROS))
    }

    /// Merges one copy of a message.
    pub fn apply(&mut self, mut row: MessageRow, source: Source) -> Applied {
        if row.conversation_id != self.conversation_id {
            return Applied::Rejected;
        }
        let Some(micros) = parse_micros(&row.created_at) else {
            return Applied::Rejected;
        };
        if source != Source::Database {
            row.read_at = None; // only the database says what was read
        }
        let send_state = if source == Source::Local {
            SendState::Pending
        } else {
            SendState::Sent
        };
        let Some(&index) = self.positions.get(&row.id) else {
            let sort_key = (micros, row.id.clone());
            self.insert(StoredMessage {
                row,
                sort_key,
                source,
                send_state,
                read_claimed: false,
            });
            return Applied::Inserted;
        };
        let existing = &self.ordered[index];
        let mut merged = if source >= existing.source {
            StoredMessage {
                sort_key: (micros, row.id.clone()),
                row,
                source,
                send_state,
                read_claimed: existing.read_claimed,
            }
        } else {
            existing.clone()
        };
        // Read receipts only move forward: a row read earlier is not made unread by an
        // older copy (the database never clears `read_at`).
        if merged.row.read_at.is_none() {
            merged.row.read_at = existing.row.read_at.clone();
        }
        // Nor do edits go back: a copy read before an edit or deletion may come after it.
        if existing.row.revision() > merged.row.revision() {
            merged.row.body = existing.row.body.clone();
            merged.row.edited_at = existing.row.edited_at.clone();
            merged.row.deleted_at = existing.row.deleted_at.clone();
            merged.row.reactions = existing.row.reactions.clone();
            merged.row.updated_at = existing.row.updated_at.clone();
        }
        if merged.source != Source::Local {
            merged.send_state = SendState::Sent;
        }
        if &merged == existing {
            return Applied::Unchanged;
        }
        self.remove(index);
        self.insert(merged);
        Applied::Updated
    }

    /// A database UPDATE: changes a row this store has; never adds one. (History is
    /// loaded newest first: an update of an older, unloaded row must not appear in the
    /// middle of it.)
    pub fn apply_update(&mut self, row: MessageRow) -> Applied {
        if !self.positions.contains_key(&row.id) {
            return Applied::Rejected;
        }
        self.apply(row, Source::Database)
    }

    /// A `message_read` broadcast: the other person's client claims these (ours) were read.
    pub fn claim_read(&mut self, ids: &[String]) -> bool {
        let mut changed = false;
        for id in ids {
            if let Some(&index) = self.positions.get(id) {
                let message = &mut self.ordered[index];
                if !message.is_read() && message.send_state == SendState::Sent {
                    message.read_claimed = true;
                    changed = true;
                }
            }
        }
        changed
    }

    /// Messages only a broadcast vouches for: copies not yet seen in the database, and
    /// read receipts it has not confirmed.
    pub fn unconfirmed(&self) -> Vec<String> {
        self.ordered
            .iter()
            .filter(|m| {
                m.source == Source::Broadcast || (m.read_claimed && m.row.read_at.is_none())
            })
            .map(|m| m.row.id.clone())
            .collect()
    }

    /// The database's answer for `asked` ids: its rows replace what the broadcasts said,
    /// and a broadcast message it does not have is removed.
    pub fn confirm(&mut self, asked: &[String], rows: Vec<MessageRow>) {
        for row in rows {
            let id = row.id.clone();
            self.apply(row, Source::Database);
            if let Some(&index) = self.positions.get(&id) {
                self.ordered[index].read_claimed = false;
            }
        }
        for id in asked {
            let Some(&index) = self.positions.get(id) else {
                continue;
            };
            if self.ordered[index].source == Source::Broadcast {
                self.remove(index);
            } else {
                self.ordered[index].read_claimed = false;
            }
        }
    }

    /// Shows one of one's own messages that waits in the outbox: pending, or failed (with
    /// Retry). A copy the server already confirmed is left as it is. True if it changed.
    pub fn show_unsent(&mut self, row: MessageRow, failed: bool) -> bool {
        let row_body = row.body.clone();
        let state = if failed {
            SendState::Failed
        } else {
            SendState::Pending
        };
        let (index, inserted) = match self.positions.get(&row.id) {
            Some(&index) => (index, false),
            None => {
                let id = row.id.clone();
                if self.apply(row, Source::Local) != Applied::Inserted {
                    return false;
                }
                (self.positions[&id], true)
            }
        };
        let message = &mut self.ordered[index];
        if message.source != Source::Local {
            return inserted;
        }
        // Edited before it went: it goes with the new text.
        let rewritten = !message.row.is_deleted() && message.row.body != row_body;
        if rewritten {
            message.row.body = row_body;
        }
        if message.send_state == state {
            return inserted || rewritten;
        }
        message.send_state = state;
        true
    }

    /// Shows one's own edit (`Some(text)`) or deletion (`None`) of a message before the
    /// server has it, dated `at` (the server's time as this device reckons it). Later
    /// copies from the database replace it only when they are as new (see `apply`).
    pub fn show_change(&mut self, id: &str, body: Option<&str>, at: &str) -> bool {
        let Some(&index) = self.positions.get(id) else {
            return false;
        };
        let sent = self.ordered[index].source != Source::Local;
        let row = &mut self.ordered[index].row;
        match body {
            _ if row.is_deleted() => false,
            None => {
                row.body.clear();
                row.deleted_at = Some(at.to_string());
                true
            }
            Some(body) if body != row.body => {
                row.body = body.to_string();
                if sent {
                    row.edited_at = Some(at.to_string());
                }
                true
            }
            Some(_) => false,
        }
    }

    /// Shows one's own reaction (`None`: taken back) before the server has it.
    pub fn show_reaction(&mut self, id: &str, me: &str, emoji: Option<&str>) -> bool {
        let Some(&index) = self.positions.get(id) else {
            return false;
        };
        let reactions = &mut self.ordered[index].row.reactions;
        if reactions.get(me).map(String::as_str) == emoji {
            return false;
        }
        match emoji {
            Some(emoji) => drop(reactions.insert(me.to_string(), emoji.to_string())),
            None => drop(reactions.remove(me)),
        }
        true
    }

    /// The database's row as it is, whatever was shown: one's own change was refused.
    pub fn replace(&mut self, row: MessageRow) {
        if let Some(&index) = self.positions.get(&row.id) {
            let message = &mut self.ordered[index];
            if message.source != Source::Local {
                message.row = row;
            }
        }
    }

    /// Drops one's own unsent message (Delete on a failed bubble). True if it was there.
    pub fn remove_local(&mut self, id: &str) -> bool {
        match self.positions.get(id) {
            Some(&index) if self.ordered[index].source == Source::Local => {
                self.remove(index);
                true
            }
            _ => false,
        }
    }

    /// Applies read receipts the database just gave (our own `mark_conversation_read`).
    pub fn mark_read(&mut self, ids: &[String], read_at: &str) -> bool {
        let mut changed = false;
        for id in ids {
            if let Some(&index) = self.positions.get(id) {
                let row = &mut self.ordered[index].row;
                if row.read_at.is_none() {
                    row.read_at = Some(read_at.to_string());
                    changed = true;
                }
            }
        }
        changed
    }

    fn insert(&mut self, message: StoredMessage) {
        let index = self
            .ordered
            .partition_point(|m| m.sort_key < message.sort_key);
        self.ordered.insert(index, message);
        self.reindex(index);
    }

    fn remove(&mut self, index: usize) {
        let removed = self.ordered.remove(index);
        self.positions.remove(&removed.row.id);
        self.reindex(index);
    }

    fn reindex(&mut self, from: usize) {
        for (index, message) in self.ordered.iter().enumerate().skip(from) {
            self.positions.insert(message.row.id.clone(), index);
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
