//! The sign-in form.

use leptos::prelude::*;

use super::theme_toggle::ThemeToggle;
use leptos::task::spawn_local;

use crate::chat::delivery;
use crate::context::use_app;
use crate::i18n::{unsent_waiting, Text};
use crate::session;

#[component]
pub fn SignIn() -> impl IntoView {
    let app = use_app();
    // After the server ended a session: whose, and what waits for them on this device.
    let ended = app.ended.get_untracked();
    let waiting = ended.as_ref().map_or(0, |user| delivery::waiting(&user.id));
    let email = RwSignal::new(
        ended
            .as_ref()
            .and_then(|user| user.email.clone())
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<Text>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (email, password) = (email.get_untracked(), password.get_untracked());
        spawn_local(async move {
            // Signed in, this form is gone: only a failure is shown here.
            if let Err(failure) = session::sign_in(app, &email, &password).await {
                error.try_set(Some(failure.text()));
                busy.try_set(false);
            }
        });
    };

    view! {
        <main class="sign-in">
            <div class="settings">
                <ThemeToggle />
                <button class="lang" on:click=move |_| app.lang.update(|lang| *lang = lang.other())>
                    {app.tr(Text::SwitchLanguage)}
                </button>
            </div>
            <form class="card" on:submit=submit>
                <h1>{app.tr(Text::SignInTitle)}</h1>
                {ended.is_some().then(|| view! {
                    <p class="notice" role="status">
                        {app.tr(Text::SessionExpired)}
                        {move || (waiting > 0).then(|| format!(" {}", unsent_waiting(app.lang.get(), waiting)))}
                    </p>
                })}
                <label>
                    <span>{app.tr(Text::Email)}</span>
                    <input type="email" name="email" autocomplete="username" required
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev)) />
                </label>
                <label>
                    <span>{app.tr(Text::Password)}</span>
                    <input type="password" name="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev)) />
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get().map(|text| app.t(text))}</p>
                </Show>
                <button type="submit" disabled=move || busy.get()>
                    {move || app.t(if busy.get() { Text::SigningIn } else { Text::SignIn })}
                </button>
            </form>
        </main>
    }
}
