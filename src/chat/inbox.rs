//! `use_inbox`: the person's private inbox topic `user:{id}`, where the database
//! announces every message addressed to them. It keeps the conversation list live for
//! conversations that are not open; every (re)subscribe re-reads the list (messages may
//! have been missed) and hurries the outbox (the connection is back). Its status is
//! shown, so a list that is not live says so.

use leptos::prelude::*;

use super::delivery::Delivery;
use super::listener::Listener;
use super::model::MessageRow;
use crate::context::AppContext;
use crate::realtime::{ChannelEvent, JoinConfig, RealtimeClient, Status};

/// `on_message` gets every message announced (the stored row): new (`true`) ones, and
/// edited or deleted ones (`false`).
pub fn use_inbox(
    app: AppContext,
    client: &RealtimeClient,
    delivery: Delivery,
    on_message: impl Fn(serde_json::Value, bool) + 'static,
) -> RwSignal<Status> {
    let status = RwSignal::new(Status::Subscribing);
    let Some(me) = app.user_id() else {
        return status;
    };
    let config = JoinConfig {
        private: true,
        ..Default::default()
    };
    let channel = client.channel(&format!("user:{me}"), config, move |event| match event {
        ChannelEvent::Broadcast { event, payload } => {
            app.refresh_list();
            match event.as_str() {
                "new_message" => on_message(payload, true),
                "message_changed" => on_message(payload, false),
                _ => {}
            }
        }
        ChannelEvent::Status(now) => {
            if now == Status::Subscribed {
                delivery.hurry();
                app.refresh_list();
            }
            status.try_set(now);
        }
        _ => {}
    });
    let channel = StoredValue::new_local(Some(channel));
    on_cleanup(move || {
        let _ = channel.try_update_value(|channel| {
            if let Some(channel) = channel.take() {
                channel.leave();
            }
        });
    });
    status
}

/// Rows the inbox announces, handed to the open conversation too: a third path beside its
/// channel's broadcast and Postgres Changes, and often the first to arrive. The database
/// announces a row only once it is stored, on a topic nobody else may send to. The listener
/// gets each row and whether it is a new message (or a changed one).
#[derive(Clone, Copy, Default)]
pub struct InboxRows(Listener<(MessageRow, bool)>);

impl InboxRows {
    /// Hands every announced row to `handler` (the open conversation's); returns the
    /// ticket to `stop` with.
    pub fn listen(self, handler: impl Fn(&(MessageRow, bool)) + 'static) -> u64 {
        self.0.listen(handler)
    }

    pub fn stop(self, ticket: u64) {
        self.0.stop(ticket);
    }

    /// An announced message (the stored row, as the database wrote it): a new one, or one
    /// edited, deleted or reacted to.
    pub fn hand(self, payload: &serde_json::Value, new: bool) {
        if let Ok(row) = serde_json::from_value::<MessageRow>(payload.clone()) {
            self.0.hand(&(row, new));
        }
    }
}
