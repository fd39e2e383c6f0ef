//! `use_message_search`: the messages found for what the list's search box holds, asked
//! of the database a moment after the person stops typing (each answer only if it is still
//! for what the box holds). Fewer than two characters find no messages.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use super::model::{MessageRow, MIN_SEARCH_CHARS};
use crate::api::rest;
use crate::context::AppContext;
use crate::task::Tasks;

/// Typing pauses this long before the database is asked.
const PAUSE_MS: u32 = 250;

pub fn use_message_search(app: AppContext, query: Signal<String>) -> RwSignal<Vec<MessageRow>> {
    let found = RwSignal::new(Vec::new());
    let tasks = Tasks::of_current_owner();
    let timer = StoredValue::new_local(None::<Timeout>);
    Effect::new(move |_| {
        let wanted = query.get();
        let _ = timer.try_update_value(|timer| timer.take());
        if wanted.chars().count() < MIN_SEARCH_CHARS {
            found.set(Vec::new());
            return;
        }
        let tasks = tasks.clone();
        let pause = Timeout::new(PAUSE_MS, move || {
            let (Some(token), config) = (app.token(), app.config()) else {
                return;
            };
            tasks.spawn(async move {
                let answer = rest::search_messages(&config, &token, &wanted).await;
                if query.try_get_untracked().as_ref() == Some(&wanted) {
                    found.try_set(answer.unwrap_or_default());
                }
            });
        });
        timer.set_value(Some(pause));
    });
    on_cleanup(move || {
        let _ = timer.try_update_value(|timer| timer.take());
    });
    found
}
