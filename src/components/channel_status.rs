//! The live-connection badge of the open conversation. Trouble the client retries by
//! itself is said only once it has lasted 2 s (a server restart or a network change passes
//! unnoticed, as in the messengers people know); errors that retrying cannot fix (a refused
//! token or permission) say why at once and offer a button, instead of looping.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;

use crate::context::use_app;
use crate::i18n::Text;
use crate::realtime::Status;

/// How long trouble lasts before the badge says so.
const TROUBLE_SAID_AFTER_MS: u32 = 2_000;

#[component]
pub fn ChannelStatus(
    status: RwSignal<Status>,
    /// The backup path (Postgres Changes) is off: said next to the status.
    backup_off: RwSignal<bool>,
    /// Rejoins the channel (shown only when the client will not retry by itself).
    on_retry: Callback<()>,
) -> impl IntoView {
    let app = use_app();
    let stuck = move || status.with(|s| s.is_auth_error() || *s == Status::Closed);
    // Whether the trouble now has lasted long enough to be said.
    let lasting = RwSignal::new(false);
    let timer = StoredValue::new_local(None::<Timeout>);
    Effect::new(move |_| {
        if status.with(|s| *s == Status::Subscribed) {
            timer.set_value(None); // dropping the timeout cancels it
            lasting.set(false);
        } else if timer.with_value(Option::is_none) && !lasting.get_untracked() {
            let said = Timeout::new(TROUBLE_SAID_AFTER_MS, move || {
                lasting.try_set(true);
            });
            timer.set_value(Some(said));
        }
    });
    on_cleanup(move || {
        let _ = timer.try_update_value(Option::take);
    });
    let text = move || {
        if !stuck() && status.with(|s| *s != Status::Subscribed) && !lasting.get() {
            return "";
        }
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
