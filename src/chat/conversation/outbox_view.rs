//! The outbox's bubbles of this conversation, whichever tab wrote or sent them, and the
//! edits and deletions on their way.

use leptos::prelude::*;

use super::Conversation;
use crate::chat::model::MessageRow;
use crate::chat::outbox::Outbox;
use crate::chat::store::Source;
use crate::time::format_micros;

impl Conversation {
    /// Shows this conversation's messages of the outbox: waiting ones as pending or
    /// failed, delivered ones with the server's row, deleted ones gone. A delivered one
    /// written here and not yet announced is announced now: another tab (the one holding
    /// the sender's lock) sent it, or a lookup after errors found it stored.
    pub(super) fn show_outbox(self, outbox: &Outbox) {
        let Some(id) = self.id() else {
            return;
        };
        let mut announce = Vec::new();
        self.store.try_maybe_update(|store| {
            let mut changed = false;
            for item in outbox.items() {
                if item.row.conversation_id == id {
                    changed |= store.show_unsent(item.row.clone(), item.failed);
                }
            }
            for done in outbox.done() {
                match &done.stored {
                    Some(row) => {
                        let unconfirmed = store
                            .get(&row.id)
                            .is_some_and(|m| m.source == Source::Local);
                        if unconfirmed {
                            store.apply(row.clone(), Source::Database);
                            changed = true;
                        }
                        if self.written_here(&row.id) {
                            announce.push(row.clone());
                        }
                    }
                    None => changed |= store.remove_local(&done.id),
                }
            }
            // Edits and deletions on their way, shown as made (after the rows above).
            let at = format_micros((self.app.server_now_ms() * 1000.0) as i64);
            for change in outbox.changes() {
                if change.conversation_id == id {
                    changed |= store.show_change(&change.id, change.body.as_deref(), &at);
                }
            }
            (changed, ())
        });
        for row in announce {
            self.announce(&row);
        }
    }

    /// A message of the outbox is stored: if it was written in this view (and not
    /// announced yet), the other person hears of it now.
    pub(super) fn announce_if_written_here(self, row: &MessageRow) {
        if self.written_here(&row.id) {
            self.announce(row);
        }
    }

    /// Whether the message was written in this view and is still to be announced (it will
    /// not be again).
    fn written_here(self, id: &str) -> bool {
        self.sent_here
            .try_update_value(|sent| {
                let here = sent.iter().any(|sent| sent == id);
                sent.retain(|sent| sent != id);
                here
            })
            .unwrap_or(false)
    }

    /// Broadcasts the stored row to the other person, and re-reads this person's list
    /// (the database's inbox announcement goes to the recipient only).
    fn announce(self, row: &MessageRow) {
        self.broadcast("new_message", serde_json::to_value(row).unwrap_or_default());
        self.app.refresh_list();
    }
}
