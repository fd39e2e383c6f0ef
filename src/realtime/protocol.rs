//! Supabase Realtime frames as the browser client sees them: text frames of either
//! serializer (v2 JSON arrays, v1 JSON objects) and kind-4 binary user broadcasts.
//! Pure code: no browser types.

use serde_json::{json, Value};

/// Topic of socket-level messages (heartbeats).
pub const PHOENIX_TOPIC: &str = "phoenix";

/// Kind byte of a server→client user broadcast (Supabase extension of Phoenix v2).
const USER_BROADCAST: u8 = 4;

/// The serializer a socket speaks (`vsn` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vsn {
    /// JSON objects; the fallback for servers without v2.
    V1,
    /// JSON arrays plus binary user broadcasts; what current supabase-js uses.
    V2,
}

impl Vsn {
    pub fn as_str(self) -> &'static str {
        match self {
            Vsn::V1 => "1.0.0",
            Vsn::V2 => "2.0.0",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub join_ref: Option<String>,
    pub reference: Option<String>,
    pub topic: String,
    pub event: String,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame is not valid JSON")]
    NotJson,
    #[error("frame does not have the v2 shape")]
    BadShape,
    #[error("binary frame truncated or of unknown kind")]
    BadBinary,
}

impl Frame {
    pub fn new(
        join_ref: Option<String>,
        reference: Option<String>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Self {
        Frame {
            join_ref,
            reference,
            topic: topic.into(),
            event: event.into(),
            payload,
        }
    }

    /// The text frame in `vsn`'s form: v2 `[join_ref, ref, topic, event, payload]`, v1
    /// a JSON object with the same fields.
    pub fn encode(&self, vsn: Vsn) -> String {
        match vsn {
            Vsn::V2 => json!([
                self.join_ref,
                self.reference,
                self.topic,
                self.event,
                self.payload
            ]),
            Vsn::V1 => json!({
                "join_ref": self.join_ref,
                "ref": self.reference,
                "topic": self.topic,
                "event": self.event,
                "payload": self.payload,
            }),
        }
        .to_string()
    }

    /// A text frame of either serializer (v2 array or v1 object).
    pub fn decode_text(text: &str) -> Result<Frame, ProtocolError> {
        let value = crate::json::parse(text).map_err(|_| ProtocolError::NotJson)?;
        let [join_ref, reference, topic, event, payload]: [Value; 5] = match value {
            Value::Array(items) => items.try_into().map_err(|_| ProtocolError::BadShape)?,
            Value::Object(mut fields) => ["join_ref", "ref", "topic", "event", "payload"]
                .map(|name| fields.remove(name).unwrap_or(Value::Null)),
            _ => return Err(ProtocolError::BadShape),
        };
        let text_or_null = |value: Value| match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            _ => Err(ProtocolError::BadShape),
        };
        Ok(Frame {
            join_ref: text_or_null(join_ref)?,
            reference: text_or_null(reference)?,
            topic: text_or_null(topic)?.ok_or(ProtocolError::BadShape)?,
            event: text_or_null(event)?.ok_or(ProtocolError::BadShape)?,
            payload,
        })
    }

    /// Kind 4: `topic_len, event_len, meta_len, encoding, topic, event, meta, payload`,
    /// decoded the way realtime-js does: a `broadcast` frame whose payload carries the
    /// user event, its JSON payload and `meta` when present.
    pub fn decode_binary(bytes: &[u8]) -> Result<Frame, ProtocolError> {
        let [kind, topic_len, event_len, meta_len, encoding, rest @ ..] = bytes else {
            return Err(ProtocolError::BadBinary);
        };
        if *kind != USER_BROADCAST {
            return Err(ProtocolError::BadBinary);
        }
        let (topic_len, event_len, meta_len) =
            (*topic_len as usize, *event_len as usize, *meta_len as usize);
        if rest.len() < topic_len + event_len + meta_len {
            return Err(ProtocolError::BadBinary);
        }
        let (topic, rest) = rest.split_at(topic_len);
        let (event, rest) = rest.split_at(event_len);
        let (meta, body) = rest.split_at(meta_len);
        let text =
            |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| ProtocolError::BadBinary);
        let user_payload = match encoding {
            1 => crate::json::parse_bytes(body).ok_or(ProtocolError::BadBinary)?,
            // Binary user payloads are not used by Coach Chat; keep the bytes as numbers.
            _ => Value::Array(body.iter().map(|b| json!(b)).collect()),
        };
        let mut payload =
            json!({ "type": "broadcast", "event": text(event)?, "payload": user_payload });
        if !meta.is_empty() {
            payload["meta"] = crate::json::parse_bytes(meta).ok_or(ProtocolError::BadBinary)?;
        }
        Ok(Frame {
            join_ref: None,
            reference: None,
            topic: text(topic)?,
            event: "broadcast".into(),
            payload,
        })
    }
}

