//! `MessageStore`: every message of one conversation, keyed by id, in (created_at, id)
//! order. History, broadcasts, database events and the sender's own optimistic copy all
//! merge here, so a message is shown once whatever arrives first or twice.

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
pub enum Delivery {
    Pending,
    Sent,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub row: MessageRow,
    pub sort_key: (i64, String),
    pub source: Source,
    pub delivery: Delivery,
}

impl StoredMessage {
    pub fn is_read(&self) -> bool {
        self.row.read_at.is_some()
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
    pub fn apply(&mut self, row: MessageRow, source: Source) -> Applied {
        if row.conversation_id != self.conversation_id {
            return Applied::Rejected;
        }
        let Some(micros) = parse_micros(&row.created_at) else {
            return Applied::Rejected;
        };
        let delivery = if source == Source::Local {
            Delivery::Pending
        } else {
            Delivery::Sent
        };
        let Some(&index) = self.positions.get(&row.id) else {
            let sort_key = (micros, row.id.clone());
            self.insert(StoredMessage {
                row,
                sort_key,
                source,
                delivery,
            });
            return Applied::Inserted;
        };
        let existing = &self.ordered[index];
        let (mut merged, other_read_at) = if source >= existing.source {
            let other = existing.row.read_at.clone();
            (
                StoredMessage {
                    sort_key: (micros, row.id.clone()),
                    row,
                    source,
                    delivery,
                },
                other,
            )
        } else {
            (existing.clone(), row.read_at)
        };
        // Read receipts only move forward, whoever reports them.
        if merged.row.read_at.is_none() {
            merged.row.read_at = other_read_at;
        }
        if merged.source != Source::Local {
            merged.delivery = Delivery::Sent;
        }
        if &merged == existing {
            return Applied::Unchanged;
        }
        self.remove(index);
        self.insert(merged);
        Applied::Updated
    }

    /// Marks one's own pending message failed (it stays visible, with Retry).
    pub fn mark_failed(&mut self, id: &str) {
        if let Some(&index) = self.positions.get(id) {
            let message = &mut self.ordered[index];
            if message.source == Source::Local {
                message.delivery = Delivery::Failed;
            }
        }
    }

    /// Marks a failed message pending again (a retry started).
    pub fn mark_pending(&mut self, id: &str) {
        if let Some(&index) = self.positions.get(id) {
            let message = &mut self.ordered[index];
            if message.source == Source::Local {
                message.delivery = Delivery::Pending;
            }
        }
    }

    /// Drops one's own unsent message (Delete on a failed bubble).
    pub fn remove_local(&mut self, id: &str) {
        if let Some(&index) = self.positions.get(id) {
            if self.ordered[index].source == Source::Local {
                self.remove(index);
            }
        }
    }

    /// Applies read receipts for `ids` (from `message_read` broadcasts).
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
        assert_eq!(store.get("mine").unwrap().delivery, Delivery::Pending);
        // The server clock says ours came first.
        store.apply(
            row("mine", "2026-11-25T10:00:01Z", "hello"),
            Source::Database,
        );
        assert_eq!(ids(&store), ["mine", "theirs"]);
        assert_eq!(store.get("mine").unwrap().delivery, Delivery::Sent);
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
        store.apply(row("m", "2026-11-25T10:00:00Z", "hi"), Source::Local);
        store.mark_failed("m");
        assert_eq!(store.get("m").unwrap().delivery, Delivery::Failed);
        store.mark_pending("m");
        assert_eq!(store.get("m").unwrap().delivery, Delivery::Pending);
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
}
