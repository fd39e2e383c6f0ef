//! The messages of the open conversation, and where the reader is in them. It opens at
//! the first unread message (below its divider) or at the newest; it follows new messages
//! only while the reader is at the bottom (otherwise a "new messages ↓" pill counts them);
//! scrolling up, or the button at the top, loads older pages, and the message being read
//! stays where it was on screen when a page goes in above it.

use leptos::html::Ol;
use leptos::prelude::*;
use web_sys::Element;

use super::message_bubble::{BubbleActions, MessageBubble};
use crate::browser::local_day;
use crate::chat::conversation::Conversation;
use crate::chat::store::SendState;
use crate::chat::timeline::lay_out;
use crate::context::use_app;
use crate::i18n::{new_below, Text};

/// Closer than this to the bottom (px) is "at the bottom".
const AT_BOTTOM_PX: i32 = 48;
/// Scrolling up to within this of the top (px) loads the page before.
const LOAD_OLDER_PX: i32 = 600;

/// Where the reader is, kept between frames.
#[derive(Default)]
struct Position {
    /// Placed at the first unread message or the bottom once the history came.
    placed: bool,
    /// Following new messages.
    at_bottom: bool,
    /// The newest message the reader has had on screen at the bottom.
    newest_seen: Option<(i64, String)>,
    /// The newest message announced to screen readers (history is not announced).
    announced: Option<(i64, String)>,
    /// Before a page of older messages goes in: the first message's id and its offset
    /// from the top of the list, restored afterwards.
    anchor: Option<(String, f64)>,
    last_scroll_top: i32,
    /// A re-measure is already asked for this frame.
    frame_pending: bool,
}

#[component]
pub fn MessageList(
    conversation: Conversation,
    me: String,
    /// The other person's name, for announcing their messages.
    other_name: String,
    actions: BubbleActions,
    /// A message to bring into view (a quote was pressed); cleared once it is there, or
    /// once it is known not to be.
    jump_to: RwSignal<Option<String>>,
) -> impl IntoView {
    let app = use_app();
    let list = NodeRef::<Ol>::new();
    let position = StoredValue::new_local(Position {
        at_bottom: true,
        ..Default::default()
    });
    let unseen_below = RwSignal::new(0usize);
    // What a screen reader says when the other person writes: "Иван: …".
    let announcement = RwSignal::new(String::new());
    let other_name = StoredValue::new(other_name);
    let store = conversation.store;
    let me_id = StoredValue::new(me.clone());

    let newest = move || store.with_untracked(|s| s.messages().last().map(|m| m.sort_key.clone()));
    let scroll_to_bottom = move |list: &Element| {
        list.set_scroll_top(list.scroll_height());
        position.update_value(|p| {
            p.at_bottom = true;
            p.newest_seen = newest();
        });
        unseen_below.set(0);
    };
    // Runs once per frame after the messages changed, when the browser lays out anyway.
    let after_render = move || {
        position.update_value(|p| p.frame_pending = false);
        let Some(list) = list.get_untracked() else {
            return;
        };
        let list: &Element = &list;
        if let Some((id, offset)) = position.with_value(|p| p.anchor.clone()) {
            position.update_value(|p| p.anchor = None);
            if let Some(now) = offset_of(list, &id) {
                list.set_scroll_top(list.scroll_top() + (now - offset).round() as i32);
            }
            return;
        }
        announce_new(store, me_id, other_name, position, announcement);
        if !position.with_value(|p| p.placed) && conversation.loaded.get_untracked() {
            position.update_value(|p| {
                p.placed = true;
                // From here on, whatever the other person writes is read out.
                p.announced.get_or_insert((i64::MIN, String::new()));
            });
            match list.query_selector(".unread-divider").ok().flatten() {
                Some(divider) => {
                    let top = offset_in(list, &divider);
                    list.set_scroll_top(list.scroll_top() + top as i32 - 8);
                    let at_bottom = distance_to_bottom(list) < AT_BOTTOM_PX;
                    position.update_value(|p| {
                        p.at_bottom = at_bottom;
                        p.newest_seen = newest();
                    });
                }
                None => scroll_to_bottom(list),
            }
            return;
        }
        // One's own new message brings the reader down to it, as in every messenger.
        let seen = position.with_value(|p| p.newest_seen.clone());
        let me = me_id.get_value();
        let sent_now = store.with_untracked(|s| {
            s.messages().last().is_some_and(|m| {
                m.row.sender_id == me
                    && m.send_state == SendState::Pending
                    && Some(&m.sort_key) > seen.as_ref()
            })
        });
        if position.with_value(|p| p.at_bottom) || sent_now {
            scroll_to_bottom(list);
        } else {
            let count = store.with_untracked(|s| {
                s.messages()
                    .iter()
                    .rev()
                    .take_while(|m| Some(&m.sort_key) > seen.as_ref())
                    .filter(|m| m.row.sender_id != me)
                    .count()
            });
            unseen_below.set(count);
        }
    };
    Effect::new(move |_| {
        store.track();
        conversation.loaded.track();
        if position.with_value(|p| p.frame_pending) {
            return;
        }
        position.update_value(|p| p.frame_pending = true);
        request_animation_frame(move || {
            // The view may be gone by the next frame (the person switched away).
            if position.try_with_value(|_| ()).is_some() {
                after_render();
            }
        });
    });

    // A quote pressed: its original brought into view and flashed, the pages before the
    // loaded ones read first when it is older than them.
    Effect::new(move |_| {
        let Some(target) = jump_to.get() else {
            return;
        };
        store.track();
        if !conversation.loaded.get() {
            return; // the conversation is just opening: its first page decides
        }
        position.update_value(|p| {
            p.at_bottom = false; // not pulled down meanwhile
            if !p.placed {
                // Opened at this message: not at the bottom or the unread divider.
                p.placed = true;
                p.announced.get_or_insert((i64::MIN, String::new()));
            }
        });
        request_animation_frame(move || {
            let Some(list) = list.try_get_untracked().flatten() else {
                return;
            };
            let selector = format!("li.bubble[data-id=\"{target}\"]");
            if let Some(element) = list.query_selector(&selector).ok().flatten() {
                if let Ok(Some(previous)) = list.query_selector("li.bubble.highlight") {
                    let _ = previous.class_list().remove_1("highlight");
                }
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                element.scroll_into_view_with_scroll_into_view_options(&options);
                let _ = element.class_list().add_1("highlight");
                jump_to.try_set(None);
            } else if store.with_untracked(|s| s.has_older()) {
                conversation.load_older(|| {});
            } else {
                jump_to.try_set(None);
            }
        });
    });

    let load_older = move || {
        conversation.load_older(move || {
            let Some(list) = list.try_get_untracked().flatten() else {
                return;
            };
            let first = list
                .query_selector("li.bubble")
                .ok()
                .flatten()
                .and_then(|el| Some((el.get_attribute("data-id")?, offset_in(&list, &el))));
            let _ = position.try_update_value(|p| p.anchor = first);
        })
    };
    let on_scroll = move |_| {
        let Some(list) = list.get_untracked() else {
            return;
        };
        let top = list.scroll_top();
        let up = top < position.with_value(|p| p.last_scroll_top);
        let at_bottom = distance_to_bottom(&list) < AT_BOTTOM_PX;
        position.update_value(|p| {
            p.last_scroll_top = top;
            p.at_bottom = at_bottom;
            if at_bottom {
                p.newest_seen = newest();
            }
        });
        if at_bottom {
            unseen_below.set(0);
        }
        if up && top < LOAD_OLDER_PX {
            load_older();
        }
    };

    let entries = move || {
        let first_unread = conversation.first_unread.get();
        store.with(|s| lay_out(s.messages(), local_day, first_unread.as_deref()))
    };
    let has_older = move || store.with(|s| s.has_older());
    let started =
        move || conversation.loaded.get() && store.with(|s| !s.has_older() && !s.is_empty());
    let key_me = me.clone();
    view! {
        <div class="message-pane">
            <p class="sr-only" aria-live="polite">{announcement}</p>
            <ol class="messages" node_ref=list on:scroll=on_scroll tabindex="0"
                aria-label=app.tr(Text::Messages)>
                <Show when=has_older>
                    <li class="older">
                        <button on:click=move |_| load_older() disabled=move || conversation.loading_older.get()>
                            {move || app.t(if conversation.loading_older.get() { Text::LoadingOlder } else { Text::OlderMessages })}
                        </button>
                    </li>
                </Show>
                <Show when=started>
                    <li class="start muted">{app.tr(Text::ConversationStart)}</li>
                </Show>
                <Show when=move || store.with(|s| s.is_empty())>
                    <li class="empty muted">{app.tr(Text::NoMessagesYet)}</li>
                </Show>
                // Only one's own bubbles show a delivery state: theirs keep their element
                // when read receipts arrive (a burst marks dozens read at once).
                <For
                    each=entries
                    key=move |entry| {
                        let m = &entry.message;
                        let state = (m.row.sender_id == key_me).then(|| (m.send_state, m.is_read()));
                        let place = (entry.starts_day, entry.continues_group, entry.first_unread);
                        (m.row.id.clone(), state, m.sort_key.0, place, m.text_tag())
                    }
                    let:entry
                >
                    <MessageBubble mine={entry.message.row.sender_id == me} entry=entry actions=actions />
                </For>
            </ol>
            <Show when=move || { unseen_below.get() > 0 }>
                <button class="new-below" on:click=move |_| {
                    if let Some(list) = list.get_untracked() {
                        scroll_to_bottom(&list);
                    }
                }>{move || new_below(app.lang.get(), unseen_below.get())}</button>
            </Show>
        </div>
    }
}

