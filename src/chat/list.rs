//! `use_conversation_list`: the person's conversations with the other person's name, the
//! last message and the unread count — all from the database, fetched again whenever
//! something changes (`AppContext::refresh_list`). The last list fetched is kept on the
//! device, so the app opens (and queues messages) offline. A person with exactly one
//! conversation finds it open when the app starts — once: after Back it stays closed.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use super::model::{sort_conversations, ConversationSummary};
use crate::api::rest;
use crate::context::AppContext;
use crate::i18n::Text;
use crate::storage;
use crate::task::{start_now, Tasks};

/// Asks for a new list this close together share one fetch (in a burst of messages the
/// list is redrawn a few times a second, not once per message).
const COALESCE_MS: u32 = 400;

/// After a failed fetch the list is asked for again after this, doubling per failure in a
/// row up to `RETRY_MAX_MS`.
const RETRY_FIRST_MS: u32 = 500;
const RETRY_MAX_MS: u32 = 30_000;

/// Where a user's last conversation list is cached.
fn cache_key(user_id: &str) -> String {
    format!("coach-chat.conversations.{user_id}")
}

/// Deletes a user's cached list (they signed out).
pub fn forget(user_id: &str) {
    storage::remove(&cache_key(user_id));
}

#[derive(Clone, Copy)]
pub struct ConversationList {
    /// `None` until the first list (cached or fetched) is there.
    pub summaries: RwSignal<Option<Vec<ConversationSummary>>>,
    /// Why the last fetch failed, if it did.
    pub failure: RwSignal<Option<Text>>,
    /// Numbers the fetches: only the latest one's answer is shown.
    fetches: StoredValue<u32>,
    /// Mute and pin changes on their way to the server: a list read before they are stored
    /// shows them all the same (it would otherwise undo them for a moment).
    unsaved: StoredValue<Vec<FlagChange>>,
    tasks: StoredValue<Tasks>,
    app: AppContext,
}

/// One mute or pin change of one conversation (`None`: that setting is not changed).
#[derive(Clone, PartialEq)]
struct FlagChange {
    conversation_id: String,
    mute: Option<bool>,
    pin: Option<bool>,
}

impl FlagChange {
    fn apply(&self, list: &mut [ConversationSummary]) {
        for summary in list.iter_mut() {
            if summary.conversation_id == self.conversation_id {
                summary.muted = self.mute.unwrap_or(summary.muted);
                summary.pinned = self.pin.unwrap_or(summary.pinned);
            }
        }
    }
}

impl ConversationList {
    /// Mutes or unmutes (`mute`), pins or unpins (`pin`) a conversation for the person:
    /// shown at once, stored in the database (the person's other devices hear of it on
    /// their inbox), and the list read again — which also undoes it if the server refused.
    pub fn set_flags(self, conversation_id: &str, mute: Option<bool>, pin: Option<bool>) {
        let change = FlagChange {
            conversation_id: conversation_id.to_string(),
            mute,
            pin,
        };
        self.summaries.update(|list| {
            if let Some(list) = list {
                change.apply(list);
                sort_conversations(list);
            }
        });
        let (Some(token), config, Some(tasks)) = (
            self.app.token(),
            self.app.config(),
            self.tasks.try_get_value(),
        ) else {
            return;
        };
        self.unsaved
            .update_value(|unsaved| unsaved.push(change.clone()));
        let app = self.app;
        tasks.spawn(async move {
            let id = &change.conversation_id;
            let result = rest::set_conversation_settings(&config, &token, id, mute, pin).await;
            if let Err(error) = result {
                self.failure.try_set(Some(error.text()));
            }
            let _ = self.unsaved.try_update_value(|unsaved| {
                if let Some(at) = unsaved.iter().position(|c| *c == change) {
                    unsaved.remove(at);
                }
            });
            // Lists read before the change was stored are stale: a new one is read.
            let _ = self.fetches.try_update_value(|n| *n = n.wrapping_add(1));
            app.refresh_list();
        });
    }

