//! One message, with the day's separator or the unread divider before it when it starts
//! one. Text is rendered as text (never HTML), web addresses as links opening outside;
//! reactions below it; one's own messages show their delivery state, failed ones offer
//! Retry and Delete. A "⋯" menu reacts to a message and, on one's own, edits or deletes
//! it. A deleted message is a placeholder.

use leptos::prelude::*;

use crate::browser::short_time;
use crate::chat::links::{segments, Segment};
use crate::chat::model::{EDIT_WINDOW_MS, REACTIONS};
use crate::chat::store::{SendState, Source};
use crate::chat::timeline::Entry;
use crate::context::use_app;
use crate::i18n::Text;
use crate::intl::day_label;

/// What a bubble's controls do; each is called with the message id (and what else it says).
#[derive(Clone, Copy)]
pub struct BubbleActions {
    /// Retry on a failed message.
    pub retry: Callback<String>,
    /// Delete on a failed message: it is not sent.
    pub discard: Callback<String>,
    /// Edit chosen on one's own message: its id and text.
    pub edit: Callback<(String, String)>,
    /// "Delete for everyone" on one's own message.
    pub delete: Callback<String>,
    /// A reaction chosen: the message id and the emoji.
    pub react: Callback<(String, String)>,
    /// Reply chosen.
    pub reply: Callback<String>,
    /// What a reply quotes of the message `id`: who wrote it and its text (reactive),
    /// if known yet.
    pub quote: Callback<String, Option<(String, String)>>,
    /// A quote pressed: its original is brought into view.
    pub jump: Callback<String>,
}

#[component]
pub fn MessageBubble(entry: Entry, mine: bool, actions: BubbleActions) -> impl IntoView {
    let app = use_app();
    let Entry {
        message,
        starts_day,
        continues_group,
        first_unread,
    } = entry;
    let micros = message.sort_key.0;
    let separator = starts_day.map(|_| {
        view! { <li class="day"><span>{move || day_label(micros, app.lang.get())}</span></li> }
    });
    let divider = first_unread.then(|| {
        view! { <li class="unread-divider"><span>{app.tr(Text::UnreadMessages)}</span></li> }
    });
    let deleted = message.row.is_deleted();
    let body = segments(&message.row.body)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.to_string().into_any(),
            Segment::Link(link) => view! {
                <a href=link.to_string() target="_blank" rel="noopener noreferrer">{link.to_string()}</a>
            }
            .into_any(),
        })
        .collect_view();
    let delivery = match (message.send_state, message.is_read()) {
        (SendState::Failed, _) => Text::NotSent,
        (SendState::Pending, _) => Text::Sending,
        (SendState::Sent, true) => Text::Read,
        (SendState::Sent, false) => Text::Sent,
    };
    let ticks = match delivery {
        Text::Sending => "🕓",
        Text::Read => "✓✓",
        Text::Sent => "✓",
        _ => "!",
    };
    let failed = message.send_state == SendState::Failed;
    let edited = message.row.edited_at.is_some() && !deleted;
    // Stored messages can be reacted to; one's own can also be edited for 15 minutes (by
    // the server's clock; the server has the last word) and deleted at any time. A failed
    // one has Retry and Delete instead.
    let stored = message.source != Source::Local;
    let menu = (!deleted && !failed && (stored || mine)).then(|| {
        let editable = mine && app.server_now_ms() - micros as f64 / 1000.0 < EDIT_WINDOW_MS;
        let (id, text) = (message.row.id.clone(), message.row.body.clone());
        view! { <MessageMenu id=id text=text mine=mine editable=editable reactable=stored actions=actions /> }
    });
    // The message this one answers: who wrote it and what, pressed to go there.
    let quoted = message.row.reply_to.clone().filter(|_| !deleted).map(|original| {
        let target = original.clone();
        let said = move || match actions.quote.run(original.clone()) {
            Some((who, text)) => format!("{who}: {text}"),
            None => app.t(Text::EarlierMessage).to_string(),
        };
        view! {
            <button type="button" class="quote" on:click=move |_| actions.jump.run(target.clone())>{said}</button>
        }
    });
    let me = app.user_id().unwrap_or_default();
    let reactions = (!message.row.reactions.is_empty()).then(|| {
        let chips =
            REACTIONS
                .iter()
                .filter_map(|&emoji| {
                    let count = message
                        .row
                        .reactions
                        .values()
                        .filter(|r| *r == emoji)
                        .count();
                    let by_me = message.row.reactions.get(&me).is_some_and(|r| r == emoji);
                    let id = message.row.id.clone();
                    (count > 0).then(|| view! {
                    <button type="button" class="reaction" aria-pressed=by_me.to_string()
                        on:click=move |_| actions.react.run((id.clone(), emoji.to_string()))>
                        {emoji}" "{count}
                    </button>
                })
                })
                .collect_view();
        view! { <span class="reactions">{chips}</span> }
    });
    let id = message.row.id.clone();
    let delete_id = message.row.id.clone();
    let created_at = message.row.created_at.clone();
    let datetime = created_at.clone();
    view! {
        {separator}
        {divider}
        <li class="bubble" class:mine=mine class:failed=failed class:grouped=continues_group
            class:deleted=deleted data-id=message.row.id.clone()
            data-delivery=move || mine.then(|| app.t(delivery))>
            {quoted}
            {if deleted {
                view! { <p class="body">{app.tr(Text::MessageDeleted)}</p> }.into_any()
            } else {
                view! { <p class="body">{body}</p> }.into_any()
            }}
            {reactions}
            <span class="meta">
                {edited.then(|| view! { <span class="edited">{app.tr(Text::Edited)}</span> })}
                <time datetime=datetime>{move || short_time(&created_at, app.lang.get().tag())}</time>
                {mine.then(|| view! {
                    <span class="ticks" title=app.tr(delivery) aria-label=app.tr(delivery)>{ticks}</span>
                })}
                {menu}
            </span>
            // Whether it is mine or failed is fixed for this element (its key says so).
            {failed.then(|| view! {
                <button class="retry" on:click=move |_| actions.retry.run(id.clone())>{app.tr(Text::Retry)}</button>
                <button class="delete" on:click=move |_| actions.discard.run(delete_id.clone())>{app.tr(Text::Delete)}</button>
            })}
        </li>
    }
}

