//! Announcements: a trainer writes once and sends it to several clients. Each copy is an
//! ordinary message in that client's own conversation (so privacy and read receipts stay
//! per client) with its own id, queued in the outbox: a copy that fails is retried alone,
//! and a retry can never store a copy twice. Pure code.

use super::model::{validate_draft, DraftError, MessageRow};
use super::outbox::Outbox;

/// Why an announcement cannot go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnouncementError {
    Draft(DraftError),
    NoRecipients,
}

/// One copy per chosen conversation (each once, in the order chosen), all with the same
/// text and time, each with an id from `new_id`.
pub fn announcement_copies(
    draft: &str,
    conversations: &[String],
    sender_id: &str,
    created_at: &str,
    mut new_id: impl FnMut() -> String,
) -> Result<Vec<MessageRow>, AnnouncementError> {
    let body = validate_draft(draft).map_err(AnnouncementError::Draft)?;
    let mut copies: Vec<MessageRow> = Vec::with_capacity(conversations.len());
    for conversation_id in conversations {
        if copies.iter().any(|c| &c.conversation_id == conversation_id) {
            continue;
        }
        copies.push(MessageRow {
            id: new_id(),
            conversation_id: conversation_id.clone(),
            sender_id: sender_id.to_string(),
            body: body.to_string(),
            created_at: created_at.to_string(),
            ..Default::default()
        });
    }
    if copies.is_empty() {
        return Err(AnnouncementError::NoRecipients);
    }
    Ok(copies)
}

/// How far the copies of an announcement (their ids) have got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub total: usize,
    /// Still in the outbox, being sent or waiting for a retry.
    pub waiting: usize,
    /// Given up on (shown with Retry and Delete in their conversations).
    pub failed: usize,
}

impl Progress {
    pub fn of(ids: &[String], outbox: &Outbox) -> Progress {
        let mut progress = Progress {
            total: ids.len(),
            ..Default::default()
        };
        for item in outbox.items() {
            if ids.contains(&item.row.id) {
                if item.failed {
                    progress.failed += 1;
                } else {
                    progress.waiting += 1;
                }
            }
        }
        progress
    }

    /// Stored by the server (or deleted by the person from their conversation).
    pub fn sent(self) -> usize {
        self.total - self.waiting - self.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::outbox::Failure;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id-{n}")
        }
    }

    fn chosen(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn one_copy_per_chosen_conversation_each_with_its_own_id() {
        let copies = announcement_copies(
            "Тренировката утре е в 8:00",
            &chosen(&["c1", "c2", "c1", "c3"]),
            "trainer",
            "2026-11-28T08:00:00.000000+00:00",
            ids(),
        )
        .unwrap();
        let places: Vec<(&str, &str)> = copies
            .iter()
            .map(|c| (c.id.as_str(), c.conversation_id.as_str()))
            .collect();
        assert_eq!(places, [("id-1", "c1"), ("id-2", "c2"), ("id-3", "c3")]);
        assert!(copies
            .iter()
            .all(|c| c.body == "Тренировката утре е в 8:00" && c.sender_id == "trainer"));
    }

    #[test]
    fn an_empty_text_or_nobody_chosen_is_refused() {
        assert_eq!(
            announcement_copies("  ", &chosen(&["c1"]), "t", "now", ids()),
            Err(AnnouncementError::Draft(DraftError::Empty))
        );
        assert_eq!(
            announcement_copies("Hi", &[], "t", "now", ids()),
            Err(AnnouncementError::NoRecipients)
        );
        let long = "ж".repeat(4001);
        assert!(matches!(
            announcement_copies(&long, &chosen(&["c1"]), "t", "now", ids()),
            Err(AnnouncementError::Draft(DraftError::TooLong {
                chars: 4001
            }))
        ));
    }

    #[test]
    fn progress_counts_what_left_the_outbox_and_what_failed() {
        let copies =
            announcement_copies("Hi", &chosen(&["c1", "c2", "c3"]), "t", "now", ids()).unwrap();
        let ids: Vec<String> = copies.iter().map(|c| c.id.clone()).collect();
        let mut outbox = Outbox::default();
        for copy in &copies {
            outbox.enqueue(copy.clone(), 0.0);
        }
        let progress = Progress::of(&ids, &outbox);
        assert_eq!(
            (progress.sent(), progress.waiting, progress.failed),
            (0, 3, 0)
        );

        let mut stored = copies[0].clone();
        stored.created_at = "2026-11-28T08:00:00.000000+00:00".into();
        outbox.delivered(stored, 1.0);
        outbox.take_due(2.0);
        outbox.attempt_failed("id-2", Failure::Refused, 3.0, 0.5);
        let progress = Progress::of(&ids, &outbox);
        assert_eq!(
            (progress.sent(), progress.waiting, progress.failed),
            (1, 1, 1)
        );
    }
}
