//! localbase: a local, Supabase-compatible server — GoTrue-style Auth, PostgREST and
//! Realtime — on a real PostgreSQL, so Coach Chat runs and is tested without Docker or a
//! cloud account, and moves to hosted Supabase by changing only its URL and anon key.

pub mod auth;
pub mod cluster;
pub mod db;
pub mod db_tls;
pub mod error;
pub mod faults;
pub mod gateway;
pub mod jwt;
pub mod notify;
pub mod readiness;
pub mod realtime;
pub mod rest;
pub mod serve;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderName};
use axum::Router;
use deadpool_postgres::Pool;
use tokio::sync::{watch, RwLock};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::rest::{Catalog, RestError};

/// Settings that tests and the command line vary.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL clients use, e.g. `http://127.0.0.1:54321` (the JWT issuer is derived from it).
    pub public_url: String,
    pub jwt_expiry_seconds: i64,
    /// How long a just-used refresh token may be used again (GoTrue's
    /// `SECURITY_REFRESH_TOKEN_REUSE_INTERVAL`, 10 s on hosted projects).
    pub refresh_token_reuse_interval: Duration,
    /// Delay before a join error is answered (hosted Realtime: 5 s).
    pub channel_error_backoff: Duration,
    /// A Realtime socket that sends nothing (not even a heartbeat) for this long is closed,
    /// and its presence ends (hosted: 60 s).
    pub idle_timeout: Duration,
    /// Logical replication slot Postgres Changes are read from: a permanent slot of this
    /// name, or a temporary one per server when `None` (tests, which share a cluster).
    pub replication_slot: Option<String>,
    /// Pause between polls of the slot when the last poll found nothing.
    pub changes_poll_interval: Duration,
    /// Channels one connection may join (hosted: 100, `ChannelRateLimitReached`).
    pub max_channels_per_client: usize,
    /// Messages one connection may send per second before its channels are shut down
    /// (hosted free plan: 100). Joins are counted by `max_joins_per_second` instead.
    pub max_events_per_second: u32,
    /// Channel joins one connection may send per second; one more is refused with
    /// `ClientJoinRateLimitReached` and the socket is closed (hosted free plan: 100).
    pub max_joins_per_second: u32,
    /// Largest broadcast payload in bytes (hosted default: 3000 KB).
    pub max_payload_bytes: usize,
    /// Sign-ups one client address may make in five minutes (GoTrue's default: 30).
    pub max_signups_per_window: usize,
    /// `postgres_changes` listeners one join may declare.
    pub max_changes_listeners: usize,
    /// Filter conditions (`col=op.value`, comma-separated) one listener may carry.
    pub max_filter_conditions: usize,
    /// Filter conditions all of one connection's listeners may carry together: each costs
    /// a little of every change's decoding, so one client cannot make every change slow.
    pub max_conditions_per_connection: usize,
    /// Bytes queued for one Realtime connection that is not reading before it is
    /// disconnected (a slow consumer).
    pub max_queued_bytes: usize,
    /// Test switch: client broadcasts are silently dropped, so clients must rely on the
    /// Postgres Changes backup path.
    pub drop_client_broadcasts: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:54321".into(),
            jwt_expiry_seconds: 3600,
            refresh_token_reuse_interval: Duration::from_secs(10),
            channel_error_backoff: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            replication_slot: None,
            changes_poll_interval: Duration::from_millis(25),
            max_channels_per_client: 100,
            max_events_per_second: 100,
            max_joins_per_second: 100,
            max_payload_bytes: 3_000_000,
            drop_client_broadcasts: false,
            max_queued_bytes: 16 * 1024 * 1024,
            max_changes_listeners: 20,
            max_signups_per_window: 30,
            max_filter_conditions: 10,
            max_conditions_per_connection: 200,
        }
    }
}

