//! `/rpc/{function}`: POST with a JSON object of arguments, or GET/HEAD with arguments in
//! the query string (run read-only, so a volatile function fails as on PostgREST). Results
//! of set-returning functions take the same `select`, filters, order and paging as tables.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::catalog::Function;
use super::query::Query;
use super::response::{content_range, respond, Preferences};
use super::sql::{limit_offset, order_clause, quote, Builder, Param, Statement, Table};
use super::Caller;
use super::{parse_body, parse_pairs, run, RestError};
use crate::AppState;

/// Where the arguments came from.
enum Args {
    /// POST: one JSON object, bound whole and unpacked by `json_to_record`.
    Json(Map<String, Value>),
    /// GET: `name=value` pairs, each bound as text and cast to the argument's type.
    Text(Vec<(String, String)>),
}

impl Args {
    fn names(&self) -> Vec<&str> {
        match self {
            Args::Json(fields) => fields.keys().map(String::as_str).collect(),
            Args::Text(pairs) => pairs.iter().map(|(name, _)| name.as_str()).collect(),
        }
    }
}

pub async fn call_post(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RestError> {
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match parse_body(&body)? {
            Value::Object(fields) => fields,
            _ => {
                return Err(RestError::invalid_body(
                    "expected a JSON object of arguments",
                ))
            }
        }
    };
    let query = Query::parse(&parse_pairs(raw))?;
    call(
        &state,
        &caller,
        &name,
        Args::Json(args),
        query,
        &headers,
        false,
    )
    .await
}

pub async fn call_get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, RestError> {
    let pairs = parse_pairs(raw);
    let function = function(&state, &name).await?;
    let arg_names: Vec<&str> = function.args.iter().map(|(n, _)| n.as_str()).collect();
    let query = Query::parse_except(&pairs, &arg_names)?;
    let args = pairs
        .iter()
        .filter(|(key, _)| arg_names.contains(&key.as_str()))
        .cloned()
        .collect();
    call(
        &state,
        &caller,
        &name,
        Args::Text(args),
        query,
        &headers,
        true,
    )
    .await
}

async fn function(state: &AppState, name: &str) -> Result<Function, RestError> {
    let mut catalog = state.catalog().await;
    if !catalog.functions.contains_key(name) {
        catalog = state.reload_on_miss().await?;
    }
    catalog
        .functions
        .get(name)
        .cloned()
        .ok_or_else(|| RestError::unknown_function(name, &[]))
}

async fn call(
    state: &AppState,
    caller: &Caller,
    name: &str,
    args: Args,
    query: Query,
    headers: &HeaderMap,
    read_only: bool,
) -> Result<Response, RestError> {
    let function = function(state, name)
        .await
        .map_err(|_| RestError::unknown_function(name, &args.names()))?;
    let catalog = state.catalog().await;
    let preferences = Preferences::from(headers);
    let statement = statement(&catalog, name, &function, &args, &query, preferences.count)?;
    let outcome = run(state, caller, statement, None, read_only, &preferences).await?;
    let range = content_range(query.offset.unwrap_or(0), outcome.rows, outcome.total);
    respond(StatusCode::OK, outcome, range, &preferences, true)
}

