//! `RealtimeClient`: one socket per app, channels multiplexed over it. Heartbeats every
//! 25 s (a missing reply means the socket is dead, whatever the browser says), reconnects
//! after 1, 2, 5, then 10 s, and rejoins every channel with the newest token. Channel
//! handlers are always called with no borrow held, so they may call back into the client.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use gloo_timers::callback::{Interval, Timeout};
use serde_json::{json, Value};

use super::backoff::reconnect_delay_ms;
use super::channel::{Channel, ChannelEvent, ChannelState, JoinConfig, Status};
use super::protocol::{Frame, RefCounter, Vsn, PHOENIX_TOPIC};
use super::socket::{Socket, SocketEvent};

const HEARTBEAT_MS: u32 = 25_000;
const JOIN_TIMEOUT_MS: u32 = 10_000;
/// How long a liveness probe (after wake-up, focus, online) waits for its heartbeat reply.
const PROBE_TIMEOUT_MS: u32 = 3_000;

pub type Handler = Rc<dyn Fn(ChannelEvent)>;

struct Entry {
    channel: Channel,
    handler: Handler,
    rejoin_tries: u32,
    join_timer: Option<Timeout>,
    rejoin_timer: Option<Timeout>,
    /// An auth failure already asked for a fresh token once since the last success.
    auth_retry_used: bool,
}

struct Inner {
    url: String,
    /// v2 first; v1 after sockets repeatedly fail to open (a server without v2).
    vsn: Vsn,
    /// Sockets in a row that closed without ever opening.
    failed_opens: u32,
    socket: Option<Socket>,
    open: bool,
    refs: RefCounter,
    token: Option<String>,
    channels: HashMap<String, Entry>,
    reconnect_tries: u32,
    reconnect_timer: Option<Timeout>,
    heartbeat: Option<Interval>,
    pending_heartbeat: Option<String>,
    probe_timer: Option<Timeout>,
    /// Called when a join is refused for an auth reason, once per failure streak: the
    /// app refreshes the session and calls `set_auth`, which rejoins.
    on_auth_error: Option<Rc<dyn Fn()>>,
    stopped: bool,
}

/// Cheap to clone; all clones share one socket.
#[derive(Clone)]
pub struct RealtimeClient(Rc<RefCell<Inner>>);

/// A joined (or joining) channel. Leave it explicitly when done (`on_cleanup`).
#[derive(Clone)]
pub struct ChannelHandle {
    client: Weak<RefCell<Inner>>,
    topic: String,
}

type Dispatch = Vec<(Handler, ChannelEvent)>;

fn run(dispatch: Dispatch) {
    for (handler, event) in dispatch {
        handler(event);
    }
}

impl RealtimeClient {
    /// `url` is the websocket URL without `vsn` (see `Config::realtime_url`).
    pub fn new(url: String, token: Option<String>) -> Self {
        RealtimeClient(Rc::new(RefCell::new(Inner {
            url,
            vsn: Vsn::V2,
            failed_opens: 0,
            socket: None,
            open: false,
            refs: RefCounter::default(),
            token,
            channels: HashMap::new(),
            reconnect_tries: 0,
            reconnect_timer: None,
            heartbeat: None,
            pending_heartbeat: None,
            probe_timer: None,
            on_auth_error: None,
            stopped: false,
        })))
    }

    /// Sets the hook called when a channel is refused for an auth reason (see `Inner`).
    pub fn on_auth_error(&self, hook: impl Fn() + 'static) {
        self.0.borrow_mut().on_auth_error = Some(Rc::new(hook));
    }

    /// Checks the connection now (the page woke up, came online or got focus): a socket
    /// that is down reconnects at once; an open one must answer a heartbeat within 3 s
    /// or is replaced. Several calls in a row start one check, not a storm.
    pub fn probe(&self) {
        let this = &self.0;
        let mut inner = this.borrow_mut();
        if inner.stopped {
            return;
        }
        if !inner.open {
            if inner.socket.is_none() {
                inner.reconnect_timer = None;
                inner.reconnect_tries = 0;
                drop(inner);
                connect(this);
            }
            return;
        }
        if inner.probe_timer.is_some() || inner.pending_heartbeat.is_some() {
            return;
        }
        let reference = inner.refs.make_ref();
        inner.pending_heartbeat = Some(reference.clone());
        send(
            &inner,
            &Frame::new(None, Some(reference), PHOENIX_TOPIC, "heartbeat", json!({})),
        );
        let weak = Rc::downgrade(this);
        inner.probe_timer = Some(Timeout::new(PROBE_TIMEOUT_MS, move || {
            if let Some(this) = weak.upgrade() {
                let dead = {
                    let mut inner = this.borrow_mut();
                    inner.probe_timer = None;
                    inner.pending_heartbeat.is_some()
                };
                if dead {
                    web_sys::console::warn_1(&"realtime: probe got no reply; reconnecting".into());
                    on_closed(&this);
                    this.borrow_mut().reconnect_timer = None;
                    connect(&this);
                }
            }
        }));
    }

