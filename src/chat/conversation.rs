//! `use_conversation`: the live state of the open conversation. Joins the private channel
//! `conversation:{id}` (broadcast, plus Postgres Changes as the backup path) when mounted
//! and leaves it on cleanup; loads history and fills gaps on every SUBSCRIBED; shows the
//! outbox's bubbles for this conversation (pending, failed, stored — in every tab) and
//! announces a stored message with a broadcast; marks incoming messages read while the
//! page is visible, and again when the person comes back to it. Broadcasts are hints:
//! shown at once when well formed, confirmed or dropped by the database within seconds.
//! Every request it starts ends with it (`Tasks`).

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use serde_json::{json, Value};

use super::delivery::Delivery;
use super::model::{
    ids_from_read_broadcast, message_from_broadcast, ConversationSummary, MessageRow,
};
use super::outbox::Outbox;
use super::store::{MessageStore, Source};
use crate::api::{rest, ApiError};
use crate::browser::new_uuid;
use crate::context::AppContext;
use crate::i18n::Text;
use crate::realtime::{ChangesFilter, ChannelEvent, ChannelHandle, JoinConfig, Status};
use crate::task::Tasks;
use crate::time::format_micros;

/// How long a broadcast may stand unconfirmed before the database is asked about it.
const CONFIRM_AFTER_MS: u32 = 3_000;

