//! `use_conversation`: the live state of the open conversation. Joins the private channel
//! `conversation:{id}` when mounted and leaves it on cleanup; loads history and fills
//! gaps on every SUBSCRIBED; sends with an optimistic bubble, an idempotent insert and a
//! broadcast; marks incoming messages read while the page is visible.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use super::model::MessageRow;
use super::store::{MessageStore, Source};
use crate::api::{rest, ApiError};
use crate::browser::{new_uuid, now_iso, page_visible};
use crate::context::AppContext;
use crate::i18n::Text;
use crate::realtime::{ChannelEvent, ChannelHandle, JoinConfig, Status};

/// Handle to the open conversation; cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct Conversation {
    pub store: RwSignal<MessageStore>,
    pub status: RwSignal<Status>,
    /// A sentence to show when loading or sending failed.
    pub problem: RwSignal<Option<Text>>,
    conversation_id: StoredValue<String>,
    channel: StoredValue<Option<ChannelHandle>, LocalStorage>,
    app: AppContext,
}

pub fn use_conversation(app: AppContext, conversation_id: String) -> Conversation {
    let conversation = Conversation {
        store: RwSignal::new(MessageStore::new(&conversation_id)),
        status: RwSignal::new(Status::Subscribing),
        problem: RwSignal::new(None),
        conversation_id: StoredValue::new(conversation_id.clone()),
        channel: StoredValue::new_local(None),
        app,
    };
    let client = app.realtime.get_value();
    if let Some(client) = client {
        let handle = client.channel(
            &format!("conversation:{conversation_id}"),
            JoinConfig {
                private: true,
                ..Default::default()
            },
            move |event| conversation.on_event(event),
        );
        conversation.channel.set_value(Some(handle));
    }
    on_cleanup(move || {
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
            ChannelEvent::System(_) => {}
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
        let since = self
            .store
            .with_untracked(|store| store.newest_confirmed().map(|m| m.row.created_at.clone()));
        spawn_local(async move {
            let rows = match since {
                Some(since) => rest::messages_since(&config, &token, &id, &since).await,
                None => rest::latest_messages(&config, &token, &id).await,
            };
            match rows {
                Ok(rows) => {
                    self.problem.set(None);
                    self.store.update(|store| {
                        for row in rows {
                            store.apply(row, Source::Database);
                        }
                    });
                    self.mark_read();
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

    /// Sends a (validated) message: visible at once as pending, then stored, then announced.
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
        self.deliver(row);
    }

    /// Sends a failed message again, with the same id (the insert is idempotent).
    pub fn retry(self, id: &str) {
        let Some(row) = self
            .store
            .with_untracked(|store| store.get(id).map(|m| m.row.clone()))
        else {
            return;
        };
        self.store.update(|store| store.mark_pending(id));
        self.deliver(row);
    }

    fn deliver(self, row: MessageRow) {
        let (Some(token), config) = (self.app.token(), self.app.config()) else {
            return;
        };
        spawn_local(async move {
            match rest::insert_message(&config, &token, &row).await {
                Ok(saved) => {
                    self.store.update(|store| {
                        store.apply(saved.clone(), Source::Database);
                    });
                    self.broadcast(
                        "new_message",
                        serde_json::to_value(&saved).unwrap_or_default(),
                    );
                    self.app.refresh_list();
                }
                Err(error) => {
                    self.store.update(|store| store.mark_failed(&row.id));
                    self.report(&error);
                }
            }
        });
    }
}