/// Monotonic message refs, as strings ("1", "2", …), shared by one socket.
#[derive(Debug, Default)]
pub struct RefCounter(u64);

impl RefCounter {
    pub fn make_ref(&mut self) -> String {
        self.0 += 1;
        self.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_frames_round_trip_in_v2_array_form() {
        let frame = Frame::new(
            Some("1".into()),
            Some("2".into()),
            "realtime:room",
            "phx_join",
            json!({"a": 1}),
        );
        assert_eq!(
            frame.encode(Vsn::V2),
            r#"["1","2","realtime:room","phx_join",{"a":1}]"#
        );
        assert_eq!(Frame::decode_text(&frame.encode(Vsn::V2)).unwrap(), frame);
    }

    #[test]
    fn v1_frames_are_json_objects_both_ways() {
        let frame = Frame::new(None, Some("7".into()), "phoenix", "heartbeat", json!({}));
        let text = frame.encode(Vsn::V1);
        let object: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            object,
            json!({"join_ref": null, "ref": "7", "topic": "phoenix", "event": "heartbeat", "payload": {}})
        );
        assert_eq!(Frame::decode_text(&text).unwrap(), frame);
    }

    #[test]
    fn server_pushes_have_null_refs() {
        let frame =
            Frame::decode_text(r#"[null,null,"realtime:r","broadcast",{"event":"e"}]"#).unwrap();
        assert_eq!(frame.join_ref, None);
        assert_eq!(frame.reference, None);
        assert_eq!(frame.payload["event"], "e");
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        assert_eq!(Frame::decode_text("nope"), Err(ProtocolError::NotJson));
        assert_eq!(Frame::decode_text("[1,2,3]"), Err(ProtocolError::BadShape));
        assert_eq!(
            Frame::decode_text(r#"[null,null,null,"e",{}]"#),
            Err(ProtocolError::BadShape)
        );
        assert_eq!(
            Frame::decode_text(r#"{"topic":"t"}"#),
            Err(ProtocolError::BadShape),
            "a v1 object needs an event"
        );
        assert_eq!(Frame::decode_text("42"), Err(ProtocolError::BadShape));
    }

    fn kind4(topic: &str, event: &str, meta: &str, body: &str) -> Vec<u8> {
        let mut bytes = vec![4, topic.len() as u8, event.len() as u8, meta.len() as u8, 1];
        for part in [topic, event, meta, body] {
            bytes.extend_from_slice(part.as_bytes());
        }
        bytes
    }

    #[test]
    fn decodes_kind_4_user_broadcast_like_realtime_js() {
        let bytes = kind4(
            "realtime:user:1",
            "new_message",
            r#"{"id":"m1"}"#,
            r#"{"body":"здравей"}"#,
        );
        let frame = Frame::decode_binary(&bytes).unwrap();
        assert_eq!(frame.topic, "realtime:user:1");
        assert_eq!(frame.event, "broadcast");
        assert_eq!(frame.payload["event"], "new_message");
        assert_eq!(frame.payload["payload"]["body"], "здравей");
        assert_eq!(frame.payload["meta"]["id"], "m1");
        let without_meta = Frame::decode_binary(&kind4("t", "e", "", "{}")).unwrap();
        assert!(without_meta.payload.get("meta").is_none());
    }

    #[test]
    fn truncated_or_foreign_binary_is_rejected() {
        let mut bytes = kind4("topic", "event", "", "{}");
        bytes.truncate(8);
        assert_eq!(Frame::decode_binary(&bytes), Err(ProtocolError::BadBinary));
        assert_eq!(
            Frame::decode_binary(&[2, 0, 0]),
            Err(ProtocolError::BadBinary)
        );
        assert_eq!(Frame::decode_binary(&[]), Err(ProtocolError::BadBinary));
    }

    #[test]
    fn refs_count_up() {
        let mut refs = RefCounter::default();
        assert_eq!(
            (refs.make_ref(), refs.make_ref()),
            ("1".to_string(), "2".to_string())
        );
    }
}
