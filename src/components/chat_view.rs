//! The open conversation: header with the live status, messages, composer. Mounted per
//! conversation (keyed by id), so switching conversations leaves the old channel.

use leptos::prelude::*;

use super::channel_status::ChannelStatus;
use super::composer::Composer;
use super::message_bubble::BubbleActions;
use super::message_list::MessageList;
use super::seen::seen_text;
use crate::chat::conversation::use_conversation;
use crate::chat::delivery::Delivery;
use crate::chat::model::ConversationSummary;
use crate::chat::notifications::preview;
use crate::context::use_app;
use crate::i18n::{typing, Text};
use crate::realtime::Status;

#[component]
pub fn ChatView(
    summary: ConversationSummary,
    /// The other person's last seen, kept fresh by the list.
    #[prop(into)]
    last_seen_at: Signal<Option<String>>,
    /// Whether the person muted and pinned it, kept fresh by the list.
    #[prop(into)]
    flags: Signal<(bool, bool)>,
    /// Sets muted and/or pinned (`None`: unchanged).
    on_flags: Callback<(Option<bool>, Option<bool>)>,
    /// A message to bring into view (a found message, a pressed quote).
    jump_to: RwSignal<Option<String>>,
    on_back: Callback<()>,
) -> impl IntoView {
    let app = use_app();
    let conversation = use_conversation(app, expect_context::<Delivery>(), &summary);
    let me = app.user_id().unwrap_or_default();
    let role = if summary.other_role == "trainer" {
        Text::Trainer
    } else {
        Text::Client
    };
    // The message being answered, shown above the composer until sent or cancelled.
    let replying = RwSignal::new(None::<String>);
    let on_send = Callback::new(move |body: String| {
        conversation.send(body, replying.get_untracked());
        replying.set(None);
    });
    let on_draft = Callback::new(move |draft: String| conversation.draft_changed(&draft));
    let on_blur = Callback::new(move |_| conversation.stop_typing());
    let editing = RwSignal::new(None::<(String, String)>);
    let on_edit = Callback::new(move |(id, body): (String, String)| conversation.edit(&id, body));
    let other = StoredValue::new(summary.other_name.clone());
    let me_id = StoredValue::new(me.clone());
    let quote = Callback::new(move |id: String| {
        let row = conversation.quoted(&id)?;
        let who = if me_id.with_value(|me| *me == row.sender_id) {
            app.t(Text::You).to_string()
        } else {
            other.get_value()
        };
        let text = if row.is_deleted() {
            app.t(Text::MessageDeleted).to_string()
        } else {
            preview(&row.body)
        };
        Some((who, text))
    });
    let actions = BubbleActions {
        retry: Callback::new(move |id: String| conversation.retry(&id)),
        discard: Callback::new(move |id: String| conversation.delete(&id)),
        edit: Callback::new(move |message: (String, String)| {
            replying.set(None);
            editing.set(Some(message));
        }),
        delete: Callback::new(move |id: String| conversation.delete_for_everyone(&id)),
        react: Callback::new(move |(id, emoji): (String, String)| conversation.react(&id, &emoji)),
        reply: Callback::new(move |id: String| {
            editing.set(None);
            replying.set(Some(id));
            crate::browser::focus_composer();
        }),
        quote,
        jump: Callback::new(move |id: String| jump_to.set(Some(id))),
    };
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
        <section class="chat" data-conversation=summary.conversation_id.clone()
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                // Esc goes back to the list where the chat fills the screen.
                if ev.key() == "Escape" && crate::browser::narrow_screen() {
                    on_back.run(());
                }
            }>
            <header>
                <button class="back" on:click=move |_| on_back.run(())>{app.tr(Text::Back)}</button>
                <div class="who">
                    <h2>{summary.other_name.clone()}</h2>
                    <span class="role">{app.tr(role)}</span>
                    <span class="presence" class:online=move || conversation.other_online.get()
                        class:typing=move || conversation.other_typing.get() role="status">{presence_line}</span>
                </div>
                // On a phone only the icon shows; the label is still the button's name.
                <button type="button" class="mute" aria-pressed=move || flags.get().0.to_string()
                    aria-label=app.tr(Text::Mute) title=app.tr(Text::Mute)
                    on:click=move |_| on_flags.run((Some(!flags.get_untracked().0), None))>
                    "🔕"<span class="label">{app.tr(Text::Mute)}</span>
                </button>
                <button type="button" class="pin" aria-pressed=move || flags.get().1.to_string()
                    aria-label=app.tr(Text::Pin) title=app.tr(Text::Pin)
                    on:click=move |_| on_flags.run((None, Some(!flags.get_untracked().1)))>
                    "📌"<span class="label">{app.tr(Text::Pin)}</span>
                </button>
                <ChannelStatus status=conversation.status backup_off=conversation.backup_off on_retry=Callback::new(move |_| conversation.rejoin()) />
            </header>
            <Show when=move || conversation.problem.get().is_some()>
                <p class="error" role="alert">{move || conversation.problem.get().map(|text| app.t(text))}</p>
            </Show>
            <MessageList conversation=conversation me=me other_name=summary.other_name.clone() actions=actions jump_to=jump_to />
            {move || replying.get().map(|id| {
                let said = quote.run(id.clone()).map(|(who, text)| format!("{who}: {text}"));
                view! {
                    <p class="replying">
                        <button type="button" class="quote" on:click=move |_| jump_to.set(Some(id.clone()))>
                            {app.t(Text::ReplyingTo)}" "{said}
                        </button>
                        <button type="button" class="cancel-reply" aria-label=app.tr(Text::Cancel) title=app.tr(Text::Cancel)
                            on:click=move |_| replying.set(None)>"×"</button>
                    </p>
                }
            })}
            <Composer on_send=on_send on_draft=on_draft on_blur=on_blur editing=editing on_edit=on_edit />
        </section>
    }
}
