//! Delivery: runs the person's outbox (policy in `outbox.rs`). Unsent messages are kept
//! per user in localStorage, so they survive reloads, browser restarts and a session the
//! server ended. Every tab of the person shows the same outbox — each merges the others'
//! copies by message id, never overwriting them — and one tab at a time (the holder of a
//! Web Lock) sends it: a 1 s timer while the browser is online, hurried when the
//! connection comes back. Every attempt carries the same id, so a retry can never store
//! a message twice; an attempt that hangs is abandoned after its timeout, or at once
//! when the connection comes back, and sent again.

use std::collections::HashMap;

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use super::listener::Listener;
use super::model::MessageRow;
use super::outbox::{Change, Failure, Outbox, Verdict};
use crate::api::fetch::Abort;
use crate::api::{rest, ApiError};
use crate::browser::{is_online, now_millis};
use crate::context::AppContext;
use crate::i18n::Text;
use crate::task::{start_now, Tasks};
use crate::time::parse_micros;
use crate::{locks, storage};

const TICK_MS: u32 = 1_000;
/// On a wake-up, requests older than this are presumed lost with the old network.
const STALE_REQUEST_MS: f64 = 3_000.0;

/// Where a user's outbox is kept.
pub fn storage_key(user_id: &str) -> String {
    format!("coach-chat.outbox.{user_id}")
}

/// Deletes a user's unsent messages (they signed out).
pub fn forget(user_id: &str) {
    storage::remove(&storage_key(user_id));
}

/// How many messages of a user wait on this device.
pub fn waiting(user_id: &str) -> usize {
    storage::load::<Outbox>(&storage_key(user_id)).map_or(0, |outbox| outbox.items().len())
}

#[derive(Clone, Copy)]
pub struct Delivery {
    /// The outbox as this tab knows it, other tabs' news merged in. Conversations derive
    /// their pending, failed and just-delivered bubbles from it.
    pub outbox: RwSignal<Outbox>,
    /// Whether this tab is the one that sends.
    pub sending: RwSignal<bool>,
    /// The server refused an edit or deletion: why, and the message as it has it.
    pub refused: RwSignal<Option<Refusal>>,
    /// Hears each message the moment the server has stored it (the open conversation
    /// announces its own at once, before the outbox is saved and the screen redrawn).
    pub stored: Listener<MessageRow>,
    key: StoredValue<String>,
    /// This tab's requests in flight: how to cut each short, and when it started.
    in_flight: StoredValue<HashMap<String, (Abort, f64)>, LocalStorage>,
    tasks: StoredValue<Tasks>,
    app: AppContext,
}

/// An edit or deletion the server refused (e.g. after the 15 minutes): the message's
/// stored row, to show again instead of the change, and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub id: String,
    pub stored: Option<MessageRow>,
    pub reason: Text,
}

/// Loads the signed-in user's outbox, joins the other tabs, and starts sending when this
/// tab gets the sender's lock. Everything stops on cleanup.
pub fn use_delivery(app: AppContext) -> Delivery {
    let user_id = app.user_id().unwrap_or_default();
    let key = storage_key(&user_id);
    let delivery = Delivery {
        outbox: RwSignal::new(storage::load::<Outbox>(&key).unwrap_or_default()),
        // Without Web Locks every tab sends (the insert is idempotent).
        sending: RwSignal::new(!locks::available()),
        refused: RwSignal::new(None),
        stored: Listener::new(),
        key: StoredValue::new(key.clone()),
        in_flight: StoredValue::new_local(HashMap::new()),
        tasks: StoredValue::new(Tasks::of_current_owner()),
        app,
    };
    let lock = locks::hold(&format!("coach-chat.outbox-sender.{user_id}"), move || {
        delivery.sending.try_set(true);
        delivery.tick();
    });
    let listener = storage::on_change(move |changed, value| {
        if changed == key {
            delivery.merge_stored(value);
        }
    });
    let timer = Interval::new(TICK_MS, move || delivery.tick());
    let owned = StoredValue::new_local(Some((lock, listener, timer)));
    Effect::new(move |previous: Option<()>| {
        app.wakes.track();
        if previous.is_some() {
            delivery.hurry();
        }
    });
    on_cleanup(move || {
        let _ = owned.try_update_value(|owned| owned.take());
        let _ = delivery.in_flight.try_update_value(|all| {
            for (abort, _) in all.values() {
                abort.abort();
            }
            all.clear();
        });
    });
    delivery.tick();
    delivery
}

