//! Presence (Phoenix.Presence as Supabase uses it): per topic, each key holds one meta per
//! tracking connection, each with its own `phx_ref`. Changes go out as `presence_diff`
//! `{joins, leaves}`; a joining channel gets the whole `presence_state`.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Map, Value};

use super::hub::{ConnectionId, TopicKey};

struct Meta {
    connection: ConnectionId,
    key: String,
    /// The tracked payload plus `phx_ref` (and `phx_ref_prev` after an update).
    meta: Map<String, Value>,
}

#[derive(Default)]
pub struct PresenceRegistry {
    topics: Mutex<HashMap<TopicKey, Vec<Meta>>>,
}

fn new_ref() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

fn group(metas: &[(&str, &Map<String, Value>)]) -> Value {
    let mut grouped = Map::new();
    for (key, meta) in metas {
        let entry = grouped
            .entry(key.to_string())
            .or_insert_with(|| json!({ "metas": [] }));
        if let Some(list) = entry["metas"].as_array_mut() {
            list.push(Value::Object((*meta).clone()));
        }
    }
    Value::Object(grouped)
}

impl PresenceRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TopicKey, Vec<Meta>>> {
        self.topics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `presence_state`: every key of the topic with its metas.
    pub fn state(&self, topic: &TopicKey) -> Value {
        let topics = self.lock();
        let metas: Vec<(&str, &Map<String, Value>)> = topics
            .get(topic)
            .map(|metas| metas.iter().map(|m| (m.key.as_str(), &m.meta)).collect())
            .unwrap_or_default();
        group(&metas)
    }

    /// Tracks `payload` for this connection under `key`, replacing what it tracked before.
    /// Returns the diff to send, or `None` when nothing changed.
    pub fn track(
        &self,
        topic: &TopicKey,
        connection: ConnectionId,
        key: &str,
        payload: Map<String, Value>,
    ) -> Option<Value> {
        let mut topics = self.lock();
        let metas = topics.entry(topic.clone()).or_default();
        let previous = metas
            .iter()
            .position(|m| m.connection == connection)
            .map(|index| metas.remove(index));
        if let Some(previous) = &previous {
            let mut unchanged = previous.meta.clone();
            unchanged.remove("phx_ref");
            unchanged.remove("phx_ref_prev");
            if unchanged == payload && previous.key == key {
                metas.push(previous.clone_meta());
                return None;
            }
        }
        let mut meta = payload;
        meta.insert("phx_ref".into(), new_ref().into());
        if let Some(previous) = &previous {
            meta.insert("phx_ref_prev".into(), previous.meta["phx_ref"].clone());
        }
        let joins = group(&[(key, &meta)]);
        let leaves = previous
            .as_ref()
            .map_or_else(|| json!({}), |p| group(&[(p.key.as_str(), &p.meta)]));
        metas.push(Meta {
            connection,
            key: key.to_string(),
            meta,
        });
        Some(json!({ "joins": joins, "leaves": leaves }))
    }

    /// Removes what this connection tracked on the topic; the diff, if it tracked anything.
    pub fn untrack(&self, topic: &TopicKey, connection: ConnectionId) -> Option<Value> {
        let mut topics = self.lock();
        let metas = topics.get_mut(topic)?;
        let index = metas.iter().position(|m| m.connection == connection)?;
        let gone = metas.remove(index);
        if metas.is_empty() {
            topics.remove(topic);
        }
        Some(json!({ "joins": {}, "leaves": group(&[(gone.key.as_str(), &gone.meta)]) }))
    }
}

impl Meta {
    fn clone_meta(&self) -> Meta {
        Meta {
            connection: self.connection,
            key: self.key.clone(),
            meta: self.meta.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic() -> TopicKey {
        TopicKey {
            private: false,
            topic: "realtime:room".into(),
        }
    }

    fn payload(name: &str) -> Map<String, Value> {
        json!({ "name": name }).as_object().cloned().unwrap()
    }

    #[test]
    fn track_update_and_untrack_produce_phoenix_diffs() {
        let registry = PresenceRegistry::default();
        let diff = registry.track(&topic(), 1, "u1", payload("Ana")).unwrap();
        let first_ref = diff["joins"]["u1"]["metas"][0]["phx_ref"].clone();
        assert!(first_ref.is_string());
        assert_eq!(diff["leaves"], json!({}));
        assert_eq!(
            registry.track(&topic(), 1, "u1", payload("Ana")),
            None,
            "same payload: no-op"
        );
        registry
            .track(&topic(), 2, "u1", payload("Ana, tab 2"))
            .unwrap();
        assert_eq!(
            registry.state(&topic())["u1"]["metas"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        let update = registry.track(&topic(), 1, "u1", payload("Ana B")).unwrap();
        assert_eq!(update["joins"]["u1"]["metas"][0]["phx_ref_prev"], first_ref);
        assert_eq!(update["leaves"]["u1"]["metas"][0]["name"], "Ana");

        let gone = registry.untrack(&topic(), 1).unwrap();
        assert_eq!(gone["leaves"]["u1"]["metas"][0]["name"], "Ana B");
        assert_eq!(registry.untrack(&topic(), 1), None);
        assert_eq!(
            registry.state(&topic())["u1"]["metas"][0]["name"],
            "Ana, tab 2"
        );
    }
}
