//! Turns one decoded change into `postgres_changes` pushes: filters are evaluated on the
//! row's typed values, and each subscriber's role and claims must be able to SELECT the row
//! under RLS, decided by PostgreSQL, as Supabase's `apply_rls` does. DELETEs skip the RLS
//! check and, on RLS tables, carry only the primary key.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use tokio_postgres::types::ToSql;

use super::params::{Filter, Op};
use super::registry::{Binding, ChannelChanges};
use super::sql::{ident, literal, operator, table_ref, typed_value};
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
    /// The row's columns decided by text, as text (`None`: null).
    texts: Vec<Option<String>>,
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
    // Every distinct condition is decided once, whoever asked for it (a map, so that
    // many subscribers with many conditions cost linear time, not quadratic).
    let wants = |b: &&Binding| b.wants(&change.schema, &change.table, change.action);
    let mut conditions: Vec<Condition> = Vec::new();
    let mut index_of: HashMap<Condition, usize> = HashMap::new();
    for channel in &channels {
        for binding in channel.bindings.iter().filter(wants) {
            for index in 0..binding.params.filters.len() {
                let condition = Condition::of(binding, index);
                index_of.entry(condition).or_insert_with(|| {
                    conditions.push(condition);
                    conditions.len() - 1
                });
            }
        }
    }
    let by_sql: Vec<(&Filter, Option<&str>)> = conditions
        .iter()
        .filter_map(|c| match c {
            Condition::Sql { filter, cast } => Some((*filter, *cast)),
            Condition::Text { .. } => None,
        })
        .collect();
    let mut by_text: Vec<&str> = conditions
        .iter()
        .filter_map(|c| match c {
            Condition::Text { column, .. } => Some(*column),
            Condition::Sql { .. } => None,
        })
        .collect();
    by_text.sort_unstable();
    by_text.dedup();
    let client = state.pool.get().await?;
    let decoded = decode(&client, change, &by_sql, &by_text).await?;
    drop(client);
    let passes = decide(&conditions, &decoded, &by_text);
    let mut views: HashMap<String, Option<View>> = HashMap::new();
    for channel in &channels {
        let ids: Vec<u32> = channel
            .bindings
            .iter()
            .filter(wants)
            .filter(|b| {
                (0..b.params.filters.len()).all(|index| {
                    index_of
                        .get(&Condition::of(b, index))
                        .is_some_and(|&i| passes.get(i).copied().unwrap_or(false))
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

/// One distinct condition of a change's subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Condition<'a> {
    /// Decided by PostgreSQL, the value converted to the column's type (by a cast to it,
    /// when known).
    Sql {
        filter: &'a Filter,
        cast: Option<&'a str>,
    },
    /// An equality decided by comparing the row's column as text with the values' canonical
    /// texts (learnt when the listener subscribed): no SQL per condition.
    Text {
        column: &'a str,
        op: Op,
        values: &'a [String],
    },
}

impl<'a> Condition<'a> {
    /// The condition of a binding's `index`th filter.
    fn of(binding: &'a Binding, index: usize) -> Condition<'a> {
        let filter = &binding.params.filters[index];
        match binding.canonical.get(index) {
            Some(Some(values)) => Condition::Text {
                column: &filter.column,
                op: filter.op,
                values,
            },
            _ => Condition::Sql {
                filter,
                cast: binding.casts.get(index).and_then(Option::as_deref),
            },
        }
    }
}

/// Whether the change's row passes each condition. A null column passes none, as in SQL.
fn decide(conditions: &[Condition], decoded: &Decoded, by_text: &[&str]) -> Vec<bool> {
    let mut sql_results = decoded.passes.iter().copied();
    conditions
        .iter()
        .map(|condition| match condition {
            Condition::Sql { .. } => sql_results.next().unwrap_or(false),
            Condition::Text { column, op, values } => {
                let at = by_text.binary_search(column).ok();
                let Some(Some(text)) = at.and_then(|at| decoded.texts.get(at)) else {
                    return false;
                };
                match op {
                    Op::Neq => values.iter().all(|v| v != text),
                    _ => values.iter().any(|v| v == text),
                }
            }
        })
        .collect()
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

/// Typed record, old record, commit time, and which conditions the row passes — all in one
/// query whose size does not grow with the number of conditions: they are grouped by
/// column, comparison and type, and each group's values travel as one array parameter
/// (thousands of subscribers' conditions once made thousands of expressions and
/// parameters, past PostgreSQL's 32,767 at which every change was lost for everyone).
async fn decode(
    client: &deadpool_postgres::Object,
    change: &WalChange,
    filters: &[(&Filter, Option<&str>)],
    text_columns: &[&str],
) -> Result<Decoded> {
    let table = table_ref(&change.schema, &change.table);
    let groups = ConditionGroups::of(filters);
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
           {passing}, {texts} \
         from rec, pg_class c where c.oid = {regclass}::regclass",
        rows = typed_rows(&table),
        passing = groups.passing_sql(&table, filtered_row(change), 3),
        texts = column_texts(change, text_columns),
        regclass = literal(&table),
    );
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&change.raw, &change.timestamp];
    for group in &groups.0 {
        params.push(&group.values);
        params.push(&group.owners);
    }
    let row = client.query_one(&sql, &params).await?;
    let mut passes = vec![false; filters.len()];
    let passing: Vec<i32> = row.get(6);
    for owner in passing {
        if let Some(pass) = passes.get_mut(owner as usize) {
            *pass = true;
        }
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
        texts: row.get(7),
    })
}

/// The conditions SQL decides, grouped by (column, comparison, cast): each group's
/// values, and for each value the index of the condition it belongs to (an `in` has
/// several).
struct ConditionGroups<'a>(Vec<ConditionGroup<'a>>);

struct ConditionGroup<'a> {
    column: &'a str,
    operator: &'static str,
    cast: Option<&'a str>,
    values: Vec<String>,
    owners: Vec<i32>,
}

impl<'a> ConditionGroups<'a> {
    fn of(filters: &[(&'a Filter, Option<&'a str>)]) -> ConditionGroups<'a> {
        let mut groups: Vec<ConditionGroup<'a>> = Vec::new();
        for (owner, (filter, cast)) in filters.iter().enumerate() {
            let operator = operator(filter.op);
            let at = groups
                .iter()
                .position(|g| {
                    g.column == filter.column && g.operator == operator && g.cast == *cast
                })
                .unwrap_or_else(|| {
                    groups.push(ConditionGroup {
                        column: &filter.column,
                        operator,
                        cast: *cast,
                        values: Vec::new(),
                        owners: Vec::new(),
                    });
                    groups.len() - 1
                });
            for value in &filter.values {
                groups[at].values.push(value.clone());
                groups[at].owners.push(owner as i32);
            }
        }
        ConditionGroups(groups)
    }

    /// `array(…)::int4[]`: the indices of the conditions `row` passes. Group `g`'s values
    /// and owners are parameters `$first_param + 2g` and `$first_param + 2g + 1`. A null
    /// column passes none.
    fn passing_sql(&self, table: &str, row: &str, first_param: usize) -> String {
        let selects: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let (values, owners) = (first_param + 2 * g, first_param + 2 * g + 1);
                format!(
                    "select u.i from unnest(${values}::text[], ${owners}::int4[]) u(v, i) \
                     where {row}.{column} {operator} {typed}",
                    column = ident(group.column),
                    operator = group.operator,
                    typed = typed_value(table, group.column, "u.v", group.cast),
                )
            })
            .collect();
        if selects.is_empty() {
            return "array[]::int4[]".into();
        }
        format!("array({})::int4[]", selects.join(" union "))
    }
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

/// `array[…]::text[]`: the change's row's `columns` as text.
fn column_texts(change: &WalChange, columns: &[&str]) -> String {
    let row = filtered_row(change);
    let texts: Vec<String> = columns
        .iter()
        .map(|column| format!("{row}.{}::text", ident(column)))
        .collect();
    format!("array[{}]::text[]", texts.join(", "))
}

/// The row filters look at: the old one of a DELETE, else the new one.
fn filtered_row(change: &WalChange) -> &'static str {
    if change.action == "DELETE" {
        "(rec.o)"
    } else {
        "(rec.n)"
    }
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
