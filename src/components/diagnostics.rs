//! The diagnostics panel (top bar → "Диагностика"): what a support request needs — the
//! app's version, the socket and each channel, the heartbeat's round trip, the last error,
//! whether the browser is online — as text to copy.

use leptos::prelude::*;

use crate::browser::{copy_to_clipboard, is_online, now_iso, user_agent};
use crate::context::{use_app, AppContext};
use crate::i18n::Text;

#[component]
pub fn Diagnostics() -> impl IntoView {
    let app = use_app();
    let open = RwSignal::new(false);
    let report = RwSignal::new(String::new());
    let copied = RwSignal::new(false);
    let refresh = move || {
        report.set(build_report(app));
        copied.set(false);
    };
    let toggle = move |_| {
        if !open.get_untracked() {
            refresh();
        }
        open.update(|open| *open = !*open);
    };
    let copy = move |_| {
        refresh();
        let text = report.get_untracked();
        leptos::task::spawn_local(async move {
            let done = copy_to_clipboard(&text).await;
            copied.try_set(done);
        });
    };
    view! {
        <button class="diagnostics-toggle" type="button" aria-expanded=move || open.get().to_string() on:click=toggle>
            {app.tr(Text::Diagnostics)}
        </button>
        <Show when=move || open.get()>
            <section class="diagnostics" aria-label=app.tr(Text::Diagnostics)>
                <pre tabindex="0">{move || report.get()}</pre>
                <button type="button" on:click=copy>
                    {move || app.t(if copied.get() { Text::Copied } else { Text::Copy })}
                </button>
            </section>
        </Show>
    }
}

fn build_report(app: AppContext) -> String {
    let realtime = app
        .realtime
        .try_with_value(|client| client.as_ref().map(|client| client.diagnostics()))
        .flatten()
        .unwrap_or_else(|| "realtime: not started".into());
    format!(
        "Coach Chat {}\ntime: {}\nonline: {}\nlanguage: {}\n{realtime}\nbrowser: {}",
        env!("CARGO_PKG_VERSION"),
        now_iso(),
        is_online(),
        app.lang.get_untracked().tag(),
        user_agent()
    )
}
