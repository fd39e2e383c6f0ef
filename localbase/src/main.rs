//! `localbase serve`: PostgreSQL (its own cluster unless DATABASE_URL is set), schema,
//! migrations and seed, then the Supabase-compatible HTTP API, and optionally the app's
//! static files. Ctrl+C (or SIGTERM) stops everything, PostgreSQL included.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use localbase::cluster::Cluster;
use localbase::serve::ConnectionLimits;
use localbase::{app, db, jwt, realtime, AppState, Settings};
use tower_http::services::ServeDir;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Stop a private PostgreSQL cluster left running (e.g. by the integration tests).
    StopDb {
        #[arg(long)]
        data_dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Use this database instead of starting a private cluster.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Folder of the private PostgreSQL cluster.
    #[arg(
        long,
        env = "LOCALBASE_DATA_DIR",
        default_value = ".localbase/postgres"
    )]
    data_dir: PathBuf,
    #[arg(long, env = "LOCALBASE_DB_PORT", default_value_t = 54322)]
    db_port: u16,
    /// HTTP port of the API (the Supabase CLI's).
    #[arg(long, env = "LOCALBASE_PORT", default_value_t = 54321)]
    port: u16,
    /// Folder with `migrations/` and `seed.sql`.
    #[arg(long, env = "LOCALBASE_SUPABASE_DIR", default_value = "supabase")]
    supabase_dir: PathBuf,
    #[arg(long, env = "JWT_SECRET", default_value = jwt::DEFAULT_SECRET)]
    jwt_secret: String,
    /// Access-token lifetime in seconds.
    #[arg(long, env = "LOCALBASE_JWT_EXPIRY", default_value_t = 3600)]
    jwt_expiry: i64,
    /// Delay of join error replies in milliseconds (hosted Realtime: 5000).
    #[arg(
        long,
        env = "LOCALBASE_CHANNEL_ERROR_BACKOFF_MS",
        default_value_t = 5000
    )]
    channel_error_backoff_ms: u64,
    /// Logical replication slot (wal2json) that Postgres Changes are read from; localbase
    /// creates it and owns it.
    #[arg(
        long,
        env = "LOCALBASE_REPLICATION_SLOT",
        default_value = "localbase_changes"
    )]
    replication_slot: String,
    /// Messages one Realtime connection may send per second before its channels close.
    #[arg(long, env = "LOCALBASE_MAX_EVENTS_PER_SECOND", default_value_t = 100)]
    max_events_per_second: u32,
    /// Channel joins one Realtime connection may send per second before it is closed.
    #[arg(long, env = "LOCALBASE_MAX_JOINS_PER_SECOND", default_value_t = 100)]
    max_joins_per_second: u32,
    /// Channels one Realtime connection may join.
    #[arg(long, env = "LOCALBASE_MAX_CHANNELS_PER_CLIENT", default_value_t = 100)]
    max_channels_per_client: usize,
    /// Largest Realtime broadcast payload in bytes.
    #[arg(long, env = "LOCALBASE_MAX_PAYLOAD_BYTES", default_value_t = 3_000_000)]
    max_payload_bytes: usize,
    /// Sign-ups one client address may make in five minutes; more are answered 429.
    #[arg(long, env = "LOCALBASE_MAX_SIGNUPS", default_value_t = 30)]
    max_signups_per_window: usize,
    /// `postgres_changes` listeners one Realtime join may declare.
    #[arg(long, env = "LOCALBASE_MAX_CHANGES_LISTENERS", default_value_t = 20)]
    max_changes_listeners: usize,
    /// Filter conditions one `postgres_changes` listener may carry.
    #[arg(long, env = "LOCALBASE_MAX_FILTER_CONDITIONS", default_value_t = 10)]
    max_filter_conditions: usize,
    /// Bytes queued for a Realtime connection that is not reading before it is closed
    /// (code 1013), as a slow consumer.
    #[arg(long, env = "LOCALBASE_MAX_QUEUED_BYTES", default_value_t = 16 * 1024 * 1024)]
    max_queued_bytes: usize,
    /// For tests: drop every client broadcast (database broadcasts and Postgres Changes
    /// still flow), to prove that clients do not depend on broadcast.
    #[arg(long, hide = true)]
    drop_client_broadcasts: bool,
    /// Open connections (HTTP and WebSocket) at once; more are answered 503.
    #[arg(long, env = "LOCALBASE_MAX_CONNECTIONS", default_value_t = 10_000)]
    max_connections: usize,
    /// Open connections from one client address at once; more are answered 503.
    #[arg(
        long,
        env = "LOCALBASE_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 2_000
    )]
    max_connections_per_address: usize,
    /// Milliseconds a connection has to send a request's headers (also between keep-alive
    /// requests); slower or idle connections are closed.
    #[arg(long, env = "LOCALBASE_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    header_timeout_ms: u64,
    /// Also serve this folder (the built app) on `--app-port`.
    #[arg(long)]
    app_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 8080)]
    app_port: u16,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "localbase=info,tower_http=warn".into()),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Serve(args) => serve(*args).await,
        Command::StopDb { data_dir } => Cluster::stop_dir(&data_dir).map_err(Into::into),
    };
    if let Err(error) = result {
        tracing::error!("{error}");
        std::process::exit(1);
    }
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (cluster, database_url) = match args.database_url.clone() {
        Some(url) => (None, url),
        None => {
            let (cluster, _fresh) = Cluster::ensure_running(&args.data_dir, args.db_port)?;
            // Even a localbase killed outright (SIGKILL, a fatal abort) leaves no
            // PostgreSQL behind.
            cluster.stop_when_gone(std::process::id())?;
            let url = cluster.url("postgres");
            (Some(cluster), url)
        }
    };
    let result = run(&args, &database_url).await;
    if let Some(cluster) = cluster {
        cluster.stop()?;
    }
    result
}

