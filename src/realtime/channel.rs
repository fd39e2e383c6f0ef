//! One Realtime channel's state machine, as plain data: what to send to join, leave and
//! push, and what a received frame means for the UI. The client decides *when* (timers,
//! sockets); this file decides *what*.

use std::collections::VecDeque;
use std::fmt;

use serde_json::{json, Value};

use super::presence::PresenceState;
use super::protocol::{Frame, RefCounter};

/// Pushes kept while not joined, as realtime-js keeps them (oldest dropped first).
const MAX_BUFFERED_PUSHES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    Closed,
    Joining,
    Joined,
    Leaving,
    Errored,
}

/// What the UI shows, with realtime-js's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Subscribing,
    Subscribed,
    TimedOut,
    ChannelError(String),
    Closed,
}

impl Status {
    /// Errors that retrying with the same credentials cannot fix.
    pub fn is_auth_error(&self) -> bool {
        matches!(self, Status::ChannelError(reason) if is_auth_reason(reason))
    }
}

fn is_auth_reason(reason: &str) -> bool {
    [
        "Unauthorized",
        "InvalidJWTToken",
        "MalformedJWT",
        "JwtSignatureError",
        "Token has expired",
    ]
    .iter()
    .any(|prefix| reason.starts_with(prefix))
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Subscribing => "SUBSCRIBING",
            Status::Subscribed => "SUBSCRIBED",
            Status::TimedOut => "TIMED_OUT",
            Status::ChannelError(_) => "CHANNEL_ERROR",
            Status::Closed => "CLOSED",
        })
    }
}

/// One `postgres_changes` subscription of a join, e.g. INSERT on `public.messages`
/// with `conversation_id=eq.<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesFilter {
    /// `*`, `INSERT`, `UPDATE` or `DELETE`.
    pub event: String,
    pub schema: String,
    pub table: String,
    pub filter: Option<String>,
}

/// Presence on a channel: who we are (`key`, e.g. the user id, so several tabs count as
/// one) and what we track, sent after every join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceConfig {
    pub key: String,
    pub track: Value,
}

/// `config` of `phx_join`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinConfig {
    pub private: bool,
    pub broadcast_self: bool,
    pub broadcast_ack: bool,
    pub postgres_changes: Vec<ChangesFilter>,
    pub presence: Option<PresenceConfig>,
}

/// What a frame meant.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelEvent {
    Status(Status),
    Broadcast {
        event: String,
        payload: Value,
    },
    /// A database change: `kind` is INSERT, UPDATE or DELETE.
    PostgresChange {
        kind: String,
        record: Value,
        old_record: Value,
    },
    System(Value),
    /// The presence keys on the channel now (after a state, a diff, or losing the socket).
    Presence(Vec<String>),
}

#[derive(Debug)]
pub struct Channel {
    topic: String,
    config: JoinConfig,
    state: ChannelState,
    join_ref: Option<String>,
    buffer: VecDeque<(String, Value)>,
    presence: PresenceState,
}

