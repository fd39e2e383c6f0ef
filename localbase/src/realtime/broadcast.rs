//! Client broadcasts: JSON pushes (v1, or v2 text) are relayed as JSON; kind-3 binary
//! pushes are relayed as user broadcasts (kind 4 to v2 sockets, JSON to v1). Private
//! channels need the broadcast write policy; denials are silent, even with `ack`.

use serde_json::{json, Value};

use super::binary::UserPush;
use super::frame::Frame;
use super::session::{Joined, Session};

impl Session {
    /// The joined channel a broadcast may be sent on, or `None` (and why, if it must be said).
    fn sendable(&self, topic: &str) -> Result<&Joined, bool> {
        let joined = self.channels.get(topic).ok_or(true)?;
        if self.state.settings.drop_client_broadcasts || self.state.faults.drop_client_broadcasts()
        {
            return Err(false); // test switch: as if every broadcast were lost on the way
        }
        if joined.key.private && !joined.permissions.is_some_and(|p| p.write_broadcast) {
            return Err(false);
        }
        Ok(joined)
    }

    fn too_large(&self, bytes: usize) -> bool {
        bytes > self.state.settings.max_payload_bytes
    }

    pub(super) async fn broadcast(&mut self, frame: Frame) {
        let joined = match self.sendable(&frame.topic) {
            Ok(joined) => joined,
            Err(true) => {
                return self.send(frame.reply("error", json!({ "reason": "unmatched topic" })))
            }
            Err(false) => return,
        };
        let event = frame.payload.get("event").and_then(Value::as_str);
        let (true, Some(event)) = (frame.payload.is_object(), event) else {
            return; // not a user broadcast; ignored like any malformed push
        };
        let payload = frame.payload.get("payload").cloned().unwrap_or(json!({}));
        let (ack, skip) = (joined.ack, (!joined.broadcast_self).then_some(self.id));
        let key = joined.key.clone();
        if self.too_large(payload.to_string().len()) {
            if ack {
                self.send(frame.reply("error", json!({ "error": "payload_size_exceeded" })));
            }
            return;
        }
        let message = json!({ "type": "broadcast", "event": event, "payload": payload });
        self.state.hub.publish(&key, "broadcast", &message, skip);
        if ack {
            self.send(frame.reply("ok", json!({})));
        }
    }

    /// A kind-3 push; replies (with `ack`) go out as ordinary text replies.
    pub(super) async fn user_broadcast(&mut self, push: UserPush) {
        let reply_to = Frame {
            join_ref: push.join_ref.clone(),
            reference: push.reference.clone(),
            topic: push.topic.clone(),
            event: "broadcast".into(),
            payload: Value::Null,
        };
        let joined = match self.sendable(&push.topic) {
            Ok(joined) => joined,
            Err(true) => {
                return self.send(reply_to.reply("error", json!({ "reason": "unmatched topic" })))
            }
            Err(false) => return,
        };
        let (ack, skip) = (joined.ack, (!joined.broadcast_self).then_some(self.id));
        let key = joined.key.clone();
        if self.too_large(push.broadcast.payload_len()) {
            if ack {
                self.send(reply_to.reply("error", json!({ "error": "payload_size_exceeded" })));
            }
            return;
        }
        // The hosted server ignores client metadata for now.
        let broadcast = super::binary::UserBroadcast {
            meta: String::new(),
            ..push.broadcast
        };
        self.state.hub.publish_user(&key, &broadcast, skip);
        if ack {
            self.send(reply_to.reply("ok", json!({})));
        }
    }
}
