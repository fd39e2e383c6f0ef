//! `RealtimeClient`: carries out what the connection policy (`connection.rs`) decides —
//! one socket per app, its timers, and the channel handlers. No decisions are made here.
//! Handlers are called with no borrow held, so they may call back into the client.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use serde_json::Value;

use super::channel::{ChannelEvent, JoinConfig, Status};
use super::connection::{Command, Connection, ConnectionState, Timer};
use super::protocol::Frame;
use super::socket::{Socket, SocketEvent};

pub type Handler = Rc<dyn Fn(ChannelEvent)>;
type Hook<T> = RefCell<Option<Rc<dyn Fn(T)>>>;

struct Executor {
    connection: RefCell<Connection>,
    socket: RefCell<Option<Socket>>,
    timers: RefCell<HashMap<Timer, Timeout>>,
    handlers: RefCell<HashMap<String, Handler>>,
    /// Called when a join is refused for an auth reason, once per failure streak: the app
    /// refreshes the session and calls `set_auth`, which rejoins.
    on_auth_error: Hook<()>,
    on_state: Hook<ConnectionState>,
    /// When the unanswered heartbeat was sent (ms), and how long the last one took.
    heartbeat_sent: Cell<Option<f64>>,
    heartbeat_ms: Cell<Option<f64>>,
    /// The last thing that went wrong, for the diagnostics panel.
    last_error: RefCell<Option<String>>,
}

/// Cheap to clone; all clones share one socket.
#[derive(Clone)]
pub struct RealtimeClient(Rc<Executor>);

/// A joined (or joining) channel. Leave it explicitly when done (`on_cleanup`).
#[derive(Clone)]
pub struct ChannelHandle {
    client: Weak<Executor>,
    topic: String,
}

impl RealtimeClient {
    /// `url` is the websocket URL without `vsn` (see `Config::realtime_url`).
    pub fn new(url: String, token: Option<String>) -> Self {
        RealtimeClient(Rc::new(Executor {
            connection: RefCell::new(Connection::new(url, token)),
            socket: RefCell::new(None),
            timers: RefCell::new(HashMap::new()),
            handlers: RefCell::new(HashMap::new()),
            on_auth_error: RefCell::new(None),
            on_state: RefCell::new(None),
            heartbeat_sent: Cell::new(None),
            heartbeat_ms: Cell::new(None),
            last_error: RefCell::new(None),
        }))
    }

    /// Sets the hook called when a channel is refused for an auth reason.
    pub fn on_auth_error(&self, hook: impl Fn() + 'static) {
        *self.0.on_auth_error.borrow_mut() = Some(Rc::new(move |()| hook()));
    }

    /// Sets the hook told about every change of the socket's state.
    pub fn on_state(&self, hook: impl Fn(ConnectionState) + 'static) {
        *self.0.on_state.borrow_mut() = Some(Rc::new(hook));
    }

    /// Checks the connection now (see `Connection::probe`).
    pub fn probe(&self) {
        feed(&self.0, Connection::probe);
    }

    /// Joins `sub_topic` (e.g. `conversation:<id>`), reporting to `handler`. Joining a
    /// topic that is already joined replaces the earlier channel.
    pub fn channel(
        &self,
        sub_topic: &str,
        config: JoinConfig,
        handler: impl Fn(ChannelEvent) + 'static,
    ) -> ChannelHandle {
        let (topic, commands) = self.0.connection.borrow_mut().join(sub_topic, config);
        self.0
            .handlers
            .borrow_mut()
            .insert(topic.clone(), Rc::new(handler));
        run(&self.0, commands);
        ChannelHandle {
            client: Rc::downgrade(&self.0),
            topic,
        }
    }

    /// A new access token: used for every later join and sent to joined channels now.
    pub fn set_auth(&self, token: &str) {
        feed(&self.0, |connection| connection.set_auth(token));
    }

    /// Closes the socket and forgets every channel (sign-out, unmount).
    pub fn disconnect(&self) {
        self.0.handlers.borrow_mut().clear();
        *self.0.on_auth_error.borrow_mut() = None;
        feed(&self.0, Connection::disconnect);
        *self.0.on_state.borrow_mut() = None;
        self.0.timers.borrow_mut().clear();
    }

    /// The socket, each channel, the last heartbeat's round trip and the last error.
    pub fn diagnostics(&self) -> String {
        let rtt = self
            .0
            .heartbeat_ms
            .get()
            .map_or("–".into(), |ms| format!("{} ms", ms.round() as i64));
        let error = self.0.last_error.borrow().clone();
        format!(
            "{}heartbeat round trip: {rtt}\nlast error: {}",
            self.0.connection.borrow().describe(),
            error.as_deref().unwrap_or("–")
        )
    }

    /// Whether the socket is open (for status displays and tests).
    pub fn is_open(&self) -> bool {
        self.0.connection.borrow().state() == ConnectionState::Open
    }
}

