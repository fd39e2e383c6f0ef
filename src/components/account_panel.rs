//! The person's account (top bar → their name): the name others see, and a new password.

use leptos::prelude::*;

use crate::api::{account as api, auth};
use crate::chat::account::Account;
use crate::context::use_app;
use crate::i18n::Text;
use crate::task::Tasks;

/// As the sign-up form asks.
const MIN_PASSWORD_CHARS: usize = 6;

#[component]
pub fn AccountPanel(account: Account) -> impl IntoView {
    let app = use_app();
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let said = RwSignal::new(None::<(bool, Text)>);
    let busy = RwSignal::new(false);
    let tasks = StoredValue::new(Tasks::of_current_owner());
    // Opened before the profile arrived: the name fills in when it does.
    Effect::new(move |_| {
        let known = account
            .profile
            .with(|p| p.as_ref().map(|p| p.full_name.clone()));
        if let Some(known) = known {
            if name.get_untracked().is_empty() {
                name.set(known);
            }
        }
    });
    // Opened from a password-recovery link: the form is open, saying why.
    Effect::new(move |_| {
        if app.link_note.get() == Some(Text::SetNewPassword) {
            app.link_note.set(None);
            open.set(true);
            said.set(Some((true, Text::SetNewPassword)));
        }
    });
    let toggle =
        move |_| {
            if !open.get_untracked() {
                name.set(account.profile.with_untracked(|p| {
                    p.as_ref().map(|p| p.full_name.clone()).unwrap_or_default()
                }));
                password.set(String::new());
                said.set(None);
            }
            open.update(|open| *open = !*open);
        };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (new_name, new_password) = (name.get_untracked(), password.get_untracked());
        let mistake = if new_name.trim().is_empty() {
            Some(Text::NameMissing)
        } else if !new_password.is_empty() && new_password.chars().count() < MIN_PASSWORD_CHARS {
            Some(Text::WeakPassword)
        } else {
            None
        };
        if let Some(mistake) = mistake {
            said.set(Some((false, mistake)));
            return;
        }
        let (false, Some(token), Some(me), config) = (
            busy.get_untracked(),
            app.token(),
            app.user_id(),
            app.config(),
        ) else {
            return;
        };
        busy.set(true);
        said.set(None);
        tasks.with_value(|tasks| {
            tasks.spawn(async move {
                let mut result = api::rename(&config, &token, &me, &new_name).await;
                if result.is_ok() && !new_password.is_empty() {
                    result = auth::change_password(&config, &token, &new_password).await;
                }
                match result {
                    Ok(()) => {
                        said.try_set(Some((true, Text::Saved)));
                        password.try_set(String::new());
                        account.reload();
                    }
                    Err(error) => {
                        said.try_set(Some((false, error.text())));
                    }
                }
                busy.try_set(false);
            })
        });
    };
    view! {
        <button class="me" type="button" aria-expanded=move || open.get().to_string() on:click=toggle>
            {move || account.name(app)}
        </button>
        {move || open.get().then(|| view! {
            <form class="account" aria-label=app.tr(Text::Account) on:submit=save>
                <label>
                    <span>{app.tr(Text::Name)}</span>
                    <input class="account-name" type="text" autocomplete="name" maxlength="80" required
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label>
                    <span>{app.tr(Text::NewPassword)}</span>
                    <input class="account-password" type="password" autocomplete="new-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev)) />
                </label>
                {move || said.get().map(|(fine, text)| view! {
                    <p class:error=!fine class:notice=fine role="status">{app.t(text)}</p>
                })}
                <button type="submit" disabled=move || busy.get()>{app.tr(Text::Save)}</button>
                <button type="button" class="close" on:click=move |_| open.set(false)>{app.tr(Text::Close)}</button>
            </form>
        })}
    }
}
