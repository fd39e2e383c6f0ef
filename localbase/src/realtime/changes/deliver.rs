//! Turns one decoded change into `postgres_changes` pushes: filters are evaluated on the
//! row's typed values, and each subscriber's role and claims must be able to SELECT the row
//! under RLS, decided by PostgreSQL, as Supabase's `apply_rls` does. DELETEs skip the RLS
//! check and, on RLS tables, carry only the primary key.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use tokio_postgres::types::ToSql;

use super::params::Filter;
use super::registry::ChannelChanges;
use super::sql::{filter_condition, filter_value, literal, table_ref};
use super::wal::WalChange;
use crate::error::Result;
use crate::jwt::Claims;
use crate::AppState;

/// The row as PostgREST would show it, plus what every subscriber's view is built from.
struct Decoded {
    record: Map<String, Value>,
    old_record: Map<String, Value>,
    commit_timestamp: String,
    rls: bool,
    table_oid: u32,
    columns: Vec<Value>,
    passes: Vec<bool>,
}

/// What one role may see of the change.
struct View {
    visible: bool,
    selectable: Vec<String>,
}

pub async fn deliver(state: &AppState, change: &WalChange) -> Result<()> {
    let channels = state
        .changes
        .interested(&change.schema, &change.table, change.action);
    if channels.is_empty() {
        return Ok(());
    }
    // Subscribers whose role may not read the table at all (anonymous ones, here) see no
    // change of it: they are left out before any of their conditions costs a thing.
    let mut readable = Vec::with_capacity(channels.len());
    for channel in channels {
        let role = channel.claims.database_role();
        if may_read_table(state, role, &change.schema, &change.table).await? {
            readable.push(channel);
        }
    }
    let channels = readable;
    if channels.is_empty() {
        return Ok(());
    }
    // Every distinct condition is evaluated once, whoever asked for it (a map, so that
    // many subscribers with many conditions cost linear time, not quadratic).
    let mut filters: Vec<&Filter> = Vec::new();
    let mut index_of: HashMap<&Filter, usize> = HashMap::new();
    for channel in &channels {
        for binding in &channel.bindings {
            for filter in &binding.params.filters {
                index_of.entry(filter).or_insert_with(|| {
                    filters.push(filter);
                    filters.len() - 1
                });
            }
        }
    }
    let client = state.pool.get().await?;
    let decoded = decode(&client, change, &filters).await?;
    drop(client);
    let mut views: HashMap<String, Option<View>> = HashMap::new();
    for channel in &channels {
        let ids: Vec<u32> = channel
            .bindings
            .iter()
            .filter(|b| b.wants(&change.schema, &change.table, change.action))
            .filter(|b| {
                b.params.filters.iter().all(|f| {
                    index_of
                        .get(f)
                        .is_some_and(|&i| decoded.passes.get(i).copied().unwrap_or(false))
                })
            })
            .map(|b| b.params.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let key = format!(
            "{}\u{0}{}",
            channel.claims.database_role(),
            channel.claims.raw
        );
        if !views.contains_key(&key) {
            let view = match view_for(state, change, &decoded, &channel.claims).await {
                Ok(view) => Some(view),
                Err(error) => {
                    tracing::debug!(%error, "change not visible to a subscriber");
                    None
                }
            };
            views.insert(key.clone(), view);
        }
        let Some(Some(view)) = views.get(&key) else {
            continue;
        };
        if view.visible {
            push(channel, ids, change, &decoded, view);
        }
    }
    Ok(())
}

/// Whether `role` holds SELECT on the table (asked once, then remembered for a while).
async fn may_read_table(state: &AppState, role: &str, schema: &str, table: &str) -> Result<bool> {
    if let Some(known) = state.changes.known_privilege(role, schema, table) {
        return Ok(known);
    }
    let client = state.pool.get().await?;
    let row = client
        .query_one(
            "select has_table_privilege($1, format('%I.%I', $2::text, $3::text), 'SELECT')",
            &[&role, &schema, &table],
        )
        .await?;
    let may: bool = row.get(0);
    state.changes.remember_privilege(role, schema, table, may);
    Ok(may)
}

/// Conditions evaluated by one query: PostgreSQL takes at most 65,535 parameters per
/// statement, and one query must not grow with everyone's subscriptions.
const CONDITIONS_PER_QUERY: usize = 1000;

/// Typed record, old record, commit time and the first conditions' results in one query;
/// the other conditions, if any, a thousand at a time.
async fn decode(
    client: &deadpool_postgres::Object,
    change: &WalChange,
    filters: &[&Filter],
) -> Result<Decoded> {
    let table = table_ref(&change.schema, &change.table);
    let mut chunks = filters.chunks(CONDITIONS_PER_QUERY);
    let first = chunks.next().unwrap_or_default();
    let sql = format!(
        "{rows} select \
           (select coalesce(jsonb_object_agg(e.key, e.value), '{{}}'::jsonb) \
              from jsonb_each(to_jsonb(rec.n)) e where rec.new_o ? e.key), \
           (select coalesce(jsonb_object_agg(e.key, e.value), '{{}}'::jsonb) \
              from jsonb_each(to_jsonb(rec.o)) e where rec.old_o ? e.key), \
           to_char($2::text::timestamptz at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
           c.relrowsecurity, c.oid, \
           (select coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', t.typname) \
                   order by a.attnum), '[]'::jsonb) \
              from pg_attribute a join pg_type t on t.oid = a.atttypid \
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), \
           {conditions} \
         from rec, pg_class c where c.oid = {regclass}::regclass",
        rows = typed_rows(&table),
        conditions = conditions(&table, change, first, 3),
        regclass = literal(&table),
    );
    let values: Vec<_> = first.iter().map(|f| filter_value(f)).collect();
    let row = client
        .query_one(&sql, &params(&[&change.raw, &change.timestamp], &values))
        .await?;
    let mut passes: Vec<bool> = row.get(6);
    for chunk in chunks {
        let sql = format!(
            "{rows} select {conditions} from rec",
            rows = typed_rows(&table),
            conditions = conditions(&table, change, chunk, 2),
        );
        let values: Vec<_> = chunk.iter().map(|f| filter_value(f)).collect();
        let more = client
            .query_one(&sql, &params(&[&change.raw], &values))
            .await?;
        passes.extend(more.get::<_, Vec<bool>>(0));
    }
    let object_of = |value: Value| match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let columns: Value = row.get(5);
    Ok(Decoded {
        record: object_of(row.get(0)),
        old_record: object_of(row.get(1)),
        commit_timestamp: row.get(2),
        rls: row.get(3),
        table_oid: row.get(4),
        columns: columns.as_array().cloned().unwrap_or_default(),
        passes,
    })
}

/// `with … rec`: the change's new and old rows (`$1`, wal2json's JSON) typed as the
/// table's rows. json/jsonb values arrive as JSON text inside a string; everything else is
/// parsed by the column type's input function through jsonb_populate_record.
fn typed_rows(table: &str) -> String {
    let object = |field: &str| {
        format!(
            "(select coalesce(jsonb_object_agg(c->>'name', case when (c->>'typeoid' in ('114', '3802') \
             or c->>'type' in ('json', 'jsonb')) and jsonb_typeof(c->'value') = 'string' \
             then (c->>'value')::jsonb else c->'value' end), '{{}}'::jsonb) \
             from jsonb_array_elements(coalesce(w.d->'{field}', '[]'::jsonb)) c)"
        )
    };
    format!(
        "with w as (select $1::text::jsonb as d), \
         obj as (select {new} as new_o, {old} as old_o from w), \
         rec as (select jsonb_populate_record(null::{table}, new_o) as n, \
                        jsonb_populate_record(null::{table}, old_o) as o, new_o, old_o from obj)",
        new = object("columns"),
        old = object("identity"),
    )
}

/// `array[…]::bool[]`: whether the change's row passes each filter, whose values are the
/// parameters from `$first_param` on.
fn conditions(table: &str, change: &WalChange, filters: &[&Filter], first_param: usize) -> String {
    let row = if change.action == "DELETE" {
        "(rec.o)"
    } else {
        "(rec.n)"
    };
    let conditions: Vec<String> = filters
        .iter()
        .enumerate()
        .map(|(i, f)| filter_condition(table, row, f, i + first_param))
        .collect();
    format!("array[{}]::bool[]", conditions.join(", "))
}

/// The query's parameters: `fixed`, then the filters' `values`.
fn params<'a>(
    fixed: &[&'a (dyn ToSql + Sync)],
    values: &'a [Box<dyn ToSql + Sync + Send>],
) -> Vec<&'a (dyn ToSql + Sync)> {
    let mut params = fixed.to_vec();
    params.extend(values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)));
    params
}

