//! One message, with the day's separator or the unread divider before it when it starts
//! one. Text is rendered as text (never HTML), web addresses as links opening outside;
//! one's own messages show their delivery state, and failed ones offer Retry and Delete.

use leptos::prelude::*;

use crate::browser::short_time;
use crate::chat::links::{segments, Segment};
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
    let id = message.row.id.clone();
    let delete_id = message.row.id.clone();
    let created_at = message.row.created_at.clone();
    let datetime = created_at.clone();
    view! {
        {separator}
        {divider}
        <li class="bubble" class:mine=mine class:failed=failed class:grouped=continues_group data-id=message.row.id.clone()
            data-delivery=move || mine.then(|| app.t(delivery))>
            <p class="body">{body}</p>
            <span class="meta">
                <time datetime=datetime>{move || short_time(&created_at, app.lang.get().tag())}</time>
                {mine.then(|| view! {
                    <span class="ticks" title=app.tr(delivery) aria-label=app.tr(delivery)>{ticks}</span>
                })}
            </span>
            // Whether it is mine or failed is fixed for this element (its key says so).
            {failed.then(|| view! {
                <button class="retry" on:click=move |_| on_retry.run(id.clone())>{app.tr(Text::Retry)}</button>
                <button class="delete" on:click=move |_| on_delete.run(delete_id.clone())>{app.tr(Text::Delete)}</button>
            })}
        </li>
    }
}
