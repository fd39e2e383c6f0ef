//! Who listens for which changes: one entry per joined channel that asked for Postgres
//! Changes, with the claims its RLS checks run under (replaced on `access_token`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::params::Params;
use crate::jwt::Claims;
use crate::readiness::Readiness;
use crate::realtime::frame::Vsn;
use crate::realtime::hub::ConnectionId;
use crate::realtime::outbox::Outbox;

/// A listener and the published tables it resolved to when the channel joined.
#[derive(Debug, Clone)]
pub struct Binding {
    pub params: Params,
    pub tables: Vec<(String, String)>,
    /// Per filter: its values as text, when it is decided by comparing texts (see
    /// `sql::resolve`); `None` when SQL decides it.
    pub canonical: Vec<Option<Vec<String>>>,
    /// Per filter: the column's type its values are cast to, when known.
    pub casts: Vec<Option<String>>,
}

impl Binding {
    pub fn wants(&self, schema: &str, table: &str, action: &str) -> bool {
        self.params.event.matches(action)
            && self.tables.iter().any(|(s, t)| s == schema && t == table)
    }
}

/// One joined channel's Postgres Changes subscription.
pub struct ChannelChanges {
    pub topic: String,
    pub outbox: Outbox,
    pub vsn: Vsn,
    pub claims: Claims,
    pub bindings: Vec<Binding>,
}

/// How long a role's SELECT privilege on a table is trusted before it is asked again.
const PRIVILEGE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

type PrivilegeKey = (String, String, String);

#[derive(Default)]
pub struct ChangeRegistry {
    channels: Mutex<HashMap<(ConnectionId, String), Arc<ChannelChanges>>>,
    /// (role, schema, table) → may select, and when that was learnt.
    privileges: Mutex<HashMap<PrivilegeKey, (bool, std::time::Instant)>>,
    /// Live while the poller reads its slot: only then is a listener really live.
    pub reading: Readiness,
}

impl ChangeRegistry {
    pub fn insert(&self, connection: ConnectionId, channel: ChannelChanges) {
        let key = (connection, channel.topic.clone());
        self.lock().insert(key, Arc::new(channel));
    }

    pub fn remove(&self, connection: ConnectionId, topic: &str) {
        self.lock().remove(&(connection, topic.to_string()));
    }

    /// New claims for a channel's future checks (a refreshed token).
    pub fn set_claims(&self, connection: ConnectionId, topic: &str, claims: &Claims) {
        let mut channels = self.lock();
        if let Some(entry) = channels.get_mut(&(connection, topic.to_string())) {
            *entry = Arc::new(ChannelChanges {
                topic: entry.topic.clone(),
                outbox: entry.outbox.clone(),
                vsn: entry.vsn,
                claims: claims.clone(),
                bindings: entry.bindings.clone(),
            });
        }
    }

    /// Channels with at least one listener for this kind of change of this table.
    pub fn interested(&self, schema: &str, table: &str, action: &str) -> Vec<Arc<ChannelChanges>> {
        self.lock()
            .values()
            .filter(|channel| {
                channel
                    .bindings
                    .iter()
                    .any(|b| b.wants(schema, table, action))
            })
            .cloned()
            .collect()
    }

    /// A role's SELECT privilege on a table, if learnt recently.
    pub fn known_privilege(&self, role: &str, schema: &str, table: &str) -> Option<bool> {
        let privileges = self
            .privileges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (role.to_string(), schema.to_string(), table.to_string());
        privileges
            .get(&key)
            .filter(|(_, at)| at.elapsed() < PRIVILEGE_TTL)
            .map(|(may, _)| *may)
    }

    pub fn remember_privilege(&self, role: &str, schema: &str, table: &str, may: bool) {
        let mut privileges = self
            .privileges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (role.to_string(), schema.to_string(), table.to_string());
        privileges.insert(key, (may, std::time::Instant::now()));
    }

    /// Filter conditions a connection's channels other than `except` carry.
    pub fn conditions_of(&self, connection: ConnectionId, except: &str) -> usize {
        self.lock()
            .iter()
            .filter(|((id, topic), _)| *id == connection && topic != except)
            .flat_map(|(_, channel)| &channel.bindings)
            .map(|binding| binding.params.filters.len())
            .sum()
    }

    /// Number of subscribed channels (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(ConnectionId, String), Arc<ChannelChanges>>> {
        // A panic while holding the lock cannot leave the map half-updated; keep serving.
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
