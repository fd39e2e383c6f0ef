//! `phx_join` and `access_token`: token checks, private-channel authorisation by the
//! `realtime.messages` policies, Postgres Changes listeners, and the channel limit.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::{json, Value};

use super::authorize::permissions;
use super::changes::{self, ChannelChanges};
use super::frame::Frame;
use super::hub::{Subscriber, TopicKey};
use super::session::{flag, Joined, RateWindow, Session};
use crate::jwt::{now, Claims, TokenError};
use crate::readiness::JOIN_WAIT;

/// Longest presence key accepted (it is stored per presence and sent in every diff).
const MAX_PRESENCE_KEY_BYTES: usize = 255;

/// The token a push carries; `None` when it carries none or a new-style `sb_` key, which
/// the hosted server replaces with the connect-time token.
fn token_of(payload: &Value) -> Option<&str> {
    payload
        .get("access_token")
        .or_else(|| payload.get("user_token"))
        .and_then(Value::as_str)
        .filter(|token| !token.starts_with("sb_"))
}

fn join_error_reason(error: &TokenError) -> String {
    let code = match error {
        TokenError::Expired(_) | TokenError::MissingClaims | TokenError::NotYetValid => {
            "InvalidJWTToken"
        }
        TokenError::Malformed => "MalformedJWT",
        TokenError::Signature => "JwtSignatureError",
    };
    format!("{code}: {error}")
}

impl Session {
    fn join_error(&self, frame: &Frame, reason: String) {
        // Hosted Realtime delays every join error (CHANNEL_ERROR_BACKOFF_MS). The delay
        // must not stall the connection: a client that sends many refused joins would
        // otherwise get no heartbeat replies for minutes.
        let reply = frame.reply("error", json!({ "reason": reason }));
        self.send_later(reply, self.state.settings.channel_error_backoff, false);
    }

