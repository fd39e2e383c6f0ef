//! Phoenix channel frames in the two text serializers Supabase Realtime accepts:
//! v1 (`{"join_ref","ref","topic","event","payload"}`) and v2
//! (`[join_ref, ref, topic, event, payload]`).

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vsn {
    V1,
    V2,
}

impl Vsn {
    /// `vsn` query parameter; absent means 1.0.0, as on the hosted server.
    pub fn from_query(value: Option<&str>) -> Option<Vsn> {
        match value {
            None | Some("1.0.0") => Some(Vsn::V1),
            Some("2.0.0") => Some(Vsn::V2),
            Some(_) => None,
        }
    }
}

/// Longest `ref` / `join_ref` accepted: clients count (`"1"`, `"2"`, …); every reply
/// echoes the ref, so a megabyte ref would be a megabyte back per heartbeat.
pub const MAX_REF_BYTES: usize = 64;
/// Longest topic and event name accepted (a binary frame's header holds 255).
pub const MAX_NAME_BYTES: usize = 255;

#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub join_ref: Option<String>,
    pub reference: Option<String>,
    pub topic: String,
    pub event: String,
    pub payload: Value,
}

fn optional_string(value: &Value) -> Option<Option<String>> {
    match value {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        Value::Number(n) => Some(Some(n.to_string())),
        _ => None,
    }
}

impl Frame {
    /// Decodes one text frame; `None` for anything malformed (the caller ignores it).
    pub fn decode(text: &str, vsn: Vsn) -> Option<Frame> {
        let value: Value = serde_json::from_str(text).ok()?;
        let (join_ref, reference, topic, event, payload) = match (vsn, value) {
            (Vsn::V2, Value::Array(mut items)) if items.len() == 5 => {
                let payload = items.pop()?;
                let event = items.pop()?;
                let topic = items.pop()?;
                let reference = items.pop()?;
                let join_ref = items.pop()?;
                (join_ref, reference, topic, event, payload)
            }
            (Vsn::V1, Value::Object(mut fields)) => (
                fields.remove("join_ref").unwrap_or(Value::Null),
                fields.remove("ref").unwrap_or(Value::Null),
                fields.remove("topic")?,
                fields.remove("event")?,
                fields.remove("payload").unwrap_or(Value::Null),
            ),
            _ => return None,
        };
        let frame = Frame {
            join_ref: optional_string(&join_ref)?,
            reference: optional_string(&reference)?,
            topic: topic.as_str()?.to_string(),
            event: event.as_str()?.to_string(),
            payload,
        };
        let short = |text: &Option<String>| text.as_ref().is_none_or(|t| t.len() <= MAX_REF_BYTES);
        let within = short(&frame.join_ref)
            && short(&frame.reference)
            && frame.topic.len() <= MAX_NAME_BYTES
            && frame.event.len() <= MAX_NAME_BYTES;
        within.then_some(frame)
    }

    pub fn encode(&self, vsn: Vsn) -> String {
        match vsn {
            Vsn::V2 => json!([
                self.join_ref,
                self.reference,
                self.topic,
                self.event,
                self.payload
            ])
            .to_string(),
            Vsn::V1 => json!({
                "join_ref": self.join_ref,
                "ref": self.reference,
                "topic": self.topic,
                "event": self.event,
                "payload": self.payload,
            })
            .to_string(),
        }
    }

    /// A `phx_reply` to this frame.
    pub fn reply(&self, status: &str, response: Value) -> Frame {
        Frame {
            join_ref: self.join_ref.clone(),
            reference: self.reference.clone(),
            topic: self.topic.clone(),
            event: "phx_reply".into(),
            payload: json!({ "status": status, "response": response }),
        }
    }

    /// A server push (no ref) on `topic`.
    pub fn push(join_ref: Option<String>, topic: &str, event: &str, payload: Value) -> Frame {
        Frame {
            join_ref,
            reference: None,
            topic: topic.into(),
            event: event.into(),
            payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_serializers_to_the_same_frame() {
        let v2 = r#"["1","2","realtime:room","phx_join",{"config":{}}]"#;
        let v1 = r#"{"join_ref":"1","ref":"2","topic":"realtime:room","event":"phx_join","payload":{"config":{}}}"#;
        let a = Frame::decode(v2, Vsn::V2).unwrap();
        let b = Frame::decode(v1, Vsn::V1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.join_ref.as_deref(), Some("1"));
        assert_eq!(Frame::decode(&a.encode(Vsn::V2), Vsn::V2).unwrap(), a);
        assert_eq!(Frame::decode(&a.encode(Vsn::V1), Vsn::V1).unwrap(), a);
    }

    #[test]
    fn heartbeat_has_null_join_ref() {
        let frame = Frame::decode(r#"[null,"26","phoenix","heartbeat",{}]"#, Vsn::V2).unwrap();
        assert_eq!(frame.join_ref, None);
        let reply = frame.reply("ok", json!({}));
        assert_eq!(
            reply.encode(Vsn::V2),
            r#"[null,"26","phoenix","phx_reply",{"response":{},"status":"ok"}]"#
        );
    }

    #[test]
    fn malformed_frames_are_none() {
        for text in [
            "",
            "garbage",
            "[1,2,3]",
            "{}",
            r#"[null,null,5,"e",{}]"#,
            "\u{0}",
        ] {
            assert!(Frame::decode(text, Vsn::V2).is_none(), "{text}");
        }
        assert!(Frame::decode(r#"["1","1","t","e",{}]"#, Vsn::V1).is_none());
    }

    #[test]
    fn unknown_vsn_is_refused() {
        assert_eq!(Vsn::from_query(None), Some(Vsn::V1));
        assert_eq!(Vsn::from_query(Some("2.0.0")), Some(Vsn::V2));
        assert_eq!(Vsn::from_query(Some("3.0.0")), None);
    }

    #[test]
    fn oversized_refs_and_names_are_malformed() {
        let long_ref = "1".repeat(MAX_REF_BYTES + 1);
        let long_topic = "t".repeat(MAX_NAME_BYTES + 1);
        for text in [
            json!([null, long_ref, "phoenix", "heartbeat", {}]).to_string(),
            json!([long_ref, "1", "realtime:x", "phx_join", {}]).to_string(),
            json!([null, "1", long_topic, "phx_join", {}]).to_string(),
        ] {
            assert_eq!(Frame::decode(&text, Vsn::V2), None);
        }
        let fine = json!([null, "1".repeat(MAX_REF_BYTES), "phoenix", "heartbeat", {}]);
        assert!(Frame::decode(&fine.to_string(), Vsn::V2).is_some());
    }
}