impl Delivery {
    /// Changes the outbox: other tabs' stored news first, then `change`, then the merge
    /// is written back for them.
    fn change<R: Default>(self, change: impl FnOnce(&mut Outbox) -> R) -> R {
        let Some(key) = self.key.try_get_value() else {
            return R::default();
        };
        let stored = storage::load::<Outbox>(&key);
        let result = self
            .outbox
            .try_update(|outbox| {
                if let Some(stored) = &stored {
                    outbox.merge(stored);
                }
                change(outbox)
            })
            .unwrap_or_default();
        self.save();
        result
    }

    fn save(self) {
        let Some(key) = self.key.try_get_value() else {
            return;
        };
        self.outbox.try_with_untracked(|outbox| {
            if outbox.is_blank() {
                storage::remove(&key);
            } else {
                storage::save(&key, outbox);
            }
        });
    }

    /// Another tab wrote the outbox (or removed it: the person signed out there).
    fn merge_stored(self, text: Option<String>) {
        let Some(text) = text else {
            self.outbox.try_set(Outbox::default());
            return;
        };
        let Some(stored) = storage::parse::<Outbox>(&text) else {
            return;
        };
        let lacking = self
            .outbox
            .try_update(|outbox| outbox.merge(&stored))
            .unwrap_or(false);
        if lacking {
            self.save(); // restores what a racing write dropped
        }
        self.tick();
    }

    /// Queues a new message (already shown as pending by its conversation).
    pub fn enqueue(self, row: MessageRow) {
        self.change(|outbox| outbox.enqueue(row, now_millis()));
        self.tick();
    }

    /// The person edits (`Some(text)`) or deletes (`None`) one of their messages.
    pub fn change_message(self, id: &str, conversation_id: &str, body: Option<String>) {
        self.change(|outbox| outbox.change(id, conversation_id, body, now_millis()));
        self.tick();
    }

    /// Retry pressed on a failed message.
    pub fn retry(self, id: &str) {
        self.change(|outbox| outbox.retry(id, now_millis()));
        self.tick();
    }

    /// Delete pressed on a failed message. If the database has it after all (an answer
    /// lost after the commit), it is shown as sent instead of hidden.
    pub fn delete(self, id: String) {
        let (Some(token), Some(tasks)) = (self.app.token(), self.tasks.try_get_value()) else {
            self.change(|outbox| outbox.remove(&id, now_millis()));
            return;
        };
        let config = self.app.config();
        tasks.spawn(async move {
            match rest::stored_message(&config, &token, &id).await {
                Ok(Some(stored)) => self.change(|outbox| outbox.delivered(stored, now_millis())),
                // Not stored, or no way to ask now: the person's decision stands.
                _ => self.change(|outbox| outbox.remove(&id, now_millis())),
            }
        });
    }

