//! Supabase's binary frames (Phoenix v2 serializer extensions): kind 3, a user broadcast
//! pushed by a client, and kind 4, a user broadcast sent to a client. realtime-js sends
//! every user broadcast as kind 3 once it speaks vsn 2.0.0.
//!
//! Every header length is one byte, so a header string is at most 255 bytes.

use serde_json::{json, Value};

const USER_BROADCAST_PUSH: u8 = 3;
const USER_BROADCAST: u8 = 4;

/// The payload of a user broadcast, kept as the bytes that came in.
#[derive(Debug, Clone, PartialEq)]
pub enum UserPayload {
    /// UTF-8 JSON text (payload encoding 1).
    Json(Vec<u8>),
    /// Opaque bytes (payload encoding 0); v1 sockets cannot receive these.
    Binary(Vec<u8>),
}

/// A broadcast whose payload is forwarded as it came: from a kind-3 push or the database.
#[derive(Debug, Clone, PartialEq)]
pub struct UserBroadcast {
    pub event: String,
    /// JSON metadata (`{"id": …}` for database rows); empty when there is none.
    pub meta: String,
    pub payload: UserPayload,
}

/// A decoded kind-3 push.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPush {
    pub join_ref: Option<String>,
    pub reference: Option<String>,
    pub topic: String,
    pub broadcast: UserBroadcast,
}

/// Decodes a kind-3 frame; `None` for any other kind or a truncated frame.
pub fn decode_push(bytes: &[u8]) -> Option<UserPush> {
    let [kind, join_ref_len, ref_len, topic_len, event_len, meta_len, encoding, rest @ ..] = bytes
    else {
        return None;
    };
    if *kind != USER_BROADCAST_PUSH {
        return None;
    }
    let mut rest = rest;
    let mut take = |len: u8| -> Option<String> {
        let (head, tail) = rest.split_at_checked(usize::from(len))?;
        rest = tail;
        String::from_utf8(head.to_vec()).ok()
    };
    let join_ref = take(*join_ref_len)?;
    let reference = take(*ref_len)?;
    let topic = take(*topic_len)?;
    let event = take(*event_len)?;
    let meta = take(*meta_len)?;
    let body = rest.to_vec();
    let payload = match encoding {
        0 => UserPayload::Binary(body),
        1 => UserPayload::Json(body),
        _ => return None,
    };
    let optional = |text: String| (!text.is_empty()).then_some(text);
    Some(UserPush {
        join_ref: optional(join_ref),
        reference: optional(reference),
        topic,
        broadcast: UserBroadcast {
            event,
            meta,
            payload,
        },
    })
}

impl UserBroadcast {
    /// A kind-4 frame on `topic`; `None` when a header does not fit in 255 bytes.
    pub fn encode(&self, topic: &str) -> Option<Vec<u8>> {
        let length = |text: &str| u8::try_from(text.len()).ok();
        let (encoding, body) = match &self.payload {
            UserPayload::Binary(bytes) => (0u8, bytes),
            UserPayload::Json(bytes) => (1u8, bytes),
        };
        let mut frame = vec![
            USER_BROADCAST,
            length(topic)?,
            length(&self.event)?,
            length(&self.meta)?,
            encoding,
        ];
        frame.extend_from_slice(topic.as_bytes());
        frame.extend_from_slice(self.event.as_bytes());
        frame.extend_from_slice(self.meta.as_bytes());
        frame.extend_from_slice(body);
        Some(frame)
    }

    /// The JSON broadcast payload a v1 socket gets; `None` for binary or invalid JSON
    /// payloads, which v1 cannot carry.
    pub fn to_json(&self) -> Option<Value> {
        let UserPayload::Json(bytes) = &self.payload else {
            return None;
        };
        let payload: Value = serde_json::from_slice(bytes).ok()?;
        let mut message = json!({ "type": "broadcast", "event": self.event, "payload": payload });
        if let Ok(meta @ Value::Object(_)) = serde_json::from_str::<Value>(&self.meta) {
            message["meta"] = meta;
        }
        Some(message)
    }

    /// Size counted against the payload limit.
    pub fn payload_len(&self) -> usize {
        match &self.payload {
            UserPayload::Json(bytes) | UserPayload::Binary(bytes) => bytes.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind3(
        join_ref: &str,
        reference: &str,
        topic: &str,
        event: &str,
        encoding: u8,
        body: &[u8],
    ) -> Vec<u8> {
        let mut bytes = vec![
            3,
            join_ref.len() as u8,
            reference.len() as u8,
            topic.len() as u8,
            event.len() as u8,
            0,
            encoding,
        ];
        for part in [join_ref, reference, topic, event] {
            bytes.extend_from_slice(part.as_bytes());
        }
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn decodes_a_realtime_js_user_broadcast_push() {
        let bytes = kind3(
            "1",
            "7",
            "realtime:room",
            "new_message",
            1,
            br#"{"id":"m1"}"#,
        );
        let push = decode_push(&bytes).unwrap();
        assert_eq!(push.join_ref.as_deref(), Some("1"));
        assert_eq!(push.reference.as_deref(), Some("7"));
        assert_eq!(push.topic, "realtime:room");
        assert_eq!(push.broadcast.event, "new_message");
        assert_eq!(
            push.broadcast.payload,
            UserPayload::Json(br#"{"id":"m1"}"#.to_vec())
        );
        let binary = decode_push(&kind3("1", "", "t", "e", 0, &[0, 255])).unwrap();
        assert_eq!(binary.reference, None);
        assert_eq!(binary.broadcast.payload, UserPayload::Binary(vec![0, 255]));
    }

    #[test]
    fn rejects_truncated_and_foreign_frames() {
        let mut bytes = kind3("1", "7", "realtime:room", "e", 1, b"{}");
        bytes.truncate(12);
        assert_eq!(decode_push(&bytes), None);
        assert_eq!(decode_push(&[4, 0, 0, 0, 0, 0, 1]), None);
        assert_eq!(decode_push(&kind3("1", "1", "t", "e", 9, b"")), None);
        assert_eq!(decode_push(&[]), None);
    }

    #[test]
    fn encodes_kind_4_with_metadata_and_converts_for_v1() {
        let broadcast = UserBroadcast {
            event: "e".into(),
            meta: r#"{"id":"x"}"#.into(),
            payload: UserPayload::Json(b"{\"a\":1}".to_vec()),
        };
        let frame = broadcast.encode("realtime:t").unwrap();
        assert_eq!(&frame[..5], &[4, 10, 1, 10, 1]);
        assert_eq!(&frame[5..15], b"realtime:t");
        assert_eq!(&frame[16..26], br#"{"id":"x"}"#);
        assert_eq!(&frame[26..], b"{\"a\":1}");
        assert_eq!(
            broadcast.to_json().unwrap(),
            json!({"type": "broadcast", "event": "e", "payload": {"a": 1}, "meta": {"id": "x"}})
        );
        let binary = UserBroadcast {
            payload: UserPayload::Binary(vec![1]),
            ..broadcast.clone()
        };
        assert_eq!(binary.to_json(), None, "binary payloads are dropped for v1");
        assert_eq!(broadcast.encode(&"x".repeat(256)), None);
    }
}
