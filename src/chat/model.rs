//! The data the chat shows, as PostgREST returns it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest message body, in characters (the database enforces the same).
pub const MAX_BODY_CHARS: usize = 4000;

/// How long after sending a message its sender may still edit it (the database decides).
pub const EDIT_WINDOW_MS: f64 = 15.0 * 60.0 * 1000.0;

/// A row of `public.messages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub conversation_id: String,
    pub sender_id: String,
    /// Empty once the message is deleted.
    pub body: String,
    pub created_at: String,
    #[serde(default)]
    pub read_at: Option<String>,
    /// When its sender last changed the text (the server's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// When its sender deleted it: a placeholder stays, the text is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// Who reacted how: user id → one of [`REACTIONS`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, String>,
    /// When the row last changed in the database (any column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The earlier message of the conversation this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// The reactions one may give (the database allows these alone).
pub const REACTIONS: [&str; 6] = ["👍", "❤️", "💪", "😂", "😮", "🙏"];

impl MessageRow {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Which of two copies of one message is later: deletion is final, then the later
    /// database write, then the later edit (one's own edit on its way is later than the
    /// copy it changed). Copies arrive out of order (a history read taken before an edit
    /// may answer after it), so an older one must not undo a newer.
    pub fn revision(&self) -> (bool, i64, i64) {
        let micros = |at: &Option<String>| {
            at.as_deref()
                .and_then(crate::time::parse_micros)
                .unwrap_or(i64::MIN)
        };
        (
            self.is_deleted(),
            micros(&self.updated_at),
            micros(&self.edited_at),
        )
    }
}

/// A row of `conversation_summaries()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation_id: String,
    pub other_id: String,
    pub other_name: String,
    pub other_role: String,
    pub last_body: Option<String>,
    pub last_sender_id: Option<String>,
    pub last_at: String,
    pub unread_count: i64,
    /// When the other person last had the app open (`None`: never, or a list cached
    /// before this was known).
    #[serde(default)]
    pub other_last_seen_at: Option<String>,
    /// The person muted it: no notifications, no count in the title (the badge stays).
    #[serde(default)]
    pub muted: bool,
    /// The person pinned it to the top of their list.
    #[serde(default)]
    pub pinned: bool,
}

/// The list's order, as the database gives it: pinned conversations first, then each
/// group by its latest message, newest first (used to show a pin before the list is
/// read again).
pub fn sort_conversations(list: &mut [ConversationSummary]) {
    list.sort_by_key(|s| {
        let latest = crate::time::parse_micros(&s.last_at).unwrap_or(i64::MIN);
        (!s.pinned, std::cmp::Reverse(latest))
    });
}

/// Whether a conversation's other person is found by `query` (already folded by `fold`,
/// the browser's lower-casing, so "ел" finds "Елена"): anywhere in the name; an empty
/// query finds everyone.
pub fn name_matches(
    summary: &ConversationSummary,
    query: &str,
    fold: impl Fn(&str) -> String,
) -> bool {
    query.is_empty() || fold(&summary.other_name).contains(query)
}

/// Shortest message search (the database answers nothing shorter).
pub const MIN_SEARCH_CHARS: usize = 2;

/// A search result's text around its first match, cut into (text, matched) parts; the
/// match is found in any case ("клек" in "Клекове"). At most `around` characters are kept
/// on each side of it, an ellipsis marking a cut.
pub fn highlight(text: &str, query: &str, around: usize) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let wanted: Vec<char> = query.chars().flat_map(char::to_lowercase).collect();
    let fold = |c: char| c.to_lowercase().collect::<Vec<_>>();
    let found = (0..chars.len()).find_map(|start| {
        let mut folded = Vec::new();
        for (offset, &c) in chars[start..].iter().enumerate() {
            folded.extend(fold(c));
            if folded.len() >= wanted.len() {
                return (folded == wanted).then_some((start, start + offset + 1));
            }
        }
        None
    });
    let Some((start, end)) = found.filter(|_| !wanted.is_empty()) else {
        return vec![(chars.iter().take(2 * around).collect(), false)];
    };
    let from = start.saturating_sub(around);
    let to = (end + around).min(chars.len());
    let text = |range: std::ops::Range<usize>| chars[range].iter().collect::<String>();
    let before = format!("{}{}", if from > 0 { "…" } else { "" }, text(from..start));
    let after = format!(
        "{}{}",
        text(end..to),
        if to < chars.len() { "…" } else { "" }
    );
    vec![(before, false), (text(start..end), true), (after, false)]
}

