//! Postgres Changes: listeners declared in `phx_join`, changes read by logical decoding
//! (wal2json), filtered and authorised per subscriber by PostgreSQL, pushed in commit order.

mod deliver;
mod params;
mod poller;
mod registry;
mod sql;
mod wal;

pub use params::{parse, reply_entry};
pub use poller::{allow_wal2json, run as run_poller};
pub use registry::{Binding, ChangeRegistry, ChannelChanges};

use crate::readiness::JOIN_WAIT;
use crate::AppState;

/// Resolves every listener of a join against the publication and the catalogue. All or
/// nothing, like the hosted server's subscription transaction; the error is the sentence
/// for the `system` message. `held` is the number of filter conditions the connection's
/// other channels already carry.
pub async fn resolve_all(
    state: &AppState,
    requested: &[serde_json::Value],
    held: usize,
) -> Result<Vec<Binding>, String> {
    let limit = state.settings.max_changes_listeners;
    if requested.len() > limit {
        return Err(format!(
            "Too many postgres_changes listeners in one join: {} (at most {limit})",
            requested.len()
        ));
    }
    // Parsed (and bounded) before any database work is done for them.
    let parsed = requested
        .iter()
        .map(|raw| parse(raw, state.settings.max_filter_conditions))
        .collect::<Result<Vec<_>, _>>()?;
    let total = held + parsed.iter().map(|p| p.filters.len()).sum::<usize>();
    let most = state.settings.max_conditions_per_connection;
    if total > most {
        return Err(format!(
            "Too many postgres_changes filter conditions on one connection: {total} (at most {most})"
        ));
    }
    // "Subscribed" must mean live: wait for the slot the changes come from — without
    // holding a pooled connection meanwhile.
    if state.faults.refuse_postgres_changes() || !state.changes.reading.wait(JOIN_WAIT).await {
        return Err("Realtime was unable to connect to the project database".into());
    }
    let client = state.pool.get().await.map_err(|error| {
        tracing::error!(%error, "no database connection for postgres_changes");
        "Realtime was unable to connect to the project database".to_string()
    })?;
    let mut bindings = Vec::with_capacity(parsed.len());
    for params in parsed {
        let resolved = sql::resolve(&client, &params).await?;
        bindings.push(Binding {
            params,
            tables: resolved.tables,
            canonical: resolved.canonical,
            casts: resolved.casts,
        });
    }
    Ok(bindings)
}
