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
}

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
        if message.source != Source::Local || message.send_state == state {
            return inserted;
        }
        message.send_state = state;
        true
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
mod tests {
    use super::*;

    fn row(id: &str, at: &str, body: &str) -> MessageRow {
        MessageRow {
            id: id.into(),
            conversation_id: "c".into(),
            sender_id: "u".into(),
            body: body.into(),
            created_at: at.into(),
            read_at: None,
        }
    }

    fn ids(store: &MessageStore) -> Vec<&str> {
        store.messages().iter().map(|m| m.row.id.as_str()).collect()
    }

    #[test]
    fn the_same_message_from_every_path_is_one_bubble() {
        let mut store = MessageStore::new("c");
        let at = "2026-11-25T10:00:00.000001+00:00";
        assert_eq!(
            store.apply(row("m", at, "hi"), Source::Broadcast),
            Applied::Inserted
        );
        assert_eq!(
            store.apply(row("m", at, "hi"), Source::Database),
            Applied::Updated
        );
        assert_eq!(
            store.apply(row("m", at, "hi"), Source::Broadcast),
            Applied::Unchanged
        );
        assert_eq!(
            store.apply(row("m", at, "hi"), Source::Database),
            Applied::Unchanged
        );
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn orders_by_created_at_then_id_whatever_the_arrival_order() {
        let mut store = MessageStore::new("c");
        store.apply(row("b", "2026-11-25T10:00:02Z", "2"), Source::Broadcast);
        store.apply(row("c", "2026-11-25T10:00:01Z", "1"), Source::Database);
        store.apply(row("a", "2026-11-25T10:00:02Z", "2"), Source::Database);
        store.apply(row("d", "2026-11-25T09:00:00Z", "0"), Source::Database);
        assert_eq!(ids(&store), ["d", "c", "a", "b"]);
    }

    #[test]
    fn database_row_replaces_the_optimistic_copy_and_moves_it() {
        let mut store = MessageStore::new("c");
        store.apply(row("mine", "2026-11-25T10:00:05Z", "hello"), Source::Local);
        store.apply(
            row("theirs", "2026-11-25T10:00:03Z", "yo"),
            Source::Broadcast,
        );
        assert_eq!(ids(&store), ["theirs", "mine"]);
        assert_eq!(store.get("mine").unwrap().send_state, SendState::Pending);
        // The server clock says ours came first.
        store.apply(
            row("mine", "2026-11-25T10:00:01Z", "hello"),
            Source::Database,
        );
        assert_eq!(ids(&store), ["mine", "theirs"]);
        assert_eq!(store.get("mine").unwrap().send_state, SendState::Sent);
        assert_eq!(
            store.gap_fill_since(),
            None,
            "our own inserts are not a read"
        );
    }

    #[test]
    fn a_broadcast_never_downgrades_a_database_row() {
        let mut store = MessageStore::new("c");
        let mut authoritative = row("m", "2026-11-25T10:00:00Z", "real");
        authoritative.read_at = Some("2026-11-25T10:01:00Z".into());
        store.apply(authoritative, Source::Database);
        store.apply(
            row("m", "2026-11-25T10:00:00Z", "forged"),
            Source::Broadcast,
        );
        let kept = store.get("m").unwrap();
        assert_eq!(kept.row.body, "real");
        assert!(kept.is_read(), "read receipts never go back");
    }

    #[test]
    fn gap_fills_start_a_little_before_the_newest_row_read() {
        let mut store = MessageStore::new("c");
        store.apply_read(vec![
            row("a", "2026-11-25T10:00:00Z", "1"),
            row("b", "2026-11-25T10:00:10Z", "2"),
        ]);
        store.apply(
            row("theirs", "2026-11-25T10:05:00Z", "3"),
            Source::Broadcast,
        );
        assert_eq!(
            store.gap_fill_since().as_deref(),
            Some("2026-11-25T10:00:05.000000Z")
        );
        store.apply_read(vec![row("b", "2026-11-25T10:00:10Z", "2")]);
        assert_eq!(store.len(), 3, "the overlap is merged away");
    }

    #[test]
    fn rows_of_other_conversations_or_bad_timestamps_are_rejected() {
        let mut store = MessageStore::new("c");
        let mut foreign = row("x", "2026-11-25T10:00:00Z", "other");
        foreign.conversation_id = "other".into();
        assert_eq!(store.apply(foreign, Source::Database), Applied::Rejected);
        assert_eq!(
            store.apply(row("y", "soon", "?"), Source::Database),
            Applied::Rejected
        );
        assert!(store.is_empty());
    }

    #[test]
    fn failed_messages_can_be_retried_and_receipts_apply() {
        let mut store = MessageStore::new("c");
        assert!(store.show_unsent(row("new", "2026-11-25T09:00:00Z", "hi"), false));
        assert!(store.show_unsent(row("m", "2026-11-25T10:00:00Z", "hi"), true));
        assert_eq!(store.get("m").unwrap().send_state, SendState::Failed);
        assert!(store.show_unsent(row("m", "2026-11-25T10:00:00Z", "hi"), false));
        assert!(!store.show_unsent(row("m", "2026-11-25T10:00:00Z", "hi"), false));
        assert_eq!(store.get("m").unwrap().send_state, SendState::Pending);
        store.apply(row("gone", "2026-11-25T10:00:01Z", "x"), Source::Local);
        store.remove_local("gone");
        assert!(store.get("gone").is_none());
        store.apply(row("m", "2026-11-25T10:00:00Z", "hi"), Source::Database);
        assert!(store.mark_read(&["m".into(), "unknown".into()], "2026-11-25T10:02:00Z"));
        assert!(
            !store.mark_read(&["m".into()], "2026-11-25T10:03:00Z"),
            "already read"
        );
        assert_eq!(
            store.get("m").unwrap().row.read_at.as_deref(),
            Some("2026-11-25T10:02:00Z")
        );
    }

    #[test]
    fn an_update_changes_a_loaded_row_but_never_adds_one() {
        let mut store = MessageStore::new("c");
        store.apply_read(vec![row("new", "2026-11-25T10:00:00Z", "latest")]);
        let mut read_old = row("old", "2026-11-20T10:00:00Z", "not loaded");
        read_old.read_at = Some("2026-11-25T10:01:00Z".into());
        assert_eq!(store.apply_update(read_old), Applied::Rejected);
        assert_eq!(ids(&store), ["new"], "no hole-making insert into history");
        let mut read_new = row("new", "2026-11-25T10:00:00Z", "latest");
        read_new.read_at = Some("2026-11-25T10:01:00Z".into());
        assert_eq!(store.apply_update(read_new), Applied::Updated);
        assert!(store.get("new").unwrap().is_read());
    }

    #[test]
    fn a_broadcast_message_is_shown_but_the_database_decides_whether_it_stays() {
        let mut store = MessageStore::new("c");
        store.apply(row("real", "2026-11-25T10:00:00Z", "hi"), Source::Broadcast);
        store.apply(
            row("phantom", "2026-11-25T10:00:01Z", "forged"),
            Source::Broadcast,
        );
        store.apply(
            row("confirmed", "2026-11-25T10:00:02Z", "x"),
            Source::Broadcast,
        );
        store.apply(
            row("confirmed", "2026-11-25T10:00:02Z", "x"),
            Source::Database,
        );
        assert_eq!(store.unconfirmed(), ["real", "phantom"]);
        let mut stored = row("real", "2026-11-25T09:59:59Z", "hi");
        stored.sender_id = "u".into();
        store.confirm(&store.unconfirmed(), vec![stored]);
        assert_eq!(ids(&store), ["real", "confirmed"], "the phantom is gone");
        assert_eq!(
            store.get("real").unwrap().sort_key.0,
            parse_micros("2026-11-25T09:59:59Z").unwrap(),
            "the database's timestamp wins"
        );
        assert!(store.unconfirmed().is_empty());
    }

    #[test]
    fn a_broadcast_cannot_mark_anything_read_only_claim_it() {
        let mut store = MessageStore::new("c");
        let mut forged = row("m", "2026-11-25T10:00:00Z", "hi");
        forged.read_at = Some("2026-11-25T10:00:01Z".into());
        store.apply(forged, Source::Broadcast);
        assert!(!store.get("m").unwrap().is_read());

        store.apply(row("mine", "2026-11-25T10:00:02Z", "q"), Source::Database);
        assert!(store.claim_read(&["mine".into(), "unknown".into()]));
        assert!(store.get("mine").unwrap().is_read(), "✓✓ at once");
        assert_eq!(store.unconfirmed(), ["m", "mine"]);
        // The database says it is not read: the claim was false.
        store.confirm(
            &["mine".into()],
            vec![row("mine", "2026-11-25T10:00:02Z", "q")],
        );
        assert!(!store.get("mine").unwrap().is_read());
        // A pending message cannot be claimed read at all.
        store.apply(row("pending", "2026-11-25T10:00:03Z", "p"), Source::Local);
        assert!(!store.claim_read(&["pending".into()]));
    }
}
