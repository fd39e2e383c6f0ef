//! One message, with the day's separator or the unread divider before it when it starts
//! one. Text is rendered as text (never HTML), web addresses as links opening outside;
//! one's own messages show their delivery state and a menu to edit or delete them, and
//! failed ones offer Retry and Delete. A deleted message is a placeholder.

use leptos::prelude::*;

use crate::browser::short_time;
use crate::chat::links::{segments, Segment};
use crate::chat::model::EDIT_WINDOW_MS;
use crate::chat::store::SendState;
use crate::chat::timeline::Entry;
use crate::context::use_app;
use crate::i18n::Text;
use crate::intl::day_label;

#[component]
pub fn MessageBubble(
    entry: Entry,
    mine: bool,
    /// Called with the message id when Retry is pressed.
    on_retry: Callback<String>,
    /// Called with the message id when Delete is pressed.
    on_delete: Callback<String>,
    /// Called with the message id and text when Edit is chosen (own messages).
    on_edit: Callback<(String, String)>,
    /// Called with the message id when "Delete for everyone" is chosen (own messages).
    on_delete_sent: Callback<String>,
) -> impl IntoView {
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
    // One's own messages can be changed: edited for 15 minutes (by the server's clock; the
    // server has the last word), deleted at any time; a failed one has Retry and Delete.
    let actions = (mine && !deleted && !failed).then(|| {
        let editable = app.server_now_ms() - micros as f64 / 1000.0 < EDIT_WINDOW_MS;
        let (id, text) = (message.row.id.clone(), message.row.body.clone());
        view! { <MessageActions id=id text=text editable=editable on_edit=on_edit on_delete=on_delete_sent /> }
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
            {if deleted {
                view! { <p class="body">{app.tr(Text::MessageDeleted)}</p> }.into_any()
            } else {
                view! { <p class="body">{body}</p> }.into_any()
            }}
            <span class="meta">
                {edited.then(|| view! { <span class="edited">{app.tr(Text::Edited)}</span> })}
                <time datetime=datetime>{move || short_time(&created_at, app.lang.get().tag())}</time>
                {mine.then(|| view! {
                    <span class="ticks" title=app.tr(delivery) aria-label=app.tr(delivery)>{ticks}</span>
                })}
                {actions}
            </span>
            // Whether it is mine or failed is fixed for this element (its key says so).
            {failed.then(|| view! {
                <button class="retry" on:click=move |_| on_retry.run(id.clone())>{app.tr(Text::Retry)}</button>
                <button class="delete" on:click=move |_| on_delete.run(delete_id.clone())>{app.tr(Text::Delete)}</button>
            })}
        </li>
    }
}

/// The "⋯" menu of one's own message: Edit (while allowed) and Delete for everyone, which
/// asks once more before it goes.
#[component]
fn MessageActions(
    id: String,
    text: String,
    editable: bool,
    on_edit: Callback<(String, String)>,
    on_delete: Callback<String>,
) -> impl IntoView {
    let app = use_app();
    let open = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let id = StoredValue::new(id);
    let text = StoredValue::new(text);
    view! {
        <Show when=move || open.get()>
            <span class="actions" role="group" aria-label=app.tr(Text::MessageActions)>
                {editable.then(|| view! {
                    <button type="button" class="edit" on:click=move |_| {
                        open.set(false);
                        on_edit.run((id.get_value(), text.get_value()));
                    }>{app.tr(Text::Edit)}</button>
                })}
                <button type="button" class="delete-sent" on:click=move |_| {
                    if confirming.get_untracked() {
                        open.set(false);
                        on_delete.run(id.get_value());
                    } else {
                        confirming.set(true);
                    }
                }>{move || app.t(if confirming.get() { Text::DeleteForEveryone } else { Text::Delete })}</button>
            </span>
        </Show>
        <button type="button" class="more" aria-haspopup="true" aria-expanded=move || open.get().to_string()
            title=app.tr(Text::MessageActions) aria-label=app.tr(Text::MessageActions)
            on:click=move |_| { open.update(|o| *o = !*o); confirming.set(false); }>"⋯"</button>
    }
}
