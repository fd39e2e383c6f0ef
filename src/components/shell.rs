//! The signed-in app: top bar, conversation list and the open conversation. The work
//! that lives as long as the session — the realtime connection, the inbox channel, the
//! outbox delivery, the conversation list — is started by hooks under `chat/`; this
//! component only lays them out.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chat_view::ChatView;
use super::conversation_list::ConversationList;
use crate::chat::delivery::use_delivery;
use crate::chat::inbox::use_inbox;
use crate::chat::list::use_conversation_list;
use crate::chat::model::ConversationSummary;
use crate::chat::realtime::use_realtime;
use crate::context::use_app;
use crate::i18n::{unsent_lost_on_sign_out, Text};
use crate::realtime::Status;
use crate::session;

#[component]
pub fn Shell() -> impl IntoView {
    let app = use_app();
    let client = use_realtime(app);
    let delivery = use_delivery(app);
    provide_context(delivery);
    let inbox = use_inbox(app, &client, delivery);
    let selected = RwSignal::new(None::<ConversationSummary>);
    let list = use_conversation_list(app, selected);

    let selected_id =
        Memo::new(move |_| selected.with(|s| s.as_ref().map(|s| s.conversation_id.clone())));
    let on_back = Callback::new(move |_| selected.set(None));
    let my_name = app
        .session
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.email.clone()))
        .unwrap_or_default();
    let live = move || {
        app.t(match inbox.get() {
            Status::Subscribed => Text::InboxLive,
            Status::Subscribing => Text::InboxConnecting,
            _ => Text::InboxDown,
        })
    };
    // Signing out deletes unsent messages from the device: the person confirms that.
    let unsent = Memo::new(move |_| delivery.outbox.with(|outbox| outbox.items().len()));
    let confirming = RwSignal::new(false);
    let sign_out = move || spawn_local(session::sign_out(app));

    view! {
        <div class="shell" class:has-selection=move || selected_id.get().is_some()>
            <header class="topbar">
                <span class="brand">"Coach Chat"</span>
                <span class="me">{my_name}</span>
                <span class="live" data-status=move || inbox.get().to_string() role="status">{live}</span>
                <button class="lang" on:click=move |_| app.lang.update(|l| *l = l.other())>
                    {move || app.t(Text::SwitchLanguage)}
                </button>
                <button class="sign-out" on:click=move |_| {
                    if unsent.get_untracked() == 0 { sign_out() } else { confirming.set(true) }
                }>
                    {move || app.t(Text::SignOut)}
                </button>
            </header>
            <Show when=move || confirming.get()>
                <div class="confirm" role="alertdialog">
                    <p>{move || unsent_lost_on_sign_out(app.lang.get(), unsent.get())}</p>
                    <button class="sign-out-anyway" on:click=move |_| sign_out()>{move || app.t(Text::SignOutAnyway)}</button>
                    <button class="cancel" on:click=move |_| confirming.set(false)>{move || app.t(Text::Cancel)}</button>
                </div>
            </Show>
            <ConversationList list=list selected=selected />
            {move || match (selected_id.get(), selected.get_untracked()) {
                (Some(_), Some(summary)) => view! { <ChatView summary=summary on_back=on_back /> }.into_any(),
                _ => view! { <section class="chat placeholder"><p class="muted">{app.t(Text::PickConversation)}</p></section> }.into_any(),
            }}
        </div>
    }
}