impl Channel {
    /// `sub_topic` without the `realtime:` prefix, e.g. `conversation:<id>`.
    pub fn new(sub_topic: &str, config: JoinConfig) -> Self {
        Channel {
            topic: format!("realtime:{sub_topic}"),
            config,
            state: ChannelState::Closed,
            join_ref: None,
            buffer: VecDeque::new(),
            presence: PresenceState::default(),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn state(&self) -> ChannelState {
        self.state
    }

    pub fn join_ref(&self) -> Option<&str> {
        self.join_ref.as_deref()
    }

    /// The `phx_join` push; every (re)join gets a fresh join_ref so late replies to an
    /// older join are recognised and dropped.
    pub fn join(&mut self, refs: &mut RefCounter, access_token: Option<&str>) -> Frame {
        let join_ref = refs.make_ref();
        self.join_ref = Some(join_ref.clone());
        self.state = ChannelState::Joining;
        let changes: Vec<Value> = self
            .config
            .postgres_changes
            .iter()
            .map(|c| {
                let mut entry = json!({ "event": c.event, "schema": c.schema, "table": c.table });
                if let Some(filter) = &c.filter {
                    entry["filter"] = json!(filter);
                }
                entry
            })
            .collect();
        let mut payload = json!({
            "config": {
                "broadcast": { "ack": self.config.broadcast_ack, "self": self.config.broadcast_self },
                "presence": match &self.config.presence {
                    Some(presence) => json!({ "key": presence.key, "enabled": true }),
                    None => json!({ "key": "", "enabled": false }),
                },
                "postgres_changes": changes,
                "private": self.config.private,
            }
        });
        if let Some(token) = access_token {
            payload["access_token"] = json!(token);
        }
        Frame::new(
            Some(join_ref.clone()),
            Some(join_ref),
            &self.topic,
            "phx_join",
            payload,
        )
    }

    /// Interprets a frame addressed to this channel's topic.
    pub fn handle(&mut self, frame: &Frame) -> Vec<ChannelEvent> {
        if frame.join_ref.is_some() && frame.join_ref != self.join_ref {
            return Vec::new(); // from an earlier join
        }
        match frame.event.as_str() {
            "phx_reply" if frame.reference.is_some() && frame.reference == self.join_ref => {
                if self.state != ChannelState::Joining {
                    return Vec::new();
                }
                if frame.payload["status"] == "ok" {
                    self.state = ChannelState::Joined;
                    vec![ChannelEvent::Status(Status::Subscribed)]
                } else {
                    self.state = ChannelState::Errored;
                    let reason = frame.payload["response"]["reason"]
                        .as_str()
                        .unwrap_or("Unknown Error on Channel")
                        .to_string();
                    vec![ChannelEvent::Status(Status::ChannelError(reason))]
                }
            }
            "phx_close" => {
                self.state = ChannelState::Closed;
                self.join_ref = None;
                let mut events = vec![ChannelEvent::Status(Status::Closed)];
                events.extend(self.forget_presence());
                events
            }
            "phx_error" => self.errored("channel error"),
            "broadcast" if self.state == ChannelState::Joined => {
                let event = frame.payload["event"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let payload = frame.payload.get("payload").cloned().unwrap_or(Value::Null);
                vec![ChannelEvent::Broadcast { event, payload }]
            }
            "postgres_changes" if self.state == ChannelState::Joined => {
                let data = &frame.payload["data"];
                vec![ChannelEvent::PostgresChange {
                    kind: data["type"].as_str().unwrap_or_default().to_string(),
                    record: data.get("record").cloned().unwrap_or(Value::Null),
                    old_record: data.get("old_record").cloned().unwrap_or(Value::Null),
                }]
            }
            "system" => vec![ChannelEvent::System(frame.payload.clone())],
            "presence_state" if self.state == ChannelState::Joined => {
                self.presence.reset(&frame.payload);
                vec![ChannelEvent::Presence(self.presence.keys())]
            }
            "presence_diff" if self.state == ChannelState::Joined => {
                self.presence.apply_diff(&frame.payload);
                vec![ChannelEvent::Presence(self.presence.keys())]
            }
            _ => Vec::new(),
        }
    }

    fn errored(&mut self, reason: &str) -> Vec<ChannelEvent> {
        match self.state {
            ChannelState::Joined | ChannelState::Joining => {
                self.state = ChannelState::Errored;
                let mut events = vec![ChannelEvent::Status(Status::ChannelError(
                    reason.to_string(),
                ))];
                events.extend(self.forget_presence());
                events
            }
            _ => Vec::new(),
        }
    }

    /// Who was present is unknown once the channel is down; the next join tells again.
    fn forget_presence(&mut self) -> Option<ChannelEvent> {
        self.config.presence.as_ref()?;
        self.presence.clear();
        Some(ChannelEvent::Presence(Vec::new()))
    }

    /// The socket closed under a joined or joining channel.
    pub fn socket_closed(&mut self) -> Vec<ChannelEvent> {
        self.errored("connection lost")
    }

    /// No join reply in time. Only the join identified by `join_ref` can time out.
    pub fn join_timed_out(&mut self, join_ref: &str) -> Vec<ChannelEvent> {
        if self.state == ChannelState::Joining && self.join_ref.as_deref() == Some(join_ref) {
            self.state = ChannelState::Errored;
            vec![ChannelEvent::Status(Status::TimedOut)]
        } else {
            Vec::new()
        }
    }

    /// A user broadcast: sent now when joined, otherwise kept until the join succeeds.
    pub fn broadcast(
        &mut self,
        refs: &mut RefCounter,
        event: &str,
        payload: Value,
    ) -> Option<Frame> {
        if self.state == ChannelState::Joined {
            return Some(self.broadcast_frame(refs, event, payload));
        }
        if self.buffer.len() == MAX_BUFFERED_PUSHES {
            self.buffer.pop_front();
        }
        self.buffer.push_back((event.to_string(), payload));
        None
    }

    fn broadcast_frame(&self, refs: &mut RefCounter, event: &str, payload: Value) -> Frame {
        Frame::new(
            self.join_ref.clone(),
            Some(refs.make_ref()),
            &self.topic,
            "broadcast",
            json!({ "type": "broadcast", "event": event, "payload": payload }),
        )
    }

    /// Once joined: our presence (tracked again after every join, as the server forgot
    /// it with the old one), then the buffered pushes.
    pub fn flush(&mut self, refs: &mut RefCounter) -> Vec<Frame> {
        if self.state != ChannelState::Joined {
            return Vec::new();
        }
        let track = self.config.presence.as_ref().map(|presence| {
            Frame::new(
                self.join_ref.clone(),
                Some(refs.make_ref()),
                &self.topic,
                "presence",
                json!({ "type": "presence", "event": "track", "payload": presence.track }),
            )
        });
        let buffered: Vec<_> = self.buffer.drain(..).collect();
        track
            .into_iter()
            .chain(
                buffered
                    .into_iter()
                    .map(|(event, payload)| self.broadcast_frame(refs, &event, payload)),
            )
            .collect()
    }

    /// A fresh token for a joined channel.
    pub fn access_token(&self, refs: &mut RefCounter, token: &str) -> Option<Frame> {
        (self.state == ChannelState::Joined).then(|| {
            Frame::new(
                self.join_ref.clone(),
                Some(refs.make_ref()),
                &self.topic,
                "access_token",
                json!({ "access_token": token }),
            )
        })
    }

    /// `phx_leave` for the current join, when the server may know it (joined, joining, or
    /// errored after a join was sent: a late reply may have joined it after all).
    pub fn leave_push(&self, refs: &mut RefCounter) -> Option<Frame> {
        let join_ref = self.join_ref.clone()?;
        Some(Frame::new(
            Some(join_ref),
            Some(refs.make_ref()),
            &self.topic,
            "phx_leave",
            json!({}),
        ))
    }

    /// Leaves: the channel is closed, and the `phx_leave` to send is returned.
    pub fn leave(&mut self, refs: &mut RefCounter) -> Option<Frame> {
        let frame = self.leave_push(refs);
        self.state = ChannelState::Closed;
        self.join_ref = None;
        self.buffer.clear();
        frame
    }

    /// A successful reply to an *older* join of this topic (one that timed out and was
    /// replaced): the server holds that subscription, so it is left at once.
    pub fn stale_join_accepted(&self, frame: &Frame, refs: &mut RefCounter) -> Option<Frame> {
        let stale = frame.event == "phx_reply"
            && frame.join_ref.is_some()
            && frame.reference == frame.join_ref
            && frame.join_ref != self.join_ref
            && frame.payload["status"] == "ok";
        stale.then(|| {
            Frame::new(
                frame.join_ref.clone(),
                Some(refs.make_ref()),
                &self.topic,
                "phx_leave",
                json!({}),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(join_ref: &str, status: &str, response: Value) -> Frame {
        Frame::new(
            Some(join_ref.into()),
            Some(join_ref.into()),
            "realtime:conversation:1",
            "phx_reply",
            json!({ "status": status, "response": response }),
        )
    }

    fn joined() -> (Channel, RefCounter) {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new(
            "conversation:1",
            JoinConfig {
                private: true,
                ..Default::default()
            },
        );
        let join = channel.join(&mut refs, Some("jwt"));
        channel.handle(&reply(join.join_ref.as_deref().unwrap(), "ok", json!({})));
        (channel, refs)
    }

    #[test]
    fn join_payload_is_private_with_token() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new(
            "conversation:1",
            JoinConfig {
                private: true,
                ..Default::default()
            },
        );
        let frame = channel.join(&mut refs, Some("jwt"));
        assert_eq!(frame.topic, "realtime:conversation:1");
        assert_eq!(frame.payload["config"]["private"], true);
        assert_eq!(frame.payload["access_token"], "jwt");
        assert_eq!(channel.state(), ChannelState::Joining);
    }

    #[test]
    fn ok_reply_subscribes_and_flushes_buffered_broadcasts() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new("conversation:1", JoinConfig::default());
        let join = channel.join(&mut refs, None);
        assert!(channel
            .broadcast(&mut refs, "new_message", json!({"id": 1}))
            .is_none());
        let events = channel.handle(&reply(join.join_ref.as_deref().unwrap(), "ok", json!({})));
        assert_eq!(events, vec![ChannelEvent::Status(Status::Subscribed)]);
        let flushed = channel.flush(&mut refs);
        assert_eq!(flushed.len(), 1);
        assert_eq!(flushed[0].payload["event"], "new_message");
        assert_eq!(flushed[0].join_ref, join.join_ref);
    }

    #[test]
    fn error_reply_reports_the_servers_reason() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new("conversation:1", JoinConfig::default());
        let join = channel.join(&mut refs, None);
        let reason = "Unauthorized: You do not have permissions to read from this Channel topic: conversation:1";
        let events = channel.handle(&reply(
            join.join_ref.as_deref().unwrap(),
            "error",
            json!({ "reason": reason }),
        ));
        let status = Status::ChannelError(reason.into());
        assert!(status.is_auth_error());
        assert_eq!(events, vec![ChannelEvent::Status(status)]);
        assert_eq!(channel.state(), ChannelState::Errored);
    }

    #[test]
    fn replies_to_an_older_join_are_ignored() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new("conversation:1", JoinConfig::default());
        let first = channel.join(&mut refs, None);
        let _second = channel.join(&mut refs, None);
        assert!(channel
            .handle(&reply(first.join_ref.as_deref().unwrap(), "ok", json!({})))
            .is_empty());
        assert_eq!(channel.state(), ChannelState::Joining);
    }

    #[test]
    fn broadcasts_are_delivered_only_while_joined() {
        let push = Frame::new(
            None,
            None,
            "realtime:conversation:1",
            "broadcast",
            json!({"type": "broadcast", "event": "new_message", "payload": {"body": "hi"}}),
        );
        let mut refs = RefCounter::default();
        let mut closed = Channel::new("conversation:1", JoinConfig::default());
        closed.join(&mut refs, None);
        assert!(closed.handle(&push).is_empty());
        let (mut channel, _) = joined();
        assert_eq!(
            channel.handle(&push),
            vec![ChannelEvent::Broadcast {
                event: "new_message".into(),
                payload: json!({"body": "hi"})
            }]
        );
    }

    #[test]
    fn postgres_changes_are_requested_and_delivered_while_joined() {
        let mut refs = RefCounter::default();
        let config = JoinConfig {
            private: true,
            postgres_changes: vec![ChangesFilter {
                event: "INSERT".into(),
                schema: "public".into(),
                table: "messages".into(),
                filter: Some("conversation_id=eq.1".into()),
            }],
            ..Default::default()
        };
        let mut channel = Channel::new("conversation:1", config);
        let join = channel.join(&mut refs, None);
        assert_eq!(
            join.payload["config"]["postgres_changes"],
            json!([{"event": "INSERT", "schema": "public", "table": "messages", "filter": "conversation_id=eq.1"}])
        );
        channel.handle(&reply(join.join_ref.as_deref().unwrap(), "ok", json!({})));
        let change = Frame::new(
            None,
            None,
            "realtime:conversation:1",
            "postgres_changes",
            json!({
                "ids": [1], "data": {"type": "INSERT", "record": {"id": "m"}, "schema": "public", "table": "messages"}
            }),
        );
        assert_eq!(
            channel.handle(&change),
            vec![ChannelEvent::PostgresChange {
                kind: "INSERT".into(),
                record: json!({"id": "m"}),
                old_record: Value::Null
            }]
        );
    }

    #[test]
    fn timeouts_apply_only_to_the_current_join() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new("c", JoinConfig::default());
        let join = channel.join(&mut refs, None);
        assert!(channel.join_timed_out("999").is_empty());
        assert_eq!(
            channel.join_timed_out(join.join_ref.as_deref().unwrap()),
            vec![ChannelEvent::Status(Status::TimedOut)]
        );
    }

    #[test]
    fn socket_loss_errors_a_joined_channel_and_leave_closes_it() {
        let (mut channel, mut refs) = joined();
        assert_eq!(
            channel.socket_closed(),
            vec![ChannelEvent::Status(Status::ChannelError(
                "connection lost".into()
            ))]
        );
        let (mut channel, mut refs2) = joined();
        let leave = channel.leave(&mut refs2).unwrap();
        assert_eq!(leave.event, "phx_leave");
        assert_eq!(channel.state(), ChannelState::Closed);
        assert!(
            channel.leave(&mut refs).is_none(),
            "a closed channel has nothing to leave"
        );
    }

    #[test]
    fn an_errored_or_timed_out_join_is_still_left_on_the_server() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new("c", JoinConfig::default());
        let join = channel.join(&mut refs, None);
        channel.join_timed_out(join.join_ref.as_deref().unwrap());
        assert_eq!(channel.state(), ChannelState::Errored);
        let leave = channel
            .leave(&mut refs)
            .expect("the late join may have succeeded");
        assert_eq!(leave.join_ref, join.join_ref);
    }

    #[test]
    fn a_late_ok_for_a_replaced_join_is_left() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new("c", JoinConfig::default());
        let first = channel.join(&mut refs, None);
        let second = channel.join(&mut refs, None);
        let late = Frame::new(
            first.join_ref.clone(),
            first.join_ref.clone(),
            "realtime:c",
            "phx_reply",
            json!({"status": "ok", "response": {}}),
        );
        assert!(channel.handle(&late).is_empty());
        let leave = channel.stale_join_accepted(&late, &mut refs).unwrap();
        assert_eq!(leave.event, "phx_leave");
        assert_eq!(leave.join_ref, first.join_ref);
        let current = Frame::new(
            second.join_ref.clone(),
            second.join_ref.clone(),
            "realtime:c",
            "phx_reply",
            json!({"status": "ok", "response": {}}),
        );
        assert!(channel.stale_join_accepted(&current, &mut refs).is_none());
    }

