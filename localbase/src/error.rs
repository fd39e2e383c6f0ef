//! localbase's error type. HTTP handlers turn it into the JSON shape of the API that
//! failed (GoTrue or PostgREST); internals are logged, never sent.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("postgres cluster: {0}")]
    Cluster(String),
    #[error("database: {}", database_message(.0))]
    Database(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("migration {name}: {source}")]
    Migration {
        name: String,
        source: tokio_postgres::Error,
    },
}

/// PostgreSQL's own words (`tokio_postgres` shows only "db error" for a server error),
/// or the client library's for a connection problem.
pub fn database_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Error::Pool(error.to_string())
    }
}
