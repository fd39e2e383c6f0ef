//! Broadcasts are hints another client made. A `new_message` is shown at once when it is
//! well formed and from the other participant; a `message_read` only claims a receipt.
//! A moment later, whatever only a broadcast vouches for is asked of the database, whose
//! answer replaces it — or removes it.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use serde_json::Value;

use super::Conversation;
use crate::api::rest;
use crate::chat::model::{ids_from_read_broadcast, message_from_broadcast};
use crate::chat::store::{MessageStore, Source};

/// How long a broadcast may stand unconfirmed before the database is asked about it.
const CONFIRM_AFTER_MS: u32 = 3_000;

impl Conversation {
    pub(super) fn on_new_message(self, payload: Value) {
        let (Some(id), Some(other)) = (self.id(), self.other_id.try_get_value()) else {
            return;
        };
        // Only a well-formed message from the other participant is shown, and only until
        // the database says otherwise (our own come from the database).
        let Some(row) = message_from_broadcast(payload, &id, &other) else {
            return;
        };
        self.store
            .try_update(|store| store.apply(row, Source::Broadcast));
        self.clear_typing();
        self.confirm_soon();
        self.mark_read();
        self.app.refresh_list();
    }

    pub(super) fn on_read(self, payload: &Value) {
        let Some(me) = self.app.user_id() else {
            return;
        };
        let ids = ids_from_read_broadcast(payload);
        let claimed = self
            .store
            .try_update(|store| {
                let mine: Vec<String> = ids
                    .into_iter()
                    .filter(|id| store.get(id).is_some_and(|m| m.row.sender_id == me))
                    .collect();
                store.claim_read(&mine)
            })
            .unwrap_or(false);
        if claimed {
            self.confirm_soon();
        }
    }

    /// Asks the database, in a moment, about what only broadcasts vouch for.
    fn confirm_soon(self) {
        let idle = self
            .confirm_timer
            .try_with_value(Option::is_none)
            .unwrap_or(false);
        if !idle {
            return;
        }
        let timer = Timeout::new(CONFIRM_AFTER_MS, move || {
            let _ = self.confirm_timer.try_update_value(|timer| timer.take());
            self.confirm();
        });
        let _ = self
            .confirm_timer
            .try_update_value(|slot| *slot = Some(timer));
    }

    fn confirm(self) {
        let asked = self
            .store
            .try_with_untracked(MessageStore::unconfirmed)
            .unwrap_or_default();
        let (Some(id), Some(token), false) = (self.id(), self.app.token(), asked.is_empty()) else {
            return;
        };
        let config = self.app.config();
        self.spawn(async move {
            match rest::messages_by_id(&config, &token, &id, &asked).await {
                Ok(rows) => {
                    self.store.try_update(|store| store.confirm(&asked, rows));
                }
                Err(_) => self.confirm_soon(), // ask again later
            }
        });
    }
}
