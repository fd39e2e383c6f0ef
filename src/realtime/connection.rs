//! The realtime connection's policy as a pure state machine: events in (the socket
//! opened, closed or sent a frame, a timer fired, the app called), commands out (open or
//! close the socket, send a frame, set or cancel a timer, report to a channel, ask for a
//! token). `client.rs` carries the commands out in the browser; the rules live here and
//! are unit-tested natively:
//! - a heartbeat every 25 s; one still unanswered at the next beat means the socket is
//!   dead, whatever the browser says; a probe (after waking up) wants an answer in 3 s;
//! - reconnects after 1, 2, 5, then every 10 s; every channel rejoins with the newest token;
//! - a join unanswered for 10 s times out, is left on the server (it may still succeed
//!   there) and is retried; a late success of a replaced join is left too;
//! - a join refused for an auth reason asks the app for a fresh token once per failure
//!   streak, never a loop with the same token;
//! - three sockets in a row that never open switch to the 1.0.0 serializer.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Value};

use super::backoff::reconnect_delay_ms;
use super::channel::{Channel, ChannelEvent, ChannelState, JoinConfig, Status};
use super::protocol::{Frame, RefCounter, Vsn, PHOENIX_TOPIC};

pub const HEARTBEAT_MS: u32 = 25_000;
pub const JOIN_TIMEOUT_MS: u32 = 10_000;
/// How long a liveness probe (after wake-up, focus, online) waits for its heartbeat reply.
pub const PROBE_TIMEOUT_MS: u32 = 3_000;
/// Sockets in a row that close without opening before falling back to serializer 1.0.0.
const OPEN_FAILURES_BEFORE_V1: u32 = 3;

/// The socket as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Nothing to connect for yet.
    Idle,
    Connecting,
    Open,
    /// Lost; a reconnect is scheduled.
    Reconnecting,
    /// `disconnect` was called: nothing reconnects.
    Stopped,
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionState::Idle => "idle",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Open => "open",
            ConnectionState::Reconnecting => "reconnecting",
            ConnectionState::Stopped => "stopped",
        })
    }
}

/// The connection's timers; setting one that is set replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    Heartbeat,
    Probe,
    Reconnect,
    /// The current join of a topic gets no reply.
    Join(String),
    /// The next attempt to join a topic after an error.
    Rejoin(String),
}

/// What the executor must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open a socket at this URL (dropping any other).
    Open(String),
    /// Close and forget the socket.
    Close,
    Send(Frame),
    SetTimer(Timer, u32),
    CancelTimer(Timer),
    /// Tell the handler of a topic (full topic, `realtime:…`).
    Emit(String, ChannelEvent),
    /// The app should refresh the session and call `set_auth`.
    AskForToken,
    /// The socket's state changed.
    State(ConnectionState),
}

struct Entry {
    channel: Channel,
    rejoin_tries: u32,
    /// An auth refusal already asked for a fresh token since the last success.
    auth_retry_used: bool,
}

pub struct Connection {
    url: String,
    vsn: Vsn,
    failed_opens: u32,
    state: ConnectionState,
    refs: RefCounter,
    token: Option<String>,
    channels: BTreeMap<String, Entry>,
    reconnect_tries: u32,
    pending_heartbeat: Option<String>,
    probing: bool,
    out: Vec<Command>,
}

impl Connection {
    /// `url` is the websocket URL without `vsn` (see `Config::realtime_url`).
    pub fn new(url: String, token: Option<String>) -> Self {
        Connection {
            url,
            vsn: Vsn::V2,
            failed_opens: 0,
            state: ConnectionState::Idle,
            refs: RefCounter::default(),
            token,
            channels: BTreeMap::new(),
            reconnect_tries: 0,
            pending_heartbeat: None,
            probing: false,
            out: Vec::new(),
        }
    }

    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The serializer frames are written in.
    pub fn vsn(&self) -> Vsn {
        self.vsn
    }

