//! One message. Text is rendered as text (never HTML); one's own messages show their
//! delivery state, and failed ones offer Retry and Delete.

use leptos::prelude::*;

use crate::browser::short_time;
use crate::chat::store::{SendState, StoredMessage};
use crate::context::use_app;
use crate::i18n::Text;

#[component]
pub fn MessageBubble(
    message: StoredMessage,
    mine: bool,
    /// Called with the message id when Retry is pressed.
    on_retry: Callback<String>,
    /// Called with the message id when Delete is pressed.
    on_delete: Callback<String>,
) -> impl IntoView {
    let app = use_app();
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
        <li class="bubble" class:mine=mine class:failed=failed data-id=message.row.id.clone()
            data-delivery=move || mine.then(|| app.t(delivery))>
            <p class="body">{message.row.body}</p>
            <span class="meta">
                <time datetime=datetime>{move || short_time(&created_at, app.lang.get().tag())}</time>
                <Show when=move || mine>
                    <span class="ticks" title=move || app.t(delivery) aria-label=move || app.t(delivery)>{ticks}</span>
                </Show>
            </span>
            <Show when=move || failed>
                <button class="retry" on:click={
                    let id = id.clone();
                    move |_| on_retry.run(id.clone())
                }>{move || app.t(Text::Retry)}</button>
                <button class="delete" on:click={
                    let id = delete_id.clone();
                    move |_| on_delete.run(id.clone())
                }>{move || app.t(Text::Delete)}</button>
            </Show>
        </li>
    }
}
