//! The live-connection badge of the open conversation. Errors that retrying cannot fix
//! (a refused token or permission) say why and offer a button, instead of looping.

use leptos::prelude::*;

use crate::context::use_app;
use crate::i18n::Text;
use crate::realtime::Status;

#[component]
pub fn ChannelStatus(
    status: RwSignal<Status>,
    /// The backup path (Postgres Changes) is off: said next to the status.
    backup_off: RwSignal<bool>,
    /// Rejoins the channel (shown only when the client will not retry by itself).
    on_retry: Callback<()>,
) -> impl IntoView {
    let app = use_app();
    let text = move || {
        app.t(match status.get() {
            Status::Subscribing => Text::Subscribing,
            Status::Subscribed => Text::Subscribed,
            Status::TimedOut => Text::TimedOut,
            Status::ChannelError(reason) if reason.starts_with("Unauthorized") => Text::NotAllowed,
            Status::ChannelError(reason)
                if Status::ChannelError(reason.clone()).is_auth_error() =>
            {
                Text::SessionExpired
            }
            Status::ChannelError(_) => Text::ChannelError,
            Status::Closed => Text::ChannelClosed,
        })
    };
    let stuck = move || status.with(|s| s.is_auth_error() || *s == Status::Closed);
    view! {
        <span class="channel-status" data-status=move || status.get().to_string() title=move || status.get().to_string()>
            {text}
        </span>
        <Show when=move || backup_off.get()>
            <span class="backup-off" role="status">{app.tr(Text::BackupOff)}</span>
        </Show>
        <Show when=stuck>
            <button class="reconnect" on:click=move |_| on_retry.run(())>{app.tr(Text::RetryConnection)}</button>
        </Show>
    }
}
