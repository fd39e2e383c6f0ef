//! How the messages of a conversation are laid out for reading: a date separator where a
//! new day begins (in the reader's time zone), consecutive messages of one sender grouped
//! under one visual run, and the divider before the first message that was unread when
//! the conversation was opened. Pure code; the view draws what it says.

use super::store::StoredMessage;

/// Messages of one sender closer than this in time join one group.
const GROUP_GAP_MICROS: i64 = 5 * 60 * 1_000_000;

/// One message and how it sits among its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub message: StoredMessage,
    /// The local day (days since 1970-01-01 in the reader's zone) when this message is the
    /// first of its day, so a separator goes before it.
    pub starts_day: Option<i64>,
    /// Same sender as the message before, within a few minutes, on the same day.
    pub continues_group: bool,
    /// The "unread messages" divider goes before this one.
    pub first_unread: bool,
}

/// Lays out `messages` (in order). `local_day` maps a message's time (unix microseconds)
/// to its day in the reader's time zone; `first_unread` is the id the divider marks.
pub fn lay_out(
    messages: &[StoredMessage],
    local_day: impl Fn(i64) -> i64,
    first_unread: Option<&str>,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::with_capacity(messages.len());
    let mut previous: Option<(&StoredMessage, i64)> = None;
    for message in messages {
        let micros = message.sort_key.0;
        let day = local_day(micros);
        let is_first_unread = first_unread == Some(message.row.id.as_str());
        let (starts_day, continues_group) = match previous {
            Some((before, before_day)) if before_day == day => (
                None,
                before.row.sender_id == message.row.sender_id
                    && micros - before.sort_key.0 < GROUP_GAP_MICROS
                    && !is_first_unread,
            ),
            _ => (Some(day), false),
        };
        entries.push(Entry {
            message: message.clone(),
            starts_day,
            continues_group,
            first_unread: is_first_unread,
        });
        previous = Some((message, day));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::model::MessageRow;
    use crate::chat::store::{SendState, Source};

    const MINUTE: i64 = 60 * 1_000_000;
    const DAY: i64 = 24 * 60 * MINUTE;

    fn message(id: &str, sender: &str, micros: i64) -> StoredMessage {
        StoredMessage {
            row: MessageRow {
                id: id.into(),
                conversation_id: "c".into(),
                sender_id: sender.into(),
                body: id.into(),
                created_at: String::new(),
                read_at: None,
                ..Default::default()
            },
            sort_key: (micros, id.into()),
            source: Source::Database,
            send_state: SendState::Sent,
            read_claimed: false,
        }
    }

    fn utc_day(micros: i64) -> i64 {
        micros.div_euclid(DAY)
    }

    fn shape(entries: &[Entry]) -> Vec<(String, Option<i64>, bool, bool)> {
        entries
            .iter()
            .map(|e| {
                let id = e.message.row.id.clone();
                (id, e.starts_day, e.continues_group, e.first_unread)
            })
            .collect()
    }

    #[test]
    fn a_separator_starts_every_day_and_groups_never_cross_one() {
        let messages = [
            message("a", "ivan", 3 * DAY + 10 * MINUTE),
            message("b", "ivan", 3 * DAY + 12 * MINUTE),
            message("c", "ivan", 4 * DAY + MINUTE), // next day, same sender
            message("d", "elena", 4 * DAY + 2 * MINUTE),
        ];
        assert_eq!(
            shape(&lay_out(&messages, utc_day, None)),
            [
                ("a".into(), Some(3), false, false),
                ("b".into(), None, true, false),
                ("c".into(), Some(4), false, false),
                ("d".into(), None, false, false),
            ]
        );
    }

    #[test]
    fn a_long_pause_or_the_unread_divider_starts_a_new_group() {
        let messages = [
            message("a", "ivan", DAY),
            message("b", "ivan", DAY + 6 * MINUTE),
            message("c", "ivan", DAY + 7 * MINUTE),
            message("d", "ivan", DAY + 8 * MINUTE),
        ];
        assert_eq!(
            shape(&lay_out(&messages, utc_day, Some("d"))),
            [
                ("a".into(), Some(1), false, false),
                ("b".into(), None, false, false),
                ("c".into(), None, true, false),
                ("d".into(), None, false, true),
            ]
        );
    }

    #[test]
    fn the_reader_time_zone_decides_the_day() {
        // 21:30 and 22:30 UTC are one day in London, two in Sofia (two hours east).
        let messages = [
            message("a", "ivan", DAY + 21 * 60 * MINUTE + 30 * MINUTE),
            message("b", "ivan", DAY + 22 * 60 * MINUTE + 30 * MINUTE),
        ];
        let sofia = |micros: i64| (micros + 120 * MINUTE).div_euclid(DAY);
        let days: Vec<_> = lay_out(&messages, sofia, None)
            .iter()
            .map(|e| e.starts_day)
            .collect();
        assert_eq!(days, [Some(1), Some(2)]);
        let utc: Vec<_> = lay_out(&messages, utc_day, None)
            .iter()
            .map(|e| e.starts_day)
            .collect();
        assert_eq!(utc, [Some(1), None]);
    }
}
