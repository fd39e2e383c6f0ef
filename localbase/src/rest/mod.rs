//! `/rest/v1`: the part of PostgREST the app and supabase-js use. Each request runs in
//! one transaction as the caller's role with `request.jwt.claims` set, so row-level
//! security decides; nothing is filtered in Rust.

mod caller;
mod catalog;
mod embed;
mod error;
mod filter;
mod query;
mod response;
mod rpc;
mod select;
mod sql;
mod write;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tokio_postgres::types::ToSql;

pub use catalog::Catalog;
pub use error::RestError;
use query::Query;
use response::{content_range, read_status, respond, Outcome, Preferences, Return};
use select::Item;
use sql::{Param, Statement, Table};

use crate::db::begin_as;
use crate::AppState;
pub use caller::Caller;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/rpc/{function}", get(rpc::call_get).post(rpc::call_post))
        .route(
            "/{table}",
            get(read).post(create).patch(modify).delete(remove),
        )
}

fn parse_pairs(raw: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `GET` (and `HEAD`, which axum answers from the same handler without the body).
async fn read(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, RestError> {
    let query = Query::parse(&parse_pairs(raw))?;
    let catalog = state.catalog_with(&table).await?;
    let table = table_of(&catalog, &table)?;
    let preferences = Preferences::from(&headers);
    let statement = sql::select(&catalog, &table, &query, preferences.count)?;
    let outcome = run(&state, &caller, statement, None, true, &preferences).await?;
    let offset = query.offset.unwrap_or(0);
    let status = read_status(offset, outcome.rows, outcome.total)?;
    let range = content_range(offset, outcome.rows, outcome.total);
    respond(status, outcome, range, &preferences, true)
}

async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RestError> {
    let mut query = Query::parse(&parse_pairs(raw))?;
    let rows = match parse_body(&body)? {
        Value::Array(rows) => rows,
        object @ Value::Object(_) => vec![object],
        _ => return Err(RestError::invalid_body("expected a JSON object or array")),
    };
    let columns = match &query.columns {
        Some(columns) => columns.clone(),
        None => union_of_keys(&rows)?,
    };
    if columns.is_empty() {
        return Err(RestError::invalid_body("no columns to insert"));
    }
    let catalog = state.catalog_with(&table).await?;
    let name = table;
    let table = table_of(&catalog, &name)?;
    let preferences = Preferences::from(&headers);
    // headers-only needs the new rows' keys for `Location`, and nothing else.
    let primary_key = catalog.primary_keys.get(&name).cloned().unwrap_or_default();
    if preferences.returning == Some(Return::HeadersOnly) {
        query.select = Some(
            primary_key
                .iter()
                .map(|column| Item::Column {
                    name: column.clone(),
                    alias: None,
                })
                .collect(),
        );
    }
    let statement = write::insert(
        &catalog,
        &table,
        &query,
        &columns,
        preferences.insert,
        preferences.write_reads_rows(),
    )?;
    let rows = Value::Array(rows).to_string();
    let outcome = run(&state, &caller, statement, Some(rows), false, &preferences).await?;
    let range = content_range(0, 0, preferences.count.then_some(outcome.rows));
    let location = match preferences.returning {
        Some(Return::HeadersOnly) => location(&name, &primary_key, &outcome.body),
        _ => None,
    };
    let with_body = preferences.write_body();
    let mut response = respond(StatusCode::CREATED, outcome, range, &preferences, with_body)?;
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `/table?key=eq.value&…` for the first inserted row, as PostgREST's `Location`.
fn location(table: &str, primary_key: &[String], body: &str) -> Option<String> {
    let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_str(body).ok()?;
    let first = rows.first()?;
    let mut location = format!("/{table}");
    for (i, column) in primary_key.iter().enumerate() {
        let value = match first.get(column)? {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        location.push(if i == 0 { '?' } else { '&' });
        location.push_str(&format!("{column}=eq.{encoded}"));
    }
    Some(location)
}

async fn modify(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RestError> {
    let query = Query::parse(&parse_pairs(raw))?;
    let object = parse_body(&body)?;
    let Value::Object(fields) = &object else {
        return Err(RestError::invalid_body("expected a JSON object"));
    };
    let columns: Vec<String> = fields.keys().cloned().collect();
    if columns.is_empty() {
        return Err(RestError::invalid_body("no columns to update"));
    }
    let catalog = state.catalog_with(&table).await?;
    let table = table_of(&catalog, &table)?;
    let preferences = Preferences::from(&headers);
    let statement = write::update(
        &catalog,
        &table,
        &query,
        &columns,
        preferences.write_reads_rows(),
    )?;
    let outcome = run(
        &state,
        &caller,
        statement,
        Some(object.to_string()),
        false,
        &preferences,
    )
    .await?;
    written(outcome, &preferences)
}

async fn remove(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, RestError> {
    let query = Query::parse(&parse_pairs(raw))?;
    let catalog = state.catalog_with(&table).await?;
    let table = table_of(&catalog, &table)?;
    let preferences = Preferences::from(&headers);
    let statement = write::delete(&catalog, &table, &query, preferences.write_reads_rows())?;
    let outcome = run(&state, &caller, statement, None, false, &preferences).await?;
    written(outcome, &preferences)
}

/// PATCH and DELETE: 200 with the rows if asked, else 204; the range counts them.
fn written(outcome: Outcome, preferences: &Preferences) -> Result<Response, RestError> {
    let with_body = preferences.write_body();
    let status = if with_body {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    };
    let range = content_range(0, outcome.rows, preferences.count.then_some(outcome.rows));
    respond(status, outcome, range, preferences, with_body)
}

fn parse_body(body: &Bytes) -> Result<Value, RestError> {
    serde_json::from_slice(body).map_err(|error| RestError::invalid_body(&error.to_string()))
}

fn union_of_keys(rows: &[Value]) -> Result<Vec<String>, RestError> {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        let Value::Object(fields) = row else {
            return Err(RestError::invalid_body("every row must be a JSON object"));
        };
        for key in fields.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    Ok(columns)
}

fn table_of<'a>(catalog: &'a Catalog, name: &'a str) -> Result<Table<'a>, RestError> {
    catalog
        .tables
        .get(name)
        .map(|columns| Table { name, columns })
        .ok_or_else(|| RestError::unknown_table(name))
}

/// Runs one statement in a transaction as the caller. `body`, when given, replaces the
/// statement's placeholder parameter (always the last one). Reads run read-only, as
/// PostgREST runs GET. A single-object request that did not hit exactly one row is rolled
/// back, so a PATCH meant for one row never changes several.
async fn run(
    state: &AppState,
    caller: &Caller,
    mut statement: Statement,
    body: Option<String>,
    read_only: bool,
    preferences: &Preferences,
) -> Result<Outcome, RestError> {
    if let (Some(body), Some(last)) = (body, statement.text_params.last_mut()) {
        *last = Param::Text(body);
    }
    let mut client = state.pool.get().await.map_err(RestError::internal)?;
    let tx = begin_as(&mut client, &caller.claims)
        .await
        .map_err(RestError::internal)?;
    if read_only {
        tx.batch_execute("set transaction read only")
            .await
            .map_err(RestError::internal)?;
    }
    let params: Vec<&(dyn ToSql + Sync)> = statement
        .text_params
        .iter()
        .map(|param| match param {
            Param::Text(text) => text as &(dyn ToSql + Sync),
            Param::TextArray(items) => items as &(dyn ToSql + Sync),
        })
        .collect();
    let row = tx
        .query_one(&statement.sql, &params)
        .await
        .map_err(|error| RestError::from_database(error, &caller.claims))?;
    let body: Option<String> = row.get(0);
    let outcome = Outcome {
        body: body.unwrap_or_else(|| "null".into()),
        rows: row.get(1),
        total: row.get(2),
    };
    outcome.check_single(preferences)?;
    tx.commit()
        .await
        .map_err(|error| RestError::from_database(error, &caller.claims))?;
    Ok(outcome)
}

/// Methods browsers may use cross-origin (the app is served from another port).
pub fn allowed_methods() -> [Method; 7] {
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]
}
