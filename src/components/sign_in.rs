//! The sign-in form, which also creates accounts: a trainer signs up here, and so does a
//! client who came by an invitation link (the invitation makes them a client).

use leptos::prelude::*;

use super::theme_toggle::ThemeToggle;
use leptos::task::spawn_local;

use crate::chat::{delivery, invitation};
use crate::context::use_app;
use crate::i18n::{unsent_waiting, Text};
use crate::session;

/// The shortest password Supabase Auth accepts by default.
const MIN_PASSWORD_CHARS: usize = 6;

#[component]
pub fn SignIn() -> impl IntoView {
    let app = use_app();
    // After the server ended a session: whose, and what waits for them on this device.
    let ended = app.ended.get_untracked();
    let waiting = ended.as_ref().map_or(0, |user| delivery::waiting(&user.id));
    let invited = invitation::pending();
    let email = RwSignal::new(
        ended
            .as_ref()
            .and_then(|user| user.email.clone())
            .unwrap_or_default(),
    );
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // An invited person most likely has no account yet.
    let signing_up = RwSignal::new(invited && ended.is_none());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<Text>);
    let notice = RwSignal::new(None::<Text>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let up = signing_up.get_untracked();
        let (name, email, password) = (
            name.get_untracked(),
            email.get_untracked(),
            password.get_untracked(),
        );
        let mistake = if up && name.trim().is_empty() {
            Some(Text::NameMissing)
        } else if up && password.chars().count() < MIN_PASSWORD_CHARS {
            Some(Text::WeakPassword)
        } else {
            None
        };
        error.set(mistake);
        if mistake.is_some() {
            return;
        }
        busy.set(true);
        notice.set(None);
        spawn_local(async move {
            // Signed in, this form is gone: only a failure or a request to confirm the
            // address is shown here.
            let result = if up {
                session::sign_up(app, &name, &email, &password).await
            } else {
                session::sign_in(app, &email, &password)
                    .await
                    .map(|()| true)
            };
            match result {
                Ok(true) => {}
                Ok(false) => {
                    notice.try_set(Some(Text::ConfirmEmail));
                    signing_up.try_set(false);
                }
                Err(failure) => {
                    error.try_set(Some(failure.text()));
                }
            }
            busy.try_set(false);
        });
    };
    let switch = move |_| {
        signing_up.update(|up| *up = !*up);
        error.set(None);
    };
    let title = move || {
        app.t(match (signing_up.get(), invited) {
            (false, _) => Text::SignInTitle,
            (true, false) => Text::CreateAccount,
            (true, true) => Text::CreateYourAccount,
        })
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
                <h1>{title}</h1>
                {invited.then(|| view! { <p class="notice invited" role="status">{app.tr(Text::Invited)}</p> })}
                {ended.is_some().then(|| view! {
                    <p class="notice" role="status">
                        {app.tr(Text::SessionExpired)}
                        {move || (waiting > 0).then(|| format!(" {}", unsent_waiting(app.lang.get(), waiting)))}
                    </p>
                })}
                {move || notice.get().map(|text| view! { <p class="notice" role="status">{app.t(text)}</p> })}
                {move || signing_up.get().then(|| view! {
                    <label>
                        <span>{app.tr(Text::Name)}</span>
                        <input type="text" name="name" autocomplete="name" maxlength="80" required
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev)) />
                    </label>
                })}
                <label>
                    <span>{app.tr(Text::Email)}</span>
                    <input type="email" name="email" autocomplete="username" required
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev)) />
                </label>
                <label>
                    <span>{app.tr(Text::Password)}</span>
                    <input type="password" name="password" required
                        autocomplete=move || if signing_up.get() { "new-password" } else { "current-password" }
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev)) />
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get().map(|text| app.t(text))}</p>
                </Show>
                <button type="submit" disabled=move || busy.get()>
                    {move || app.t(match (signing_up.get(), busy.get()) {
                        (false, false) => Text::SignIn,
                        (false, true) => Text::SigningIn,
                        (true, false) => Text::SignUp,
                        (true, true) => Text::SigningUp,
                    })}
                </button>
                <button type="button" class="link switch-mode" on:click=switch>
                    {move || app.t(if signing_up.get() { Text::ToSignIn } else { Text::ToSignUp })}
                </button>
            </form>
        </main>
    }
}
