//! Coach Chat: real-time messaging between personal trainers and their clients.
//! A Leptos single-page app on Supabase (Auth, PostgREST, Realtime).

pub mod api;
pub mod badge;
pub mod browser;
pub mod chat;
pub mod clock;
pub mod components;
pub mod config;
pub mod context;
pub mod i18n;
pub mod intl;
pub mod json;
pub mod lifecycle;
pub mod locks;
pub mod notify;
pub mod realtime;
pub mod session;
pub mod storage;
pub mod task;
pub mod theme;
pub mod time;

use leptos::prelude::*;
use leptos::task::spawn_local;

use chat::auth_link::AuthLink;
use components::shell::Shell;
use components::sign_in::SignIn;
use config::Config;
use context::AppContext;
use i18n::{Lang, Text};

const LANG_KEY: &str = "coach-chat.lang";

/// The root: loads `config.json`, restores the session, then shows sign-in or the chat.
#[component]
pub fn App() -> impl IntoView {
    let lang = storage::load::<String>(LANG_KEY)
        .map(|tag| Lang::from_tag(&tag))
        .unwrap_or_else(|| Lang::from_tag(&browser::preferred_language()));
    chat::invitation::take_from_address();
    let link = chat::auth_link::take_from_address();
    let app = AppContext::new(Config::default(), lang);
    provide_context(app);
    let ready = RwSignal::new(false);
    spawn_local(async move {
        let config = Config::load().await;
        let _ = app.config.try_update_value(|current| *current = config);
        session::restore(app).await;
        match link {
            Some(AuthLink::SignedIn { session, recovery }) => {
                session::adopt_from_link(app, session);
                if recovery {
                    app.link_note.try_set(Some(Text::SetNewPassword));
                }
            }
            Some(AuthLink::Refused) => {
                app.link_note.try_set(Some(Text::LinkInvalid));
            }
            None => {}
        }
        ready.try_set(true);
    });
    lifecycle::use_page_lifecycle(app);
    session::use_session_keeper(app);
    notify::register_service_worker();
    Effect::new(move |_| {
        let lang = app.lang.get();
        storage::save(LANG_KEY, &lang.tag());
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", lang.tag());
        }
    });
    let signed_in = Memo::new(move |_| app.session.with(|s| s.as_ref().map(|s| s.user.id.clone())));

    view! {
        <Show when=move || ready.get() fallback=|| view! { <p class="loading">"…"</p> }>
            {move || match signed_in.get() {
                Some(_) => view! { <Shell /> }.into_any(),
                None => view! { <SignIn /> }.into_any(),
            }}
        </Show>
    }
}
