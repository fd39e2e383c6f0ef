//! The conversation list: the other person's name, the last message, its time and the
//! unread count — all from the database, refetched whenever something changes. The last
//! list fetched is kept on the device, so the app opens (and queues messages) offline.

use leptos::prelude::*;

use crate::api::rest;
use crate::browser::short_time;
use crate::chat::model::ConversationSummary;
use crate::context::use_app;
use crate::i18n::{unread, Text};
use crate::storage;

/// Where a user's last conversation list is cached (cleared on sign-out).
pub fn cache_key(user_id: &str) -> String {
    format!("coach-chat.conversations.{user_id}")
}

#[component]
pub fn ConversationList(selected: RwSignal<Option<ConversationSummary>>) -> impl IntoView {
    let app = use_app();
    let summaries = LocalResource::new(move || {
        app.list_version.track();
        let token = app.token();
        let config = app.config();
        async move {
            match token {
                Some(token) => rest::conversation_summaries(&config, &token).await,
                None => Ok(Vec::new()),
            }
        }
    });
    let key = cache_key(&app.user_id().unwrap_or_default());
    let shown = RwSignal::new(storage::load::<Vec<ConversationSummary>>(&key));
    let failure = RwSignal::new(None::<Text>);
    Effect::new(move |_| match summaries.get() {
        Some(Ok(list)) => {
            storage::save(&key, &list);
            failure.set(None);
            shown.set(Some(list));
        }
        Some(Err(error)) => failure.set(Some(error.text())),
        None => {}
    });
    // Keep the selection's header fresh, and open the only conversation a client has.
    Effect::new(move |_| {
        if let Some(list) = shown.get() {
            match selected.get_untracked() {
                Some(current) => {
                    if let Some(fresh) = list
                        .iter()
                        .find(|s| s.conversation_id == current.conversation_id)
                    {
                        if *fresh != current {
                            selected.set(Some(fresh.clone()));
                        }
                    }
                }
                None if list.len() == 1 => selected.set(list.first().cloned()),
                None => {}
            }
        }
    });
    let me = app.user_id().unwrap_or_default();

    view! {
        <nav class="conversations" aria-label=move || app.t(Text::Conversations)>
            <h2>{move || app.t(Text::Conversations)}</h2>
            <Show when=move || failure.get().is_some()>
                <p class="error">{move || failure.get().map(|text| app.t(text))}</p>
            </Show>
            {move || match shown.get() {
                None if failure.get().is_some() => ().into_any(),
                None => view! { <p class="muted">{app.t(Text::Loading)}</p> }.into_any(),
                Some(list) if list.is_empty() => {
                    view! { <p class="muted">{app.t(Text::NoConversations)}</p> }.into_any()
                }
                Some(list) => {
                    let me = me.clone();
                    view! {
                        <ul>
                            {list.into_iter().map(|summary| {
                                let id = summary.conversation_id.clone();
                                let is_selected = move || selected.with(|s| s.as_ref().is_some_and(|s| s.conversation_id == id));
                                let preview = summary.last_body.clone().map(|body| {
                                    if summary.last_sender_id.as_deref() == Some(me.as_str()) {
                                        format!("{}: {body}", app.t(Text::You))
                                    } else {
                                        body
                                    }
                                });
                                let unread_count = summary.unread_count;
                                let last_at = summary.last_at.clone();
                                let pick = summary.clone();
                                view! {
                                    <li>
                                        <button class="conversation" class:selected=is_selected
                                            data-conversation=summary.conversation_id.clone()
                                            on:click=move |_| selected.set(Some(pick.clone()))>
                                            <span class="name">{summary.other_name.clone()}</span>
                                            <time class="when">{move || short_time(&last_at, app.lang.get().tag())}</time>
                                            <span class="preview">{preview}</span>
                                            <Show when=move || { unread_count > 0 }>
                                                <span class="unread" aria-label=move || unread(app.lang.get(), unread_count)>{unread_count}</span>
                                            </Show>
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </nav>
    }
}
