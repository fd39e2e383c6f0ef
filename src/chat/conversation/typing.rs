//! Typing, both ways: the composer's draft becomes throttled `typing` broadcasts (see
//! `chat::typing` for the rules), and the other person's become `other_typing`, cleared
//! by their stop, their message, or silence.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use serde_json::{json, Value};

use super::Conversation;
use crate::chat::typing::{typing_from_broadcast, TYPING_IDLE_MS, TYPING_SHOWN_MS};

impl Conversation {
    /// The composer's draft is now `draft`.
    pub fn draft_changed(self, draft: &str) {
        let now = self.app.server_now_ms();
        let blank = draft.trim().is_empty();
        let Some(Some(typing)) = self
            .typing
            .try_update_value(|sender| sender.draft_changed(blank, now))
        else {
            self.restart_idle_timer(blank);
            return;
        };
        self.send_typing(typing);
        self.restart_idle_timer(blank);
    }

    /// Sent, left the composer, or went quiet: the other side stops showing "typing".
    pub fn stop_typing(self) {
        let _ = self.typing_idle.try_update_value(|timer| timer.take());
        if let Some(Some(typing)) = self.typing.try_update_value(|sender| sender.stop()) {
            self.send_typing(typing);
        }
    }

    fn restart_idle_timer(self, blank: bool) {
        let timer = (!blank).then(|| Timeout::new(TYPING_IDLE_MS, move || self.stop_typing()));
        let _ = self.typing_idle.try_update_value(|old| *old = timer);
    }

    fn send_typing(self, typing: bool) {
        if let Some(me) = self.app.user_id() {
            self.broadcast("typing", json!({ "user_id": me, "typing": typing }));
        }
    }

    /// A `typing` broadcast: shown when it is the other person's (one's own other tabs
    /// are on the channel too), for at most `TYPING_SHOWN_MS` without news.
    pub(super) fn on_typing(self, payload: &Value) {
        let Some((who, typing)) = typing_from_broadcast(payload) else {
            return;
        };
        if self.other_id.try_with_value(|other| other == who) != Some(true) {
            return;
        }
        let clear = typing.then(|| Timeout::new(TYPING_SHOWN_MS, move || self.clear_typing()));
        let _ = self.typing_clear.try_update_value(|old| *old = clear);
        self.other_typing.try_set(typing);
    }

    /// Their message arrived, or the indicator timed out.
    pub(super) fn clear_typing(self) {
        let _ = self.typing_clear.try_update_value(|timer| timer.take());
        self.other_typing.try_set(false);
    }
}
