//! `localbase serve`: PostgreSQL (its own cluster unless DATABASE_URL is set), schema,
//! migrations and seed, then the Supabase-compatible HTTP API, and optionally the app's
//! static files. Ctrl+C (or SIGTERM) stops everything, PostgreSQL included.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use localbase::auth::AuthMail;
use localbase::cluster::Cluster;
use localbase::notify::mailer::Mailer;
use localbase::notify::NotifierSettings;
use localbase::serve::ConnectionLimits;
use localbase::{app, db, jwt, realtime, AppState, Settings};
use tower_http::services::ServeDir;

/// The limits' defaults are defined once, in `Settings` and `ConnectionLimits`.
static DEFAULTS: std::sync::LazyLock<Settings> = std::sync::LazyLock::new(Settings::default);
static CONNECTION_DEFAULTS: std::sync::LazyLock<ConnectionLimits> =
    std::sync::LazyLock::new(ConnectionLimits::default);

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
    /// Run only the e-mail notifier, against any Supabase database (DATABASE_URL), e.g. a
    /// hosted project's, with a real SMTP server (SMTP_URL); it also answers the
    /// unsubscribe links on `--listen`.
    Notify(Box<NotifyArgs>),
    /// Stop a private PostgreSQL cluster left running (e.g. by the integration tests).
    StopDb {
        #[arg(long)]
        data_dir: PathBuf,
    },
}

/// E-mail: digests of unread messages (both `serve` and `notify`), and Auth's recovery and
/// confirmation links (`serve`).
#[derive(clap::Args)]
struct MailArgs {
    /// SMTP server, e.g. `smtps://user:password@smtp.example.com` or
    /// `smtp://127.0.0.1:2525`; without it, mail is written as `.eml` files to
    /// `--mail-dir`.
    #[arg(long, env = "SMTP_URL")]
    smtp_url: Option<String>,
    /// Folder the mail goes to when no SMTP server is set.
    #[arg(long, env = "LOCALBASE_MAIL_DIR", default_value = ".localbase/mail")]
    mail_dir: PathBuf,
    /// Sender of the mail.
    #[arg(
        long,
        env = "NOTIFY_FROM",
        default_value = "Coach Chat <no-reply@coach-chat.localhost>"
    )]
    notify_from: String,
    /// Minutes a message stays unread, its recipient away, before it is mailed.
    #[arg(long, env = "NOTIFY_DELAY_MINUTES", default_value_t = 10.0)]
    notify_delay_minutes: f64,
    /// Seconds between the notifier's rounds.
    #[arg(long, env = "NOTIFY_INTERVAL_SECONDS", default_value_t = 30.0)]
    notify_interval_seconds: f64,
}

impl MailArgs {
    fn settings(
        &self,
        app_url: String,
        public_url: String,
    ) -> Result<(NotifierSettings, Mailer), Box<dyn std::error::Error>> {
        let mailer = self.mailer()?;
        let settings = NotifierSettings {
            delay: Duration::from_secs_f64(self.notify_delay_minutes.max(0.0) * 60.0),
            interval: Duration::from_secs_f64(self.notify_interval_seconds.max(0.1)),
            app_url,
            public_url,
            from: self.notify_from.parse()?,
            abandon_after: Duration::from_secs(10 * 60),
        };
        Ok((settings, mailer))
    }

    fn mailer(&self) -> Result<Mailer, Box<dyn std::error::Error>> {
        Ok(match &self.smtp_url {
            Some(url) => Mailer::smtp(url)?,
            None => Mailer::folder(self.mail_dir.clone()),
        })
    }

    /// Auth's mail: its own mailer, the digests' sender, links leading to `site_url`.
    fn auth_mail(
        &self,
        site_url: &str,
        confirm_email: bool,
    ) -> Result<AuthMail, Box<dyn std::error::Error>> {
        Ok(AuthMail {
            mailer: self.mailer()?,
            from: self.notify_from.parse()?,
            site_url: site_url
                .parse()
                .map_err(|error| format!("app URL {site_url:?}: {error}"))?,
            confirm_email,
        })
    }
}

