//! The open conversation: header with the live status, messages, composer. Mounted per
//! conversation (keyed by id), so switching conversations leaves the old channel.

use leptos::html::Ol;
use leptos::prelude::*;

use super::channel_status::ChannelStatus;
use super::composer::Composer;
use super::message_bubble::MessageBubble;
use super::seen::seen_text;
use crate::chat::conversation::use_conversation;
use crate::chat::delivery::Delivery;
use crate::chat::model::ConversationSummary;
use crate::context::use_app;
use crate::i18n::{typing, Text};
use crate::realtime::Status;

#[component]
pub fn ChatView(
    summary: ConversationSummary,
    /// The other person's last seen, kept fresh by the list.
    #[prop(into)]
    last_seen_at: Signal<Option<String>>,
    on_back: Callback<()>,
) -> impl IntoView {
    let app = use_app();
    let conversation = use_conversation(app, expect_context::<Delivery>(), &summary);
    let me = app.user_id().unwrap_or_default();
    let list = NodeRef::<Ol>::new();

    // Follow new messages unless the person scrolled up to read older ones. Measured once
    // per frame, when the browser lays the page out anyway: reading the list's height right
    // after each message would lay it out again per message (100 a second in a burst).
    let follow_pending = StoredValue::new(false);
    Effect::new(move |_| {
        conversation.store.track();
        if follow_pending.get_value() {
            return;
        }
        follow_pending.set_value(true);
        request_animation_frame(move || {
            follow_pending.try_set_value(false);
            if let Some(list) = list.try_get_untracked().flatten() {
                let distance = list.scroll_height() - list.scroll_top() - list.client_height();
                if distance < 200 {
                    list.set_scroll_top(list.scroll_height());
                }
            }
        });
    });

    let role = if summary.other_role == "trainer" {
        Text::Trainer
    } else {
        Text::Client
    };
    let on_send = Callback::new(move |body: String| conversation.send(body));
    let on_retry = Callback::new(move |id: String| conversation.retry(&id));
    let on_delete = Callback::new(move |id: String| conversation.delete(&id));
    let on_draft = Callback::new(move |draft: String| conversation.draft_changed(&draft));
    let on_blur = Callback::new(move |_| conversation.stop_typing());
    // Typing first, then presence (trusted once the channel is joined), then last seen.
    let other_name = summary.other_name.clone();
    let presence_line = move || {
        if conversation.other_typing.get() {
            return Some(typing(app.lang.get(), &other_name));
        }
        let joined = conversation.status.with(|s| *s == Status::Subscribed);
        let presence = joined.then(|| conversation.other_online.get());
        last_seen_at.with(|seen| seen_text(app, presence, seen.as_deref()))
    };
    view! {
        <section class="chat" data-conversation=summary.conversation_id.clone()>
            <header>
                <button class="back" on:click=move |_| on_back.run(())>{move || app.t(Text::Back)}</button>
                <div class="who">
                    <h2>{summary.other_name.clone()}</h2>
                    <span class="role">{move || app.t(role)}</span>
                    <span class="presence" class:online=move || conversation.other_online.get()
                        class:typing=move || conversation.other_typing.get() role="status">{presence_line}</span>
                </div>
                <ChannelStatus status=conversation.status backup_off=conversation.backup_off on_retry=Callback::new(move |_| conversation.rejoin()) />
            </header>
            <Show when=move || conversation.problem.get().is_some()>
                <p class="error" role="alert">{move || conversation.problem.get().map(|text| app.t(text))}</p>
            </Show>
            <ol class="messages" node_ref=list aria-live="polite">
                <Show when=move || conversation.store.with(|s| s.is_empty())>
                    <li class="empty muted">{move || app.t(Text::NoMessagesYet)}</li>
                </Show>
                // Only one's own bubbles show a delivery state: theirs keep their element
                // when read receipts arrive (a burst marks dozens read at once).
                <For
                    each=move || conversation.store.with(|s| s.messages().to_vec())
                    key={
                        let me = me.clone();
                        move |m| {
                            let state = (m.row.sender_id == me).then(|| (m.send_state, m.is_read()));
                            (m.row.id.clone(), state, m.sort_key.0)
                        }
                    }
                    let:message
                >
                    <MessageBubble mine={message.row.sender_id == me} message=message on_retry=on_retry on_delete=on_delete />
                </For>
            </ol>
            <Composer on_send=on_send on_draft=on_draft on_blur=on_blur />
        </section>
    }
}
