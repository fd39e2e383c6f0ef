//! The message composer: Enter sends, Shift+Enter starts a new line; empty drafts and
//! drafts over 4000 characters are refused with a sentence, and the remaining length is
//! shown before the limit is hit.

use leptos::prelude::*;

use crate::chat::model::{validate_draft, DraftError, MAX_BODY_CHARS};
use crate::context::use_app;
use crate::i18n::{chars_left, draft_too_long, Text};

/// Show the counter once this few characters are left.
const COUNTER_FROM: usize = 200;

#[component]
pub fn Composer(
    /// Receives a validated body.
    on_send: Callback<String>,
    /// Told of every change of the draft (for the typing indicator).
    #[prop(optional)]
    on_draft: Option<Callback<String>>,
    /// Told when the composer loses focus.
    #[prop(optional)]
    on_blur: Option<Callback<()>>,
) -> impl IntoView {
    let app = use_app();
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<DraftError>);
    let length = Memo::new(move |_| draft.with(|d| d.chars().count()));

    let submit = move || {
        let text = draft.get_untracked();
        match validate_draft(&text) {
            Ok(body) => {
                on_send.run(body.to_string());
                draft.set(String::new());
                error.set(None);
            }
            Err(problem) => error.set(Some(problem)),
        }
    };
    let message = move || {
        let lang = app.lang.get();
        match error.get() {
            Some(DraftError::Empty) => Some(Text::DraftEmpty.get(lang).to_string()),
            Some(DraftError::TooLong { chars }) => {
                Some(draft_too_long(lang, chars, MAX_BODY_CHARS))
            }
            None => {
                let left = MAX_BODY_CHARS.saturating_sub(length.get());
                (left <= COUNTER_FROM).then(|| chars_left(lang, left))
            }
        }
    };

    // Ready to type when a chat opens — except on a phone, where focusing would raise the
    // on-screen keyboard over the conversation the person came to read.
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(textarea) = textarea.get() {
            if !crate::browser::narrow_screen() {
                let _ = textarea.focus();
            }
        }
    });

    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <textarea
                node_ref=textarea
                name="message"
                rows="2"
                maxlength=MAX_BODY_CHARS.to_string()
                placeholder=app.tr(Text::ComposerPlaceholder)
                aria-label=app.tr(Text::ComposerPlaceholder)
                prop:value=move || draft.get()
                on:blur=move |_| {
                    if let Some(on_blur) = on_blur {
                        on_blur.run(());
                    }
                }
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    if let Some(on_draft) = on_draft {
                        on_draft.run(text.clone());
                    }
                    draft.set(text);
                    if matches!(error.get_untracked(), Some(DraftError::Empty)) {
                        error.set(None);
                    }
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            ></textarea>
            <button type="submit">{app.tr(Text::Send)}</button>
            <Show when=move || message().is_some()>
                <p class="composer-note" class:error=move || error.get().is_some() role="status">{message}</p>
            </Show>
        </form>
    }
}
