//! Marking the other person's messages read: in the database first, then a
//! `message_read` broadcast so their ✓ becomes ✓✓ at once. Only while the page is
//! visible, one request at a time.

use leptos::prelude::*;
use serde_json::json;

use super::Conversation;
use crate::api::rest;
use crate::task::Flight;
use crate::time::format_micros;

/// Pause before marking again what arrived while a request was under way.
const MARK_READ_GAP_MS: u32 = 300;

impl Conversation {
    /// Marks the other person's unread messages read (in the database first), then tells
    /// them at once with a `message_read` broadcast. Only while the page is visible; one
    /// request at a time.
    pub(super) fn mark_read(self) {
        if !self.wants_marking() {
            return;
        }
        if !self.marking.try_update_value(Flight::ask).unwrap_or(false) {
            return; // one is out; another follows it and marks these too
        }
        self.spawn(async move {
            loop {
                // Asked again: only if still wanted — the tab may have been hidden meanwhile,
                // and what arrives then stays unread until the person sees it.
                if self.wants_marking() {
                    self.mark_read_now().await;
                }
                // More arrived meanwhile: mark them too, after a pause, so that a burst of
                // messages costs a few requests a second, not one per message.
                if self.marking.try_update_value(Flight::land) != Some(true) {
                    break;
                }
                gloo_timers::future::TimeoutFuture::new(MARK_READ_GAP_MS).await;
            }
        });
    }

    /// The other person has messages shown here unread, and the page is seen.
    fn wants_marking(self) -> bool {
        let Some(me) = self.app.user_id() else {
            return false;
        };
        let unread = self
            .store
            .try_with_untracked(|store| {
                store
                    .messages()
                    .iter()
                    .any(|m| m.row.sender_id != me && !m.is_read())
            })
            .unwrap_or(false);
        unread && self.app.visible.try_get_untracked().unwrap_or(false)
    }

    /// Leaving the conversation while a mark waits its turn (the pause between marks, or one
    /// still out): what was on screen is marked now, by a request that outlives the view —
    /// the person saw those messages, and their sender's ✓✓ must not hang on a quick switch.
    /// It touches nothing of the view when it answers.
    pub(super) fn mark_read_on_leave(self) {
        if !self.wants_marking() {
            return;
        }
        let (Some(id), Some(token), Some(seen)) = (self.id(), self.app.token(), self.newest_seen())
        else {
            return;
        };
        let (config, app) = (self.app.config(), self.app);
        leptos::task::spawn_local(async move {
            if rest::mark_conversation_read(&config, &token, &id, &seen)
                .await
                .is_ok()
            {
                app.refresh_list();
            }
        });
    }

    /// The id of the other person's newest message shown here: marking reads up to it, and
    /// nothing that reached the database since (the reader has not seen that yet).
    fn newest_seen(self) -> Option<String> {
        let me = self.app.user_id()?;
        self.store.try_with_untracked(|store| {
            store
                .messages()
                .iter()
                .rev()
                .find(|m| m.row.sender_id != me)
                .map(|m| m.row.id.clone())
        })?
    }

    async fn mark_read_now(self) {
        let (Some(id), Some(token), Some(seen)) = (self.id(), self.app.token(), self.newest_seen())
        else {
            return;
        };
        let config = self.app.config();
        match rest::mark_conversation_read(&config, &token, &id, &seen).await {
            Ok(ids) if !ids.is_empty() => {
                let read_at = format_micros((self.app.server_now_ms() * 1000.0) as i64);
                self.store
                    .try_update(|store| store.mark_read(&ids, &read_at));
                self.broadcast("message_read", json!({ "ids": ids, "read_at": read_at }));
                self.app.refresh_list();
            }
            Ok(_) => {}
            Err(error) => self.report(&error),
        }
    }
}