    /// The socket and every channel, one line each, for a support request.
    pub fn describe(&self) -> String {
        // Names spelled out rather than `{:?}`: Debug formatting costs download size.
        let socket = match self.state {
            ConnectionState::Idle => "Idle",
            ConnectionState::Connecting => "Connecting",
            ConnectionState::Open => "Open",
            ConnectionState::Reconnecting => "Reconnecting",
            ConnectionState::Stopped => "Stopped",
        };
        let mut text = format!(
            "socket: {socket} (protocol {}), reconnect attempts: {}\n",
            self.vsn.as_str(),
            self.reconnect_tries
        );
        for (topic, entry) in &self.channels {
            let state = match entry.channel.state() {
                ChannelState::Closed => "Closed",
                ChannelState::Joining => "Joining",
                ChannelState::Joined => "Joined",
                ChannelState::Leaving => "Leaving",
                ChannelState::Errored => "Errored",
            };
            text += &format!("{topic}: {state}\n");
        }
        text
    }

    // ---- API calls -------------------------------------------------------------------

    /// Joins `sub_topic` (e.g. `conversation:<id>`); joining a topic again replaces the
    /// earlier channel. Returns the full topic.
    pub fn join(&mut self, sub_topic: &str, config: JoinConfig) -> (String, Vec<Command>) {
        let channel = Channel::new(sub_topic, config);
        let topic = channel.topic().to_string();
        self.forget_channel(&topic);
        self.channels.insert(
            topic.clone(),
            Entry {
                channel,
                rejoin_tries: 0,
                auth_retry_used: false,
            },
        );
        self.emit(&topic, ChannelEvent::Status(Status::Subscribing));
        match self.state {
            ConnectionState::Open => self.send_join(&topic),
            ConnectionState::Idle => self.connect(),
            // Connecting or waiting to reconnect: the open joins every channel.
            ConnectionState::Connecting
            | ConnectionState::Reconnecting
            | ConnectionState::Stopped => {}
        }
        (topic, self.take())
    }

    /// Leaves a topic: the server is told (`phx_leave`) and nothing more is reported.
    pub fn leave(&mut self, topic: &str) -> Vec<Command> {
        self.forget_channel(topic);
        self.take()
    }

    /// A user broadcast: sent now when joined, otherwise once the channel is joined.
    pub fn broadcast(&mut self, topic: &str, event: &str, payload: Value) -> Vec<Command> {
        if let Some(entry) = self.channels.get_mut(topic) {
            if let Some(frame) = entry.channel.broadcast(&mut self.refs, event, payload) {
                self.send(frame);
            }
        }
        self.take()
    }

    /// A new access token: used for every later join and sent to joined channels now;
    /// channels refused or closed for their old token are joined again with it.
    pub fn set_auth(&mut self, token: &str) -> Vec<Command> {
        self.token = Some(token.to_string());
        if self.state == ConnectionState::Open {
            let mut frames = Vec::new();
            let mut rejoin = Vec::new();
            for (topic, entry) in &self.channels {
                match entry.channel.state() {
                    ChannelState::Joined => {
                        frames.extend(entry.channel.access_token(&mut self.refs, token))
                    }
                    ChannelState::Errored | ChannelState::Closed => rejoin.push(topic.clone()),
                    ChannelState::Joining | ChannelState::Leaving => {}
                }
            }
            for frame in frames {
                self.send(frame);
            }
            for topic in rejoin {
                self.send_join(&topic);
            }
        }
        self.take()
    }

    /// Tries a topic again after an error that needed the person (e.g. a new sign-in).
    pub fn rejoin(&mut self, topic: &str) -> Vec<Command> {
        if let Some(entry) = self.channels.get_mut(topic) {
            entry.auth_retry_used = false;
            match self.state {
                ConnectionState::Open => self.send_join(topic),
                _ => return self.probe(),
            }
        }
        self.take()
    }

    /// Checks the connection now (the page woke up, came online or got focus): a socket
    /// that is down reconnects at once; an open one must answer a heartbeat within 3 s or
    /// is replaced. Several calls in a row start one check, not a storm.
    pub fn probe(&mut self) -> Vec<Command> {
        match self.state {
            ConnectionState::Idle | ConnectionState::Reconnecting => {
                self.cancel(Timer::Reconnect);
                self.reconnect_tries = 0;
                self.connect();
            }
            ConnectionState::Open if !self.probing => {
                self.probing = true;
                // An unanswered heartbeat is the probe already; otherwise send one.
                if self.pending_heartbeat.is_none() {
                    self.send_heartbeat();
                }
                self.out
                    .push(Command::SetTimer(Timer::Probe, PROBE_TIMEOUT_MS));
            }
            ConnectionState::Open | ConnectionState::Connecting | ConnectionState::Stopped => {}
        }
        self.take()
    }

