//! Fan-out: which connections have joined which topic, and delivery to them. A frame is
//! encoded once per serializer and shared by every subscriber's outbox, which is bounded
//! in bytes: a connection that does not read is dropped instead of slowing down (or
//! filling the memory of) everyone else.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Message;
use serde_json::Value;

use super::binary::UserBroadcast;
use super::frame::{Frame, Vsn};
use super::outbox::Outbox;

pub type ConnectionId = u64;

/// Private and public channels of the same name are different topics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicKey {
    pub private: bool,
    /// Full topic, `realtime:<sub-topic>`.
    pub topic: String,
}

#[derive(Clone)]
pub struct Subscriber {
    pub outbox: Outbox,
    pub vsn: Vsn,
    pub join_ref: Option<String>,
    /// Whether the channel receives presence diffs (presence enabled, and readable).
    pub presence: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<TopicKey, HashMap<ConnectionId, Subscriber>>>,
}

impl Hub {
    pub fn subscribe(&self, key: TopicKey, connection: ConnectionId, subscriber: Subscriber) {
        let mut topics = self.topics.lock().expect("hub lock");
        topics
            .entry(key)
            .or_default()
            .insert(connection, subscriber);
    }

    pub fn unsubscribe(&self, key: &TopicKey, connection: ConnectionId) {
        let mut topics = self.topics.lock().expect("hub lock");
        if let Some(subscribers) = topics.get_mut(key) {
            subscribers.remove(&connection);
            if subscribers.is_empty() {
                topics.remove(key);
            }
        }
    }

    /// Number of connections joined to a topic (for tests and diagnostics).
    pub fn subscriber_count(&self, key: &TopicKey) -> usize {
        let topics = self.topics.lock().expect("hub lock");
        topics.get(key).map_or(0, HashMap::len)
    }

    fn recipients(&self, key: &TopicKey, skip: Option<ConnectionId>) -> Vec<Subscriber> {
        let topics = self.topics.lock().expect("hub lock");
        let Some(subscribers) = topics.get(key) else {
            return Vec::new();
        };
        subscribers
            .iter()
            .filter(|(id, _)| Some(**id) != skip)
            .map(|(_, subscriber)| subscriber.clone())
            .collect()
    }

    /// Sends a user broadcast (from a binary push or the database) to every subscriber of
    /// `key` except `skip`: as a kind-4 binary frame to v2 sockets, as a JSON broadcast to
    /// v1 sockets, which get nothing when the payload is binary.
    pub fn publish_user(
        &self,
        key: &TopicKey,
        broadcast: &UserBroadcast,
        skip: Option<ConnectionId>,
    ) {
        let recipients = self.recipients(key, skip);
        if recipients.is_empty() {
            return;
        }
        let json = || {
            broadcast
                .to_json()
                .map(|payload| Frame::push(None, &key.topic, "broadcast", payload))
        };
        let binary = broadcast
            .encode(&key.topic)
            .map(|bytes| Message::Binary(bytes.into()));
        // Too long a topic for a binary header: v2 sockets get the JSON text form.
        let v2 = binary.or_else(|| json().map(|f| Message::Text(f.encode(Vsn::V2).into())));
        let v1 = json().map(|f| Message::Text(f.encode(Vsn::V1).into()));
        for subscriber in recipients {
            let message = match subscriber.vsn {
                Vsn::V1 => &v1,
                Vsn::V2 => &v2,
            };
            if let Some(message) = message {
                deliver(&subscriber, &key.topic, message.clone());
            }
        }
    }

    /// Sends a `presence_diff` to the subscribers of `key` that have presence on.
    pub fn publish_presence(&self, key: &TopicKey, diff: &Value) {
        for subscriber in self.recipients(key, None) {
            if subscriber.presence.load(Ordering::Relaxed) {
                let frame = Frame::push(None, &key.topic, "presence_diff", diff.clone());
                deliver(
                    &subscriber,
                    &key.topic,
                    Message::Text(frame.encode(subscriber.vsn).into()),
                );
            }
        }
    }

    /// Sends `event` with `payload` to every subscriber of `key` except `skip`.
    pub fn publish(
        &self,
        key: &TopicKey,
        event: &str,
        payload: &Value,
        skip: Option<ConnectionId>,
    ) {
        let recipients = self.recipients(key, skip);
        // Encoded once per serializer; subscribers share the bytes.
        let mut encoded: [Option<Message>; 2] = [None, None];
        for subscriber in recipients {
            let slot = match subscriber.vsn {
                Vsn::V1 => 0,
                Vsn::V2 => 1,
            };
            let message = encoded[slot]
                .get_or_insert_with(|| {
                    let frame = Frame::push(None, &key.topic, event, payload.clone());
                    Message::Text(frame.encode(subscriber.vsn).into())
                })
                .clone();
            deliver(&subscriber, &key.topic, message);
        }
    }
}

fn deliver(subscriber: &Subscriber, topic: &str, message: Message) {
    deliver_to(&subscriber.outbox, topic, message);
}

/// One push to one connection, encoded for its serializer: how Postgres Changes, which
/// are built per subscriber (each sees the row as its RLS allows), reach their sockets —
/// the same outbox, bound and warning as broadcasts and presence.
pub fn deliver_push(outbox: &Outbox, vsn: Vsn, topic: &str, event: &str, payload: Value) {
    let frame = Frame::push(None, topic, event, payload);
    deliver_to(outbox, topic, Message::Text(frame.encode(vsn).into()));
}

/// The single delivery path: into the connection's bounded outbox, or dropped (and the
/// connection closed by the outbox) when it does not read.
fn deliver_to(outbox: &Outbox, topic: &str, message: Message) {
    if !outbox.push(message) {
        tracing::warn!(%topic, "subscriber not reading; message dropped for it");
    }
}
