//! Fan-out: which connections have joined which topic, and delivery to them. Each
//! connection has a bounded outbox; a connection that does not read loses messages
//! instead of slowing down everyone else.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::ws::Message;
use serde_json::Value;
use tokio::sync::mpsc;

use super::frame::{Frame, Vsn};

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
    pub outbox: mpsc::Sender<Message>,
    pub vsn: Vsn,
    pub join_ref: Option<String>,
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

    /// Sends `event` with `payload` to every subscriber of `key` except `skip`.
    pub fn publish(
        &self,
        key: &TopicKey,
        event: &str,
        payload: &Value,
        skip: Option<ConnectionId>,
    ) {
        let recipients: Vec<Subscriber> = {
            let topics = self.topics.lock().expect("hub lock");
            let Some(subscribers) = topics.get(key) else {
                return;
            };
            subscribers
                .iter()
                .filter(|(id, _)| Some(**id) != skip)
                .map(|(_, subscriber)| subscriber.clone())
                .collect()
        };
        // Encode once per serializer, not once per subscriber.
        let mut encoded: [Option<String>; 2] = [None, None];
        for subscriber in recipients {
            let slot = match subscriber.vsn {
                Vsn::V1 => 0,
                Vsn::V2 => 1,
            };
            let text = encoded[slot]
                .get_or_insert_with(|| {
                    Frame::push(None, &key.topic, event, payload.clone()).encode(subscriber.vsn)
                })
                .clone();
            if subscriber
                .outbox
                .try_send(Message::Text(text.into()))
                .is_err()
            {
                tracing::warn!(topic = %key.topic, "subscriber outbox full or closed; message dropped for it");
            }
        }
    }
}
