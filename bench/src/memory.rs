//! Memory per idle connection: localbase's resident memory before and after opening many
//! sockets that only sit there, then after each joins a channel.

use std::time::Duration;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;

use crate::server::Server;
use crate::socket::{self, Ws};

const SETUP_CONCURRENCY: usize = 32;
const SETTLE: Duration = Duration::from_secs(1);

pub struct MemoryResult {
    pub connections: usize,
    pub before_kib: u64,
    pub connected_kib: u64,
    pub joined_kib: u64,
}

impl MemoryResult {
    pub fn per_connection_kib(&self) -> f64 {
        self.connected_kib.saturating_sub(self.before_kib) as f64 / self.connections as f64
    }

    pub fn per_joined_connection_kib(&self) -> f64 {
        self.joined_kib.saturating_sub(self.before_kib) as f64 / self.connections as f64
    }
}

pub async fn run(server: &Server, connections: usize) -> Result<MemoryResult, String> {
    tokio::time::sleep(SETTLE).await;
    let before_kib = server.resident_kib();
    let url = server.websocket_url();
    let mut sockets: Vec<Ws> = stream::iter(0..connections)
        .map(|_| socket::connect(&url))
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect()
        .await?;
    tokio::time::sleep(SETTLE).await;
    let connected_kib = server.resident_kib();
    for (n, ws) in sockets.iter_mut().enumerate() {
        let config =
            json!({"broadcast": {"self": false}, "presence": {"enabled": false}, "private": false});
        socket::join(ws, &format!("idle-{}", n % 100), config, None).await?;
    }
    tokio::time::sleep(SETTLE).await;
    let joined_kib = server.resident_kib();
    drop(sockets);
    Ok(MemoryResult {
        connections,
        before_kib,
        connected_kib,
        joined_kib,
    })
}
