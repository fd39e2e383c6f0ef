//! The signed-in app: top bar, conversation list and the open conversation. Owns what
//! lives as long as the session: the realtime connection (opened here, closed on
//! cleanup), the inbox channel `user:{id}` that keeps the list live, the outbox delivery,
//! and the wake-up listeners that verify the connection after sleep or offline.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chat_view::ChatView;
use super::conversation_list::ConversationList;
use crate::chat::delivery::start_delivery;
use crate::chat::model::ConversationSummary;
use crate::context::use_app;
use crate::i18n::Text;
use crate::lifecycle::on_wake;
use crate::realtime::{ChannelEvent, JoinConfig, RealtimeClient, Status};
use crate::session;

#[component]
pub fn Shell() -> impl IntoView {
    let app = use_app();
    let client = RealtimeClient::new(app.config().realtime_url(), app.token());
    app.realtime.set_value(Some(client.clone()));
    client.on_auth_error(move || spawn_local(session::refresh_now(app)));
    let delivery = start_delivery(app);
    provide_context(delivery);
    let inbox = app.user_id().map(|me| {
        let config = JoinConfig {
            private: true,
            ..Default::default()
        };
        client.channel(&format!("user:{me}"), config, move |event| match event {
            ChannelEvent::Broadcast { .. } => app.refresh_list(),
            // (Re)connected: send what waited, and re-read the list (missed messages).
            ChannelEvent::Status(Status::Subscribed) => {
                delivery.hurry();
                app.refresh_list();
            }
            _ => {}
        })
    });
    let inbox = StoredValue::new_local(inbox);
    let wake_client = client.clone();
    let wake = StoredValue::new_local(Some(on_wake(move || {
        wake_client.probe();
        session::refresh_if_due(app);
        delivery.hurry();
    })));
    on_cleanup(move || {
        let _ = wake.try_update_value(|listeners| listeners.take());
        let _ = inbox.try_update_value(|inbox| {
            if let Some(inbox) = inbox.take() {
                inbox.leave();
            }
        });
        let _ = app.realtime.try_update_value(|client| {
            if let Some(client) = client.take() {
                client.disconnect();
            }
        });
    });

    let selected = RwSignal::new(None::<ConversationSummary>);
    let selected_id =
        Memo::new(move |_| selected.with(|s| s.as_ref().map(|s| s.conversation_id.clone())));
    let on_back = Callback::new(move |_| selected.set(None));
    let my_name = app
        .session
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.email.clone()))
        .unwrap_or_default();

    view! {
        <div class="shell" class:has-selection=move || selected_id.get().is_some()>
            <header class="topbar">
                <span class="brand">"Coach Chat"</span>
                <span class="me">{my_name}</span>
                <button class="lang" on:click=move |_| app.lang.update(|l| *l = l.other())>
                    {move || app.t(Text::SwitchLanguage)}
                </button>
                <button class="sign-out" on:click=move |_| spawn_local(session::sign_out(app))>
                    {move || app.t(Text::SignOut)}
                </button>
            </header>
            <ConversationList selected=selected />
            {move || match selected_id.get() {
                Some(_) => {
                    let summary = selected.get_untracked().expect("selected id implies a summary");
                    view! { <ChatView summary=summary on_back=on_back /> }.into_any()
                }
                None => view! { <section class="chat placeholder"><p class="muted">{app.t(Text::PickConversation)}</p></section> }.into_any(),
            }}
        </div>
    }
}
