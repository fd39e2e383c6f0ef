//! Broadcast load: `connections` sockets in public channels of `channel_size`, each
//! socket sending user broadcasts (kind 3, `self: false`) at the rate that makes the
//! channels deliver `delivered_per_second` in total. Every payload carries its send
//! instant; receivers record the latency of each message sent inside the measured window.

use std::time::Duration;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use futures_util::SinkExt;
use serde_json::json;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::server::Server;
use crate::socket::{self, Ws};
use crate::stats::{now_micros, Summary};

/// Sockets connected and joined at the same time while a load is set up.
const SETUP_CONCURRENCY: usize = 32;
/// Sent before measuring starts, so connection set-up does not count.
const WARM_UP: Duration = Duration::from_secs(1);
/// Time after the last send for late deliveries to arrive.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: usize,
    pub channel_size: usize,
    pub delivered_per_second: u32,
}

impl std::str::FromStr for Load {
    type Err = String;

    /// `<connections>/<channel size>@<delivered per second>`, e.g. `1000/10@20000`.
    fn from_str(text: &str) -> Result<Load, String> {
        let bad = || format!("load {text:?} is not <connections>/<channel size>@<delivered/s>");
        let (shape, rate) = text.split_once('@').ok_or_else(bad)?;
        let (connections, size) = shape.split_once('/').ok_or_else(bad)?;
        let load = Load {
            connections: connections.parse().map_err(|_| bad())?,
            channel_size: size.parse().map_err(|_| bad())?,
            delivered_per_second: rate.parse().map_err(|_| bad())?,
        };
        if load.channel_size < 2 || !load.connections.is_multiple_of(load.channel_size) {
            return Err(format!(
                "{text}: channels need 2+ members and must divide the connections"
            ));
        }
        Ok(load)
    }
}

pub struct LoadResult {
    pub sent: u64,
    pub delivered: u64,
    pub expected: u64,
    pub seconds: f64,
    pub latency: Summary,
}

impl LoadResult {
    pub fn delivered_per_second(&self) -> f64 {
        self.delivered as f64 / self.seconds
    }
}

/// What one member saw: messages it sent, and latencies (µs) of messages it received,
/// both counted only for send instants inside the measured window.
#[derive(Default)]
struct Tally {
    sent: u64,
    latencies: Vec<u64>,
}

pub async fn run(
    server: &Server,
    load: Load,
    measure: Duration,
    label: &str,
) -> Result<LoadResult, String> {
    let url = server.websocket_url();
    let channels = load.connections / load.channel_size;
    let sockets: Vec<(usize, Ws)> = stream::iter(0..load.connections)
        .map(|member| {
            let url = url.clone();
            async move {
                let mut ws = socket::connect(&url).await?;
                let config = json!({"broadcast": {"self": false, "ack": false},
                                    "presence": {"enabled": false}, "private": false});
                socket::join(
                    &mut ws,
                    &format!("{label}-{}", member % channels),
                    config,
                    None,
                )
                .await?;
                Ok::<_, String>((member, ws))
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect()
        .await?;

    let per_member_rate = f64::from(load.delivered_per_second)
        / (load.connections as f64 * (load.channel_size - 1) as f64);
    let interval = Duration::from_secs_f64(1.0 / per_member_rate);
    let start = Instant::now() + Duration::from_millis(200);
    let window_from = now_micros() + micros(Duration::from_millis(200) + WARM_UP);
    let window_to = window_from + micros(measure);
    let stop_sending = start + WARM_UP + measure;
    let stop_reading = stop_sending + DRAIN;

    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|(member, ws)| {
            let topic = format!("realtime:{label}-{}", member % channels);
            // Spread the members' send instants evenly over one interval.
            let offset = interval.mul_f64(member as f64 / load.connections as f64);
            tokio::spawn(member_task(
                ws,
                topic,
                start + offset,
                interval,
                stop_sending,
                stop_reading,
                (window_from, window_to),
            ))
        })
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        let member = task.await.map_err(|e| e.to_string())?;
        tally.sent += member.sent;
        tally.latencies.extend(member.latencies);
    }
    let delivered = tally.latencies.len() as u64;
    Ok(LoadResult {
        sent: tally.sent,
        delivered,
        expected: tally.sent * (load.channel_size as u64 - 1),
        seconds: measure.as_secs_f64(),
        latency: Summary::of_micros(tally.latencies),
    })
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

async fn member_task(
    ws: Ws,
    topic: String,
    first_send: Instant,
    interval: Duration,
    stop_sending: Instant,
    stop_reading: Instant,
    (window_from, window_to): (u64, u64),
) -> Tally {
    let (mut sink, mut stream) = ws.split();
    let in_window = move |t: u64| t >= window_from && t < window_to;
    let writer = tokio::spawn(async move {
        let mut sent = 0;
        let mut ticker = tokio::time::interval_at(first_send, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for reference in 1u64.. {
            let tick = ticker.tick().await;
            if tick >= stop_sending {
                break;
            }
            let t = now_micros();
            let payload = json!({ "t": t }).to_string();
            let push = socket::user_broadcast(
                "1",
                &reference.to_string(),
                &topic,
                "load",
                payload.as_bytes(),
            );
            if sink.send(push).await.is_err() {
                break;
            }
            sent += u64::from(in_window(t));
        }
        (sent, sink)
    });
    let mut latencies = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(stop_reading, stream.next()).await {
        if let Message::Binary(bytes) = message {
            let received = now_micros();
            let sent_at = socket::user_broadcast_payload(&bytes).and_then(|p| p["t"].as_u64());
            if let Some(t) = sent_at.filter(|t| in_window(*t)) {
                latencies.push(received.saturating_sub(t));
            }
        }
    }
    let sent = match writer.await {
        Ok((sent, mut sink)) => {
            let _ = sink.close().await;
            sent
        }
        Err(_) => 0,
    };
    Tally { sent, latencies }
}