async fn run(args: &ServeArgs, database_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let pool = db::pool(database_url, 32)?;
    db::prepare(&pool, &args.supabase_dir).await?;
    let keys = jwt::Keys::new(&args.jwt_secret);
    let public_url = format!("http://127.0.0.1:{}", args.port);
    let settings = Settings {
        public_url: public_url.clone(),
        jwt_expiry_seconds: args.jwt_expiry,
        channel_error_backoff: Duration::from_millis(args.channel_error_backoff_ms),
        replication_slot: Some(args.replication_slot.clone()),
        max_events_per_second: args.max_events_per_second,
        max_joins_per_second: args.max_joins_per_second,
        max_channels_per_client: args.max_channels_per_client,
        max_payload_bytes: args.max_payload_bytes,
        drop_client_broadcasts: args.drop_client_broadcasts,
        max_queued_bytes: args.max_queued_bytes,
        max_changes_listeners: args.max_changes_listeners,
        max_signups_per_window: args.max_signups_per_window,
        max_filter_conditions: args.max_filter_conditions,
        ..Settings::default()
    };
    let state = AppState::new(pool, keys.clone(), settings);
    state.reload_catalog().await.map_err(|e| e.message)?;
    let listener_task = tokio::spawn(realtime::run_database_listener(
        state.clone(),
        database_url.to_string(),
    ));
    let changes_task = tokio::spawn(realtime::run_changes_poller(
        state.clone(),
        database_url.to_string(),
    ));

    let api = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    println!("localbase API   {public_url}");
    println!("anon key        {}", keys.anon_key());
    println!("service key     {}", keys.service_role_key());
    let limits = ConnectionLimits {
        max_connections: args.max_connections,
        max_per_address: args.max_connections_per_address,
        header_timeout: Duration::from_millis(args.header_timeout_ms),
    };
    let mut servers = tokio::task::JoinSet::new();
    let stop = state.shutdown.subscribe();
    servers.spawn(localbase::serve::serve(
        api,
        app(state.clone()),
        limits,
        stop.clone(),
    ));
    if let Some(dir) = &args.app_dir {
        let site = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.app_port)))
            .await?;
        println!("app             http://127.0.0.1:{}", args.app_port);
        // The app asks `config.json` where its backend is: here, always this server.
        let config =
            serde_json::json!({ "supabase_url": public_url, "supabase_anon_key": keys.anon_key() });
        let files = axum::Router::new()
            .route(
                "/config.json",
                axum::routing::get(move || async move { axum::Json(config) }),
            )
            .fallback_service(ServeDir::new(dir));
        servers.spawn(localbase::serve::serve(site, files, limits, stop));
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    state.begin_shutdown();
    while servers.join_next().await.is_some() {}
    let _ = listener_task.await;
    let _ = changes_task.await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
    // A closed terminal (SIGHUP) stops it too, rather than killing it mid-flight.
    let mut hangup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
        _ = hangup.recv() => {},
    }
}
