//! The sign-in form, which also creates accounts — a trainer signs up here, and so does a
//! client who came by an invitation link (the invitation makes them a client) — and asks
//! for a link to set a new password.

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
    // Asking for a link to set a new password (only the e-mail is needed).
    let recovering = RwSignal::new(false);
    let busy = RwSignal::new(false);
    // Opened from an e-mail link that was used or has expired: said here.
    let error = RwSignal::new(
        app.link_note
            .get_untracked()
            .filter(|t| *t == Text::LinkInvalid),
    );
    let notice = RwSignal::new(None::<Text>);
    if error.get_untracked().is_some() {
        app.link_note.set(None);
    }
    let recover = move || {
        busy.set(true);
        error.set(None);
        let address = email.get_untracked();
        spawn_local(async move {
            match crate::api::auth::recover(&app.config(), &address).await {
                Ok(()) => {
                    notice.try_set(Some(Text::RecoveryMailed));
                    recovering.try_set(false);
                }
                Err(failure) => {
                    error.try_set(Some(failure.text()));
                }
            }
            busy.try_set(false);
        });
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if recovering.get_untracked() {
            return recover();
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
        if recovering.get_untracked() {
            recovering.set(false);
        } else {
            signing_up.update(|up| *up = !*up);
        }
        error.set(None);
    };
    let forgot = move |_| {
        recovering.set(true);
        signing_up.set(false);
        error.set(None);
        notice.set(None);
    };
    let title = move || {
        app.t(match (recovering.get(), signing_up.get(), invited) {
            (true, _, _) => Text::RecoverTitle,
            (false, false, _) => Text::SignInTitle,
            (false, true, false) => Text::CreateAccount,
            (false, true, true) => Text::CreateYourAccount,
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
                {move || (!recovering.get()).then(|| view! {
                    <label>
                        <span>{app.tr(Text::Password)}</span>
                        <input type="password" name="password" required
                            autocomplete=move || if signing_up.get() { "new-password" } else { "current-password" }
                            prop:value=move || password.get()
                            on:input=move |ev| password.set(event_target_value(&ev)) />
                    </label>
                })}
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get().map(|text| app.t(text))}</p>
                </Show>
                <button type="submit" disabled=move || busy.get()>
                    {move || app.t(match (recovering.get(), signing_up.get(), busy.get()) {
                        (true, _, _) => Text::SendRecovery,
                        (false, false, false) => Text::SignIn,
                        (false, false, true) => Text::SigningIn,
                        (false, true, false) => Text::SignUp,
                        (false, true, true) => Text::SigningUp,
                    })}
                </button>
                <button type="button" class="link switch-mode" on:click=switch>
                    {move || app.t(if signing_up.get() || recovering.get() { Text::ToSignIn } else { Text::ToSignUp })}
                </button>
                {move || (!signing_up.get() && !recovering.get()).then(|| view! {
                    <button type="button" class="link forgot" on:click=forgot>{app.tr(Text::ForgotPassword)}</button>
                })}
            </form>
        </main>
    }
}
