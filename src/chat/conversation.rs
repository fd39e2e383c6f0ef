//! `use_conversation`: the live state of the open conversation. Joins the private channel
//! `conversation:{id}` (broadcast, plus Postgres Changes as the backup path) when mounted
//! and leaves it on cleanup; loads history and fills gaps on every SUBSCRIBED; sends
//! through the durable outbox with an optimistic bubble, then broadcasts the stored row;
//! marks incoming messages read while the page is visible.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use super::delivery::{Delivery, DeliveryEvent};
use super::model::MessageRow;
use super::store::{MessageStore, Source};
use crate::api::{rest, ApiError};
use crate::browser::{new_uuid, now_iso, page_visible};
use crate::context::AppContext;
use crate::i18n::Text;
use crate::realtime::{ChangesFilter, ChannelEvent, ChannelHandle, JoinConfig, Status};

/// Handle to the open conversation; cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct Conversation {
    pub store: RwSignal<MessageStore>,
    pub status: RwSignal<Status>,
    /// A sentence to show when loading or sending failed.
    pub problem: RwSignal<Option<Text>>,
    conversation_id: StoredValue<String>,
    channel: StoredValue<Option<ChannelHandle>, LocalStorage>,
    delivery: Delivery,
    app: AppContext,
}

/// INSERT and UPDATE of this conversation's rows: the database's word, arriving even
/// when a broadcast was lost.
fn message_changes(conversation_id: &str) -> Vec<ChangesFilter> {
    ["INSERT", "UPDATE"]
        .into_iter()
        .map(|event| ChangesFilter {
            event: event.into(),
            schema: "public".into(),
            table: "messages".into(),
            filter: Some(format!("conversation_id=eq.{conversation_id}")),
        })
        .collect()
}

pub fn use_conversation(
    app: AppContext,
    delivery: Delivery,
    conversation_id: String,
) -> Conversation {
    let conversation = Conversation {
        store: RwSignal::new(MessageStore::new(&conversation_id)),
        status: RwSignal::new(Status::Subscribing),
        problem: RwSignal::new(None),
        conversation_id: StoredValue::new(conversation_id.clone()),
        channel: StoredValue::new_local(None),
        delivery,
        app,
    };
    // Messages still in the outbox (e.g. written offline before a reload) show as pending.
    conversation.store.update(|store| {
        for item in delivery.pending_for(&conversation_id) {
            store.apply(item.row.clone(), Source::Local);
            if item.failed {
                store.mark_failed(&item.row.id);
            }
        }
    });
    delivery.subscribe(&conversation_id, move |event| {
        conversation.on_delivery(event)
    });
    if let Some(client) = app.realtime.get_value() {
        let config = JoinConfig {
            private: true,
            postgres_changes: message_changes(&conversation_id),
            ..Default::default()
        };
        let topic = format!("conversation:{conversation_id}");
        let handle = client.channel(&topic, config, move |event| conversation.on_event(event));
        conversation.channel.set_value(Some(handle));
    }
    on_cleanup(move || {
        if let Some(id) = conversation.conversation_id.try_get_value() {
            delivery.unsubscribe(&id);
        }
        // Leaving tells the server; a switched-away conversation receives nothing more.
        let _ = conversation.channel.try_update_value(|channel| {
            if let Some(channel) = channel.take() {
                channel.leave();
            }
        });
    });
    conversation
}

impl Conversation {
    fn id(&self) -> String {
        self.conversation_id.get_value()
    }

    fn on_event(self, event: ChannelEvent) {
        match event {
            ChannelEvent::Status(status) => {
                let subscribed = status == Status::Subscribed;
                self.status.set(status);
                if subscribed {
                    self.fill_gap();
                }
            }
            ChannelEvent::Broadcast { event, payload } => match event.as_str() {
                "new_message" => self.on_new_message(payload),
                "message_read" => self.on_read(payload),
                _ => {}
            },
            ChannelEvent::PostgresChange { kind, record, .. }
                if kind == "INSERT" || kind == "UPDATE" =>
            {
                self.on_database_row(record, kind == "INSERT");
            }
            ChannelEvent::PostgresChange { .. } => {}
            // The change stream is live from here on: fetch whatever committed before it.
            ChannelEvent::System(payload) if payload["message"] == "Subscribed to PostgreSQL" => {
                self.fill_gap()
            }
            ChannelEvent::System(_) => {}
        }
    }

    fn on_database_row(self, record: Value, inserted: bool) {
        let Ok(row) = serde_json::from_value::<MessageRow>(record) else {
            return;
        };
        let theirs = Some(&row.sender_id) != self.app.user_id().as_ref();
        self.store.update(|store| {
            store.apply(row, Source::Database);
        });
        if inserted && theirs {
            self.mark_read();
            self.app.refresh_list();
        }
    }