    pub(super) async fn join(&mut self, frame: Frame) {
        let sub_topic = match frame.topic.strip_prefix("realtime:") {
            Some(sub_topic) if !sub_topic.is_empty() => sub_topic.to_string(),
            _ => {
                let reason = "TopicNameRequired: You must provide a topic name";
                return self.join_error(&frame, reason.into());
            }
        };
        let rejoin = self.channels.contains_key(&frame.topic);
        if !rejoin && self.channels.len() >= self.state.settings.max_channels_per_client {
            let reason = "ChannelRateLimitReached: Too many channels";
            return self.join_error(&frame, reason.into());
        }
        let config = frame.payload.get("config").cloned().unwrap_or(Value::Null);
        let private = flag(config.get("private"));
        let long_key = config
            .pointer("/presence/key")
            .and_then(Value::as_str)
            .is_some_and(|key| key.len() > MAX_PRESENCE_KEY_BYTES);
        if long_key {
            let reason = format!(
                "InvalidPresenceKey: a presence key is at most {MAX_PRESENCE_KEY_BYTES} bytes"
            );
            return self.join_error(&frame, reason);
        }
        let claims = match token_of(&frame.payload) {
            Some(token) => match self.state.keys.verify(token, now()) {
                Ok(claims) => claims,
                Err(error) => return self.join_error(&frame, join_error_reason(&error)),
            },
            // The connect-time token stands in, but only while it is valid itself.
            None if self.connect_claims.exp <= now() => {
                let expired = TokenError::Expired(now() - self.connect_claims.exp);
                return self.join_error(&frame, join_error_reason(&expired));
            }
            None => self.connect_claims.clone(),
        };
        let mut granted = None;
        if private {
            match permissions(&self.state.pool, &claims, &sub_topic).await {
                // Database broadcasts of a private topic reach it once the listener is live.
                Ok(p) if p.can_read() && self.state.listening.wait(JOIN_WAIT).await => {
                    granted = Some(p)
                }
                Ok(p) if p.can_read() => {
                    let reason = "UnableToSetPolicies: Realtime was unable to connect to the project database";
                    return self.join_error(&frame, reason.into());
                }
                Ok(_) => {
                    let reason = format!(
                        "Unauthorized: You do not have permissions to read from this Channel topic: {sub_topic}"
                    );
                    return self.join_error(&frame, reason);
                }
                Err(error) => {
                    tracing::error!(%error, "authorisation query failed");
                    let reason = "UnableToSetPolicies: Realtime was unable to connect to the project database";
                    return self.join_error(&frame, reason.into());
                }
            }
        }
        let replayed = match (super::replay::Replay::from_config(&config), private) {
            (None, _) => Vec::new(),
            (Some(_), false) => {
                let reason = "UnableToReplayMessages: Replay is not allowed for public channels";
                return self.join_error(&frame, reason.into());
            }
            (Some(replay), true) => match self.fetch_replay(&sub_topic, replay).await {
                Ok(messages) => messages,
                Err(error) => {
                    tracing::error!(%error, "replay query failed");
                    let reason = "UnableToReplayMessages: Realtime was unable to replay messages";
                    return self.join_error(&frame, reason.into());
                }
            },
        };
        // Joining a topic again replaces the earlier join, as Phoenix does.
        if let Some(previous) = self.channels.remove(&frame.topic) {
            self.forget(&previous);
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
        // A private channel shows presence only to those who may read it.
        let presence_on =
            flag(config.pointer("/presence/enabled")) && granted.is_none_or(|p| p.read_presence);
        let presence = Arc::new(AtomicBool::new(presence_on));
        self.state.hub.subscribe(
            key.clone(),
            self.id,
            Subscriber {
                outbox: self.outbox.clone(),
                vsn: self.vsn,
                join_ref: frame.join_ref.clone(),
                presence: presence.clone(),
            },
        );
        let presence_key = config
            .pointer("/presence/key")
            .and_then(Value::as_str)
            .filter(|key| !key.is_empty())
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
        self.channels.insert(
            frame.topic.clone(),
            Joined {
                key,
                join_ref: frame.join_ref.clone(),
                broadcast_self: flag(config.pointer("/broadcast/self")),
                ack: flag(config.pointer("/broadcast/ack")),
                permissions: granted,
                claims: claims.clone(),
                presence_key,
                presence,
                presence_calls: RateWindow::new(),
            },
        );
        let requested: Vec<Value> = config
            .get("postgres_changes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let entries: Vec<Value> = requested.iter().map(changes::reply_entry).collect();
        self.send(frame.reply("ok", json!({ "postgres_changes": entries })));
        self.send_replay(&frame.topic, replayed);
        if !requested.is_empty() {
            self.subscribe_changes(&frame, &sub_topic, &requested, claims)
                .await;
        }
        if presence_on {
            let state = self.state.presence.state(&self.channels[&frame.topic].key);
            self.send(Frame::push(
                frame.join_ref.clone(),
                &frame.topic,
                "presence_state",
                state,
            ));
        }
    }

    /// Registers the join's listeners, then says so (or why not) in a `system` message.
    /// A failure leaves the channel open for broadcast and presence.
    async fn subscribe_changes(
        &mut self,
        frame: &Frame,
        sub_topic: &str,
        requested: &[Value],
        claims: Claims,
    ) {
        // A rejoin replaces the topic's listeners: only the other channels' count.
        let held = self.state.changes.conditions_of(self.id, &frame.topic);
        let (status, message) = match changes::resolve_all(&self.state, requested, held).await {
            Ok(bindings) => {
                self.state.changes.insert(
                    self.id,
                    ChannelChanges {
                        topic: frame.topic.clone(),
                        outbox: self.outbox.clone(),
                        vsn: self.vsn,
                        claims,
                        bindings,
                    },
                );
                ("ok", "Subscribed to PostgreSQL".to_string())
            }
            Err(message) => ("error", message),
        };
        self.send(Frame::push(
            frame.join_ref.clone(),
            &frame.topic,
            "system",
            json!({ "extension": "postgres_changes", "status": status, "message": message, "channel": sub_topic }),
        ));
    }

    /// `access_token`: a refreshed JWT for an open channel. It is verified, a private
    /// channel's read policy is evaluated again, and later checks (RLS of changes, expiry)
    /// use the new claims. Any failure closes the channel.
    pub(super) async fn refresh_token(&mut self, frame: Frame) {
        let Some(joined) = self.channels.get(&frame.topic) else {
            return;
        };
        let Some(token) = token_of(&frame.payload) else {
            return; // null and `sb_` keys are ignored
        };
        let private = joined.key.private;
        let claims = match self.state.keys.verify(token, now()) {
            Ok(claims) => claims,
            Err(error) => return self.shut_down(&frame.topic, &error.to_string()),
        };
        let sub_topic = frame.topic.trim_start_matches("realtime:").to_string();
        let mut granted = None;
        if private {
            match permissions(&self.state.pool, &claims, &sub_topic).await {
                // Database broadcasts of a private topic reach it once the listener is live.
                Ok(p) if p.can_read() && self.state.listening.wait(JOIN_WAIT).await => {
                    granted = Some(p)
                }
                Ok(p) if p.can_read() => {
                    let reason = "UnableToSetPolicies: Realtime was unable to connect to the project database";
                    return self.join_error(&frame, reason.into());
                }
                Ok(_) => {
                    let message = format!(
                        "You no longer have permission to read from this Channel topic: {sub_topic}"
                    );
                    return self.shut_down(&frame.topic, &message);
                }
                Err(error) => {
                    tracing::error!(%error, "authorisation query failed");
                    let message = "Realtime was unable to connect to the project database";
                    return self.shut_down(&frame.topic, message);
                }
            }
        }
        self.state
            .changes
            .set_claims(self.id, &frame.topic, &claims);
        if let Some(joined) = self.channels.get_mut(&frame.topic) {
            joined.claims = claims;
            if private {
                joined.permissions = granted;
            }
        }
    }
}
