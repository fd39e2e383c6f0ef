//! The typing indicator's rules, as plain data. The writer sends `typing: true` while the
//! draft has text — at most once every [`TYPING_EVERY_MS`], so a long draft keeps the
//! indicator alive without a flood — and `typing: false` on send, blur, an emptied draft
//! or [`TYPING_IDLE_MS`] without a keystroke. The reader shows it until a stop, the
//! person's next message, or [`TYPING_SHOWN_MS`] without news (a lost stop).

/// At most one `typing` start per this many milliseconds.
pub const TYPING_EVERY_MS: f64 = 2_000.0;
/// A draft untouched this long is no longer being written.
pub const TYPING_IDLE_MS: u32 = 4_000;
/// The reader clears the indicator this long after the last start.
pub const TYPING_SHOWN_MS: u32 = 6_000;

/// The writer's side.
#[derive(Debug, Default)]
pub struct TypingSender {
    /// When the last start went out, while typing.
    last_start_ms: Option<f64>,
}

impl TypingSender {
    /// The draft changed: `Some(true)` when a start is due, `Some(false)` when an emptied
    /// draft ends the typing, `None` when nothing is to be sent.
    pub fn draft_changed(&mut self, draft_is_blank: bool, now_ms: f64) -> Option<bool> {
        if draft_is_blank {
            return self.stop();
        }
        match self.last_start_ms {
            Some(last) if now_ms - last < TYPING_EVERY_MS && now_ms >= last => None,
            _ => {
                self.last_start_ms = Some(now_ms);
                Some(true)
            }
        }
    }

    /// Sent, blurred or idle: `Some(false)` if the other side was told of typing.
    pub fn stop(&mut self) -> Option<bool> {
        self.last_start_ms.take().map(|_| false)
    }
}

/// Who a `typing` broadcast is about and whether they are typing, if it is well formed.
pub fn typing_from_broadcast(payload: &serde_json::Value) -> Option<(&str, bool)> {
    Some((payload["user_id"].as_str()?, payload["typing"].as_bool()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn starts_are_throttled_to_one_per_two_seconds() {
        let mut typing = TypingSender::default();
        assert_eq!(typing.draft_changed(false, 0.0), Some(true));
        assert_eq!(typing.draft_changed(false, 500.0), None);
        assert_eq!(typing.draft_changed(false, 1_999.0), None);
        assert_eq!(typing.draft_changed(false, 2_000.0), Some(true));
    }

    #[test]
    fn a_blank_draft_never_starts_and_stops_once() {
        let mut typing = TypingSender::default();
        assert_eq!(typing.draft_changed(true, 0.0), None, "nothing typed yet");
        assert_eq!(typing.draft_changed(false, 10.0), Some(true));
        assert_eq!(typing.draft_changed(true, 20.0), Some(false));
        assert_eq!(typing.stop(), None, "already stopped");
        assert_eq!(
            typing.draft_changed(false, 30.0),
            Some(true),
            "typing again"
        );
    }

    #[test]
    fn a_clock_that_jumps_back_does_not_silence_the_indicator() {
        let mut typing = TypingSender::default();
        typing.draft_changed(false, 10_000.0);
        assert_eq!(typing.draft_changed(false, 5_000.0), Some(true));
    }

    #[test]
    fn broadcasts_must_name_a_user_and_a_state() {
        assert_eq!(
            typing_from_broadcast(&json!({ "user_id": "u", "typing": true })),
            Some(("u", true))
        );
        assert_eq!(typing_from_broadcast(&json!({ "user_id": "u" })), None);
        assert_eq!(typing_from_broadcast(&json!("typing")), None);
    }
}
