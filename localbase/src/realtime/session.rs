//! One WebSocket connection: decodes frames, answers heartbeats, joins and leaves
//! channels, authorises private topics and relays broadcasts through the hub.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::authorize::{permissions, Permissions};
use super::frame::{Frame, Vsn};
use super::hub::{ConnectionId, Subscriber, TopicKey};
use crate::jwt::{now, Claims, TokenError};
use crate::AppState;

/// Phoenix closes sockets that sent nothing for this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Frames queued for a connection before it counts as not reading.
const OUTBOX_CAPACITY: usize = 1024;

struct Joined {
    key: TopicKey,
    join_ref: Option<String>,
    broadcast_self: bool,
    ack: bool,
    permissions: Option<Permissions>,
}

struct Session {
    state: Arc<AppState>,
    id: ConnectionId,
    vsn: Vsn,
    /// The token given at connect time (`apikey`), used when a join carries none.
    connect_claims: Claims,
    outbox: mpsc::Sender<Message>,
    channels: HashMap<String, Joined>,
}

pub async fn run(socket: WebSocket, state: Arc<AppState>, vsn: Vsn, connect_claims: Claims) {
    let id = state.next_connection_id();
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut outgoing) = mpsc::channel::<Message>(OUTBOX_CAPACITY);
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    let mut session = Session {
        state,
        id,
        vsn,
        connect_claims,
        outbox,
        channels: HashMap::new(),
    };
    let mut shutdown = session.state.shutdown.subscribe();
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => next,
            _ = shutdown.changed() => break,
        };
        match next {
            Ok(Some(Ok(Message::Text(text)))) => {
                // Malformed frames are ignored; the socket stays open.
                if let Some(frame) = Frame::decode(text.as_str(), vsn) {
                    session.handle(frame).await;
                }
            }
            Ok(Some(Ok(Message::Binary(_)))) => {} // binary pushes: see issue tracker
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => break,
            Err(_idle) => {
                tracing::debug!(connection = id, "closing idle socket");
                break;
            }
        }
    }
    session.leave_all();
    drop(session);
    let _ = writer.await;
}

impl Session {
    fn send(&self, frame: Frame) {
        let text = frame.encode(self.vsn);
        if self.outbox.try_send(Message::Text(text.into())).is_err() {
            tracing::warn!(connection = self.id, "outbox full; reply dropped");
        }
    }

    async fn handle(&mut self, frame: Frame) {
        match (frame.topic.as_str(), frame.event.as_str()) {
            ("phoenix", "heartbeat") => self.send(frame.reply("ok", json!({}))),
            (_, "phx_join") => self.join(frame).await,
            (_, "phx_leave") => self.leave(frame),
            (_, "broadcast") => self.broadcast(frame).await,
            (_, "access_token") => self.refresh_token(frame),
            _ if !self.channels.contains_key(&frame.topic) => {
                self.send(frame.reply("error", json!({ "reason": "unmatched topic" })))
            }
            _ => {} // other channel events are not used by localbase's clients
        }
    }

    fn claims_for(&self, payload: &Value) -> Result<Claims, TokenError> {
        let token = payload
            .get("access_token")
            .or_else(|| payload.get("user_token"))
            .and_then(Value::as_str);
        match token {
            Some(token) if !token.starts_with("sb_") => self.state.keys.verify(token, now()),
            _ => Ok(self.connect_claims.clone()),
        }
    }

    async fn join_error(&self, frame: &Frame, reason: String) {
        // Hosted Realtime delays every join error (CHANNEL_ERROR_BACKOFF_MS).
        tokio::time::sleep(self.state.settings.channel_error_backoff).await;
        self.send(frame.reply("error", json!({ "reason": reason })));
    }

