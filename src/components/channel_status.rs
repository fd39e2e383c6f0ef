//! The live-connection badge of the open conversation.

use leptos::prelude::*;

use crate::context::use_app;
use crate::i18n::Text;
use crate::realtime::Status;

#[component]
pub fn ChannelStatus(status: RwSignal<Status>) -> impl IntoView {
    let app = use_app();
    let text = move || {
        app.t(match status.get() {
            Status::Subscribing => Text::Subscribing,
            Status::Subscribed => Text::Subscribed,
            Status::TimedOut => Text::TimedOut,
            Status::ChannelError(reason) if reason.starts_with("Unauthorized") => Text::NotAllowed,
            Status::ChannelError(_) => Text::ChannelError,
            Status::Closed => Text::ChannelClosed,
        })
    };
    view! {
        <span class="channel-status" data-status=move || status.get().to_string() title=move || status.get().to_string()>
            {text}
        </span>
    }
}
