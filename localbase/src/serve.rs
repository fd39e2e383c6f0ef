//! The HTTP listener: accepts connections under a cap (in total and per client address),
//! gives each one a deadline for its request headers — so a client trickling a byte now
//! and then (slowloris) or sitting idle cannot hold a connection — and serves the router
//! over HTTP/1.1 with upgrades (WebSockets). Shutdown stops accepting and lets open
//! connections finish gracefully.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Limits of the listener (see `localbase serve --help`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections (HTTP and WebSocket) at once.
    pub max_connections: usize,
    /// Open connections from one client address at once.
    pub max_per_address: usize,
    /// Time a connection has to send a request's headers, also between keep-alive requests.
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 10_000,
            max_per_address: 2_000,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Open connections, in total and per address.
#[derive(Default)]
struct Census(Mutex<(usize, HashMap<IpAddr, usize>)>);

/// One counted connection; dropping it uncounts it.
struct Counted {
    census: Arc<Census>,
    address: IpAddr,
}

impl Census {
    fn admit(self: &Arc<Self>, address: IpAddr, limits: &ConnectionLimits) -> Option<Counted> {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let from_address = counts.1.get(&address).copied().unwrap_or(0);
        if counts.0 >= limits.max_connections || from_address >= limits.max_per_address {
            return None;
        }
        counts.0 += 1;
        counts.1.insert(address, from_address + 1);
        Some(Counted {
            census: self.clone(),
            address,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut counts = self
            .census
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.0 = counts.0.saturating_sub(1);
        if let Some(count) = counts.1.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.1.remove(&self.address);
            }
        }
    }
}

/// Serves `router` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let census = Arc::new(Census::default());
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => return,
        };
        match census.admit(peer.ip(), &limits) {
            Some(counted) => {
                let router = router.clone();
                let stop = stop.clone();
                tokio::spawn(connection(tcp, router, limits, stop, counted));
            }
            None => {
                tokio::spawn(refuse(tcp, peer));
            }
        }
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Over the cap: a short, clear answer, then the connection is closed.
async fn refuse(mut tcp: TcpStream, peer: SocketAddr) {
    tracing::warn!(%peer, "connection refused: too many connections");
    let body = r#"{"message":"too many connections"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(answer.as_bytes())).await;
}

async fn connection(
    tcp: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
    _counted: Counted,
) {
    // Small frames go out at once (Phoenix's Cowboy does the same): with Nagle's
    // algorithm a busy socket's broadcasts waited for the client's delayed ACK (~40 ms).
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "TCP_NODELAY not set");
    }
    // Handlers that need it (e.g. the sign-up rate limit) find the client's address.
    let peer = tcp.peer_addr().ok();
    let service = TowerToHyperService::new(tower::ServiceExt::map_request(
        router,
        move |mut request: hyper::Request<hyper::body::Incoming>| {
            if let Some(peer) = peer {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
            }
            request
        },
    ));
    let serving = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(serving);
    tokio::select! {
        _ = serving.as_mut() => return,
        _ = stopped(&mut stop) => serving.as_mut().graceful_shutdown(),
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), serving).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_connections: usize, max_per_address: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections,
            max_per_address,
            ..ConnectionLimits::default()
        }
    }

    #[test]
    fn connections_are_capped_in_total_and_per_address_and_closing_frees_a_place() {
        let census = Arc::new(Census::default());
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "10.0.0.3".parse().unwrap(),
        );
        let limits = limits(3, 2);
        let first = census.admit(a, &limits).expect("a's first");
        let _second = census.admit(a, &limits).expect("a's second");
        assert!(
            census.admit(a, &limits).is_none(),
            "a third from one address"
        );
        let _other = census.admit(b, &limits).expect("b's first");
        assert!(census.admit(c, &limits).is_none(), "a fourth in total");
        drop(first);
        let third = census.admit(c, &limits);
        assert!(third.is_some(), "a closed one frees a place");
        assert!(
            census.admit(a, &limits).is_none(),
            "the total is reached again"
        );
    }
}
