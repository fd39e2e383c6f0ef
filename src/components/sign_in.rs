//! The sign-in form.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::auth;
use crate::context::use_app;
use crate::i18n::Text;
use crate::session;

#[component]
pub fn SignIn() -> impl IntoView {
    let app = use_app();
    let email = RwSignal::new(String::new());
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
            match auth::sign_in(&app.config(), &email, &password).await {
                Ok(fresh) => session::adopt(app, fresh),
                Err(failure) => error.set(Some(failure.text())),
            }
            busy.set(false);
        });
    };

    view! {
        <main class="sign-in">
            <button class="lang" on:click=move |_| app.lang.update(|lang| *lang = lang.other())>
                {move || app.t(Text::SwitchLanguage)}
            </button>
            <form class="card" on:submit=submit>
                <h1>{move || app.t(Text::SignInTitle)}</h1>
                <label>
                    <span>{move || app.t(Text::Email)}</span>
                    <input type="email" name="email" autocomplete="username" required
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev)) />
                </label>
                <label>
                    <span>{move || app.t(Text::Password)}</span>
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
