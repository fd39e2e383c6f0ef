//! Broadcast replay (`config.broadcast.replay: {since, limit}`), private channels only:
//! up to 25 stored broadcasts of the topic since `since` (unix ms), oldest first, pushed
//! to the joining socket alone with `meta: {id, replayed: true}`.

use axum::extract::ws::Message;
use serde_json::{json, Value};

use super::binary::{UserBroadcast, UserPayload};
use super::frame::{Frame, Vsn};
use super::session::Session;

/// Hosted Realtime's cap on replayed messages.
const HARD_LIMIT: i64 = 25;

/// What `config.broadcast.replay` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Replay {
    since_ms: i64,
    limit: i64,
}

impl Replay {
    /// `None` when the join asked for no replay; the server defaults are
    /// `{limit: 10, since: 0}`.
    pub(super) fn from_config(config: &Value) -> Option<Replay> {
        let replay = config.pointer("/broadcast/replay")?.as_object()?;
        let number =
            |key: &str, default: i64| replay.get(key).and_then(Value::as_i64).unwrap_or(default);
        Some(Replay {
            since_ms: number("since", 0),
            limit: number("limit", 10).clamp(1, HARD_LIMIT),
        })
    }
}

/// A stored broadcast to replay.
pub(super) struct Stored {
    id: uuid::Uuid,
    event: String,
    payload: Value,
}

impl Session {
    /// Reads the messages to replay (as the server: the join has already been authorised).
    pub(super) async fn fetch_replay(
        &self,
        sub_topic: &str,
        replay: Replay,
    ) -> Result<Vec<Stored>, String> {
        let client = self.state.pool.get().await.map_err(|e| e.to_string())?;
        let rows = client
            .query(
                "select id, coalesce(event, ''), coalesce(payload, '{}'::jsonb) from realtime.messages
                 where topic = $1 and private is true and extension = 'broadcast'
                   and inserted_at >= (to_timestamp($2::bigint / 1000.0) at time zone 'UTC')
                 order by inserted_at desc, id desc limit $3",
                &[&sub_topic, &replay.since_ms, &replay.limit],
            )
            .await
            .map_err(|e| e.to_string())?;
        let mut stored: Vec<Stored> = rows
            .iter()
            .map(|row| Stored {
                id: row.get(0),
                event: row.get(1),
                payload: row.get(2),
            })
            .collect();
        stored.reverse();
        Ok(stored)
    }

    /// Pushes replayed messages to this socket only, in the serializer it speaks.
    pub(super) fn send_replay(&self, topic: &str, messages: Vec<Stored>) {
        for message in messages {
            let broadcast = UserBroadcast {
                event: message.event,
                meta: json!({ "id": message.id, "replayed": true }).to_string(),
                payload: UserPayload::Json(message.payload.to_string().into_bytes()),
            };
            let frame = match (self.vsn, broadcast.encode(topic)) {
                (Vsn::V2, Some(bytes)) => Some(Message::Binary(bytes.into())),
                (vsn, _) => broadcast.to_json().map(|payload| {
                    Message::Text(
                        Frame::push(None, topic, "broadcast", payload)
                            .encode(vsn)
                            .into(),
                    )
                }),
            };
            if let Some(frame) = frame {
                if !self.outbox.push(frame) {
                    tracing::warn!(connection = self.id, "replayed message dropped");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_config_defaults_and_caps() {
        assert_eq!(Replay::from_config(&json!({"broadcast": {}})), None);
        assert_eq!(
            Replay::from_config(&json!({"broadcast": {"replay": {}}})),
            Some(Replay {
                since_ms: 0,
                limit: 10
            })
        );
        assert_eq!(
            Replay::from_config(&json!({"broadcast": {"replay": {"since": 5, "limit": 1000}}})),
            Some(Replay {
                since_ms: 5,
                limit: 25
            })
        );
    }
}