    /// Joins `sub_topic` (e.g. `conversation:<id>`), reporting to `handler`. Joining a
    /// topic that is already joined replaces the earlier channel.
    pub fn channel(
        &self,
        sub_topic: &str,
        config: JoinConfig,
        handler: impl Fn(ChannelEvent) + 'static,
    ) -> ChannelHandle {
        let channel = Channel::new(sub_topic, config);
        let topic = channel.topic().to_string();
        let handle = ChannelHandle {
            client: Rc::downgrade(&self.0),
            topic: topic.clone(),
        };
        if let Some(old) = handle.take_entry() {
            drop(old);
        }
        let handler: Handler = Rc::new(handler);
        self.0.borrow_mut().channels.insert(
            topic.clone(),
            Entry {
                channel,
                handler: handler.clone(),
                rejoin_tries: 0,
                join_timer: None,
                rejoin_timer: None,
                auth_retry_used: false,
            },
        );
        handler(ChannelEvent::Status(Status::Subscribing));
        if self.0.borrow().open {
            join(&self.0, &topic);
        } else {
            connect(&self.0);
        }
        handle
    }

    /// A new access token: used for every later join and sent to joined channels now.
    pub fn set_auth(&self, token: &str) {
        let rejoin: Vec<String> = {
            let mut inner = self.0.borrow_mut();
            inner.token = Some(token.to_string());
            let Inner { refs, channels, .. } = &mut *inner;
            let frames: Vec<Frame> = channels
                .values()
                .filter_map(|e| e.channel.access_token(refs, token))
                .collect();
            for frame in frames {
                send(&inner, &frame);
            }
            if !inner.open {
                return; // the reconnect joins everything with this token
            }
            // Channels refused (or closed) for their old token are joined with the new one.
            inner
                .channels
                .iter()
                .filter(|(_, e)| {
                    matches!(
                        e.channel.state(),
                        ChannelState::Errored | ChannelState::Closed
                    )
                })
                .map(|(topic, _)| topic.clone())
                .collect()
        };
        for topic in rejoin {
            join(&self.0, &topic);
        }
    }

    /// Closes the socket and forgets every channel (sign-out, unmount).
    pub fn disconnect(&self) {
        let mut inner = self.0.borrow_mut();
        inner.stopped = true;
        inner.channels.clear();
        inner.heartbeat = None;
        inner.reconnect_timer = None;
        inner.probe_timer = None;
        inner.on_auth_error = None;
        inner.socket = None; // Drop closes it
        inner.open = false;
    }

    /// Whether the socket is open (for status displays and tests).
    pub fn is_open(&self) -> bool {
        self.0.borrow().open
    }
}

impl ChannelHandle {
    fn take_entry(&self) -> Option<Entry> {
        let inner = self.client.upgrade()?;
        let mut inner = inner.borrow_mut();
        let mut entry = inner.channels.remove(&self.topic)?;
        if let Some(frame) = entry.channel.leave(&mut inner.refs) {
            send(&inner, &frame);
        }
        Some(entry)
    }

    /// Sends a broadcast now, or once the channel is joined.
    pub fn broadcast(&self, event: &str, payload: Value) {
        let Some(inner) = self.client.upgrade() else {
            return;
        };
        let mut guard = inner.borrow_mut();
        let Inner { refs, channels, .. } = &mut *guard;
        let Some(entry) = channels.get_mut(&self.topic) else {
            return;
        };
        if let Some(frame) = entry.channel.broadcast(refs, event, payload) {
            send(&guard, &frame);
        }
    }

    /// Leaves the channel: the server is told (`phx_leave`) and no more events arrive.
    pub fn leave(&self) {
        drop(self.take_entry());
    }