    #[test]
    fn server_close_is_closed_status() {
        let (mut channel, _) = joined();
        let join_ref = channel.join_ref().map(str::to_string);
        let close = Frame::new(
            join_ref,
            None,
            "realtime:conversation:1",
            "phx_close",
            json!({}),
        );
        assert_eq!(
            channel.handle(&close),
            vec![ChannelEvent::Status(Status::Closed)]
        );
    }

    #[test]
    fn presence_is_keyed_tracked_after_each_join_and_forgotten_when_down() {
        let mut refs = RefCounter::default();
        let config = JoinConfig {
            private: true,
            presence: Some(PresenceConfig {
                key: "me".into(),
                track: json!({ "online_at": "t" }),
            }),
            ..Default::default()
        };
        let mut channel = Channel::new("conversation:1", config);
        let join = channel.join(&mut refs, None);
        assert_eq!(
            join.payload["config"]["presence"],
            json!({ "key": "me", "enabled": true })
        );
        channel.handle(&reply(join.join_ref.as_deref().unwrap(), "ok", json!({})));
        let flushed = channel.flush(&mut refs);
        assert_eq!(flushed[0].event, "presence");
        assert_eq!(
            flushed[0].payload,
            json!({ "type": "presence", "event": "track", "payload": { "online_at": "t" } })
        );
        let state = Frame::new(
            None,
            None,
            "realtime:conversation:1",
            "presence_state",
            json!({ "you": { "metas": [{ "phx_ref": "r1" }] } }),
        );
        assert_eq!(
            channel.handle(&state),
            vec![ChannelEvent::Presence(vec!["you".into()])]
        );
        let events = channel.socket_closed();
        assert_eq!(events[1], ChannelEvent::Presence(Vec::new()));
        // A rejoin tracks again.
        let join = channel.join(&mut refs, None);
        channel.handle(&reply(join.join_ref.as_deref().unwrap(), "ok", json!({})));
        assert_eq!(channel.flush(&mut refs)[0].event, "presence");
    }

    #[test]
    fn without_presence_nothing_is_tracked() {
        let (mut channel, mut refs) = joined();
        assert!(channel.flush(&mut refs).is_empty());
        assert_eq!(channel.socket_closed().len(), 1);
    }

    #[test]
    fn buffer_keeps_the_newest_pushes() {
        let mut refs = RefCounter::default();
        let mut channel = Channel::new("c", JoinConfig::default());
        for n in 0..(MAX_BUFFERED_PUSHES + 5) {
            channel.broadcast(&mut refs, "e", json!(n));
        }
        let join = channel.join(&mut refs, None);
        channel.handle(&Frame::new(
            join.join_ref.clone(),
            join.join_ref.clone(),
            "realtime:c",
            "phx_reply",
            json!({"status": "ok"}),
        ));
        let flushed = channel.flush(&mut refs);
        assert_eq!(flushed.len(), MAX_BUFFERED_PUSHES);
        assert_eq!(flushed[0].payload["payload"], 5);
    }
}
