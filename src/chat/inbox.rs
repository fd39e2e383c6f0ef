//! `use_inbox`: the person's private inbox topic `user:{id}`, where the database
//! announces every message addressed to them. It keeps the conversation list live for
//! conversations that are not open; every (re)subscribe re-reads the list (messages may
//! have been missed) and hurries the outbox (the connection is back). Its status is
//! shown, so a list that is not live says so.

use leptos::prelude::*;

use super::delivery::Delivery;
use crate::context::AppContext;
use crate::realtime::{ChannelEvent, JoinConfig, RealtimeClient, Status};

/// `on_message` gets every `new_message` announced (the stored row).
pub fn use_inbox(
    app: AppContext,
    client: &RealtimeClient,
    delivery: Delivery,
    on_message: impl Fn(serde_json::Value) + 'static,
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
            if event == "new_message" {
                on_message(payload);
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