/// A `new_message` broadcast, if it is a well-formed message of this conversation from
/// the other participant (`other_id`); anything else is ignored. It is still only a hint
/// until the database confirms it (see `MessageStore`).
pub fn message_from_broadcast(
    payload: serde_json::Value,
    conversation_id: &str,
    other_id: &str,
) -> Option<MessageRow> {
    let row: MessageRow = serde_json::from_value(payload).ok()?;
    let well_formed = is_uuid(&row.id)
        && row.conversation_id == conversation_id
        && row.sender_id == other_id
        && validate_draft(&row.body).is_ok()
        && crate::time::parse_micros(&row.created_at).is_some();
    well_formed.then_some(row)
}

/// Most ids one `message_read` broadcast may name (a history page is 50).
const MAX_READ_IDS: usize = 500;

/// The message ids of a `message_read` broadcast (UUIDs only, at most a few hundred).
pub fn ids_from_read_broadcast(payload: &serde_json::Value) -> Vec<String> {
    payload["ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().filter(|id| is_uuid(id)))
                .take(MAX_READ_IDS)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Why a draft cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftError {
    Empty,
    TooLong { chars: usize },
}

/// Checks a draft the way the database will: 1–4000 characters, not only whitespace.
pub fn validate_draft(draft: &str) -> Result<&str, DraftError> {
    let chars = draft.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(DraftError::TooLong { chars });
    }
    if draft.trim().is_empty() {
        return Err(DraftError::Empty);
    }
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_must_have_text_and_fit_the_limit() {
        assert_eq!(validate_draft("   \n\t"), Err(DraftError::Empty));
        assert_eq!(validate_draft(""), Err(DraftError::Empty));
        assert_eq!(validate_draft("здрасти"), Ok("здрасти"));
        let cyrillic_limit = "ж".repeat(MAX_BODY_CHARS);
        assert!(
            validate_draft(&cyrillic_limit).is_ok(),
            "the limit counts characters, not bytes"
        );
        assert_eq!(
            validate_draft(&format!("{cyrillic_limit}ж")),
            Err(DraftError::TooLong {
                chars: MAX_BODY_CHARS + 1
            })
        );
    }

    const CONVERSATION: &str = "c1000000-0000-4000-8000-000000000001";
    const OTHER: &str = "a1000000-0000-4000-8000-000000000002";

    fn broadcast(overrides: serde_json::Value) -> serde_json::Value {
        let mut payload = serde_json::json!({
            "id": "0b0c0d0e-0000-4000-8000-000000000001", "conversation_id": CONVERSATION,
            "sender_id": OTHER, "body": "здрасти", "created_at": "2026-11-25T14:29:15+00:00",
            "read_at": null
        });
        for (key, value) in overrides.as_object().unwrap() {
            payload[key] = value.clone();
        }
        payload
    }

    #[test]
    fn only_well_formed_broadcasts_from_the_other_participant_are_shown() {
        let ok = message_from_broadcast(broadcast(serde_json::json!({})), CONVERSATION, OTHER);
        assert_eq!(ok.unwrap().body, "здрасти");
        for forged in [
            serde_json::json!({"sender_id": "a1000000-0000-4000-8000-000000000001"}),
            serde_json::json!({"conversation_id": "c1000000-0000-4000-8000-000000000002"}),
            serde_json::json!({"id": "not-a-uuid"}),
            serde_json::json!({"body": "   "}),
            serde_json::json!({"body": "ж".repeat(MAX_BODY_CHARS + 1)}),
            serde_json::json!({"created_at": "tomorrow"}),
            serde_json::json!({"body": 42}),
        ] {
            assert!(
                message_from_broadcast(broadcast(forged.clone()), CONVERSATION, OTHER).is_none(),
                "{forged}"
            );
        }
    }

    #[test]
    fn read_broadcasts_name_uuids_only_and_not_too_many() {
        let ids: Vec<String> = (0..600)
            .map(|n| format!("00000000-0000-4000-8000-{n:012}"))
            .collect();
        let payload = serde_json::json!({ "ids": ids });
        assert_eq!(ids_from_read_broadcast(&payload).len(), MAX_READ_IDS);
        let junk =
            serde_json::json!({ "ids": ["x", 5, null, "00000000-0000-4000-8000-000000000001"] });
        assert_eq!(ids_from_read_broadcast(&junk).len(), 1);
        assert!(ids_from_read_broadcast(&serde_json::json!({"ids": "all"})).is_empty());
    }

    #[test]
    fn rows_decode_from_postgrest_json() {
        let row: MessageRow = serde_json::from_str(
            r#"{"id":"m","conversation_id":"c","sender_id":"u","body":"b","created_at":"2026-11-25T14:29:15+00:00","read_at":null}"#,
        )
        .unwrap();
        assert_eq!(row.read_at, None);
    }
}

#[cfg(test)]
mod search_tests {
    use super::*;

    fn summary(name: &str) -> ConversationSummary {
        ConversationSummary {
            conversation_id: "c".into(),
            other_id: "o".into(),
            other_name: name.into(),
            other_role: "client".into(),
            last_body: None,
            last_sender_id: None,
            last_at: String::new(),
            unread_count: 0,
            other_last_seen_at: None,
            muted: false,
            pinned: false,
        }
    }

    #[test]
    fn a_search_match_is_marked_in_any_case_with_a_little_around_it() {
        let parts = highlight("Утре: Клекове с щанга, 5 × 5", "клек", 6);
        assert_eq!(
            parts,
            [
                ("Утре: ".to_string(), false),
                ("Клек".to_string(), true),
                ("ове с …".to_string(), false)
            ]
        );
        let whole = highlight("deadLIFT", "lift", 10);
        assert_eq!(whole[1], ("LIFT".to_string(), true));
        assert_eq!(whole[0].0, "dead");
        let cut = highlight("Почивка в неделя, тренировка в понеделник", "понед", 4);
        assert_eq!(cut[0], ("…а в ".to_string(), false), "{cut:?}");
        assert_eq!(
            highlight("nothing here", "xyz", 3),
            [("nothin".to_string(), false)]
        );
    }

    #[test]
    fn pinned_conversations_lead_and_each_group_is_newest_first() {
        let at = |name: &str, last_at: &str, pinned: bool| ConversationSummary {
            last_at: last_at.into(),
            pinned,
            ..summary(name)
        };
        let mut list = vec![
            at("new", "2026-11-27T10:00:00Z", false),
            at("old pinned", "2026-11-01T10:00:00Z", true),
            at("older", "2026-11-20T10:00:00+00:00", false),
            at("new pinned", "2026-11-26T10:00:00Z", true),
        ];
        sort_conversations(&mut list);
        let names: Vec<&str> = list.iter().map(|s| s.other_name.as_str()).collect();
        assert_eq!(names, ["new pinned", "old pinned", "new", "older"]);
    }

    #[test]
    fn names_are_found_by_any_part_in_any_case() {
        let fold = |text: &str| text.to_lowercase();
        let names = ["Елена Петрова", "Иван Иванов", "Maria Ivanova"];
        let found = |query: &str| -> Vec<&str> {
            names
                .iter()
                .filter(|name| name_matches(&summary(name), &fold(query.trim()), fold))
                .copied()
                .collect()
        };
        assert_eq!(found("ел"), ["Елена Петрова"]);
        assert_eq!(found("ИВАН"), ["Иван Иванов"]);
        assert_eq!(found("ivan"), ["Maria Ivanova"]);
        assert_eq!(found(" "), names);
        assert!(found("xyz").is_empty());
    }
}