/// The "⋯" menu: the reactions (on a stored message), and on one's own Edit (while
/// allowed) and Delete for everyone, which asks once more before it goes.
#[component]
fn MessageMenu(
    id: String,
    text: String,
    mine: bool,
    editable: bool,
    reactable: bool,
    actions: BubbleActions,
) -> impl IntoView {
    let app = use_app();
    let open = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let id = StoredValue::new(id);
    let text = StoredValue::new(text);
    let pick = move |emoji: &'static str| {
        view! {
            <button type="button" class="react" on:click=move |_| {
                open.set(false);
                actions.react.run((id.get_value(), emoji.to_string()));
            }>{emoji}</button>
        }
    };
    view! {
        <Show when=move || open.get()>
            <span class="actions" role="group" aria-label=app.tr(Text::MessageActions)>
                {reactable.then(|| REACTIONS.map(pick).collect_view())}
                {reactable.then(|| view! {
                    <button type="button" class="reply" on:click=move |_| {
                        open.set(false);
                        actions.reply.run(id.get_value());
                    }>{app.tr(Text::Reply)}</button>
                })}
                {editable.then(|| view! {
                    <button type="button" class="edit" on:click=move |_| {
                        open.set(false);
                        actions.edit.run((id.get_value(), text.get_value()));
                    }>{app.tr(Text::Edit)}</button>
                })}
                {mine.then(|| view! {
                    <button type="button" class="delete-sent" on:click=move |_| {
                        if confirming.get_untracked() {
                            open.set(false);
                            actions.delete.run(id.get_value());
                        } else {
                            confirming.set(true);
                        }
                    }>{move || app.t(if confirming.get() { Text::DeleteForEveryone } else { Text::Delete })}</button>
                })}
            </span>
        </Show>
        <button type="button" class="more" aria-haspopup="true" aria-expanded=move || open.get().to_string()
            title=app.tr(Text::MessageActions) aria-label=app.tr(Text::MessageActions)
            on:click=move |_| { open.update(|o| *o = !*o); confirming.set(false); }>"⋯"</button>
    }
}