impl ChannelHandle {
    /// Sends a broadcast now, or once the channel is joined.
    pub fn broadcast(&self, event: &str, payload: Value) {
        if let Some(client) = self.client.upgrade() {
            feed(&client, |connection| {
                connection.broadcast(&self.topic, event, payload)
            });
        }
    }

    /// Leaves the channel: the server is told (`phx_leave`) and no more events arrive.
    pub fn leave(&self) {
        if let Some(client) = self.client.upgrade() {
            client.handlers.borrow_mut().remove(&self.topic);
            feed(&client, |connection| connection.leave(&self.topic));
        }
    }

    /// Tries again after an error that needed the person (e.g. a fresh sign-in).
    pub fn rejoin(&self) {
        if let Some(client) = self.client.upgrade() {
            feed(&client, |connection| connection.rejoin(&self.topic));
        }
    }
}

/// Gives the connection one event, then carries out what it decided.
fn feed(executor: &Rc<Executor>, event: impl FnOnce(&mut Connection) -> Vec<Command>) {
    let commands = event(&mut executor.connection.borrow_mut());
    run(executor, commands);
}

fn run(executor: &Rc<Executor>, commands: Vec<Command>) {
    for command in commands {
        match command {
            Command::Open(url) => open(executor, &url),
            Command::Close => drop(executor.socket.borrow_mut().take()),
            Command::Send(frame) => send(executor, &frame),
            Command::SetTimer(timer, ms) => {
                let weak = Rc::downgrade(executor);
                let fired = timer.clone();
                let timeout = Timeout::new(ms, move || {
                    if let Some(executor) = weak.upgrade() {
                        executor.timers.borrow_mut().remove(&fired);
                        feed(&executor, |connection| connection.timer_fired(fired));
                    }
                });
                executor.timers.borrow_mut().insert(timer, timeout);
            }
            Command::CancelTimer(timer) => drop(executor.timers.borrow_mut().remove(&timer)),
            Command::Emit(topic, event) => {
                if let ChannelEvent::Status(status @ (Status::ChannelError(_) | Status::TimedOut)) =
                    &event
                {
                    note_error(executor, format!("{topic}: {status}"));
                }
                let handler = executor.handlers.borrow().get(&topic).cloned();
                if let Some(handler) = handler {
                    handler(event);
                }
            }
            Command::AskForToken => {
                let hook = executor.on_auth_error.borrow().clone();
                if let Some(hook) = hook {
                    hook(());
                }
            }
            Command::State(state) => {
                let hook = executor.on_state.borrow().clone();
                if let Some(hook) = hook {
                    hook(state);
                }
            }
        }
    }
}

fn open(executor: &Rc<Executor>, url: &str) {
    drop(executor.socket.borrow_mut().take());
    let weak = Rc::downgrade(executor);
    match Socket::connect(url, move |event| {
        if let Some(executor) = weak.upgrade() {
            on_socket_event(&executor, event);
        }
    }) {
        Ok(socket) => *executor.socket.borrow_mut() = Some(socket),
        Err(error) => {
            web_sys::console::warn_1(&format!("realtime: cannot open socket: {error}").into());
            feed(executor, Connection::socket_closed);
        }
    }
}

fn note_error(executor: &Executor, error: String) {
    *executor.last_error.borrow_mut() = Some(format!("{} {error}", crate::browser::now_iso()));
}

fn send(executor: &Rc<Executor>, frame: &Frame) {
    if frame.event == "heartbeat" {
        executor
            .heartbeat_sent
            .set(Some(crate::browser::now_millis()));
    }
    let text = frame.encode(executor.connection.borrow().vsn());
    if let Some(socket) = executor.socket.borrow().as_ref() {
        socket.send_text(&text);
    }
}

fn on_socket_event(executor: &Rc<Executor>, event: SocketEvent) {
    match event {
        SocketEvent::Open => feed(executor, Connection::socket_opened),
        SocketEvent::Text(text) => match Frame::decode_text(&text) {
            Ok(frame) => {
                if frame.topic == "phoenix" && frame.event == "phx_reply" {
                    if let Some(sent) = executor.heartbeat_sent.take() {
                        let took = crate::browser::now_millis() - sent;
                        executor.heartbeat_ms.set(Some(took));
                    }
                }
                feed(executor, |connection| connection.frame(frame))
            }
            Err(error) => {
                web_sys::console::warn_1(&format!("realtime: ignored frame: {error}").into())
            }
        },
        SocketEvent::Binary(bytes) => {
            if let Ok(frame) = Frame::decode_binary(&bytes) {
                feed(executor, |connection| connection.frame(frame));
            }
        }
        SocketEvent::Closed { code, reason } => {
            note_error(executor, format!("socket closed ({code}) {reason}"));
            feed(executor, Connection::socket_closed)
        }
    }
}