#[derive(clap::Args)]
struct NotifyArgs {
    /// The Supabase database, as a role that bypasses row-level security (e.g. the
    /// project's `postgres` connection string).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Where the app lives (links in the e-mails).
    #[arg(long, env = "NOTIFY_APP_URL")]
    app_url: String,
    /// Public URL of this notifier's `--listen` address (unsubscribe links).
    #[arg(
        long,
        env = "NOTIFY_PUBLIC_URL",
        default_value = "http://127.0.0.1:54330"
    )]
    public_url: String,
    #[arg(long, env = "NOTIFY_LISTEN", default_value = "127.0.0.1:54330")]
    listen: SocketAddr,
    #[command(flatten)]
    mail: MailArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    mail: MailArgs,
    /// Do not run the e-mail notifier (Auth's recovery and confirmation mail still goes out).
    #[arg(long)]
    no_notify: bool,
    /// Sign-ups must follow a mailed link before they can sign in (hosted Supabase's
    /// "Confirm email"); without it they are confirmed at once.
    #[arg(
        long,
        env = "LOCALBASE_CONFIRM_EMAIL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    confirm_email: bool,
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
    #[arg(long, env = "LOCALBASE_JWT_EXPIRY", default_value_t = DEFAULTS.jwt_expiry_seconds)]
    jwt_expiry: i64,
    /// Seconds a just-used refresh token may be used again (GoTrue's reuse interval).
    #[arg(
        long,
        env = "LOCALBASE_REFRESH_TOKEN_REUSE_SECONDS",
        default_value_t = DEFAULTS.refresh_token_reuse_interval.as_secs()
    )]
    refresh_token_reuse_seconds: u64,
    /// Delay of join error replies in milliseconds (hosted Realtime: 5000).
    #[arg(
        long,
        env = "LOCALBASE_CHANNEL_ERROR_BACKOFF_MS",
        default_value_t = DEFAULTS.channel_error_backoff.as_millis() as u64
    )]
    channel_error_backoff_ms: u64,
    /// Milliseconds a Realtime socket may send nothing, heartbeats included, before it is
    /// closed and its presence ends (hosted: 60000).
    #[arg(long, env = "LOCALBASE_IDLE_TIMEOUT_MS", default_value_t = DEFAULTS.idle_timeout.as_millis() as u64)]
    idle_timeout_ms: u64,
    /// Milliseconds a database statement may run before PostgreSQL cancels it.
    #[arg(long, env = "LOCALBASE_STATEMENT_TIMEOUT_MS", default_value_t = db::DEFAULT_TIMEOUTS.statement.as_millis() as u64)]
    statement_timeout_ms: u64,
    /// Milliseconds a request waits for a pooled database connection before it is answered
    /// with an error.
    #[arg(long, env = "LOCALBASE_POOL_WAIT_MS", default_value_t = db::DEFAULT_TIMEOUTS.pool_wait.as_millis() as u64)]
    pool_wait_ms: u64,
    /// Logical replication slot (wal2json) that Postgres Changes are read from; localbase
    /// creates it and owns it.
    #[arg(
        long,
        env = "LOCALBASE_REPLICATION_SLOT",
        default_value = "localbase_changes"
    )]
    replication_slot: String,
    /// Messages one Realtime connection may send per second before its channels close.
    #[arg(long, env = "LOCALBASE_MAX_EVENTS_PER_SECOND", default_value_t = DEFAULTS.max_events_per_second)]
    max_events_per_second: u32,
    /// Channel joins one Realtime connection may send per second before it is closed.
    #[arg(long, env = "LOCALBASE_MAX_JOINS_PER_SECOND", default_value_t = DEFAULTS.max_joins_per_second)]
    max_joins_per_second: u32,
    /// Channels one Realtime connection may join.
    #[arg(long, env = "LOCALBASE_MAX_CHANNELS_PER_CLIENT", default_value_t = DEFAULTS.max_channels_per_client)]
    max_channels_per_client: usize,
    /// Largest Realtime broadcast payload in bytes.
    #[arg(long, env = "LOCALBASE_MAX_PAYLOAD_BYTES", default_value_t = DEFAULTS.max_payload_bytes)]
    max_payload_bytes: usize,
    /// Sign-ups one client address may make in five minutes; more are answered 429.
    #[arg(long, env = "LOCALBASE_MAX_SIGNUPS", default_value_t = DEFAULTS.max_signups_per_window)]
    max_signups_per_window: usize,
    /// `postgres_changes` listeners one Realtime join may declare.
    #[arg(long, env = "LOCALBASE_MAX_CHANGES_LISTENERS", default_value_t = DEFAULTS.max_changes_listeners)]
    max_changes_listeners: usize,
    /// Filter conditions one `postgres_changes` listener may carry.
    #[arg(long, env = "LOCALBASE_MAX_FILTER_CONDITIONS", default_value_t = DEFAULTS.max_filter_conditions)]
    max_filter_conditions: usize,
    /// Filter conditions all `postgres_changes` listeners of one connection may carry.
    #[arg(long, env = "LOCALBASE_MAX_CONDITIONS_PER_CONNECTION", default_value_t = DEFAULTS.max_conditions_per_connection)]
    max_conditions_per_connection: usize,
    /// Bytes queued for a Realtime connection that is not reading before it is closed
    /// (code 1013), as a slow consumer.
    #[arg(long, env = "LOCALBASE_MAX_QUEUED_BYTES", default_value_t = DEFAULTS.max_queued_bytes)]
    max_queued_bytes: usize,
    /// For tests: drop every client broadcast (database broadcasts and Postgres Changes
    /// still flow), to prove that clients do not depend on broadcast.
    #[arg(long, hide = true)]
    drop_client_broadcasts: bool,
    /// Open connections (HTTP and WebSocket) at once; more are answered 503.
    #[arg(long, env = "LOCALBASE_MAX_CONNECTIONS", default_value_t = CONNECTION_DEFAULTS.max_connections)]
    max_connections: usize,
    /// Open connections from one client address at once; more are answered 503.
    #[arg(
        long,
        env = "LOCALBASE_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = CONNECTION_DEFAULTS.max_per_address
    )]
    max_connections_per_address: usize,
    /// Milliseconds a connection has to send a request's headers (also between keep-alive
    /// requests); slower or idle connections are closed.
    #[arg(long, env = "LOCALBASE_HEADER_TIMEOUT_MS", default_value_t = CONNECTION_DEFAULTS.header_timeout.as_millis() as u64)]
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
        Command::Notify(args) => notify(*args).await,
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
    let timeouts = db::Timeouts {
        statement: Duration::from_millis(args.statement_timeout_ms),
        pool_wait: Duration::from_millis(args.pool_wait_ms),
    };
    let pool = db::pool_with(database_url, 32, timeouts)?;
    db::prepare(&pool, &args.supabase_dir).await?;
    let keys = jwt::Keys::new(&args.jwt_secret);
    let public_url = format!("http://127.0.0.1:{}", args.port);
    let settings = Settings {
        public_url: public_url.clone(),
        jwt_expiry_seconds: args.jwt_expiry,
        refresh_token_reuse_interval: Duration::from_secs(args.refresh_token_reuse_seconds),
        channel_error_backoff: Duration::from_millis(args.channel_error_backoff_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
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
        max_conditions_per_connection: args.max_conditions_per_connection,
        ..Settings::default()
    };
    let state = AppState::new(pool, keys.clone(), settings);
    state.reload_catalog().await.map_err(|e| e.message)?;
    let app_url = app_url(args);
    // Set before the API listens: no request sees Auth without its mail.
    let _ = state
        .auth_mail
        .set(args.mail.auth_mail(&app_url, args.confirm_email)?);
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
    if args.mail.smtp_url.is_none() {
        println!("mail            {}", args.mail.mail_dir.display());
    }
    let notifier = if args.no_notify {
        None
    } else {
        let (settings, mailer) = args.mail.settings(app_url, public_url.clone())?;
        Some(tokio::spawn(localbase::notify::run(
            state.pool.clone(),
            settings,
            mailer,
            state.shutdown.subscribe(),
        )))
    };
    shutdown_signal().await;
    tracing::info!("shutting down");
    state.begin_shutdown();
    if let Some(notifier) = notifier {
        let _ = notifier.await;
    }
    while servers.join_next().await.is_some() {}
    let _ = listener_task.await;
    let _ = changes_task.await;
    Ok(())
}

