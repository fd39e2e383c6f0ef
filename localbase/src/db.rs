//! Database access: the connection pool, schema preparation (Supabase base objects,
//! migrations in order exactly once, seed on first initialisation) and transactions that
//! run as the caller's role so PostgreSQL's row-level security decides what they may do.

use std::path::Path;
use std::time::Duration;

use deadpool_postgres::Transaction;
use deadpool_postgres::{Config as PoolConfig, Object, Pool, Runtime};
use tokio_postgres::NoTls;

use crate::error::{Error, Result};
use crate::jwt::Claims;

const BOOTSTRAP: &str = include_str!("../sql/bootstrap.sql");

/// How long pooled work may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Longest a pooled statement may run before PostgreSQL cancels it.
    pub statement: Duration,
    /// Longest a request waits for a free pooled connection (or a new one) before it is
    /// answered with an error, instead of queueing behind a flood.
    pub pool_wait: Duration,
}

pub const DEFAULT_TIMEOUTS: Timeouts = Timeouts {
    statement: Duration::from_secs(15),
    pool_wait: Duration::from_secs(5),
};

/// A pool for `url` (with TLS if its `sslmode` asks: see `db_tls`) with the default
/// timeouts.
pub fn pool(url: &str, size: usize) -> Result<Pool> {
    pool_with(url, size, DEFAULT_TIMEOUTS)
}

pub fn pool_with(url: &str, size: usize, timeouts: Timeouts) -> Result<Pool> {
    let (url, tls) = crate::db_tls::from_url(url)?;
    let mut config = PoolConfig::new();
    config.url = Some(url);
    config.options = Some(format!(
        "-c statement_timeout={}",
        timeouts.statement.as_millis()
    ));
    let mut pool = deadpool_postgres::PoolConfig::new(size);
    pool.timeouts.wait = Some(timeouts.pool_wait);
    pool.timeouts.create = Some(timeouts.pool_wait);
    config.pool = Some(pool);
    match tls {
        crate::db_tls::Tls::None => config.create_pool(Some(Runtime::Tokio1), NoTls),
        crate::db_tls::Tls::Rustls(tls) => config.create_pool(Some(Runtime::Tokio1), tls),
    }
    .map_err(|error| Error::Pool(error.to_string()))
}

/// Makes the database ready: base objects if missing (then the seed too, after the
/// migrations), then every migration not yet recorded, in file-name order.
pub async fn prepare(pool: &Pool, supabase_dir: &Path) -> Result<()> {
    let mut client = pool.get().await?;
    let bootstrapped: bool = client
        .query_one(
            "select to_regclass('supabase_migrations.schema_migrations') is not null",
            &[],
        )
        .await?
        .get(0);
    if !bootstrapped {
        tracing::info!("creating Supabase base objects");
        let tx = client.transaction().await?;
        tx.batch_execute(BOOTSTRAP).await?;
        tx.commit().await?;
    }
    apply_migrations(&mut client, &supabase_dir.join("migrations")).await?;
    if !bootstrapped {
        let seed = supabase_dir.join("seed.sql");
        if seed.exists() {
            tracing::info!("seeding from {}", seed.display());
            let sql = std::fs::read_to_string(&seed)?;
            let tx = client.transaction().await?;
            tx.batch_execute(&sql)
                .await
                .map_err(|source| Error::Migration {
                    name: "seed.sql".into(),
                    source,
                })?;
            tx.commit().await?;
        }
    }
    Ok(())
}

async fn apply_migrations(client: &mut Object, dir: &Path) -> Result<()> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error.into()),
    };
    files.sort();
    for path in files {
        let file_name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        // Supabase CLI names: <version>_<name>.sql
        let (version, name) = file_name.split_once('_').unwrap_or((&file_name, ""));
        let applied = client
            .query_opt(
                "select 1 from supabase_migrations.schema_migrations where version = $1",
                &[&version],
            )
            .await?
            .is_some();
        if applied {
            continue;
        }
        tracing::info!(version, name, "applying migration");
        let sql = std::fs::read_to_string(&path)?;
        let tx = client.transaction().await?;
        tx.batch_execute(&sql)
            .await
            .map_err(|source| Error::Migration {
                name: file_name.clone(),
                source,
            })?;
        tx.execute(
            "insert into supabase_migrations.schema_migrations (version, name, statements) \
             values ($1, $2, array[$3])",
            &[&version, &name, &sql],
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Starts a transaction that runs as the caller: `role` and `request.jwt.claims` are set
/// for this transaction only, exactly as PostgREST and Realtime do it.
pub async fn begin_as<'a>(client: &'a mut Object, claims: &Claims) -> Result<Transaction<'a>> {
    let tx = client.transaction().await?;
    let claims_json = claims.raw.to_string();
    tx.execute(
        "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)",
        &[&claims.database_role(), &claims_json],
    )
    .await?;
    Ok(tx)
}
