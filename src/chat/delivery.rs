//! Delivery: runs the outbox. Unsent messages are kept per user in localStorage (they
//! survive reloads and browser restarts), sent by a 1 s timer while the browser is
//! online, hurried when the connection comes back, and always with the same id, so a
//! retry can never store a message twice. Open conversations subscribe to hear when their
//! messages are stored or fail.

use std::collections::HashMap;
use std::rc::Rc;

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::model::MessageRow;
use super::outbox::{Failure, Outbox, OutboxItem};
use crate::api::{rest, ApiError};
use crate::browser::{is_online, now_millis};
use crate::context::AppContext;
use crate::storage;

const TICK_MS: u32 = 1_000;

/// What happened to one of the user's messages.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryEvent {
    /// Stored by the server; the row is the stored one.
    Delivered(MessageRow),
    /// Shown as failed, waiting for Retry or Delete.
    Failed(String),
    /// Being retried.
    Pending(String),
}

type Listener = Rc<dyn Fn(DeliveryEvent)>;

#[derive(Clone, Copy)]
pub struct Delivery {
    outbox: StoredValue<Outbox>,
    storage_key: StoredValue<String>,
    listeners: StoredValue<HashMap<String, Listener>, LocalStorage>,
    app: AppContext,
}

/// Where a user's outbox is kept (cleared on sign-out).
pub fn storage_key(user_id: &str) -> String {
    format!("coach-chat.outbox.{user_id}")
}

/// Loads the signed-in user's outbox and starts sending; stops on cleanup.
pub fn start_delivery(app: AppContext) -> Delivery {
    let key = storage_key(&app.user_id().unwrap_or_default());
    let delivery = Delivery {
        outbox: StoredValue::new(storage::load::<Outbox>(&key).unwrap_or_default()),
        storage_key: StoredValue::new(key),
        listeners: StoredValue::new_local(HashMap::new()),
        app,
    };
    let timer = StoredValue::new_local(Some(Interval::new(TICK_MS, move || delivery.tick())));
    on_cleanup(move || {
        let _ = timer.try_update_value(|timer| timer.take());
    });
    delivery.tick();
    delivery
}

impl Delivery {
    fn save(self) {
        self.outbox.with_value(|outbox| {
            let key = self.storage_key.get_value();
            if outbox.is_empty() {
                storage::remove(&key);
            } else {
                storage::save(&key, outbox);
            }
        });
    }

    fn notify(self, conversation_id: &str, event: DeliveryEvent) {
        let listener = self
            .listeners
            .with_value(|all| all.get(conversation_id).cloned());
        if let Some(listener) = listener {
            listener(event);
        }
    }

    /// Hears about the messages of one conversation (replaces an earlier listener).
    pub fn subscribe(self, conversation_id: &str, listener: impl Fn(DeliveryEvent) + 'static) {
        self.listeners.update_value(|all| {
            all.insert(conversation_id.to_string(), Rc::new(listener));
        });
    }

    pub fn unsubscribe(self, conversation_id: &str) {
        let _ = self
            .listeners
            .try_update_value(|all| all.remove(conversation_id));
    }

    /// Unsent messages of a conversation, oldest first (to show them after a reload).
    pub fn pending_for(self, conversation_id: &str) -> Vec<OutboxItem> {
        self.outbox.with_value(|outbox| {
            outbox
                .items()
                .iter()
                .filter(|item| item.row.conversation_id == conversation_id)
                .cloned()
                .collect()
        })
    }

    pub fn enqueue(self, row: MessageRow) {
        self.outbox
            .update_value(|outbox| outbox.enqueue(row, now_millis()));
        self.save();
        self.tick();
    }

    pub fn retry(self, conversation_id: &str, id: &str) {
        self.outbox
            .update_value(|outbox| outbox.retry(id, now_millis()));
        self.save();
        self.notify(conversation_id, DeliveryEvent::Pending(id.to_string()));
        self.tick();
    }

    pub fn remove(self, id: &str) {
        self.outbox.update_value(|outbox| outbox.remove(id));
        self.save();
    }

    /// The connection is back: send what waits now.
    pub fn hurry(self) {
        self.outbox
            .update_value(|outbox| outbox.hurry(now_millis()));
        self.tick();
    }

    fn tick(self) {
        if !is_online() {
            return; // attempts while offline would only burn the backoff
        }
        let due = self
            .outbox
            .try_update_value(|outbox| outbox.take_due(now_millis()))
            .unwrap_or_default();
        for row in due {
            spawn_local(self.send(row));
        }
    }

    async fn send(self, row: MessageRow) {
        let Some(token) = self.app.token() else {
            return;
        };
        match rest::insert_message(&self.app.config(), &token, &row).await {
            Ok(saved) => {
                self.outbox.update_value(|outbox| outbox.delivered(&row.id));
                self.save();
                self.notify(&row.conversation_id, DeliveryEvent::Delivered(saved));
                self.tick(); // the next message of that conversation may go now
            }
            Err(error) => {
                web_sys::console::warn_1(&format!("delivery of {}: {error}", row.id).into());
                let failure = classify(&error);
                let jitter = js_sys::Math::random();
                let failed = self
                    .outbox
                    .try_update_value(|outbox| {
                        outbox.attempt_failed(&row.id, failure, now_millis(), jitter)
                    })
                    .unwrap_or(false);
                self.save();
                if failed {
                    self.notify(&row.conversation_id, DeliveryEvent::Failed(row.id.clone()));
                }
            }
        }
    }
}

fn classify(error: &ApiError) -> Failure {
    match error {
        // An expired token is refreshed by the session; the retry then goes through.
        ApiError::Network(_) | ApiError::Unauthorized(_) => Failure::Network,
        error if error.is_transient() => Failure::Server,
        ApiError::Decode(_) => Failure::Server,
        _ => Failure::Refused,
    }
}