/// Runs as the subscriber (`role`, `request.jwt.claims`): may it select this row, and
/// which columns may it see? An error (no privilege at all) means it sees nothing.
async fn view_for(
    state: &AppState,
    change: &WalChange,
    decoded: &Decoded,
    claims: &Claims,
) -> Result<View> {
    let mut client = state.pool.get().await?;
    let tx = crate::db::begin_as(&mut client, claims).await?;
    let columns_sql = "array(select a.attname::text from pg_attribute a where a.attrelid = $1 \
                       and a.attnum > 0 and not a.attisdropped \
                       and has_column_privilege(a.attrelid, a.attnum, 'SELECT'))";
    let check_row = decoded.rls && change.action != "DELETE" && !change.primary_key.is_empty();
    let row = if check_row {
        let table = table_ref(&change.schema, &change.table);
        let matches: Vec<String> = change
            .primary_key
            .iter()
            .map(|pk| {
                let column = super::sql::ident(pk);
                format!("t.{column} = r.{column}")
            })
            .collect();
        let sql = format!(
            "select exists (select 1 from {table} t, jsonb_populate_record(null::{table}, $2::text::jsonb) r \
             where {}), {columns_sql}",
            matches.join(" and ")
        );
        let record = Value::Object(decoded.record.clone()).to_string();
        tx.query_one(&sql, &[&decoded.table_oid, &record]).await?
    } else {
        tx.query_one(
            &format!("select true, {columns_sql}"),
            &[&decoded.table_oid],
        )
        .await?
    };
    let selectable: Vec<String> = row.get(1);
    // Without the primary key a subscriber cannot be told which row changed.
    let keys_visible = change.primary_key.iter().all(|pk| selectable.contains(pk));
    Ok(View {
        visible: row.get::<_, bool>(0) && keys_visible,
        selectable,
    })
}