    fn on_delivery(self, event: DeliveryEvent) {
        match event {
            DeliveryEvent::Delivered(saved) => {
                self.store.update(|store| {
                    store.apply(saved.clone(), Source::Database);
                });
                self.broadcast(
                    "new_message",
                    serde_json::to_value(&saved).unwrap_or_default(),
                );
                self.app.refresh_list();
            }
            DeliveryEvent::Failed(id) => self.store.update(|store| store.mark_failed(&id)),
            DeliveryEvent::Pending(id) => self.store.update(|store| store.mark_pending(&id)),
        }
    }

    fn on_new_message(self, payload: Value) {
        let Ok(row) = serde_json::from_value::<MessageRow>(payload) else {
            return;
        };
        // Only the other participant's messages arrive this way; our own come from the
        // database (a broadcast claiming to be ours is not trusted).
        if Some(&row.sender_id) == self.app.user_id().as_ref() {
            return;
        }
        self.store.update(|store| {
            store.apply(row, Source::Broadcast);
        });
        self.mark_read();
        self.app.refresh_list();
    }

    fn on_read(self, payload: Value) {
        let ids: Vec<String> = payload["ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let read_at = payload["read_at"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(now_iso);
        self.store.update(|store| {
            store.mark_read(&ids, &read_at);
        });
    }

    /// History on the first SUBSCRIBED; on every later one, whatever was missed.
    fn fill_gap(self) {
        let (Some(token), config) = (self.app.token(), self.app.config()) else {
            return;
        };
        let id = self.id();
        let since = self.store.with_untracked(MessageStore::gap_fill_since);
        spawn_local(async move {
            let rows = match since {
                Some(since) => rest::messages_since(&config, &token, &id, &since).await,
                None => rest::latest_messages(&config, &token, &id).await,
            };
            match rows {
                Ok(rows) => {
                    self.problem.set(None);
                    self.store.update(|store| store.apply_read(rows));
                    self.mark_read();
                    // Unread counts come from the database; re-read them after a gap.
                    self.app.refresh_list();
                }
                Err(error) => self.report(&error),
            }
        });
    }

    fn report(self, error: &ApiError) {
        web_sys::console::warn_1(&format!("conversation: {error}").into());
        self.problem.set(Some(error.text()));
    }

    /// Marks the other person's unread messages read (in the database first), then tells
    /// them at once with a `message_read` broadcast.
    fn mark_read(self) {
        let me = self.app.user_id().unwrap_or_default();
        let unread = self.store.with_untracked(|store| {
            store
                .messages()
                .iter()
                .any(|m| m.row.sender_id != me && !m.is_read())
        });
        if !unread || !page_visible() {
            return;
        }
        let (Some(token), config) = (self.app.token(), self.app.config()) else {
            return;
        };
        let id = self.id();
        spawn_local(async move {
            match rest::mark_conversation_read(&config, &token, &id).await {
                Ok(ids) if !ids.is_empty() => {
                    let read_at = now_iso();
                    self.store.update(|store| {
                        store.mark_read(&ids, &read_at);
                    });
                    self.broadcast("message_read", json!({ "ids": ids, "read_at": read_at }));
                    self.app.refresh_list();
                }
                Ok(_) => {}
                Err(error) => self.report(&error),
            }
        });
    }

    fn broadcast(self, event: &str, payload: Value) {
        self.channel.with_value(|channel| {
            if let Some(channel) = channel {
                channel.broadcast(event, payload);
            }
        });
    }

    /// Sends a (validated) message: visible at once as pending, kept in the durable
    /// outbox until the server has it, then announced (see `on_delivery`).
    pub fn send(self, body: String) {
        let row = MessageRow {
            id: new_uuid(),
            conversation_id: self.id(),
            sender_id: self.app.user_id().unwrap_or_default(),
            body,
            created_at: now_iso(),
            read_at: None,
        };
        self.store.update(|store| {
            store.apply(row.clone(), Source::Local);
        });
        self.delivery.enqueue(row);
    }

    /// Sends a failed message again, with the same id (the insert is idempotent).
    pub fn retry(self, id: &str) {
        self.delivery.retry(&self.id(), id);
    }

    /// Joins the channel again after an error the client does not retry by itself.
    pub fn rejoin(self) {
        self.channel.with_value(|channel| {
            if let Some(channel) = channel {
                channel.rejoin();
            }
        });
    }

    /// Gives up on a failed message.
    pub fn delete(self, id: &str) {
        self.delivery.remove(id);
        self.store.update(|store| store.remove_local(id));
    }
}