/// Where the app lives (links in digests and Auth's mail): this server's app port when it
/// serves the app, else `NOTIFY_APP_URL`, else the app port's default.
fn app_url(args: &ServeArgs) -> String {
    match &args.app_dir {
        Some(_) => format!("http://127.0.0.1:{}", args.app_port),
        None => std::env::var("NOTIFY_APP_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
    }
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

/// `localbase notify`: the notifier and its unsubscribe endpoint, nothing else.
async fn notify(args: NotifyArgs) -> Result<(), Box<dyn std::error::Error>> {
    let pool = db::pool(&args.database_url, 4)?;
    let (settings, mailer) = args
        .mail
        .settings(args.app_url.clone(), args.public_url.clone())?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!(
        "unsubscribe     {}{}",
        args.public_url,
        localbase::notify::unsubscribe::PATH
    );
    let router: axum::Router = localbase::notify::unsubscribe::router(pool.clone());
    // The same accept loop as the API: connection caps and a header deadline.
    let limits = ConnectionLimits {
        max_connections: 1_000,
        max_per_address: 100,
        header_timeout: Duration::from_secs(10),
    };
    let http = tokio::spawn(localbase::serve::serve(
        listener,
        router,
        limits,
        stopped.clone(),
    ));
    let worker = tokio::spawn(localbase::notify::run(pool, settings, mailer, stopped));
    shutdown_signal().await;
    let _ = stop.send(true);
    let _ = worker.await;
    let _ = http.await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(extra: &[&str]) -> ServeArgs {
        let argv = ["localbase", "serve"].iter().chain(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => *args,
            _ => unreachable!("parsed a serve command"),
        }
    }

    #[test]
    fn confirm_email_is_off_unless_asked_for() {
        // The only test touching this variable (the environment is the process's).
        for (value, on) in [("1", true), ("yes", true), ("0", false), ("false", false)] {
            std::env::set_var("LOCALBASE_CONFIRM_EMAIL", value);
            assert_eq!(serve_args(&[]).confirm_email, on, "{value}");
        }
        std::env::remove_var("LOCALBASE_CONFIRM_EMAIL");
        assert!(!serve_args(&[]).confirm_email);
        let args = serve_args(&["--confirm-email", "--no-notify", "--mail-dir", "/tmp/m"]);
        assert!(args.confirm_email);
        let mail = args.mail.auth_mail("http://127.0.0.1:8080", true).unwrap();
        assert!(mail.confirm_email);
        assert_eq!(mail.site_url.as_str(), "http://127.0.0.1:8080/");
        assert!(args.mail.auth_mail("not a url", false).is_err());
    }
}