    /// Closes the socket and forgets every channel (sign-out, unmount). Final.
    pub fn disconnect(&mut self) -> Vec<Command> {
        for topic in self.channels.keys().cloned().collect::<Vec<_>>() {
            self.forget_channel(&topic);
        }
        for timer in [Timer::Heartbeat, Timer::Probe, Timer::Reconnect] {
            self.cancel(timer);
        }
        self.out.push(Command::Close);
        self.set_state(ConnectionState::Stopped);
        self.take()
    }

    // ---- socket and timer events -----------------------------------------------------

    pub fn socket_opened(&mut self) -> Vec<Command> {
        if self.state != ConnectionState::Connecting {
            return Vec::new();
        }
        self.set_state(ConnectionState::Open);
        self.failed_opens = 0;
        self.reconnect_tries = 0;
        self.pending_heartbeat = None;
        self.probing = false;
        self.out
            .push(Command::SetTimer(Timer::Heartbeat, HEARTBEAT_MS));
        for topic in self.channels.keys().cloned().collect::<Vec<_>>() {
            self.send_join(&topic);
        }
        self.take()
    }

    /// The socket closed (or could not be created).
    pub fn socket_closed(&mut self) -> Vec<Command> {
        match self.state {
            ConnectionState::Connecting => {
                self.failed_opens += 1;
                if self.failed_opens >= OPEN_FAILURES_BEFORE_V1 {
                    self.vsn = Vsn::V1;
                }
                self.lost();
            }
            ConnectionState::Open => self.lost(),
            _ => {}
        }
        self.take()
    }

    pub fn frame(&mut self, frame: Frame) -> Vec<Command> {
        if self.state != ConnectionState::Open {
            return Vec::new();
        }
        if frame.topic == PHOENIX_TOPIC {
            if frame.event == "phx_reply"
                && frame.reference.is_some()
                && frame.reference == self.pending_heartbeat
            {
                self.pending_heartbeat = None;
                if self.probing {
                    self.probing = false;
                    self.cancel(Timer::Probe);
                }
            }
            return self.take();
        }
        let Some(entry) = self.channels.get_mut(&frame.topic) else {
            return Vec::new(); // a topic we left: nothing more is reported
        };
        if let Some(leave) = entry.channel.stale_join_accepted(&frame, &mut self.refs) {
            self.send(leave);
            return self.take();
        }
        let events = entry.channel.handle(&frame);
        let topic = frame.topic;
        for event in events {
            if let ChannelEvent::Status(status) = &event {
                self.on_status(&topic, status);
            }
            self.emit(&topic, event);
        }
        self.take()
    }

    pub fn timer_fired(&mut self, timer: Timer) -> Vec<Command> {
        match timer {
            Timer::Heartbeat if self.state == ConnectionState::Open => {
                if self.pending_heartbeat.is_some() {
                    self.lost(); // the last one got no reply in 25 s
                } else {
                    self.send_heartbeat();
                    self.out
                        .push(Command::SetTimer(Timer::Heartbeat, HEARTBEAT_MS));
                }
            }
            Timer::Probe if self.state == ConnectionState::Open => {
                self.probing = false;
                if self.pending_heartbeat.is_some() {
                    self.lost();
                }
            }
            Timer::Reconnect if self.state == ConnectionState::Reconnecting => self.connect(),
            Timer::Join(topic) if self.state == ConnectionState::Open => {
                self.join_timed_out(&topic)
            }
            Timer::Rejoin(topic) if self.state == ConnectionState::Open => {
                let waiting = self.channels.get(&topic).is_some_and(|entry| {
                    matches!(
                        entry.channel.state(),
                        ChannelState::Errored | ChannelState::Closed
                    )
                });
                if waiting {
                    self.send_join(&topic);
                }
            }
            _ => {}
        }
        self.take()
    }

    // ---- internals ---------------------------------------------------------------------

    fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.out)
    }

    fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            self.state = state;
            self.out.push(Command::State(state));
        }
    }

    fn send(&mut self, frame: Frame) {
        self.out.push(Command::Send(frame));
    }

    fn emit(&mut self, topic: &str, event: ChannelEvent) {
        self.out.push(Command::Emit(topic.to_string(), event));
    }

    fn cancel(&mut self, timer: Timer) {
        self.out.push(Command::CancelTimer(timer));
    }

    fn connect(&mut self) {
        self.set_state(ConnectionState::Connecting);
        self.out.push(Command::Open(format!(
            "{}&vsn={}",
            self.url,
            self.vsn.as_str()
        )));
    }

    fn send_heartbeat(&mut self) {
        let reference = self.refs.make_ref();
        self.pending_heartbeat = Some(reference.clone());
        self.send(Frame::new(
            None,
            Some(reference),
            PHOENIX_TOPIC,
            "heartbeat",
            json!({}),
        ));
    }

    fn send_join(&mut self, topic: &str) {
        let Some(entry) = self.channels.get_mut(topic) else {
            return;
        };
        let frame = entry.channel.join(&mut self.refs, self.token.as_deref());
        self.cancel(Timer::Rejoin(topic.to_string()));
        self.out.push(Command::SetTimer(
            Timer::Join(topic.to_string()),
            JOIN_TIMEOUT_MS,
        ));
        self.send(frame);
    }

    /// Removes a channel, telling the server if the socket is open.
    fn forget_channel(&mut self, topic: &str) {
        let Some(mut entry) = self.channels.remove(topic) else {
            return;
        };
        let leave = entry.channel.leave(&mut self.refs);
        if let (Some(frame), ConnectionState::Open) = (leave, self.state) {
            self.send(frame);
        }
        self.cancel(Timer::Join(topic.to_string()));
        self.cancel(Timer::Rejoin(topic.to_string()));
    }

    fn join_timed_out(&mut self, topic: &str) {
        let Some(entry) = self.channels.get_mut(topic) else {
            return;
        };
        let Some(join_ref) = entry.channel.join_ref().map(str::to_string) else {
            return;
        };
        let events = entry.channel.join_timed_out(&join_ref);
        if events.is_empty() {
            return;
        }
        // The server may still join it: leave that join before trying again.
        let leave = entry.channel.leave_push(&mut self.refs);
        for event in events {
            self.emit(topic, event);
        }
        if let Some(frame) = leave {
            self.send(frame);
        }
        self.schedule_rejoin(topic);
    }

    fn schedule_rejoin(&mut self, topic: &str) {
        let Some(entry) = self.channels.get_mut(topic) else {
            return;
        };
        entry.rejoin_tries += 1;
        let delay = reconnect_delay_ms(entry.rejoin_tries);
        self.out
            .push(Command::SetTimer(Timer::Rejoin(topic.to_string()), delay));
    }

    fn on_status(&mut self, topic: &str, status: &Status) {
        let Some(entry) = self.channels.get_mut(topic) else {
            return;
        };
        match status {
            Status::Subscribed => {
                entry.rejoin_tries = 0;
                entry.auth_retry_used = false;
                let flushed = entry.channel.flush(&mut self.refs);
                self.cancel(Timer::Join(topic.to_string()));
                for frame in flushed {
                    self.send(frame);
                }
            }
            Status::ChannelError(_) if status.is_auth_error() => {
                // Retrying with the same token cannot help: ask for a fresh one once; if
                // that fails too, the error stays on screen with a button.
                let ask = !entry.auth_retry_used;
                entry.auth_retry_used = true;
                self.cancel(Timer::Join(topic.to_string()));
                if ask {
                    self.out.push(Command::AskForToken);
                }
            }
            Status::ChannelError(_) => {
                self.cancel(Timer::Join(topic.to_string()));
                self.schedule_rejoin(topic);
            }
            // Closed by the server (e.g. token expiry) while we still want it.
            Status::Closed => self.schedule_rejoin(topic),
            Status::Subscribing | Status::TimedOut => {}
        }
    }

    /// The socket is gone (closed, or silent): channels error, a reconnect is scheduled.
    fn lost(&mut self) {
        self.out.push(Command::Close);
        self.pending_heartbeat = None;
        self.probing = false;
        for timer in [Timer::Heartbeat, Timer::Probe] {
            self.cancel(timer);
        }
        let topics: Vec<String> = self.channels.keys().cloned().collect();
        for topic in topics {
            self.cancel(Timer::Join(topic.clone()));
            self.cancel(Timer::Rejoin(topic.clone()));
            let events = self
                .channels
                .get_mut(&topic)
                .map(|entry| entry.channel.socket_closed())
                .unwrap_or_default();
            for event in events {
                self.emit(&topic, event);
            }
        }
        self.reconnect_tries += 1;
        self.set_state(ConnectionState::Reconnecting);
        self.out.push(Command::SetTimer(
            Timer::Reconnect,
            reconnect_delay_ms(self.reconnect_tries),
        ));
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
