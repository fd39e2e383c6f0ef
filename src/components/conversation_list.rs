//! The conversation list: the other person's name, the last message, its time and the
//! unread count (the data comes from `chat::list`). Its search box narrows it by name as
//! one types and, below, lists the messages found (`chat::search`), the match marked; one
//! opens its conversation at that message.

use std::time::Duration;

use leptos::prelude::*;

use super::announcement::Announcement;
use super::invitations::Invitations;
use super::seen::seen_text;
use crate::browser::short_time;
use crate::chat::account::Account;
use crate::chat::list::ConversationList as ListState;
use crate::chat::model::{highlight, name_matches, ConversationSummary, MessageRow};
use crate::chat::search::use_message_search;
use crate::context::use_app;
use crate::i18n::{unread, Text};
use crate::intl::fold_case;

/// Rows built at first (more than a tall screen shows): a trainer with 200 clients sees
/// the top of the list as soon as one with a handful would.
const FIRST_ROWS: usize = 16;

/// Rows built once the first are on screen, and added again as the person scrolls down.
const ROWS_STEP: usize = 40;

/// What the list area shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Showing {
    Failed,
    Loading,
    NoConversations,
    NobodyFound,
    Rows,
}

#[component]
pub fn ConversationList(
    list: ListState,
    selected: RwSignal<Option<ConversationSummary>>,
    account: Account,
    /// A found message to bring into view once its conversation is open.
    jump_to: RwSignal<Option<String>>,
) -> impl IntoView {
    let app = use_app();
    let (shown, failure) = (list.summaries, list.failure);
    let me = StoredValue::new(app.user_id().unwrap_or_default());
    // What the search box holds, lower-cased: the list shows whom it finds, as one types.
    let query = RwSignal::new(String::new());
    let found = Memo::new(move |_| {
        shown.with(|list| {
            let list = list.as_ref()?;
            query.with(|query| {
                Some(
                    list.iter()
                        .filter(|s| name_matches(s, query, fold_case))
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            })
        })
    });
    let showing = Memo::new(move |_| {
        match (
            shown.with(|s| s.as_ref().map(Vec::is_empty)),
            found.with(|f| f.as_ref().map(Vec::is_empty)),
        ) {
            (None, _) if failure.with(Option::is_some) => Showing::Failed,
            (None, _) => Showing::Loading,
            (Some(true), _) => Showing::NoConversations,
            (_, Some(true)) => Showing::NobodyFound,
            _ => Showing::Rows,
        }
    });
    // Messages found by what the box holds, under the people it finds.
    let found_messages = use_message_search(app, query.into());
    let open_found = move |message: &MessageRow| {
        let summary = shown.with_untracked(|list| {
            list.iter()
                .flatten()
                .find(|s| s.conversation_id == message.conversation_id)
                .cloned()
        });
        if let Some(summary) = summary {
            selected.set(Some(summary));
            jump_to.set(Some(message.id.clone()));
        }
    };
    let messages_section = move || {
        let items = found_messages.with(|found| {
            found
                .iter()
                .map(|message| {
                    let name = shown.with_untracked(|list| {
                        list.iter()
                            .flatten()
                            .find(|s| s.conversation_id == message.conversation_id)
                            .map(|s| s.other_name.clone())
                    });
                    let parts = query.with_untracked(|q| highlight(&message.body, q, 40));
                    let snippet = parts
                        .into_iter()
                        .map(|(text, matched)| {
                            if matched {
                                view! { <mark>{text}</mark> }.into_any()
                            } else {
                                text.into_any()
                            }
                        })
                        .collect_view();
                    let when = short_time(&message.created_at, app.lang.get_untracked().tag());
                    let message = message.clone();
                    view! {
                        <li>
                            <button class="found-message" data-id=message.id.clone()
                                on:click=move |_| open_found(&message)>
                                <span class="name">{name}</span>
                                <time class="when">{when}</time>
                                <span class="snippet">{snippet}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view()
        });
        (!found_messages.with(Vec::is_empty)).then(|| {
            view! {
                <section class="found-messages" aria-label=app.tr(Text::Messages)>
                    <h3>{app.tr(Text::Messages)}</h3>
                    <ul>{items}</ul>
                </section>
            }
        })
    };
    let limit = RwSignal::new(FIRST_ROWS);
    // Once the first rows are drawn, the rest of a step follows (before any scrolling).
    Effect::new(move |_| {
        if showing.get() == Showing::Rows && limit.get_untracked() < ROWS_STEP {
            request_animation_frame(move || {
                set_timeout(
                    move || {
                        limit.try_set(ROWS_STEP);
                    },
                    Duration::ZERO,
                )
            });
        }
    });
    let rows = move || {
        let limit = limit.get();
        found.with(|found| {
            found
                .iter()
                .flatten()
                .take(limit)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let total = move || found.with(|found| found.as_ref().map_or(0, Vec::len));
    // Near the end of what is built, build the next rows.
    let on_scroll = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(nav) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let near_end = nav.scroll_top() + nav.client_height() > nav.scroll_height() - 400;
        if near_end && limit.get_untracked() < total() {
            limit.update(|limit| *limit += ROWS_STEP);
        }
    };

    view! {
        <nav class="conversations" aria-label=app.tr(Text::Conversations) on:scroll=on_scroll>
            <h2>{app.tr(Text::Conversations)}</h2>
            {move || account.is_trainer().then(|| view! { <Invitations /> <Announcement list=list /> })}
            <input class="search" type="search" placeholder=app.tr(Text::SearchByName)
                aria-label=app.tr(Text::SearchByName)
                on:input=move |ev| query.set(fold_case(event_target_value(&ev).trim())) />
            <Show when=move || failure.get().is_some()>
                <p class="error">{move || failure.get().map(|text| app.t(text))}</p>
            </Show>
            {move || match showing.get() {
                Showing::Failed => ().into_any(),
                Showing::Loading => view! { <p class="muted">{app.t(Text::Loading)}</p> }.into_any(),
                Showing::NoConversations => view! { <p class="muted">{app.t(Text::NoConversations)}</p> }.into_any(),
                Showing::NobodyFound => view! { <p class="muted">{app.t(Text::NobodyFound)}</p> }.into_any(),
                // A row is kept while its conversation is listed and follows its summary, so a
                // click is never lost to a redraw (a message, a receipt, last seen).
                Showing::Rows => view! {
                    <ul on:keydown=move_focus data-count=move || total().to_string()>
                        <For each=rows key=|summary| summary.conversation_id.clone() let:summary>
                            <ConversationRow summary=summary found=found me=me selected=selected />
                        </For>
                    </ul>
                }.into_any(),
            }}
            {messages_section}
        </nav>
    }
}

/// One conversation: the other person's name, last seen, the last message and its time,
/// the unread count — kept up to date from `found` as long as the row stays.
#[component]
fn ConversationRow(
    summary: ConversationSummary,
    found: Memo<Option<Vec<ConversationSummary>>>,
    me: StoredValue<String>,
    selected: RwSignal<Option<ConversationSummary>>,
) -> impl IntoView {
    let app = use_app();
    let conversation_id = summary.conversation_id.clone();
    let id = StoredValue::new(summary.conversation_id.clone());
    let fresh = Memo::new(move |_| {
        let latest = id.with_value(|id| {
            found.with(|found| {
                found
                    .iter()
                    .flatten()
                    .find(|s| &s.conversation_id == id)
                    .cloned()
            })
        });
        latest.unwrap_or_else(|| summary.clone())
    });
    let is_selected = move || {
        id.with_value(|id| selected.with(|s| s.as_ref().is_some_and(|s| &s.conversation_id == id)))
    };
    let preview = move || {
        fresh.with(|s| {
            let body = s.last_body.clone()?;
            // Only a deleted message has no text.
            let body = if body.is_empty() {
                app.t(Text::MessageDeleted).to_string()
            } else {
                body
            };
            let mine = me.with_value(|me| s.last_sender_id.as_deref() == Some(me.as_str()));
            Some(if mine {
                format!("{}: {body}", app.t(Text::You))
            } else {
                body
            })
        })
    };
    let unread_count = move || fresh.with(|s| s.unread_count);
    let when = move || fresh.with(|s| short_time(&s.last_at, app.lang.get().tag()));
    let seen = move || fresh.with(|s| seen_text(app, None, s.other_last_seen_at.as_deref()));
    view! {
        <li>
            <button class="conversation" class:selected=is_selected
                data-conversation=conversation_id
                on:click=move |_| selected.set(Some(fresh.get_untracked()))>
                <span class="name">
                    {move || fresh.with(|s| s.other_name.clone())}
                    {move || fresh.with(|s| s.pinned).then(|| view! {
                        <span class="flag pinned" title=app.tr(Text::Pinned) aria-label=app.tr(Text::Pinned)>"📌"</span>
                    })}
                    {move || fresh.with(|s| s.muted).then(|| view! {
                        <span class="flag muted" title=app.tr(Text::Muted) aria-label=app.tr(Text::Muted)>"🔕"</span>
                    })}
                </span>
                <time class="when">{when}</time>
                {move || seen().map(|text| view! { <span class="seen">{text}</span> })}
                <span class="preview">{preview}</span>
                {move || (unread_count() > 0).then(|| view! {
                    <span class="unread" aria-label=move || unread(app.lang.get(), unread_count())>{unread_count}</span>
                })}
            </button>
        </li>
    }
}

/// Up and Down (Home, End) move between the conversations; Enter opens one (a button).
fn move_focus(ev: leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let step: isize = match ev.key().as_str() {
        "ArrowDown" => 1,
        "ArrowUp" => -1,
        "Home" => isize::MIN,
        "End" => isize::MAX,
        _ => return,
    };
    let Some(list) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    let Ok(buttons) = list.query_selector_all("button.conversation") else {
        return;
    };
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    let count = buttons.length() as isize;
    let current = (0..count).find(|&i| {
        buttons
            .item(i as u32)
            .map(|n| n.unchecked_into::<web_sys::Element>())
            == active
    });
    let next = match (current, step) {
        (_, isize::MIN) => 0,
        (_, isize::MAX) => count - 1,
        (Some(i), step) => (i + step).clamp(0, count - 1),
        (None, _) => 0,
    };
    if let Some(button) = buttons.item(next as u32) {
        ev.prevent_default(); // the list does not scroll by itself as well
        let _ = button.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}
