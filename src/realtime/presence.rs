//! Who is present on a channel, from the server's `presence_state` and `presence_diff`
//! (Phoenix.Presence as Supabase sends it). Each key (a user id here) holds one meta per
//! tracking connection — one per tab — told apart by `phx_ref`; a key is present while
//! it holds at least one. Plain data, tested natively.

use serde_json::Value;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PresenceState {
    /// key → the `phx_ref`s of its metas (a channel has two people: a Vec serves).
    keys: Vec<(String, Vec<String>)>,
}

/// The `phx_ref`s of each key of a `{key: {metas: [...]}}` map.
fn refs_by_key(map: &Value) -> impl Iterator<Item = (&String, Vec<String>)> {
    map.as_object().into_iter().flatten().map(|(key, entry)| {
        let refs = entry["metas"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|meta| meta["phx_ref"].as_str().map(str::to_string))
            .collect();
        (key, refs)
    })
}

impl PresenceState {
    /// A whole `presence_state`: replaces what was known (sent after every join).
    pub fn reset(&mut self, state: &Value) {
        self.keys = refs_by_key(state)
            .filter(|(_, refs)| !refs.is_empty())
            .map(|(key, refs)| (key.clone(), refs))
            .collect();
    }

    /// A `presence_diff`: joins are added before leaves are removed, as Phoenix does, so an
    /// update (the new meta joins, the old one leaves) keeps the key present.
    pub fn apply_diff(&mut self, diff: &Value) {
        for (key, refs) in refs_by_key(&diff["joins"]) {
            let at = match self.keys.iter().position(|(k, _)| k == key) {
                Some(at) => at,
                None => {
                    self.keys.push((key.clone(), Vec::new()));
                    self.keys.len() - 1
                }
            };
            let held = &mut self.keys[at].1;
            for phx_ref in refs {
                if !held.contains(&phx_ref) {
                    held.push(phx_ref);
                }
            }
        }
        for (key, refs) in refs_by_key(&diff["leaves"]) {
            if let Some((_, held)) = self.keys.iter_mut().find(|(k, _)| k == key) {
                held.retain(|phx_ref| !refs.contains(phx_ref));
            }
        }
        self.keys.retain(|(_, refs)| !refs.is_empty());
    }

    /// The keys present now, in order.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.keys.iter().map(|(key, _)| key.clone()).collect();
        keys.sort_unstable();
        keys
    }

    /// The socket went away: nothing is known until the next `presence_state`.
    pub fn clear(&mut self) {
        self.keys.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metas(refs: &[&str]) -> Value {
        json!({ "metas": refs.iter().map(|r| json!({ "phx_ref": r, "online_at": "x" })).collect::<Vec<_>>() })
    }

    #[test]
    fn state_lists_keys_with_metas() {
        let mut presence = PresenceState::default();
        presence
            .reset(&json!({ "bob": metas(&["1"]), "amy": metas(&["2", "3"]), "gone": metas(&[]) }));
        assert_eq!(presence.keys(), vec!["amy", "bob"]);
    }

    #[test]
    fn two_tabs_of_one_person_count_once_and_leave_one_by_one() {
        let mut presence = PresenceState::default();
        presence.apply_diff(&json!({ "joins": { "amy": metas(&["a"]) }, "leaves": {} }));
        presence.apply_diff(&json!({ "joins": { "amy": metas(&["b"]) }, "leaves": {} }));
        assert_eq!(presence.keys(), vec!["amy"]);
        presence.apply_diff(&json!({ "joins": {}, "leaves": { "amy": metas(&["a"]) } }));
        assert_eq!(presence.keys(), vec!["amy"], "the second tab is still open");
        presence.apply_diff(&json!({ "joins": {}, "leaves": { "amy": metas(&["b"]) } }));
        assert!(presence.keys().is_empty());
    }

    #[test]
    fn an_update_in_one_diff_keeps_the_key() {
        let mut presence = PresenceState::default();
        presence.reset(&json!({ "amy": metas(&["old"]) }));
        presence.apply_diff(
            &json!({ "joins": { "amy": metas(&["new"]) }, "leaves": { "amy": metas(&["old"]) } }),
        );
        assert_eq!(presence.keys(), vec!["amy"]);
    }

    #[test]
    fn malformed_frames_change_nothing_harmful() {
        let mut presence = PresenceState::default();
        presence.reset(&json!({ "amy": metas(&["1"]) }));
        presence.apply_diff(&json!("nonsense"));
        presence.apply_diff(&json!({ "joins": { "bob": { "metas": "x" } }, "leaves": [1, 2] }));
        assert_eq!(presence.keys(), vec!["amy"]);
        presence.reset(&json!(null));
        assert!(presence.keys().is_empty());
    }
}
