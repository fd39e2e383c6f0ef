//! Invitation links (`…/#invite=<token>`): the token is taken out of the address when the
//! app starts and kept on the device while the person signs up or signs in, then accepted
//! — the conversation with their trainer opens. A refused token (used, expired, revoked,
//! unknown) is dropped with a sentence saying why; a network failure keeps it for the next
//! wake-up. The token travels in the fragment, so no server log or Referer sees it.

use leptos::prelude::*;

use super::account::Account;
use super::list::ConversationList;
use super::model::ConversationSummary;
use crate::api::account as api;
use crate::api::ApiError;
use crate::context::AppContext;
use crate::i18n::Text;
use crate::storage;
use crate::task::Tasks;

const KEY: &str = "coach-chat.invitation";

/// The token of an invitation link's fragment (`#invite=<hex>`), if it holds one.
pub fn token_in(fragment: &str) -> Option<String> {
    let token = fragment
        .trim_start_matches('#')
        .split('&')
        .find_map(|pair| pair.strip_prefix("invite="))?;
    let plausible =
        (16..=128).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric());
    plausible.then(|| token.to_string())
}

/// The link that invites with `token`, on this app's own address.
pub fn link(token: &str) -> String {
    format!("{}#invite={token}", crate::browser::app_address())
}

/// At start: an invitation link's token is kept on the device and taken out of the
/// address (a reload or a shared screenshot does not carry it on).
pub fn take_from_address() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(token) = window.location().hash().ok().as_deref().and_then(token_in) else {
        return;
    };
    storage::save(KEY, &token);
    crate::browser::clear_fragment();
}

/// An invitation waits to be accepted on this device.
pub fn pending() -> bool {
    storage::load::<String>(KEY).is_some()
}

/// Signed in with an invitation waiting: accepts it, then opens the conversation once the
/// list has it. What went wrong, if anything, for the person to read.
pub fn use_invitation(
    app: AppContext,
    account: Account,
    list: ConversationList,
    selected: RwSignal<Option<ConversationSummary>>,
) -> RwSignal<Option<Text>> {
    let problem = RwSignal::new(None);
    let joined = RwSignal::new(None::<String>);
    let tasks = Tasks::of_current_owner();
    // Tried at start and on every wake-up (back online, back to the tab) until it is done.
    Effect::new(move |_| {
        app.wakes.track();
        let (Some(token), Some(access), config) =
            (storage::load::<String>(KEY), app.token(), app.config())
        else {
            return;
        };
        tasks.spawn(async move {
            match api::accept_invitation(&config, &access, &token).await {
                Ok(conversation) => {
                    storage::remove(KEY);
                    problem.try_set(None);
                    joined.try_set(Some(conversation));
                    account.reload();
                    app.refresh_list();
                }
                Err(error) => {
                    // Refused (used, expired, …) is final; no answer, or a session being
                    // renewed, is tried again.
                    let refused = matches!(&error, ApiError::Http { status, .. }
                        if (400..500).contains(status) && *status != 429);
                    if refused {
                        storage::remove(KEY);
                    }
                    problem.try_set(Some(error.text()));
                }
            }
        });
    });
    // The new conversation opens as soon as the list shows it.
    Effect::new(move |_| {
        let Some(id) = joined.get() else {
            return;
        };
        let found = list.summaries.with(|list| {
            list.iter()
                .flatten()
                .find(|s| s.conversation_id == id)
                .cloned()
        });
        if let Some(summary) = found {
            joined.set(None);
            selected.set(Some(summary));
        }
    });
    problem
}

#[cfg(test)]
mod tests {
    use super::token_in;

    #[test]
    fn the_token_comes_from_the_fragment_and_nothing_else_passes() {
        let token = "0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            token_in(&format!("#invite={token}")).as_deref(),
            Some(token)
        );
        assert_eq!(
            token_in(&format!("#x=1&invite={token}")).as_deref(),
            Some(token)
        );
        assert_eq!(token_in("#invite="), None);
        assert_eq!(token_in("#invite=short"), None);
        assert_eq!(
            token_in("#invite=<script>alert(1)</script>aaaaaaaaaa"),
            None
        );
        assert_eq!(token_in(&format!("#invite={}", "a".repeat(129))), None);
        assert_eq!(token_in("#conversation=abc"), None);
        assert_eq!(token_in(""), None);
    }
}