    /// Tries again after an error that needed the user (e.g. a fresh sign-in).
    pub fn rejoin(&self) {
        if let Some(inner) = self.client.upgrade() {
            if inner.borrow().open {
                join(&inner, &self.topic);
            } else {
                connect(&inner);
            }
        }
    }
}

fn send(inner: &Inner, frame: &Frame) -> bool {
    inner
        .socket
        .as_ref()
        .is_some_and(|socket| socket.send_text(&frame.encode()))
}

fn connect(this: &Rc<RefCell<Inner>>) {
    let mut inner = this.borrow_mut();
    if inner.socket.is_some() || inner.stopped {
        return;
    }
    let weak = Rc::downgrade(this);
    let endpoint = format!("{}&vsn={}", inner.url, inner.vsn.as_str());
    match Socket::connect(&endpoint, move |event| {
        if let Some(this) = weak.upgrade() {
            on_socket_event(&this, event);
        }
    }) {
        Ok(socket) => inner.socket = Some(socket),
        Err(error) => {
            web_sys::console::warn_1(&format!("realtime: cannot open socket: {error}").into());
            drop(inner);
            schedule_reconnect(this);
        }
    }
}

fn schedule_reconnect(this: &Rc<RefCell<Inner>>) {
    let mut inner = this.borrow_mut();
    if inner.stopped || inner.reconnect_timer.is_some() {
        return;
    }
    inner.reconnect_tries += 1;
    let weak = Rc::downgrade(this);
    inner.reconnect_timer = Some(Timeout::new(
        reconnect_delay_ms(inner.reconnect_tries),
        move || {
            if let Some(this) = weak.upgrade() {
                this.borrow_mut().reconnect_timer = None;
                connect(&this);
            }
        },
    ));
}

fn on_socket_event(this: &Rc<RefCell<Inner>>, event: SocketEvent) {
    match event {
        SocketEvent::Open => on_open(this),
        SocketEvent::Text(text) => match Frame::decode_text(&text) {
            Ok(frame) => on_frame(this, frame),
            Err(error) => {
                web_sys::console::warn_1(&format!("realtime: ignored frame: {error}").into())
            }
        },
        SocketEvent::Binary(bytes) => {
            if let Ok(frame) = Frame::decode_binary(&bytes) {
                on_frame(this, frame);
            }
        }
        SocketEvent::Closed { .. } => {
            let mut inner = this.borrow_mut();
            if !inner.open {
                inner.failed_opens += 1;
                if inner.failed_opens >= 3 && inner.vsn == Vsn::V2 {
                    web_sys::console::warn_1(&"realtime: falling back to serializer 1.0.0".into());
                    inner.vsn = Vsn::V1;
                }
            }
            drop(inner);
            on_closed(this);
        }
    }
}

fn on_open(this: &Rc<RefCell<Inner>>) {
    let topics: Vec<String> = {
        let mut inner = this.borrow_mut();
        inner.open = true;
        inner.failed_opens = 0;
        inner.reconnect_tries = 0;
        inner.pending_heartbeat = None;
        let weak = Rc::downgrade(this);
        inner.heartbeat = Some(Interval::new(HEARTBEAT_MS, move || {
            if let Some(this) = weak.upgrade() {
                heartbeat(&this);
            }
        }));
        inner.channels.keys().cloned().collect()
    };
    for topic in topics {
        join(this, &topic);
    }
}

/// Sends a heartbeat, or declares the socket dead if the previous one got no reply.
fn heartbeat(this: &Rc<RefCell<Inner>>) {
    let mut inner = this.borrow_mut();
    if inner.pending_heartbeat.is_some() {
        drop(inner);
        web_sys::console::warn_1(&"realtime: heartbeat timeout".into());
        on_closed(this);
        return;
    }
    let reference = inner.refs.make_ref();
    inner.pending_heartbeat = Some(reference.clone());
    let frame = Frame::new(None, Some(reference), PHOENIX_TOPIC, "heartbeat", json!({}));
    send(&inner, &frame);
}

