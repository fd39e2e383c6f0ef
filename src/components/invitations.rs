//! A trainer's invitations (conversation list → "Покани клиент"): a new link to send to a
//! client (optionally noting their e-mail), and the pending ones, each revocable. The
//! list is read again whenever the conversation list moves (a client who joins shows up
//! there and leaves this one).

use leptos::prelude::*;

use crate::api::account::{self as api, Invitation};
use crate::browser::{copy_to_clipboard, short_time};
use crate::chat::invitation::link;
use crate::context::use_app;
use crate::i18n::{valid_until, Text};
use crate::task::Tasks;
use crate::time::format_micros;

#[component]
pub fn Invitations() -> impl IntoView {
    let app = use_app();
    let open = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let created = RwSignal::new(None::<String>);
    let copied = RwSignal::new(false);
    let pending = RwSignal::new(Vec::<Invitation>::new());
    let problem = RwSignal::new(None::<Text>);
    let busy = RwSignal::new(false);
    let tasks = StoredValue::new(Tasks::of_current_owner());
    let version = RwSignal::new(0u32);
    // Also called after a request answers: harmless once the panel is gone.
    let reload = move || {
        version.try_update(|v| *v = v.wrapping_add(1));
    };

    Effect::new(move |_| {
        app.list_version.track();
        version.track();
        let (true, Some(token), config) = (open.get(), app.token(), app.config()) else {
            return;
        };
        tasks.with_value(|tasks| {
            tasks.spawn(async move {
                // Expired by the server's clock, not the device's (which may be hours off).
                let now = format_micros((app.server_now_ms() * 1000.0) as i64);
                match api::pending_invitations(&config, &token, &now).await {
                    Ok(rows) => {
                        pending.try_set(rows);
                    }
                    Err(error) => {
                        problem.try_set(Some(error.text()));
                    }
                }
            })
        });
    });
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (false, Some(token), config) = (busy.get_untracked(), app.token(), app.config()) else {
            return;
        };
        busy.set(true);
        problem.set(None);
        let address = email.get_untracked();
        tasks.with_value(|tasks| {
            tasks.spawn(async move {
                match api::create_invitation(&config, &token, &address).await {
                    Ok(invitation) => {
                        created.try_set(Some(link(&invitation.token)));
                        copied.try_set(false);
                        email.try_set(String::new());
                        reload();
                    }
                    Err(error) => {
                        problem.try_set(Some(error.text()));
                    }
                }
                busy.try_set(false);
            })
        });
    };
    let revoke = move |id: String| {
        let (Some(token), config) = (app.token(), app.config()) else {
            return;
        };
        tasks.with_value(|tasks| {
            tasks.spawn(async move {
                match api::revoke_invitation(&config, &token, &id).await {
                    Ok(()) => reload(),
                    Err(error) => {
                        problem.try_set(Some(error.text()));
                    }
                }
            })
        });
    };
    let copy = move |_| {
        let text = created.get_untracked().unwrap_or_default();
        leptos::task::spawn_local(async move {
            let done = copy_to_clipboard(&text).await;
            copied.try_set(done);
        });
    };

    view! {
        <button class="invite-toggle" type="button" aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|open| *open = !*open)>
            {app.tr(Text::InviteClient)}
        </button>
        {move || open.get().then(|| view! {
            <section class="invitations" aria-label=app.tr(Text::InviteClient)>
                <form on:submit=create>
                    <label>
                        <span>{app.tr(Text::ClientEmail)}</span>
                        <input class="invite-email" type="email" maxlength="254"
                            prop:value=move || email.get()
                            on:input=move |ev| email.set(event_target_value(&ev)) />
                    </label>
                    <button class="create-invitation" type="submit" disabled=move || busy.get()>
                        {app.tr(Text::CreateInvitation)}
                    </button>
                </form>
                {move || created.get().map(|url| view! {
                    <div class="new-invitation" role="status">
                        <p>{app.tr(Text::InvitationLink)}</p>
                        <input class="invitation-link" readonly aria-label=app.tr(Text::InvitationLink)
                            prop:value=url />
                        <button type="button" class="copy-link" on:click=copy>
                            {move || app.t(if copied.get() { Text::Copied } else { Text::Copy })}
                        </button>
                    </div>
                })}
                {move || problem.get().map(|text| view! { <p class="error" role="alert">{app.t(text)}</p> })}
                <h3>{app.tr(Text::PendingInvitations)}</h3>
                // A handful of rows, redrawn whole when they change.
                <ul class="pending-invitations">
                    {move || {
                        let lang = app.lang.get();
                        pending.get().into_iter().map(|invitation| {
                            let who = invitation.email.unwrap_or_else(|| Text::NoEmail.get(lang).to_string());
                            let until = valid_until(lang, &short_time(&invitation.expires_at, lang.tag()));
                            let id = invitation.id;
                            view! {
                                <li>
                                    <span>{who}</span>
                                    <span class="muted">{until}</span>
                                    <button type="button" class="revoke" on:click=move |_| revoke(id.clone())>
                                        {Text::Revoke.get(lang)}
                                    </button>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ul>
                <button type="button" class="close" on:click=move |_| open.set(false)>{app.tr(Text::Close)}</button>
            </section>
        })}
    }
}
