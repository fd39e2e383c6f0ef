//! Presence pushes from clients: `track` and `untrack`. Private channels need the
//! presence read and write policies; a track turns presence on for the channel.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{json, Value};

use super::frame::Frame;
use super::session::Session;

/// Presence calls one channel join may make per window (hosted: 5 per 30 s); one more
/// shuts the channel down with "Client presence rate limit exceeded".
const PRESENCE_CALLS_PER_WINDOW: u32 = 5;
const PRESENCE_WINDOW: Duration = Duration::from_secs(30);

impl Session {
    pub(super) async fn presence(&mut self, frame: Frame) {
        let calls = self
            .channels
            .get_mut(&frame.topic)
            .map(|joined| joined.presence_calls.count_within(PRESENCE_WINDOW));
        if calls.is_some_and(|calls| calls > PRESENCE_CALLS_PER_WINDOW) {
            return self.shut_down(&frame.topic, "Client presence rate limit exceeded");
        }
        let Some(joined) = self.channels.get(&frame.topic) else {
            return self.send(frame.reply("error", json!({ "reason": "unmatched topic" })));
        };
        let allowed = !joined.key.private
            || joined
                .permissions
                .is_some_and(|p| p.read_presence && p.write_presence);
        let event = frame
            .payload
            .get("event")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let (key, presence_key) = (joined.key.clone(), joined.presence_key.clone());
        let enabled = joined.presence.clone();
        if !allowed {
            return self.send(frame.reply("error", json!({})));
        }
        let diff = match event.as_deref() {
            Some("track") => {
                let Some(payload) = frame.payload.get("payload").and_then(Value::as_object) else {
                    let reason = "Presence track payload must be a map";
                    return self.send(frame.reply("error", json!({ "reason": reason })));
                };
                if Value::Object(payload.clone()).to_string().len()
                    > self.state.settings.max_payload_bytes
                {
                    return self.shut_down(&frame.topic, "Track message size exceeded");
                }
                enabled.store(true, Ordering::Relaxed);
                self.state
                    .presence
                    .track(&key, self.id, &presence_key, payload.clone())
            }
            Some("untrack") => self.state.presence.untrack(&key, self.id),
            _ => return self.send(frame.reply("error", json!({}))),
        };
        if let Some(diff) = diff {
            self.state.hub.publish_presence(&key, &diff);
        }
        self.send(frame.reply("ok", json!({})));
    }
}
