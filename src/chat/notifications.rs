//! `use_notifications`: an incoming message raises a browser notification when the person
//! would otherwise miss it — the page is hidden, or another conversation is open — if they
//! turned notifications on and did not mute that conversation (per person and device; asked only from the control in the top
//! bar, never on load). A notification's click opens its conversation here. The rules are
//! plain functions, tested natively.

use leptos::prelude::*;
use serde_json::Value;

use super::list::ConversationList;
use super::model::{ConversationSummary, MessageRow};
use crate::context::AppContext;
use crate::notify::{self, Permission};
use crate::storage;
use crate::task::Tasks;

/// Longest preview shown in a notification, in characters.
const PREVIEW_CHARS: usize = 120;

/// Whether a message from someone else in `conversation` deserves a notification.
pub fn should_notify(
    enabled: bool,
    permission: Permission,
    page_visible: bool,
    open_conversation: Option<&str>,
    conversation: &str,
) -> bool {
    enabled
        && permission == Permission::Granted
        && (!page_visible || open_conversation != Some(conversation))
}

/// The message's text on one line, cut at a word where it is long.
pub fn preview(body: &str) -> String {
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= PREVIEW_CHARS {
        return line;
    }
    let cut: String = line.chars().take(PREVIEW_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > PREVIEW_CHARS / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{cut}…")
}

fn setting_key(user_id: &str) -> String {
    format!("coach-chat.notifications.{user_id}")
}

#[derive(Clone, Copy)]
pub struct Notifications {
    pub permission: RwSignal<Permission>,
    /// The person's choice on this device (on unless they turned it off).
    pub enabled: RwSignal<bool>,
    tasks: StoredValue<Tasks>,
    app: AppContext,
}

impl Notifications {
    /// The top bar's control: asks the browser the first time, then turns them on and off.
    pub fn toggle(self) {
        let key = setting_key(&self.app.user_id().unwrap_or_default());
        match self.permission.get_untracked() {
            Permission::Granted => {
                let on = !self.enabled.get_untracked();
                self.enabled.set(on);
                storage::save(&key, &on);
            }
            Permission::Default => {
                let Some(tasks) = self.tasks.try_get_value() else {
                    return;
                };
                tasks.spawn(async move {
                    let granted = notify::request_permission().await;
                    self.permission.try_set(granted);
                    if granted == Permission::Granted {
                        self.enabled.try_set(true);
                        storage::save(&key, &true);
                    }
                });
            }
            Permission::Denied | Permission::Unsupported => {}
        }
    }

    /// A message addressed to the person arrived (the inbox's `new_message`).
    pub fn incoming(
        self,
        payload: Value,
        summaries: Option<Vec<ConversationSummary>>,
        open: Option<String>,
    ) {
        let Ok(row) = serde_json::from_value::<MessageRow>(payload) else {
            return;
        };
        if Some(&row.sender_id) == self.app.user_id().as_ref() {
            return;
        }
        let visible = self.app.visible.try_get_untracked().unwrap_or(false);
        let enabled = self.enabled.try_get_untracked().unwrap_or(false);
        let permission = notify::permission();
        if !should_notify(
            enabled,
            permission,
            visible,
            open.as_deref(),
            &row.conversation_id,
        ) {
            return;
        }
        let summary = summaries
            .into_iter()
            .flatten()
            .find(|s| s.conversation_id == row.conversation_id);
        if summary.as_ref().is_some_and(|s| s.muted) {
            return; // the person muted it
        }
        let title = summary.map_or_else(|| "Coach Chat".into(), |s| s.other_name);
        let body = preview(&row.body);
        let Some(tasks) = self.tasks.try_get_value() else {
            return;
        };
        tasks.spawn(async move {
            let tag = format!("conversation-{}", row.conversation_id);
            notify::show(&title, &body, &tag, &row.conversation_id).await;
        });
    }
}

/// Sets up notifications for the signed-in person and opens the conversation a
/// notification asks for (now, or once the list has it).
pub fn use_notifications(
    app: AppContext,
    list: ConversationList,
    selected: RwSignal<Option<ConversationSummary>>,
) -> Notifications {
    let key = setting_key(&app.user_id().unwrap_or_default());
    let notifications = Notifications {
        permission: RwSignal::new(notify::permission()),
        enabled: RwSignal::new(storage::load::<bool>(&key).unwrap_or(true)),
        tasks: StoredValue::new(Tasks::of_current_owner()),
        app,
    };
    let wanted = RwSignal::new(notify::take_launch_conversation());
    let listener = StoredValue::new_local(notify::on_open_request(move |id| {
        wanted.try_set(Some(id));
    }));
    on_cleanup(move || {
        let _ = listener.try_update_value(|listener| listener.take());
    });
    Effect::new(move |_| {
        let Some(id) = wanted.get() else {
            return;
        };
        let found = list.summaries.with(|summaries| {
            summaries
                .iter()
                .flatten()
                .find(|s| s.conversation_id == id)
                .cloned()
        });
        if let Some(summary) = found {
            wanted.set(None);
            selected.set(Some(summary));
        }
    });
    // Permission can change in the browser's settings while the app is open.
    Effect::new(move |_| {
        app.wakes.track();
        notifications.permission.try_set(notify::permission());
    });
    notifications
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifies_only_what_the_person_would_otherwise_miss() {
        let granted = Permission::Granted;
        assert!(
            should_notify(true, granted, false, Some("a"), "a"),
            "hidden page"
        );
        assert!(
            should_notify(true, granted, true, Some("b"), "a"),
            "another chat open"
        );
        assert!(
            should_notify(true, granted, true, None, "a"),
            "the list is open"
        );
        assert!(
            !should_notify(true, granted, true, Some("a"), "a"),
            "reading it now"
        );
        assert!(
            !should_notify(false, granted, false, None, "a"),
            "turned off"
        );
        assert!(
            !should_notify(true, Permission::Default, false, None, "a"),
            "not allowed"
        );
        assert!(!should_notify(true, Permission::Denied, false, None, "a"));
    }

    #[test]
    fn previews_are_one_line_and_cut_at_a_word() {
        assert_eq!(preview("Здравей,\n  как си?"), "Здравей, как си?");
        let long = "дума ".repeat(60);
        let cut = preview(&long);
        assert!(cut.ends_with("дума…"), "{cut}");
        assert!(cut.chars().count() <= PREVIEW_CHARS + 1);
    }
}
