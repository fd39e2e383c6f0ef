//! The data the chat shows, as PostgREST returns it.

use serde::{Deserialize, Serialize};

/// Longest message body, in characters (the database enforces the same).
pub const MAX_BODY_CHARS: usize = 4000;

/// A row of `public.messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub conversation_id: String,
    pub sender_id: String,
    pub body: String,
    pub created_at: String,
    #[serde(default)]
    pub read_at: Option<String>,
}

/// A row of `conversation_summaries()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation_id: String,
    pub other_id: String,
    pub other_name: String,
    pub other_role: String,
    pub last_body: Option<String>,
    pub last_sender_id: Option<String>,
    pub last_at: String,
    pub unread_count: i64,
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

    #[test]
    fn rows_decode_from_postgrest_json() {
        let row: MessageRow = serde_json::from_str(
            r#"{"id":"m","conversation_id":"c","sender_id":"u","body":"b","created_at":"2026-11-25T14:29:15+00:00","read_at":null}"#,
        )
        .unwrap();
        assert_eq!(row.read_at, None);
    }
}
