//! The conversation list: the other person's name, the last message, its time and the
//! unread count (the data comes from `chat::list`).

use leptos::prelude::*;

use super::seen::seen_text;
use crate::browser::short_time;
use crate::chat::list::ConversationList as ListState;
use crate::chat::model::{name_matches, ConversationSummary};
use crate::context::use_app;
use crate::i18n::{unread, Text};
use crate::intl::fold_case;

#[component]
pub fn ConversationList(
    list: ListState,
    selected: RwSignal<Option<ConversationSummary>>,
) -> impl IntoView {
    let app = use_app();
    let (shown, failure) = (list.summaries, list.failure);
    let me = app.user_id().unwrap_or_default();
    // What the search box holds, lower-cased: the list shows whom it finds, as one types.
    let query = RwSignal::new(String::new());

    view! {
        <nav class="conversations" aria-label=app.tr(Text::Conversations)>
            <h2>{app.tr(Text::Conversations)}</h2>
            <input class="search" type="search" placeholder=app.tr(Text::SearchByName)
                aria-label=app.tr(Text::SearchByName)
                on:input=move |ev| query.set(fold_case(event_target_value(&ev).trim())) />
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
                    let list: Vec<ConversationSummary> = query.with(|query| {
                        list.into_iter().filter(|s| name_matches(s, query, fold_case)).collect()
                    });
                    if list.is_empty() {
                        return view! { <p class="muted">{app.t(Text::NobodyFound)}</p> }.into_any();
                    }
                    view! {
                        <ul on:keydown=move_focus>
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
                                let last_seen_at = summary.other_last_seen_at.clone();
                                let seen = move || seen_text(app, None, last_seen_at.as_deref());
                                let pick = summary.clone();
                                view! {
                                    <li>
                                        <button class="conversation" class:selected=is_selected
                                            data-conversation=summary.conversation_id.clone()
                                            on:click=move |_| selected.set(Some(pick.clone()))>
                                            <span class="name">{summary.other_name.clone()}</span>
                                            <time class="when">{move || short_time(&last_at, app.lang.get().tag())}</time>
                                            {move || seen().map(|text| view! { <span class="seen">{text}</span> })}
                                            <span class="preview">{preview}</span>
                                            {(unread_count > 0).then(|| view! {
                                                <span class="unread" aria-label=move || unread(app.lang.get(), unread_count)>{unread_count}</span>
                                            })}
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