/// Puts the other person's newest message into the live region, once; what was there
/// when the conversation opened, and older pages, are not read out.
fn announce_new(
    store: RwSignal<crate::chat::store::MessageStore>,
    me: StoredValue<String>,
    other_name: StoredValue<String>,
    position: StoredValue<Position, LocalStorage>,
    announcement: RwSignal<String>,
) {
    let me = me.get_value();
    let (placed, before) = position.with_value(|p| (p.placed, p.announced.clone()));
    let (newest, theirs) = store.with_untracked(|s| {
        let newest = s.messages().last().map(|m| m.sort_key.clone());
        let theirs = s
            .messages()
            .iter()
            .rev()
            .take_while(|m| before.as_ref().is_none_or(|before| m.sort_key > *before))
            .find(|m| m.row.sender_id != me)
            .map(|m| m.row.body.clone());
        (newest, theirs)
    });
    if newest.is_none() || newest <= before {
        return;
    }
    position.update_value(|p| p.announced = newest);
    if let (true, Some(body)) = (placed && before.is_some(), theirs) {
        announcement.set(format!("{}: {body}", other_name.get_value()));
    }
}

fn distance_to_bottom(list: &Element) -> i32 {
    list.scroll_height() - list.scroll_top() - list.client_height()
}

/// How far below the list's visible top `element` is, in px.
fn offset_in(list: &Element, element: &Element) -> f64 {
    element.get_bounding_client_rect().top() - list.get_bounding_client_rect().top()
}

fn offset_of(list: &Element, id: &str) -> Option<f64> {
    let element = list
        .query_selector(&format!("li.bubble[data-id=\"{id}\"]"))
        .ok()
        .flatten()?;
    Some(offset_in(list, &element))
}