pub struct AppState {
    pub pool: Pool,
    pub keys: jwt::Keys,
    pub settings: Settings,
    pub hub: realtime::Hub,
    /// Postgres Changes listeners of joined channels.
    pub changes: realtime::ChangeRegistry,
    /// Who is present on which topic.
    pub presence: realtime::PresenceRegistry,
    /// Live while the database broadcast listener LISTENs (`realtime.send` reaches sockets).
    pub listening: readiness::Readiness,
    catalog: RwLock<Arc<Catalog>>,
    /// When the catalogue was last read because a name was missing.
    last_miss_reload: std::sync::Mutex<Option<std::time::Instant>>,
    connections: AtomicU64,
    /// Flips to true once; sessions and background tasks end when they see it.
    pub shutdown: watch::Sender<bool>,
    /// Faults tests asked for (`faults.rs`); none unless set.
    pub faults: faults::FaultSet,
    /// Recent sign-ups per client address.
    pub signups: auth::SignupLimiter,
    /// How Auth mails recovery and confirmation links; set once by `serve`. Unset (tests
    /// that build the state themselves), Auth sends no mail and sign-up stays auto-confirmed.
    pub auth_mail: std::sync::OnceLock<auth::AuthMail>,
}

impl AppState {
    pub fn new(pool: Pool, keys: jwt::Keys, settings: Settings) -> Arc<Self> {
        Arc::new(AppState {
            pool,
            keys,
            settings,
            hub: realtime::Hub::default(),
            changes: realtime::ChangeRegistry::default(),
            presence: realtime::PresenceRegistry::default(),
            listening: readiness::Readiness::default(),
            catalog: RwLock::new(Arc::new(Catalog::default())),
            last_miss_reload: std::sync::Mutex::new(None),
            connections: AtomicU64::new(0),
            shutdown: watch::channel(false).0,
            faults: faults::FaultSet::default(),
            signups: auth::SignupLimiter::default(),
            auth_mail: std::sync::OnceLock::new(),
        })
    }

    pub fn next_connection_id(&self) -> u64 {
        self.connections.fetch_add(1, Ordering::Relaxed)
    }

    pub async fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().await.clone()
    }

    /// Re-reads the schema (after a migration, or when a name is not found).
    pub async fn reload_catalog(&self) -> Result<Arc<Catalog>, RestError> {
        let client = self.pool.get().await.map_err(RestError::internal)?;
        let fresh = Arc::new(Catalog::load(&client).await.map_err(RestError::internal)?);
        *self.catalog.write().await = fresh.clone();
        Ok(fresh)
    }

    /// The catalogue, reloaded if it does not know `table` (see `reload_on_miss`).
    pub async fn catalog_with(&self, table: &str) -> Result<Arc<Catalog>, RestError> {
        let catalog = self.catalog().await;
        if catalog.tables.contains_key(table) {
            return Ok(catalog);
        }
        self.reload_on_miss().await
    }

    /// A name was not found: the schema may have changed since it was read. Reads it again,
    /// at most once a second, so requests for unknown names cannot make every request
    /// query the catalogue.
    pub async fn reload_on_miss(&self) -> Result<Arc<Catalog>, RestError> {
        let due = {
            let mut last = self.last_miss_reload.lock().expect("catalogue reload lock");
            let due = last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        };
        if due {
            self.reload_catalog().await
        } else {
            Ok(self.catalog().await)
        }
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

/// The HTTP application: `/auth/v1`, `/rest/v1`, `/realtime/v1`.
pub fn app(state: Arc<AppState>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods(rest::allowed_methods())
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("apikey"),
            HeaderName::from_static("prefer"),
            HeaderName::from_static("x-client-info"),
            HeaderName::from_static("x-supabase-api-version"),
            HeaderName::from_static("accept-profile"),
            HeaderName::from_static("content-profile"),
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::LOCATION,
            HeaderName::from_static("x-supabase-api-version"),
        ]);
    let gateway = axum::middleware::from_fn_with_state(state.clone(), gateway::require_api_key);
    let faults = axum::middleware::from_fn_with_state(state.clone(), faults::inject);
    Router::new()
        .merge(notify::unsubscribe::router(state.pool.clone()))
        // `GET /auth/v1/verify` is the link in an e-mail: it carries no API key, so (as
        // behind the hosted gateway) it is open.
        .nest(
            "/auth/v1",
            auth::router()
                .layer(gateway.clone())
                .merge(auth::open_router()),
        )
        .nest("/rest/v1", rest::router().layer(gateway))
        .nest("/realtime/v1", realtime::router())
        .route(
            "/localbase/v1/faults",
            axum::routing::put(faults::set).delete(faults::clear),
        )
        .layer(faults)
        .layer(cors)
        .with_state(state)
}
