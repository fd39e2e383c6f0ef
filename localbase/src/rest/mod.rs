//! `/rest/v1`: the part of PostgREST the app and supabase-js use. Each request runs in
//! one transaction as the caller's role with `request.jwt.claims` set, so row-level
//! security decides; nothing is filtered in Rust.

mod catalog;
mod error;
mod query;
mod sql;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio_postgres::types::ToSql;

pub use catalog::Catalog;
pub use error::RestError;
use query::Query;
use sql::{OnConflict, Param, Statement, Table};

use crate::caller::Caller;
use crate::db::begin_as;
use crate::AppState;

const SINGLE_OBJECT: &str = "application/vnd.pgrst.object+json";

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/rpc/{function}", post(call_function))
        .route(
            "/{table}",
            get(read).post(create).patch(modify).delete(remove),
        )
}

/// What the `Prefer` and `Accept` headers ask for.
struct Preferences {
    representation: bool,
    on_conflict: OnConflict,
    single: bool,
}

impl Preferences {
    fn from(headers: &HeaderMap) -> Self {
        let prefer: Vec<String> = headers
            .get_all("prefer")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(',').map(|p| p.trim().to_string()))
            .collect();
        let has = |wanted: &str| prefer.iter().any(|p| p == wanted);
        Preferences {
            representation: has("return=representation"),
            on_conflict: if has("resolution=ignore-duplicates") {
                OnConflict::Ignore
            } else if has("resolution=merge-duplicates") {
                OnConflict::Merge
            } else {
                OnConflict::Fail
            },
            single: headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains(SINGLE_OBJECT)),
        }
    }
}

fn parse_pairs(raw: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

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
    let statement = sql::select(&table, &query)?;
    let (body, rows) = run(&state, &caller, statement, None).await?;
    respond(
        StatusCode::OK,
        body,
        rows,
        &Preferences::from(&headers),
        true,
    )
}

async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RestError> {
    let query = Query::parse(&parse_pairs(raw))?;
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
    let table = table_of(&catalog, &table)?;
    let preferences = Preferences::from(&headers);
    let statement = sql::insert(&table, &query, &columns, preferences.on_conflict)?;
    let (body, count) = run(
        &state,
        &caller,
        statement,
        Some(Value::Array(rows).to_string()),
    )
    .await?;
    respond(
        StatusCode::CREATED,
        body,
        count,
        &preferences,
        preferences.representation,
    )
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
    let statement = sql::update(&table, &query, &columns)?;
    let (body, count) = run(&state, &caller, statement, Some(object.to_string())).await?;
    let status = if preferences.representation {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    };
    respond(
        status,
        body,
        count,
        &preferences,
        preferences.representation,
    )
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
    let statement = sql::delete(&table, &query)?;
    let (body, count) = run(&state, &caller, statement, None).await?;
    let status = if preferences.representation {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    };
    respond(
        status,
        body,
        count,
        &preferences,
        preferences.representation,
    )
}

async fn call_function(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RestError> {
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        parse_body(&body)?
    };
    let Value::Object(fields) = &args else {
        return Err(RestError::invalid_body(
            "expected a JSON object of arguments",
        ));
    };
    let mut catalog = state.catalog().await;
    if !catalog.functions.contains_key(&name) {
        catalog = state.reload_catalog().await?;
    }
    let function = catalog
        .functions
        .get(&name)
        .ok_or_else(|| RestError::unknown_function(&name))?;
    let statement = sql::call(&name, function, fields)?;
    let (body, count) = run(&state, &caller, statement, None).await?;
    respond(
        StatusCode::OK,
        body,
        count,
        &Preferences::from(&headers),
        true,
    )
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
/// statement's placeholder parameter (always the last one).
async fn run(
    state: &AppState,
    caller: &Caller,
    mut statement: Statement,
    body: Option<String>,
) -> Result<(String, i64), RestError> {
    if let (Some(body), Some(last)) = (body, statement.text_params.last_mut()) {
        *last = Param::Text(body);
    }
    let mut client = state.pool.get().await.map_err(RestError::internal)?;
    let tx = begin_as(&mut client, &caller.claims)
        .await
        .map_err(RestError::internal)?;
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
    tx.commit()
        .await
        .map_err(|error| RestError::from_database(error, &caller.claims))?;
    let body: Option<String> = row.get(0);
    Ok((body.unwrap_or_else(|| "null".into()), row.get(1)))
}

fn respond(
    status: StatusCode,
    body: String,
    rows: i64,
    preferences: &Preferences,
    with_body: bool,
) -> Result<Response, RestError> {
    let range = if rows == 0 {
        "*/*".to_string()
    } else {
        format!("0-{}/*", rows - 1)
    };
    if !with_body {
        return Ok((status, [(header::CONTENT_RANGE, range)]).into_response());
    }
    let (body, content_type) = if preferences.single {
        if rows != 1 {
            return Err(RestError::not_single(rows));
        }
        let value: Value = serde_json::from_str(&body).map_err(RestError::internal)?;
        let object = match value {
            Value::Array(mut items) => items.pop().unwrap_or(Value::Null),
            other => other,
        };
        (object.to_string(), SINGLE_OBJECT)
    } else {
        (body, "application/json; charset=utf-8")
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&range) {
        headers.insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

/// Methods and headers browsers may use cross-origin (the app is served from another port).
pub fn allowed_methods() -> [Method; 5] {
    [
        Method::GET,
        Method::POST,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]
}