    /// A fetched list, with the changes not yet stored shown on it.
    fn show(self, mut summaries: Vec<ConversationSummary>) {
        let _ = self.unsaved.try_with_value(|unsaved| {
            for change in unsaved {
                change.apply(&mut summaries);
            }
            if !unsaved.is_empty() {
                sort_conversations(&mut summaries);
            }
        });
        self.summaries.try_set(Some(summaries));
    }
}

/// Fetches the list whenever `app.list_version` moves, keeps `selected`'s summary fresh
/// and opens a lone conversation at start.
pub fn use_conversation_list(
    app: AppContext,
    selected: RwSignal<Option<ConversationSummary>>,
) -> ConversationList {
    let key = StoredValue::new(cache_key(&app.user_id().unwrap_or_default()));
    let tasks = Tasks::of_current_owner();
    let fetches = StoredValue::new(0u32);
    let failures = StoredValue::new(0u32);
    let list = ConversationList {
        summaries: RwSignal::new(storage::load(&key.get_value())),
        failure: RwSignal::new(None),
        fetches,
        unsaved: StoredValue::new(Vec::new()),
        tasks: StoredValue::new(tasks.clone()),
        app,
    };
    // The first list of the session may open a lone conversation; later ones never do.
    let auto_open_pending = StoredValue::new(true);
    let fetch = std::rc::Rc::new(move || {
        let (Some(token), config) = (app.token(), app.config()) else {
            return;
        };
        let Some(number) = fetches.try_get_value().map(|n| n.wrapping_add(1)) else {
            return;
        };
        fetches.set_value(number);
        // Sent now: the first one travels while the rest of the screen is built.
        let request = start_now(async move { rest::conversation_summaries(&config, &token).await });
        tasks.spawn(async move {
            let result = request.await;
            if fetches.try_get_value() != Some(number) {
                return; // a newer fetch is under way; its answer is the one to show
            }
            match result {
                Ok(summaries) => {
                    let _ = failures.try_update_value(|n| *n = 0);
                    if let Some(key) = key.try_get_value() {
                        storage::save(&key, &summaries);
                    }
                    list.failure.try_set(None);
                    list.show(summaries);
                }
                Err(error) => {
                    list.failure.try_set(Some(error.text()));
                    // Asked again later, more slowly each time: a list that failed once
                    // (a busy server, a blip) must not stay stale until the next message.
                    let failed = failures.try_update_value(|n| {
                        *n = n.saturating_add(1);
                        *n
                    });
                    let Some(failed) = failed else { return };
                    let wait =
                        (RETRY_FIRST_MS << failed.min(7).saturating_sub(1)).min(RETRY_MAX_MS);
                    gloo_timers::future::TimeoutFuture::new(wait).await;
                    if fetches.try_get_value() == Some(number) {
                        app.refresh_list();
                    }
                }
            }
        });
    });
    // One event asks several times (the inbox's broadcast, the stored row, the read
    // receipt): asks within COALESCE_MS share one fetch, made after the first of them.
    let pending = StoredValue::new_local(None::<Timeout>);
    fetch(); // the first list of the session: at once
    Effect::new(move |started: Option<()>| {
        app.list_version.track();
        if started.is_none() {
            return;
        }
        if pending.try_with_value(Option::is_some).unwrap_or(true) {
            return;
        }
        let fetch = fetch.clone();
        let timer = Timeout::new(COALESCE_MS, move || {
            let _ = pending.try_update_value(|pending| pending.take());
            fetch();
        });
        pending.set_value(Some(timer));
    });
    on_cleanup(move || {
        let _ = pending.try_update_value(|pending| pending.take());
    });
    Effect::new(move |_| {
        let Some(summaries) = list.summaries.get() else {
            return;
        };
        let current = selected.get_untracked();
        match current {
            // Keep the open conversation's header fresh.
            Some(current) => {
                if let Some(fresh) = summaries
                    .iter()
                    .find(|s| s.conversation_id == current.conversation_id)
                {
                    if *fresh != current {
                        selected.set(Some(fresh.clone()));
                    }
                }
            }
            None if auto_open_pending.get_value() && summaries.len() == 1 => {
                selected.set(summaries.first().cloned())
            }
            None => {}
        }
        auto_open_pending.set_value(false);
    });
    list
}