fn statement(
    catalog: &super::Catalog,
    name: &str,
    function: &Function,
    args: &Args,
    query: &Query,
    count: bool,
) -> Result<Statement, RestError> {
    let given = args.names();
    let required = function.args.len().saturating_sub(function.optional_args);
    let known = given
        .iter()
        .all(|arg| function.args.iter().any(|(name, _)| name == arg));
    let complete = function.args[..required]
        .iter()
        .all(|(arg, _)| given.contains(&arg.as_str()));
    if !known || !complete {
        return Err(RestError::unknown_function(name, &given));
    }
    let mut builder = Builder::new(catalog);
    let used: Vec<&(String, String)> = function
        .args
        .iter()
        .filter(|(arg, _)| given.contains(&arg.as_str()))
        .collect();
    let (source, exprs) = match args {
        Args::Json(fields) if !fields.is_empty() => {
            let n = builder.bind(Param::Text(Value::Object(fields.clone()).to_string()));
            let definition = used
                .iter()
                .map(|(arg, sql_type)| format!("{} {sql_type}", quote(arg)))
                .collect::<Vec<_>>()
                .join(", ");
            let exprs = used
                .iter()
                .map(|(arg, _)| format!("{0} => _args.{0}", quote(arg)))
                .collect::<Vec<_>>();
            let source = format!(
                "json_to_record(${n}::text::json) as _args({definition}) cross join lateral "
            );
            (source, exprs)
        }
        Args::Json(_) => (String::new(), Vec::new()),
        Args::Text(pairs) => {
            let mut exprs = Vec::new();
            for (arg, sql_type) in &used {
                let value = pairs
                    .iter()
                    .find(|(key, _)| key == arg)
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default();
                let n = builder.bind(Param::Text(value));
                exprs.push(format!("{} => (${n}::text)::{sql_type}", quote(arg)));
            }
            (String::new(), exprs)
        }
    };
    let call = format!("public.{}({})", quote(name), exprs.join(", "));
    let alias = builder.alias();
    builder.statement.sql = if !function.returns_set {
        let from = source.trim_end_matches(" cross join lateral ");
        let from = if from.is_empty() {
            String::new()
        } else {
            format!(" from {from}")
        };
        format!("select to_json({call})::text, 1::bigint, null::bigint{from}")
    } else if function.columns.is_empty() {
        // `setof uuid` and the like: a plain array of values, as PostgREST answers.
        format!(
            "select coalesce(json_agg(_row.{alias}), '[]')::text, count(*), null::bigint \
             from (select {alias} from {source}{call} {alias}{}) _row",
            limit_offset(query)
        )
    } else {
        let table = Table {
            name,
            columns: &function.columns,
        };
        let columns = builder.select_list(&table, &alias, query.select.as_deref())?;
        let filters = builder.where_clause(&table, &alias, &query.filters)?;
        let from = format!("{source}{call} {alias}{filters}");
        let total = if count {
            format!("(select count(*) from {from})")
        } else {
            "null::bigint".into()
        };
        format!(
            "select coalesce(json_agg(_row), '[]')::text, count(*), {total} \
             from (select {columns} from {from}{}{}) _row",
            order_clause(&table, &alias, &query.order)?,
            limit_offset(query)
        )
    };
    Ok(builder.statement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::Catalog;

    fn mark_read() -> Function {
        Function {
            args: vec![("conversation".into(), "uuid".into())],
            returns_set: true,
            volatile: true,
            ..Function::default()
        }
    }

    #[test]
    fn json_arguments_are_one_bound_object() {
        let hostile = "x'); drop table messages; --";
        let mut fields = Map::new();
        fields.insert("conversation".into(), Value::String(hostile.into()));
        let statement = statement(
            &Catalog::default(),
            "mark_conversation_read",
            &mark_read(),
            &Args::Json(fields),
            &Query::default(),
            false,
        )
        .unwrap();
        assert!(!statement.sql.contains("drop table"));
        assert!(statement
            .sql
            .contains("json_to_record($1::text::json) as _args(\"conversation\" uuid)"));
        assert_eq!(statement.text_params.len(), 1);
    }

    #[test]
    fn query_string_arguments_are_bound_text() {
        let statement = statement(
            &Catalog::default(),
            "mark_conversation_read",
            &mark_read(),
            &Args::Text(vec![("conversation".into(), "'; drop --".into())]),
            &Query::default(),
            false,
        )
        .unwrap();
        assert!(statement
            .sql
            .contains("\"conversation\" => ($1::text)::uuid"));
        assert_eq!(
            statement.text_params,
            vec![Param::Text("'; drop --".into())]
        );
    }

    #[test]
    fn unknown_or_missing_arguments_are_pgrst202() {
        for args in [
            Args::Text(vec![]),
            Args::Text(vec![("nope\"; drop".into(), "1".into())]),
        ] {
            let error = statement(
                &Catalog::default(),
                "mark_conversation_read",
                &mark_read(),
                &args,
                &Query::default(),
                false,
            )
            .unwrap_err();
            assert_eq!(error.code, "PGRST202");
        }
    }
}
