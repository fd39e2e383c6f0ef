//! Reads committed changes from a logical replication slot with wal2json and hands them,
//! in commit order, to delivery. The slot belongs to localbase: a permanent one (the
//! server's) keeps what was committed while the poller reconnected; a temporary one (the
//! tests') disappears with its connection. Polls every few milliseconds and at once again
//! when a poll returned rows.

use std::sync::Arc;
use tokio_postgres::{Client, NoTls};

use super::sql::PUBLICATION;
use super::wal::{add_tables, WalChange};
use crate::error::Result;
use crate::AppState;

/// Changes read per poll; a transaction is never split, so a poll may return more.
const MAX_CHANGES_PER_POLL: i32 = 1000;

pub async fn run(state: Arc<AppState>, database_url: String) {
    super::super::reconnect::run_until_shutdown(&state, "postgres changes poller", |first| {
        poll(&state, &database_url, first)
    })
    .await;
}

async fn poll(state: &Arc<AppState>, database_url: &str, first: bool) -> Result<()> {
    let (client, connection) = tokio_postgres::connect(database_url, NoTls).await?;
    let driver = tokio::spawn(connection);
    let result = poll_with(state, &client, first).await;
    state.changes.reading.set(false);
    driver.abort();
    result
}

async fn poll_with(state: &Arc<AppState>, client: &Client, first: bool) -> Result<()> {
    let (slot, temporary) = match &state.settings.replication_slot {
        Some(name) => (name.clone(), false),
        None => (
            format!("localbase_tmp_{}", uuid::Uuid::new_v4().simple()),
            true,
        ),
    };
    allow_wal2json(client, RESTRICTING_SETTING).await?;
    ensure_slot(client, &slot, temporary, first).await?;
    tracing::info!(slot, temporary, "reading postgres changes");
    state.changes.reading.set(true);
    let mut shutdown = state.shutdown.subscribe();
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let tables: Vec<(String, String)> = client
            .query(
                "select schemaname::text, tablename::text from pg_publication_tables where pubname = $1",
                &[&PUBLICATION],
            )
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let rows = client
            .query(
                "select data from pg_logical_slot_get_changes($1, null, $2, \
                 'format-version', '2', 'include-pk', '1', 'include-timestamp', '1', \
                 'include-type-oids', '1', 'include-transaction', '0', 'add-tables', $3)",
                &[&slot, &MAX_CHANGES_PER_POLL, &add_tables(&tables)],
            )
            .await?;
        for row in &rows {
            let Some(change) = WalChange::parse(row.get(0)) else {
                continue;
            };
            if let Err(error) = super::deliver::deliver(state, &change).await {
                tracing::warn!(%error, table = %change.table, "change not delivered");
            }
        }
        if rows.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(state.settings.changes_poll_interval) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }
}

/// The setting of PostgreSQL builds that accept only listed output plugins.
const RESTRICTING_SETTING: &str = "output_plugin_libraries";

/// Some PostgreSQL builds accept only the output plugins listed in `setting`
/// (`output_plugin_libraries`); add wal2json to it for this session where it exists. Stock
/// PostgreSQL has no such setting: it is read with `current_setting(name, true)`, which
/// gives null for an unknown name (nothing done), never with `current_setting(name)`, which
/// fails — and the planner evaluates a row-independent call before any filter could skip it.
pub async fn allow_wal2json(client: &Client, setting: &str) -> Result<()> {
    client
        .execute(
            "select set_config($1, concat_ws(', ', nullif(listed, ''), 'wal2json'), false) \
             from (select current_setting($1, true) as listed) s \
             where listed is not null and listed !~ 'wal2json'",
            &[&setting],
        )
        .await?;
    Ok(())
}

/// Creates the slot if missing. A permanent slot found at start-up is moved to the
/// present: nobody can have subscribed to what was committed while localbase was down.
async fn ensure_slot(client: &Client, slot: &str, temporary: bool, first: bool) -> Result<()> {
    let exists = client
        .query_opt(
            "select 1 from pg_replication_slots where slot_name = $1",
            &[&slot],
        )
        .await?
        .is_some();
    if !exists {
        client
            .execute(
                "select pg_create_logical_replication_slot($1, 'wal2json', $2)",
                &[&slot, &temporary],
            )
            .await?;
    } else if first {
        client
            .execute(
                "select pg_replication_slot_advance($1, pg_current_wal_lsn())",
                &[&slot],
            )
            .await?;
    }
    Ok(())
}