fn push(
    channel: &ChannelChanges,
    ids: Vec<u32>,
    change: &WalChange,
    decoded: &Decoded,
    view: &View,
) {
    let only_selectable = |record: &Map<String, Value>, keep: &dyn Fn(&str) -> bool| {
        let kept: Map<String, Value> = record
            .iter()
            .filter(|(name, _)| view.selectable.contains(name) && keep(name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Value::Object(kept)
    };
    let columns: Vec<Value> = decoded
        .columns
        .iter()
        .filter(|c| {
            c["name"]
                .as_str()
                .is_some_and(|name| view.selectable.iter().any(|s| s == name))
        })
        .cloned()
        .collect();
    let mut data = json!({
        "schema": change.schema,
        "table": change.table,
        "commit_timestamp": decoded.commit_timestamp,
        "type": change.action,
        "columns": columns,
        "errors": null,
    });
    if change.action != "DELETE" {
        data["record"] = only_selectable(&decoded.record, &|_| true);
    }
    if change.action != "INSERT" {
        let primary_key_only = decoded.rls && change.action == "DELETE";
        let keep = |name: &str| !primary_key_only || change.primary_key.iter().any(|pk| pk == name);
        data["old_record"] = only_selectable(&decoded.old_record, &keep);
    }
    crate::realtime::hub::deliver_push(
        &channel.outbox,
        channel.vsn,
        &channel.topic,
        "postgres_changes",
        json!({ "ids": ids, "data": data }),
    );
}