    async fn join(&mut self, frame: Frame) {
        let Some(sub_topic) = frame.topic.strip_prefix("realtime:") else {
            return self
                .join_error(
                    &frame,
                    "TopicNameRequired: You must provide a topic name".into(),
                )
                .await;
        };
        if sub_topic.is_empty() {
            return self
                .join_error(
                    &frame,
                    "TopicNameRequired: You must provide a topic name".into(),
                )
                .await;
        }
        let config = frame.payload.get("config").cloned().unwrap_or(Value::Null);
        let flag = |value: Option<&Value>| match value {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
        let private = flag(config.get("private"));
        let broadcast_self = flag(config.pointer("/broadcast/self"));
        let ack = flag(config.pointer("/broadcast/ack"));
        let claims = match self.claims_for(&frame.payload) {
            Ok(claims) => claims,
            Err(error) => {
                let code = match error {
                    TokenError::Expired(_) | TokenError::MissingClaims => "InvalidJWTToken",
                    TokenError::Malformed => "MalformedJWT",
                    TokenError::Signature => "JwtSignatureError",
                };
                return self.join_error(&frame, format!("{code}: {error}")).await;
            }
        };
        let mut granted = None;
        if private {
            match permissions(&self.state.pool, &claims, sub_topic).await {
                Ok(p) if p.can_read() => granted = Some(p),
                Ok(_) => {
                    let reason = format!(
                        "Unauthorized: You do not have permissions to read from this Channel topic: {sub_topic}"
                    );
                    return self.join_error(&frame, reason).await;
                }
                Err(error) => {
                    tracing::error!(%error, "authorisation query failed");
                    let reason = "UnableToSetPolicies: Realtime was unable to connect to the project database";
                    return self.join_error(&frame, reason.into()).await;
                }
            }
        }
        // Joining a topic again replaces the earlier join, as Phoenix does.
        if let Some(previous) = self.channels.remove(&frame.topic) {
            self.state.hub.unsubscribe(&previous.key, self.id);
            self.send(Frame::push(
                previous.join_ref,
                &frame.topic,
                "phx_close",
                json!({}),
            ));
        }
        let key = TopicKey {
            private,
            topic: frame.topic.clone(),
        };
        self.state.hub.subscribe(
            key.clone(),
            self.id,
            Subscriber {
                outbox: self.outbox.clone(),
                vsn: self.vsn,
                join_ref: frame.join_ref.clone(),
            },
        );
        let postgres_changes = config.get("postgres_changes").cloned().unwrap_or(json!([]));
        let wants_changes = postgres_changes
            .as_array()
            .is_some_and(|list| !list.is_empty());
        self.channels.insert(
            frame.topic.clone(),
            Joined {
                key,
                join_ref: frame.join_ref.clone(),
                broadcast_self,
                ack,
                permissions: granted,
            },
        );
        self.send(frame.reply("ok", json!({ "postgres_changes": [] })));
        if wants_changes {
            // Not yet implemented by localbase: say so, as the server does for bad params.
            self.send(Frame::push(
                frame.join_ref.clone(),
                &frame.topic,
                "system",
                json!({
                    "extension": "postgres_changes",
                    "status": "error",
                    "message": "postgres_changes are not supported by this localbase version",
                    "channel": sub_topic,
                }),
            ));
        }
    }

    fn leave(&mut self, frame: Frame) {
        self.send(frame.reply("ok", json!({})));
        if let Some(joined) = self.channels.remove(&frame.topic) {
            self.state.hub.unsubscribe(&joined.key, self.id);
            self.send(Frame::push(
                joined.join_ref,
                &frame.topic,
                "phx_close",
                json!({}),
            ));
        }
    }

    async fn broadcast(&mut self, frame: Frame) {
        let Some(joined) = self.channels.get(&frame.topic) else {
            return self.send(frame.reply("error", json!({ "reason": "unmatched topic" })));
        };
        let event = frame.payload.get("event").and_then(Value::as_str);
        let (true, Some(event)) = (frame.payload.is_object(), event) else {
            return; // not a user broadcast; ignored like any malformed push
        };
        if joined.key.private && !joined.permissions.is_some_and(|p| p.write_broadcast) {
            return; // denied broadcasts are silent, even with ack
        }
        let message = json!({
            "type": "broadcast",
            "event": event,
            "payload": frame.payload.get("payload").cloned().unwrap_or(json!({})),
        });
        let skip = if joined.broadcast_self {
            None
        } else {
            Some(self.id)
        };
        self.state
            .hub
            .publish(&joined.key, "broadcast", &message, skip);
        if joined.ack {
            self.send(frame.reply("ok", json!({})));
        }
    }

    /// `access_token`: a refreshed JWT for an open channel.
    fn refresh_token(&mut self, frame: Frame) {
        if !self.channels.contains_key(&frame.topic) {
            return;
        }
        if let Err(error) = self.claims_for(&frame.payload) {
            let joined = self.channels.remove(&frame.topic).expect("checked above");
            self.state.hub.unsubscribe(&joined.key, self.id);
            let sub_topic = frame.topic.trim_start_matches("realtime:");
            self.send(Frame::push(
                joined.join_ref.clone(),
                &frame.topic,
                "system",
                json!({ "extension": "system", "status": "error", "message": error.to_string(), "channel": sub_topic }),
            ));
            self.send(Frame::push(
                joined.join_ref,
                &frame.topic,
                "phx_close",
                json!({}),
            ));
        }
    }

    fn leave_all(&mut self) {
        for (_, joined) in self.channels.drain() {
            self.state.hub.unsubscribe(&joined.key, self.id);
        }
    }
}
