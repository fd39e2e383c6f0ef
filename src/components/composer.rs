//! The message composer: Enter sends, Shift+Enter starts a new line; empty drafts and
//! drafts over 4000 characters are refused with a sentence, and the remaining length is
//! shown before the limit is hit. It also edits one's own message: the text comes into
//! it, Enter saves, Esc or Cancel gives up, and the draft put aside comes back.

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
    /// The message being edited (id, text), set from its menu; `None` when writing anew.
    #[prop(optional)]
    editing: Option<RwSignal<Option<(String, String)>>>,
    /// Receives the edited message's id and its new (validated, changed) text.
    #[prop(optional)]
    on_edit: Option<Callback<(String, String)>>,
) -> impl IntoView {
    let app = use_app();
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<DraftError>);
    let length = Memo::new(move |_| draft.with(|d| d.chars().count()));
    let editing = editing.unwrap_or_else(|| RwSignal::new(None));
    let is_editing = move || editing.with(Option::is_some);
    // What was being written before an edit began comes back after it.
    let put_aside = StoredValue::new(None::<String>);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| match editing.get() {
        Some((_, text)) => {
            if put_aside.with_value(Option::is_none) {
                put_aside.set_value(Some(draft.get_untracked()));
            }
            draft.set(text);
            error.set(None);
            if let Some(textarea) = textarea.get_untracked() {
                let _ = textarea.focus();
            }
        }
        None => {
            if let Some(aside) = put_aside.try_update_value(Option::take).flatten() {
                draft.set(aside);
            }
        }
    });

    let submit = move || {
        let text = draft.get_untracked();
        match validate_draft(&text) {
            Ok(body) => {
                match editing.get_untracked() {
                    Some((id, before)) => {
                        if body != before {
                            if let Some(on_edit) = on_edit {
                                on_edit.run((id, body.to_string()));
                            }
                        }
                        editing.set(None);
                    }
                    None => {
                        on_send.run(body.to_string());
                        draft.set(String::new());
                    }
                }
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
    Effect::new(move |_| {
        if let Some(textarea) = textarea.get() {
            if !crate::browser::narrow_screen() {
                let _ = textarea.focus();
            }
        }
    });

    view! {
        <form class="composer" class:editing=is_editing on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <Show when=is_editing>
                <p class="editing-note">
                    {app.tr(Text::EditingMessage)}
                    <button type="button" class="cancel-edit" on:click=move |_| editing.set(None)>{app.tr(Text::Cancel)}</button>
                </p>
            </Show>
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
                    if let Some(on_draft) = on_draft.filter(|_| !is_editing()) {
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
                    } else if ev.key() == "Escape" && is_editing() {
                        ev.stop_propagation(); // ends the edit, not the conversation
                        editing.set(None);
                    }
                }
            ></textarea>
            <button type="submit">{move || app.t(if is_editing() { Text::Save } else { Text::Send })}</button>
            <Show when=move || message().is_some()>
                <p class="composer-note" class:error=move || error.get().is_some() role="status">{message}</p>
            </Show>
        </form>
    }
}
