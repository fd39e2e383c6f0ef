//! One WebSocket connection: decodes frames (v1/v2 text, v2 binary user broadcasts),
//! answers heartbeats, enforces the per-connection limits and closes channels whose token
//! expired. Joining, broadcasting and tokens live in `join.rs` and `broadcast.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use super::authorize::Permissions;
use super::binary;
use super::frame::{Frame, Vsn};
use super::hub::{ConnectionId, TopicKey};
use super::outbox::{self, Next, Outbox};
use crate::jwt::{now, Claims};
use crate::AppState;

/// Phoenix closes sockets that sent nothing for this long.
/// How often joined channels' tokens are checked for expiry.
const TOKEN_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// A channel this connection has joined.
pub(super) struct Joined {
    pub key: TopicKey,
    pub join_ref: Option<String>,
    pub broadcast_self: bool,
    pub ack: bool,
    /// Private channels only: what the `realtime.messages` policies allow.
    pub permissions: Option<Permissions>,
    /// Whose token the channel runs under; it closes when this expires.
    pub claims: Claims,
    pub presence_key: String,
    /// Shared with the hub: whether presence diffs reach this channel.
    pub presence: Arc<std::sync::atomic::AtomicBool>,
    /// Presence calls (track/untrack) in the current 30 s window of this join: as in
    /// hosted Realtime, each join counts afresh (a person opening one conversation after
    /// another is not limited, a client tracking in a loop is).
    pub presence_calls: RateWindow,
}

/// Frames received in the current window, for a rate limit.
pub(super) struct RateWindow {
    started: Instant,
    count: u32,
}

impl RateWindow {
    pub(super) fn new() -> Self {
        RateWindow {
            started: Instant::now(),
            count: 0,
        }
    }

    /// Counts one more frame; returns how many this second has seen so far.
    fn count(&mut self) -> u32 {
        self.count_within(Duration::from_secs(1))
    }

    /// Counts one more event; returns how many the current window of `length` has seen.
    pub(super) fn count_within(&mut self, length: Duration) -> u32 {
        let now = Instant::now();
        if now.duration_since(self.started) >= length {
            self.started = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count
    }
}

pub(super) struct Session {
    pub state: Arc<AppState>,
    pub id: ConnectionId,
    pub vsn: Vsn,
    /// The token given at connect time (`apikey`), used when a join carries none.
    pub connect_claims: Claims,
    pub outbox: Outbox,
    pub channels: HashMap<String, Joined>,
    /// Messages (other than heartbeats and joins) this second.
    window: RateWindow,
    /// Joins this second; hosted Realtime limits them separately from messages.
    joins: RateWindow,
}

pub async fn run(socket: WebSocket, state: Arc<AppState>, vsn: Vsn, connect_claims: Claims) {
    let id = state.next_connection_id();
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut queue) = outbox::outbox(state.settings.max_queued_bytes);
    let (writer_ended, mut writer_gone) = watch::channel(false);
    let writer = tokio::spawn(async move {
        loop {
            match queue.next().await {
                Next::Write(message) => {
                    let closing = matches!(message, Message::Close(_));
                    if sink.send(message).await.is_err() || closing {
                        break;
                    }
                }
                Next::TooFarBehind { queued } => {
                    tracing::info!(connection = id, queued, "client not reading; disconnected");
                    let reason = "client not reading: too much queued";
                    let _ = sink.send(close_message(1013, reason)).await;
                    break;
                }
                Next::Done => break,
            }
        }
        writer_ended.send_replace(true);
    });
    let mut session = Session {
        state,
        id,
        vsn,
        connect_claims,
        outbox,
        channels: HashMap::new(),
        window: RateWindow::new(),
        joins: RateWindow::new(),
    };
    let mut shutdown = session.state.shutdown.subscribe();
    let mut token_check = tokio::time::interval(TOKEN_CHECK_INTERVAL);
    let idle_timeout = session.state.settings.idle_timeout;
    let mut idle_deadline = Instant::now() + idle_timeout;
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            _ = token_check.tick() => {
                session.close_expired_channels();
                continue;
            }
            _ = tokio::time::sleep_until(idle_deadline) => {
                tracing::debug!(connection = id, "closing idle socket");
                break;
            }
            _ = writer_gone.changed() => break,
            _ = shutdown.changed() => {
                // 1001 "going away": the client reconnects to the next server.
                session.close(1001, "server shutting down");
                break;
            }
        };
        idle_deadline = Instant::now() + idle_timeout;
        match next {
            Some(Ok(Message::Text(text))) => {
                // Malformed frames are ignored; the socket stays open.
                if let Some(frame) = Frame::decode(text.as_str(), vsn) {
                    let join = frame.event == "phx_join";
                    if join && !session.admit_join() {
                        session.refuse_join_and_disconnect(&frame);
                        break;
                    }
                    // Heartbeats count too: each one is answered, echoing its ref.
                    if join || session.admit() {
                        session.handle(frame).await;
                    }
                }
            }
            Some(Ok(Message::Binary(bytes))) => {
                if let Some(push) = binary::decode_push(&bytes) {
                    if session.admit() {
                        session.user_broadcast(push).await;
                    }
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
        }
    }
    session.leave_all();
    drop(session);
    let _ = writer.await;
}

