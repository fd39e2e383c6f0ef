//! The signed-in app: top bar, conversation list and the open conversation. The work
//! that lives as long as the session — the realtime connection, the inbox channel, the
//! outbox delivery, the conversation list — is started by hooks under `chat/`; this
//! component only lays them out.

use leptos::prelude::*;

use super::account_panel::AccountPanel;
use super::diagnostics::Diagnostics;
use super::theme_toggle::ThemeToggle;
use leptos::task::spawn_local;

use super::chat_view::ChatView;
use super::conversation_list::ConversationList;
use crate::badge;
use crate::chat::account::use_account;
use crate::chat::delivery::use_delivery;
use crate::chat::here::use_here;
use crate::chat::inbox::{use_inbox, InboxRows};
use crate::chat::invitation::use_invitation;
use crate::chat::list::use_conversation_list;
use crate::chat::model::ConversationSummary;
use crate::chat::notifications::use_notifications;
use crate::chat::realtime::use_realtime;
use crate::context::use_app;
use crate::i18n::{messages_waiting, unsent_lost_on_sign_out, Text};
use crate::notify::Permission;
use crate::realtime::Status;
use crate::session;

#[component]
pub fn Shell() -> impl IntoView {
    let app = use_app();
    // First: its request travels while the rest is built.
    let selected = RwSignal::new(None::<ConversationSummary>);
    let list = use_conversation_list(app, selected);
    let account = use_account(app);
    let joining = use_invitation(app, account, list, selected);
    let client = use_realtime(app);
    let delivery = use_delivery(app);
    provide_context(delivery);
    let notifications = use_notifications(app, list, selected);
    let inbox_rows = InboxRows::default();
    provide_context(inbox_rows);
    let inbox = use_inbox(app, &client, delivery, move |message, new| {
        inbox_rows.hand(&message, new); // the open conversation shows it first
        if !new {
            return; // an edit or deletion: nothing to notify
        }
        // A realtime callback: it may outlive the shell for a moment (sign-out).
        let open = selected
            .try_with_untracked(|s| s.as_ref().map(|s| s.conversation_id.clone()))
            .flatten();
        let summaries = list.summaries.try_get_untracked().flatten();
        notifications.incoming(message, summaries, open);
    });
    use_here(app);
    // The unread total in the tab title and on the app badge (muted conversations do not
    // count); cleared on sign-out.
    let unread_total = Memo::new(move |_| {
        list.summaries.with(|list| {
            list.iter()
                .flatten()
                .filter(|summary| !summary.muted)
                .map(|summary| summary.unread_count.max(0))
                .sum::<i64>()
        })
    });
    Effect::new(move |_| badge::show_unread(unread_total.get()));
    on_cleanup(|| badge::show_unread(0));

    let selected_id =
        Memo::new(move |_| selected.with(|s| s.as_ref().map(|s| s.conversation_id.clone())));
    let on_back = Callback::new(move |_| selected.set(None));
    // A message to bring into view in the open conversation (a found message, a quote).
    let jump_to = RwSignal::new(None::<String>);
    let last_seen_at = Memo::new(move |_| {
        selected.with(|s| s.as_ref().and_then(|s| s.other_last_seen_at.clone()))
    });
    // The open conversation's (muted, pinned), and their switches.
    let flags = Memo::new(move |_| {
        selected.with(|s| s.as_ref().map_or((false, false), |s| (s.muted, s.pinned)))
    });
    let on_flags = Callback::new(move |(mute, pin): (Option<bool>, Option<bool>)| {
        if let Some(id) = selected_id.get_untracked() {
            list.set_flags(&id, mute, pin);
        }
    });
    // Signing out deletes unsent messages from the device: the person confirms that.
    let unsent = Memo::new(move |_| {
        delivery
            .outbox
            .with(|outbox| outbox.items().len() + outbox.changes().len())
    });
    // Not live: how many messages wait for the connection, too.
    let live = move || {
        let lang = app.lang.get();
        let state = match inbox.get() {
            Status::Subscribed => return Text::InboxLive.get(lang).to_string(),
            Status::Subscribing => Text::InboxConnecting,
            _ => Text::InboxDown,
        };
        match unsent.get() {
            0 => state.get(lang).to_string(),
            waiting => format!("{} {}", state.get(lang), messages_waiting(lang, waiting)),
        }
    };
    let confirming = RwSignal::new(false);
    let sign_out = move || spawn_local(session::sign_out(app));

    view! {
        <div class="shell" class:has-selection=move || selected_id.get().is_some()>
            <header class="topbar">
                <span class="brand">"Coach Chat"</span>
                <AccountPanel account=account />
                <span class="live" data-status=move || inbox.get().to_string() role="status">{live}</span>
                <Show when=move || notifications.permission.get() != Permission::Unsupported>
                    <button class="notifications" on:click=move |_| notifications.toggle()
                        disabled=move || notifications.permission.get() == Permission::Denied
                        aria-pressed=move || (notifications.permission.get() == Permission::Granted && notifications.enabled.get()).to_string()>
                        {move || app.t(match (notifications.permission.get(), notifications.enabled.get()) {
                            (Permission::Granted, true) => Text::NotificationsOn,
                            (Permission::Granted, false) => Text::NotificationsOff,
                            (Permission::Denied, _) => Text::NotificationsBlocked,
                            _ => Text::NotificationsAsk,
                        })}
                    </button>
                </Show>
                <ThemeToggle />
                <Diagnostics />
                <button class="lang" on:click=move |_| app.lang.update(|l| *l = l.other())>
                    {app.tr(Text::SwitchLanguage)}
                </button>
                <button class="sign-out" on:click=move |_| {
                    if unsent.get_untracked() == 0 { sign_out() } else { confirming.set(true) }
                }>
                    {app.tr(Text::SignOut)}
                </button>
            </header>
            <Show when=move || confirming.get()>
                <div class="confirm" role="alertdialog">
                    <p>{move || unsent_lost_on_sign_out(app.lang.get(), unsent.get())}</p>
                    <button class="sign-out-anyway" on:click=move |_| sign_out()>{app.tr(Text::SignOutAnyway)}</button>
                    <button class="cancel" on:click=move |_| confirming.set(false)>{app.tr(Text::Cancel)}</button>
                </div>
            </Show>
            {move || joining.get().map(|text| view! {
                <p class="error joining" role="alert">
                    {app.t(text)}
                    <button type="button" class="close" on:click=move |_| joining.set(None)>{app.tr(Text::Close)}</button>
                </p>
            })}
            <ConversationList list=list selected=selected account=account jump_to=jump_to />
            {move || match (selected_id.get(), selected.get_untracked()) {
                (Some(_), Some(summary)) => view! { <ChatView summary=summary last_seen_at=last_seen_at flags=flags on_flags=on_flags jump_to=jump_to on_back=on_back /> }.into_any(),
                _ => view! { <section class="chat placeholder"><p class="muted">{app.t(Text::PickConversation)}</p></section> }.into_any(),
            }}
        </div>
    }
}
