//! `use_conversation`: the live state of the open conversation. Joins the private channel
//! `conversation:{id}` (broadcast, plus Postgres Changes as the backup path) when mounted
//! and leaves it on cleanup; loads history and fills gaps on every SUBSCRIBED; shows the
//! outbox's bubbles for this conversation (pending, failed, stored — in every tab) and
//! announces a stored message with a broadcast; marks incoming messages read while the
//! page is visible, and again when the person comes back to it. Broadcasts are hints:
//! shown at once when well formed, confirmed or dropped by the database within seconds.
//! Every request it starts ends with it (`Tasks`).

use std::collections::BTreeMap;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use serde_json::Value;

mod hints;
mod outbox_view;
mod quotes;
mod reading;
mod typing;

use super::delivery::Delivery;
use super::inbox::InboxRows;
use super::model::{ConversationSummary, MessageRow};
use super::store::{first_page_size, MessageStore, Source};
use super::typing::TypingSender;
use crate::api::rest::{self, Rows};
use crate::api::ApiError;
use crate::browser::new_uuid;
use crate::context::AppContext;
use crate::i18n::Text;
use crate::realtime::{
    ChangesFilter, ChannelEvent, ChannelHandle, JoinConfig, PresenceConfig, Status,
};
use crate::task::{Flight, Tasks};
use crate::time::format_micros;