    /// The connection is back: what waits goes now, and requests sent over the old
    /// network are abandoned and sent again.
    pub fn hurry(self) {
        if !self.sending.try_get_untracked().unwrap_or(false) {
            return;
        }
        let now = now_millis();
        let stale: Vec<String> = self
            .in_flight
            .try_with_value(|all| {
                all.iter()
                    .filter(|(_, (_, started))| now - started > STALE_REQUEST_MS)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default();
        for id in &stale {
            let abort = self
                .in_flight
                .try_update_value(|all| all.remove(id))
                .flatten();
            if let Some((abort, _)) = abort {
                abort.abort();
            }
            self.outbox.try_update(|outbox| outbox.release(id));
        }
        self.change(|outbox| outbox.hurry(now));
        self.tick();
    }

    fn tick(self) {
        if !self.sending.try_get_untracked().unwrap_or(false) || !is_online() {
            return; // attempts while offline would only burn the backoff
        }
        let due = self
            .outbox
            .try_update(|outbox| outbox.take_due(now_millis()))
            .unwrap_or_default();
        let Some(tasks) = self.tasks.try_get_value().filter(Tasks::alive) else {
            return;
        };
        // Each request leaves now, before the screen is redrawn for the new bubble.
        for row in due {
            tasks.spawn(start_now(self.send(row)));
        }
        let changes = self
            .outbox
            .try_update(|outbox| outbox.take_due_changes(now_millis()))
            .unwrap_or_default();
        for change in changes {
            tasks.spawn(self.send_change(change));
        }
    }

    async fn send_change(self, change: Change) {
        let Some(token) = self.app.token() else {
            self.change(|outbox| outbox.change_failed(&change.id, now_millis(), 1.0));
            return;
        };
        let config = self.app.config();
        let body = change.body.as_deref();
        let result = rest::change_message(&config, &token, &change.id, body, Abort::new()).await;
        match result {
            // `None`: no such message (any more) to change; nothing to retry.
            Ok(_) => {
                self.change(|outbox| outbox.change_done(&change.id, change.revision, now_millis()))
            }
            Err(error) if classify(&error) == Failure::Refused => {
                web_sys::console::warn_1(&format!("change of {}: {error}", change.id).into());
                let stored = rest::stored_message(&config, &token, &change.id).await;
                self.change(|outbox| outbox.change_done(&change.id, change.revision, now_millis()));
                self.refused.try_set(Some(Refusal {
                    id: change.id,
                    stored: stored.ok().flatten(),
                    reason: error.text(),
                }));
            }
            Err(_) => {
                let jitter = js_sys::Math::random();
                self.change(|outbox| outbox.change_failed(&change.id, now_millis(), jitter));
            }
        }
    }

    async fn send(self, row: MessageRow) {
        let Some(token) = self.app.token() else {
            self.outbox.try_update(|outbox| outbox.release(&row.id));
            return;
        };
        let abort = Abort::new();
        let sent = now_millis();
        let _ = self
            .in_flight
            .try_update_value(|all| drop(all.insert(row.id.clone(), (abort.clone(), sent))));
        let result = rest::insert_message(&self.app.config(), &token, &row, abort).await;
        let received = now_millis();
        let current = self
            .in_flight
            .try_update_value(|all| all.remove(&row.id))
            .flatten()
            .is_some_and(|(_, started)| started == sent);
        if !current {
            return; // abandoned by `hurry`, which has sent it again
        }
        match result {
            Ok(stored) => {
                self.stored.hand(&stored);
                if let Some(micros) = parse_micros(&stored.created_at) {
                    // The server stamped it while our request was out: a clock reading.
                    self.app.clock.try_update(|clock| {
                        clock.observe(micros as f64 / 1000.0, 0.001, sent, received)
                    });
                }
                self.change(|outbox| outbox.delivered(stored, received));
                self.tick(); // the next message of that conversation may go now
            }
            Err(error) => {
                web_sys::console::warn_1(&format!("delivery of {}: {error}", row.id).into());
                let jitter = js_sys::Math::random();
                let verdict = self.change(|outbox| {
                    Some(outbox.attempt_failed(&row.id, classify(&error), received, jitter))
                });
                if verdict == Some(Verdict::Check) {
                    self.check(row.id, token).await;
                }
            }
        }
    }

    /// After repeated server errors: does the database have the message after all?
    async fn check(self, id: String, token: String) {
        match rest::stored_message(&self.app.config(), &token, &id).await {
            Ok(Some(stored)) => self.change(|outbox| outbox.delivered(stored, now_millis())),
            Ok(None) => self.change(|outbox| outbox.give_up(&id)),
            Err(_) => self.change(|outbox| outbox.check_unanswered(&id)),
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