/// Handle to the open conversation; cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct Conversation {
    pub store: RwSignal<MessageStore>,
    pub status: RwSignal<Status>,
    /// The backup path (Postgres Changes) is off; the server said so.
    pub backup_off: RwSignal<bool>,
    /// A sentence to show when loading or sending failed.
    pub problem: RwSignal<Option<Text>>,
    conversation_id: StoredValue<String>,
    other_id: StoredValue<String>,
    channel: StoredValue<Option<ChannelHandle>, LocalStorage>,
    /// Messages written in this view, announced by broadcast once stored.
    sent_here: StoredValue<Vec<String>>,
    confirm_timer: StoredValue<Option<Timeout>, LocalStorage>,
    /// A mark-read request is out; `true` inside when another was asked for meanwhile.
    marking: StoredValue<Option<bool>>,
    tasks: StoredValue<Tasks>,
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
    summary: &ConversationSummary,
) -> Conversation {
    let conversation_id = summary.conversation_id.clone();
    let conversation = Conversation {
        store: RwSignal::new(MessageStore::new(&conversation_id)),
        status: RwSignal::new(Status::Subscribing),
        backup_off: RwSignal::new(false),
        problem: RwSignal::new(None),
        conversation_id: StoredValue::new(conversation_id.clone()),
        other_id: StoredValue::new(summary.other_id.clone()),
        channel: StoredValue::new_local(None),
        sent_here: StoredValue::new(Vec::new()),
        confirm_timer: StoredValue::new_local(None),
        marking: StoredValue::new(None),
        tasks: StoredValue::new(Tasks::of_current_owner()),
        delivery,
        app,
    };
    // The outbox's bubbles of this conversation, whichever tab wrote or sent them.
    Effect::new(move |_| {
        delivery
            .outbox
            .with(|outbox| conversation.show_outbox(outbox))
    });
    // Coming back to the page marks what arrived meanwhile read.
    Effect::new(move |_| {
        if app.visible.get() {
            conversation.mark_read();
        }
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
        let _ = conversation
            .confirm_timer
            .try_update_value(|timer| timer.take());
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
    fn id(&self) -> Option<String> {
        self.conversation_id.try_get_value()
    }

    fn spawn(&self, task: impl std::future::Future<Output = ()> + 'static) {
        if let Some(tasks) = self.tasks.try_get_value() {
            tasks.spawn(task);
        }
    }

    fn on_event(self, event: ChannelEvent) {
        match event {
            ChannelEvent::Status(status) => {
                let subscribed = status == Status::Subscribed;
                self.status.try_set(status);
                if subscribed {
                    self.fill_gap();
                }
            }
            ChannelEvent::Broadcast { event, payload } => match event.as_str() {
                "new_message" => self.on_new_message(payload),
                "message_read" => self.on_read(&payload),
                _ => {}
            },
            ChannelEvent::PostgresChange { kind, record, .. } => {
                let Ok(row) = serde_json::from_value::<MessageRow>(record) else {
                    return;
                };
                match kind.as_str() {
                    "INSERT" => self.on_inserted(row),
                    "UPDATE" => {
                        self.store.try_update(|store| store.apply_update(row));
                    }
                    _ => {}
                }
            }
            ChannelEvent::System(payload) => self.on_system(&payload),
        }
    }

    fn on_system(self, payload: &Value) {
        if payload["extension"] != "postgres_changes" {
            return;
        }
        let off = payload["status"] == "error";
        self.backup_off.try_set(off);
        if off {
            let reason = payload["message"].as_str().unwrap_or_default();
            web_sys::console::warn_1(&format!("postgres changes off: {reason}").into());
        } else {
            // The change stream is live from here on: fetch whatever committed before it.
            self.fill_gap();
        }
    }

    fn on_inserted(self, row: MessageRow) {
        let theirs = Some(&row.sender_id) != self.app.user_id().as_ref();
        self.store
            .try_update(|store| store.apply(row, Source::Database));
        if theirs {
            self.mark_read();
            self.app.refresh_list();
        }
    }

    fn on_new_message(self, payload: Value) {
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
        self.confirm_soon();
        self.mark_read();
        self.app.refresh_list();
    }

    fn on_read(self, payload: &Value) {
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

    /// History on the first SUBSCRIBED; on every later one, whatever was missed.
    fn fill_gap(self) {
        let (Some(id), Some(token), config) = (self.id(), self.app.token(), self.app.config())
        else {
            return;
        };
        let since = self
            .store
            .try_with_untracked(MessageStore::gap_fill_since)
            .flatten();
        self.spawn(async move {
            let rows = match since {
                Some(since) => rest::messages_since(&config, &token, &id, &since).await,
                None => rest::latest_messages(&config, &token, &id).await,
            };
            match rows {
                Ok(rows) => {
                    self.problem.try_set(None);
                    self.store.try_update(|store| store.apply_read(rows));
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
        self.problem.try_set(Some(error.text()));
    }

    /// Marks the other person's unread messages read (in the database first), then tells
    /// them at once with a `message_read` broadcast. Only while the page is visible; one
    /// request at a time.
    fn mark_read(self) {
        let Some(me) = self.app.user_id() else {
            return;
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
        let visible = self.app.visible.try_get_untracked().unwrap_or(false);
        if !unread || !visible {
            return;
        }
        let busy = self
            .marking
            .try_update_value(|marking| match marking {
                Some(again) => {
                    *again = true;
                    true
                }
                None => {
                    *marking = Some(false);
                    false
                }
            })
            .unwrap_or(true);
        let (false, Some(id), Some(token)) = (busy, self.id(), self.app.token()) else {
            return;
        };
        let config = self.app.config();
        self.spawn(async move {
            match rest::mark_conversation_read(&config, &token, &id).await {
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
            let again = self
                .marking
                .try_update_value(|marking| marking.take())
                .flatten()
                .unwrap_or(false);
            if again {
                self.mark_read();
            }
        });
    }

    fn broadcast(self, event: &str, payload: Value) {
        let _ = self.channel.try_with_value(|channel| {
            if let Some(channel) = channel {
                channel.broadcast(event, payload);
            }
        });
    }

    /// Shows this conversation's messages of the outbox: waiting ones as pending or
    /// failed, delivered ones with the server's row (announced by broadcast when they
    /// were written here), deleted ones gone.
    fn show_outbox(self, outbox: &Outbox) {
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
                        let written_here = self
                            .sent_here
                            .try_update_value(|sent| {
                                let here = sent.contains(&row.id);
                                sent.retain(|sent| *sent != row.id);
                                here
                            })
                            .unwrap_or(false);
                        if written_here {
                            announce.push(row.clone());
                        }
                    }
                    None => changed |= store.remove_local(&done.id),
                }
            }
            (changed, ())
        });
        for row in announce {
            self.broadcast(
                "new_message",
                serde_json::to_value(&row).unwrap_or_default(),
            );
            self.app.refresh_list();
        }
    }

    /// Sends a (validated) message: visible at once as pending — stamped by the server's
    /// clock, so it does not jump when the stored row arrives — and kept in the durable
    /// outbox until the server has it.
    pub fn send(self, body: String) {
        let (Some(conversation_id), Some(sender_id)) = (self.id(), self.app.user_id()) else {
            return;
        };
        let row = MessageRow {
            id: new_uuid(),
            conversation_id,
            sender_id,
            body,
            created_at: format_micros((self.app.server_now_ms() * 1000.0) as i64),
            read_at: None,
        };
        self.store
            .try_update(|store| store.apply(row.clone(), Source::Local));
        let _ = self
            .sent_here
            .try_update_value(|sent| sent.push(row.id.clone()));
        self.delivery.enqueue(row);
    }

    /// Sends a failed message again, with the same id (the insert is idempotent).
    pub fn retry(self, id: &str) {
        self.delivery.retry(id);
    }

    /// Joins the channel again after an error the client does not retry by itself.
    pub fn rejoin(self) {
        let _ = self.channel.try_with_value(|channel| {
            if let Some(channel) = channel {
                channel.rejoin();
            }
        });
    }

    /// Gives up on a failed message.
    pub fn delete(self, id: &str) {
        self.delivery.delete(id.to_string());
    }
}