/// Handle to the open conversation; cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct Conversation {
    pub store: RwSignal<MessageStore>,
    pub status: RwSignal<Status>,
    /// The backup path (Postgres Changes) is off; the server said so.
    pub backup_off: RwSignal<bool>,
    /// A sentence to show when loading or sending failed.
    pub problem: RwSignal<Option<Text>>,
    /// The other person has the conversation's channel open (presence), in any tab.
    pub other_online: RwSignal<bool>,
    /// The other person is writing.
    pub other_typing: RwSignal<bool>,
    /// The first history page is shown.
    pub loaded: RwSignal<bool>,
    /// The message the "unread messages" divider stands before: the first one that was
    /// unread when the conversation opened (it stays while the conversation is open).
    pub first_unread: RwSignal<Option<String>>,
    /// A page of older messages is on its way.
    pub loading_older: RwSignal<bool>,
    /// Messages quoted by replies but not loaded: fetched by id (`None`: asked for).
    quotes: RwSignal<BTreeMap<String, Option<MessageRow>>>,
    unread_at_open: i64,
    typing: StoredValue<TypingSender>,
    typing_idle: StoredValue<Option<Timeout>, LocalStorage>,
    typing_clear: StoredValue<Option<Timeout>, LocalStorage>,
    conversation_id: StoredValue<String>,
    other_id: StoredValue<String>,
    channel: StoredValue<Option<ChannelHandle>, LocalStorage>,
    /// Messages written in this view, announced by broadcast once stored.
    sent_here: StoredValue<Vec<String>>,
    confirm_timer: StoredValue<Option<Timeout>, LocalStorage>,
    /// Mark-read requests, one at a time.
    marking: StoredValue<Flight>,
    /// History and gap reads, one at a time (SUBSCRIBED and "Subscribed to PostgreSQL"
    /// both ask for one): a second identical read would only cost, and answer late.
    reading: StoredValue<Flight>,
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
        other_online: RwSignal::new(false),
        other_typing: RwSignal::new(false),
        loaded: RwSignal::new(false),
        first_unread: RwSignal::new(None),
        loading_older: RwSignal::new(false),
        quotes: RwSignal::new(BTreeMap::new()),
        unread_at_open: summary.unread_count,
        typing: StoredValue::new(TypingSender::default()),
        typing_idle: StoredValue::new_local(None),
        typing_clear: StoredValue::new_local(None),
        conversation_id: StoredValue::new(conversation_id.clone()),
        other_id: StoredValue::new(summary.other_id.clone()),
        channel: StoredValue::new_local(None),
        sent_here: StoredValue::new(Vec::new()),
        confirm_timer: StoredValue::new_local(None),
        marking: StoredValue::new(Flight::default()),
        reading: StoredValue::new(Flight::default()),
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
    // An edit or deletion the server refused: the stored text again, and why.
    Effect::new(move |_| {
        let Some(refusal) = delivery.refused.get() else {
            return;
        };
        let here = conversation
            .store
            .with_untracked(|store| store.get(&refusal.id).is_some());
        if here {
            if let Some(row) = refusal.stored {
                conversation.store.update(|store| store.replace(row));
            }
            conversation.problem.set(Some(refusal.reason));
        }
    });
    // Replies to messages older than those loaded: their originals, fetched.
    Effect::new(move |_| conversation.fetch_missing_quotes());
    // Coming back to the page marks what arrived meanwhile read.
    Effect::new(move |_| {
        if app.visible.get() {
            conversation.mark_read();
        }
    });
    if let Some(client) = app.realtime.get_value() {
        // Presence keyed by user id: several tabs of one person are one key.
        let presence = app.user_id().map(|me| PresenceConfig {
            key: me,
            track: serde_json::json!({ "online_at": crate::browser::now_iso() }),
        });
        let config = JoinConfig {
            private: true,
            postgres_changes: message_changes(&conversation_id),
            presence,
            ..Default::default()
        };
        let topic = format!("conversation:{conversation_id}");
        let handle = client.channel(&topic, config, move |event| conversation.on_event(event));
        conversation.channel.set_value(Some(handle));
    }
    // What the inbox announces for this conversation is shown too (often first).
    let inbox = use_context::<InboxRows>().map(|rows| {
        let ticket = rows.listen(move |(row, new)| {
            if conversation.id().as_ref() != Some(&row.conversation_id) {
                return;
            }
            if *new {
                conversation.on_inserted(row.clone());
            } else {
                conversation
                    .store
                    .try_update(|store| store.apply_update(row.clone()));
            }
        });
        (rows, ticket)
    });
    // A message written here is announced the moment the database has it, before the
    // outbox and the screen catch up.
    let stored_ticket = delivery
        .stored
        .listen(move |row| conversation.announce_if_written_here(row));
    on_cleanup(move || {
        conversation.mark_read_on_leave();
        if let Some((rows, ticket)) = inbox {
            rows.stop(ticket);
        }
        delivery.stored.stop(stored_ticket);
        let _ = conversation
            .confirm_timer
            .try_update_value(|timer| timer.take());
        let _ = conversation
            .typing_clear
            .try_update_value(|timer| timer.take());
        conversation.stop_typing();
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
    pub(super) fn id(&self) -> Option<String> {
        self.conversation_id.try_get_value()
    }

    pub(super) fn spawn(&self, task: impl std::future::Future<Output = ()> + 'static) {
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
                "typing" => self.on_typing(&payload),
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
            ChannelEvent::Presence(keys) => {
                let online = self
                    .other_id
                    .try_with_value(|other| keys.contains(other))
                    .unwrap_or(false);
                self.other_online.try_set(online);
                if !online {
                    self.clear_typing(); // gone: whatever they were writing, they stopped
                }
            }
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
            self.clear_typing();
            self.mark_read();
            self.app.refresh_list();
        }
    }

    /// History on the first SUBSCRIBED; on every later one, whatever was missed.
    fn fill_gap(self) {
        if !self.reading.try_update_value(Flight::ask).unwrap_or(false) {
            return; // one is out; another follows it from where it ends
        }
        self.spawn(async move {
            loop {
                self.read_missing().await;
                if self.reading.try_update_value(Flight::land) != Some(true) {
                    break;
                }
            }
        });
    }

    /// Reads the first history page, or what came after the newest message shown. A
    /// failed read is tried again after 1, 2, 4… s (at most 30 s apart) while the
    /// conversation is open: the channel may stay joined for hours, and waiting for its
    /// next SUBSCRIBED would leave the history missing as long.
    async fn read_missing(self) {
        for attempt in 0u32.. {
            let (Some(id), Some(token), config) = (self.id(), self.app.token(), self.app.config())
            else {
                return;
            };
            let since = self
                .store
                .try_with_untracked(MessageStore::gap_fill_since)
                .flatten();
            let first_page = first_page_size(self.unread_at_open);
            let gap = since.is_some();
            let which = match since {
                Some(since) => Rows::Since(since),
                None => Rows::Newest(first_page),
            };
            match rest::messages(&config, &token, &id, &which).await {
                Ok(rows) => {
                    self.problem.try_set(None);
                    self.store.try_update(|store| {
                        if gap {
                            store.apply_gap(rows)
                        } else {
                            store.apply_history(rows, first_page)
                        }
                    });
                    // Where the divider goes: decided by the first history read, before
                    // anything is marked read.
                    let first_read = !self.loaded.try_get_untracked().unwrap_or(true);
                    if !gap && first_read && self.unread_at_open > 0 {
                        let me = self.app.user_id().unwrap_or_default();
                        let first = self.store.try_with_untracked(|s| s.first_unread(&me));
                        self.first_unread.try_set(first.flatten());
                    }
                    self.loaded.try_set(true);
                    self.mark_read();
                    // Unread counts come from the database; re-read them after a gap.
                    self.app.refresh_list();
                    return;
                }
                Err(error) => {
                    self.report(&error);
                    let wait_ms = (1000u32 << attempt.min(5)).min(30_000);
                    gloo_timers::future::TimeoutFuture::new(wait_ms).await;
                }
            }
        }
    }

    /// Loads the page before the oldest message shown, if there is one and none is on
    /// its way. `before_showing` runs just before the page goes in (the view notes where
    /// the reader is, to keep them there).
    pub fn load_older(self, before_showing: impl FnOnce() + 'static) {
        let older = self
            .store
            .try_with_untracked(|s| s.has_older().then(|| s.oldest_cursor()).flatten())
            .flatten();
        let (Some((created_at, before_id)), Some(id), Some(token), config) =
            (older, self.id(), self.app.token(), self.app.config())
        else {
            return;
        };
        if self.loading_older.get_untracked() {
            return;
        }
        self.loading_older.set(true);
        self.spawn(async move {
            let which = Rows::Before(created_at, before_id);
            let rows = rest::messages(&config, &token, &id, &which).await;
            self.loading_older.try_set(false);
            match rows {
                Ok(rows) => {
                    before_showing();
                    self.store.try_update(|store| store.apply_older(rows));
                }
                Err(error) => self.report(&error),
            }
        });
    }

    pub(super) fn report(self, error: &ApiError) {
        web_sys::console::warn_1(&format!("conversation: {error}").into());
        self.problem.try_set(Some(error.text()));
    }

    pub(super) fn broadcast(self, event: &str, payload: Value) {
        let _ = self.channel.try_with_value(|channel| {
            if let Some(channel) = channel {
                channel.broadcast(event, payload);
            }
        });
    }

    /// Sends a (validated) message: visible at once as pending — stamped by the server's
    /// clock, so it does not jump when the stored row arrives — and kept in the durable
    /// outbox until the server has it.
    pub fn send(self, body: String, reply_to: Option<String>) {
        let (Some(conversation_id), Some(sender_id)) = (self.id(), self.app.user_id()) else {
            return;
        };
        self.stop_typing();
        let row = MessageRow {
            id: new_uuid(),
            conversation_id,
            sender_id,
            body,
            created_at: format_micros((self.app.server_now_ms() * 1000.0) as i64),
            read_at: None,
            reply_to,
            ..Default::default()
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

    /// Changes the text of one of one's own messages (shown at once, sent by the outbox).
    pub fn edit(self, id: &str, body: String) {
        if let Some(conversation_id) = self.id() {
            self.delivery
                .change_message(id, &conversation_id, Some(body));
        }
    }

    /// Reacts to a message with `emoji`, or takes the reaction back when it is the one
    /// given already: shown at once, then said to the server as the wanted state (tried
    /// again while the conversation is open if the network fails; a refusal is said and the
    /// stored reactions come back).
    pub fn react(self, id: &str, emoji: &str) {
        let Some(me) = self.app.user_id() else {
            return;
        };
        let mine = self
            .store
            .with_untracked(|s| s.get(id).and_then(|m| m.row.reactions.get(&me).cloned()));
        let wanted = (mine.as_deref() != Some(emoji)).then(|| emoji.to_string());
        self.store.update(|store| {
            store.show_reaction(id, &me, wanted.as_deref());
        });
        let id = id.to_string();
        self.spawn(async move {
            for attempt in 0u32..6 {
                let (Some(token), config) = (self.app.token(), self.app.config()) else {
                    return;
                };
                match rest::set_reaction(&config, &token, &id, wanted.as_deref()).await {
                    Ok(()) => return,
                    Err(error) if error.is_transient() => {
                        gloo_timers::future::TimeoutFuture::new(1000 << attempt).await;
                    }
                    Err(error) => {
                        self.report(&error);
                        if let Ok(Some(row)) = rest::stored_message(&config, &token, &id).await {
                            self.store.try_update(|store| store.replace(row));
                        }
                        return;
                    }
                }
            }
        });
    }

    /// Deletes one of one's own messages for both people, placeholder left.
    pub fn delete_for_everyone(self, id: &str) {
        if let Some(conversation_id) = self.id() {
            self.delivery.change_message(id, &conversation_id, None);
        }
    }
}