fn join(this: &Rc<RefCell<Inner>>, topic: &str) {
    let mut guard = this.borrow_mut();
    let token = guard.token.clone();
    let Inner { refs, channels, .. } = &mut *guard;
    let Some(entry) = channels.get_mut(topic) else {
        return;
    };
    entry.rejoin_timer = None;
    let frame = entry.channel.join(refs, token.as_deref());
    let join_ref = frame.join_ref.clone().unwrap_or_default();
    let weak = Rc::downgrade(this);
    let timer_topic = topic.to_string();
    entry.join_timer = Some(Timeout::new(JOIN_TIMEOUT_MS, move || {
        if let Some(this) = weak.upgrade() {
            let dispatch = {
                let mut inner = this.borrow_mut();
                let Some(entry) = inner.channels.get_mut(&timer_topic) else {
                    return;
                };
                entry.join_timer = None;
                let events = entry.channel.join_timed_out(&join_ref);
                events
                    .into_iter()
                    .map(|e| (entry.handler.clone(), e))
                    .collect::<Dispatch>()
            };
            let timed_out = !dispatch.is_empty();
            run(dispatch);
            if timed_out {
                schedule_rejoin(&this, &timer_topic);
            }
        }
    }));
    send(&guard, &frame);
}

fn schedule_rejoin(this: &Rc<RefCell<Inner>>, topic: &str) {
    let mut inner = this.borrow_mut();
    if !inner.open {
        return; // the reconnect rejoins everything
    }
    let Some(entry) = inner.channels.get_mut(topic) else {
        return;
    };
    entry.rejoin_tries += 1;
    let weak = Rc::downgrade(this);
    let topic = topic.to_string();
    entry.rejoin_timer = Some(Timeout::new(
        reconnect_delay_ms(entry.rejoin_tries),
        move || {
            if let Some(this) = weak.upgrade() {
                join(&this, &topic);
            }
        },
    ));
}

fn on_frame(this: &Rc<RefCell<Inner>>, frame: Frame) {
    if frame.topic == PHOENIX_TOPIC {
        let mut inner = this.borrow_mut();
        if frame.event == "phx_reply" && frame.reference == inner.pending_heartbeat {
            inner.pending_heartbeat = None;
            inner.probe_timer = None;
        }
        return;
    }
    let mut rejoin = false;
    let mut ask_for_token = None;
    let dispatch = {
        let mut guard = this.borrow_mut();
        let Inner {
            refs,
            channels,
            on_auth_error,
            ..
        } = &mut *guard;
        let Some(entry) = channels.get_mut(&frame.topic) else {
            return;
        };
        let events = entry.channel.handle(&frame);
        let mut flushed = Vec::new();
        for event in &events {
            match event {
                ChannelEvent::Status(Status::Subscribed) => {
                    entry.join_timer = None;
                    entry.rejoin_tries = 0;
                    entry.auth_retry_used = false;
                    flushed = entry.channel.flush(refs);
                }
                ChannelEvent::Status(status @ Status::ChannelError(_)) => {
                    entry.join_timer = None;
                    // Retrying with the same token cannot fix an auth refusal: ask the app
                    // for a fresh token once; if that fails too, the error stays on screen.
                    rejoin = !status.is_auth_error();
                    if status.is_auth_error() && !entry.auth_retry_used {
                        entry.auth_retry_used = true;
                        ask_for_token = on_auth_error.clone();
                    }
                }
                ChannelEvent::Status(Status::Closed) => {
                    // Closed by the server (e.g. token expiry) while we still want it.
                    rejoin = entry.channel.state() == ChannelState::Closed;
                }
                _ => {}
            }
        }
        let handler = entry.handler.clone();
        for frame in &flushed {
            send(&guard, frame);
        }
        events
            .into_iter()
            .map(|e| (handler.clone(), e))
            .collect::<Dispatch>()
    };
    run(dispatch);
    if rejoin {
        schedule_rejoin(this, &frame.topic);
    }
    if let Some(hook) = ask_for_token {
        hook();
    }
}

fn on_closed(this: &Rc<RefCell<Inner>>) {
    let dispatch = {
        let mut inner = this.borrow_mut();
        inner.open = false;
        inner.socket = None;
        inner.heartbeat = None;
        inner.pending_heartbeat = None;
        inner.probe_timer = None;
        let mut dispatch = Dispatch::new();
        for entry in inner.channels.values_mut() {
            entry.join_timer = None;
            entry.rejoin_timer = None;
            for event in entry.channel.socket_closed() {
                dispatch.push((entry.handler.clone(), event));
            }
        }
        dispatch
    };
    run(dispatch);
    schedule_reconnect(this);
}