impl Session {
    pub fn send(&self, frame: Frame) {
        let text = frame.encode(self.vsn);
        self.outbox.push(Message::Text(text.into()));
    }

    /// Sends `frame` after `delay` without holding up this connection: its other frames
    /// (heartbeats, other joins) are answered meanwhile. Then closes the socket if asked.
    pub fn send_later(&self, frame: Frame, delay: Duration, then_close: bool) {
        let text = frame.encode(self.vsn);
        let outbox = self.outbox.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // Like `send`: dropped rather than waited for when the client is not reading.
            outbox.push(Message::Text(text.into()));
            if then_close {
                outbox.push(close_message(1008, "too many joins"));
            }
        });
    }

    /// Queues a close frame; the writer sends it and then ends the connection.
    fn close(&self, code: u16, reason: &str) {
        self.outbox.push(close_message(code, reason));
    }

    /// Counts a join against the joins-per-second limit.
    fn admit_join(&mut self) -> bool {
        self.joins.count() <= self.state.settings.max_joins_per_second
    }

    /// One join too many this second: hosted Realtime answers
    /// `ClientJoinRateLimitReached` and disconnects the socket; other connections are
    /// unaffected.
    fn refuse_join_and_disconnect(&self, frame: &Frame) {
        tracing::info!(connection = self.id, "too many joins per second");
        let reason = "ClientJoinRateLimitReached: Too many joins per second";
        let reply = frame.reply("error", json!({ "reason": reason }));
        self.send_later(reply, self.state.settings.channel_error_backoff, true);
    }

    async fn handle(&mut self, frame: Frame) {
        match (frame.topic.as_str(), frame.event.as_str()) {
            ("phoenix", "heartbeat") => self.send(frame.reply("ok", json!({}))),
            (_, "phx_join") => self.join(frame).await,
            (_, "phx_leave") => self.leave(frame),
            (_, "broadcast") => self.broadcast(frame).await,
            (_, "access_token") => self.refresh_token(frame).await,
            (_, "presence") => self.presence(frame).await,
            _ if !self.channels.contains_key(&frame.topic) => {
                self.send(frame.reply("error", json!({ "reason": "unmatched topic" })))
            }
            _ => {} // other channel events are not used by localbase's clients
        }
    }

    /// Counts a client message against the per-second limit. Crossing it shuts every
    /// channel of this connection down, as the hosted server does; other connections are
    /// unaffected.
    fn admit(&mut self) -> bool {
        let count = self.window.count();
        let limit = self.state.settings.max_events_per_second;
        if count == limit.saturating_add(1) {
            tracing::info!(connection = self.id, "too many messages per second");
            let topics: Vec<String> = self.channels.keys().cloned().collect();
            for topic in topics {
                self.shut_down(&topic, "Too many messages per second");
            }
        }
        count <= limit
    }

    fn close_expired_channels(&mut self) {
        let now = now();
        let expired: Vec<(String, i64)> = self
            .channels
            .iter()
            .filter(|(_, joined)| joined.claims.exp <= now)
            .map(|(topic, joined)| (topic.clone(), now - joined.claims.exp))
            .collect();
        for (topic, seconds) in expired {
            self.shut_down(&topic, &format!("Token has expired {seconds} seconds ago"));
        }
    }

    /// Ends a channel from the server side: a `system` error saying why, then `phx_close`.
    pub fn shut_down(&mut self, topic: &str, message: &str) {
        let Some(joined) = self.channels.remove(topic) else {
            return;
        };
        self.forget(&joined);
        let sub_topic = topic.trim_start_matches("realtime:");
        self.send(Frame::push(
            joined.join_ref.clone(),
            topic,
            "system",
            json!({ "extension": "system", "status": "error", "message": message, "channel": sub_topic }),
        ));
        self.send(Frame::push(joined.join_ref, topic, "phx_close", json!({})));
    }

    fn leave(&mut self, frame: Frame) {
        self.send(frame.reply("ok", json!({})));
        // As Phoenix: a leave for an older join of the topic (the client raced a rejoin)
        // is answered and ignored; v1 clients may send no join_ref at all.
        let current = self
            .channels
            .get(&frame.topic)
            .is_some_and(|joined| frame.join_ref.is_none() || frame.join_ref == joined.join_ref);
        if !current {
            return;
        }
        if let Some(joined) = self.channels.remove(&frame.topic) {
            self.forget(&joined);
            self.send(Frame::push(
                joined.join_ref,
                &frame.topic,
                "phx_close",
                json!({}),
            ));
        }
    }

    /// Stops every delivery to a channel this connection no longer has, and tells the
    /// others it left if it was present.
    pub fn forget(&self, joined: &Joined) {
        self.state.hub.unsubscribe(&joined.key, self.id);
        self.state.changes.remove(self.id, &joined.key.topic);
        if let Some(diff) = self.state.presence.untrack(&joined.key, self.id) {
            self.state.hub.publish_presence(&joined.key, &diff);
        }
    }

    fn leave_all(&mut self) {
        let channels: Vec<Joined> = self.channels.drain().map(|(_, joined)| joined).collect();
        for joined in channels {
            self.forget(&joined);
        }
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(axum::extract::ws::CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// A flag of the join config: JSON booleans or the strings "true"/"false".
pub(super) fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}
