//! `config.postgres_changes` entries as Supabase Realtime reads them: which event, schema,
//! table and filter a listener wants, the integer id the join reply and every change push
//! carry for it, and the PostgREST-like filter grammar (`col=op.value`).

use serde_json::{Map, Value};

/// Which row events a listener wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    All,
    Insert,
    Update,
    Delete,
}

impl Event {
    /// Unknown names mean `*`, as on the hosted server.
    fn parse(value: Option<&Value>) -> Event {
        match value.and_then(Value::as_str).map(str::to_ascii_uppercase) {
            Some(name) if name == "INSERT" => Event::Insert,
            Some(name) if name == "UPDATE" => Event::Update,
            Some(name) if name == "DELETE" => Event::Delete,
            _ => Event::All,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Event::All => "*",
            Event::Insert => "INSERT",
            Event::Update => "UPDATE",
            Event::Delete => "DELETE",
        }
    }

    /// Whether a change of type `action` (`INSERT`, `UPDATE`, `DELETE`) is wanted.
    pub fn matches(self, action: &str) -> bool {
        self == Event::All || self.name() == action
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "eq" => Op::Eq,
            "neq" => Op::Neq,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "in" => Op::In,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::In => "in",
        }
    }
}

/// One `column=op.value` condition; `values` has one entry except for `in`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    pub column: String,
    pub op: Op,
    pub values: Vec<String>,
}

/// A parsed listener: what it wants, and the id the client will see.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub id: u32,
    pub event: Event,
    pub schema: String,
    pub table: String,
    pub filters: Vec<Filter>,
}

/// The id of a listener: a stable hash of the params the client sent (the hosted server
/// uses `:erlang.phash2`, whose values are below 2^27; this keeps the same range).
pub fn binding_id(params: &Value) -> u32 {
    // serde_json's map is ordered by key, so equal objects serialise equally.
    let text = params.to_string();
    let hash = text.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash & ((1 << 27) - 1)
}

/// The join reply's entry for a listener: the client's params plus `id`.
pub fn reply_entry(params: &Value) -> Value {
    let mut entry = params.as_object().cloned().unwrap_or_else(Map::new);
    entry.insert("id".into(), binding_id(params).into());
    Value::Object(entry)
}

/// Parses one listener the way the hosted server does (`parse_subscription_params`),
/// with at most `max_conditions` filter conditions.
pub fn parse(params: &Value, max_conditions: usize) -> Result<Params, String> {
    let id = binding_id(params);
    let event = Event::parse(params.get("event"));
    let text = |key: &str| params.get(key).and_then(Value::as_str).map(str::to_string);
    let has = |key: &str| params.get(key).is_some_and(|v| !v.is_null());
    let (schema, table, filter) = match (text("schema"), text("table"), text("filter")) {
        (Some(schema), Some(table), filter) if filter.is_some() || !has("filter") => {
            (schema, table, filter)
        }
        (Some(schema), None, None) if !has("table") && !has("filter") => {
            (schema, "*".into(), None)
        }
        (None, Some(table), None) if !has("schema") && !has("filter") => {
            ("public".into(), table, None)
        }
        _ => {
            return Err(format!(
                "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: {params}"
            ))
        }
    };
    let filters = match filter {
        Some(filter) => parse_filters(&filter)
            .map_err(|parts| format!("Error parsing `filter` params: {parts:?}"))?,
        None => Vec::new(),
    };
    if filters.len() > max_conditions {
        return Err(format!(
            "Error parsing `filter` params: {} conditions (at most {max_conditions})",
            filters.len()
        ));
    }
    Ok(Params {
        id,
        event,
        schema,
        table,
        filters,
    })
}

/// `a=eq.1,b=in.(x,y)`: conditions separated by top-level commas, all of which must hold.
/// The error is the offending segment's parts, as the hosted server reports them.
fn parse_filters(filter: &str) -> Result<Vec<Filter>, Vec<String>> {
    let trimmed = filter.trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (index, character) in trimmed.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                segments.push(&trimmed[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    segments.push(&trimmed[start..]);
    segments.into_iter().map(parse_segment).collect()
}

fn parse_segment(segment: &str) -> Result<Filter, Vec<String>> {
    let Some((column, condition)) = segment.split_once('=') else {
        return Err(vec![segment.to_string()]);
    };
    let Some((op_name, value)) = condition.split_once('.') else {
        return Err(vec![condition.to_string()]);
    };
    let invalid = || vec![op_name.to_string(), value.to_string()];
    let op = Op::parse(op_name).ok_or_else(invalid)?;
    if column.is_empty() {
        return Err(invalid());
    }
    let values = if op == Op::In {
        let inner = value
            .strip_prefix('(')
            .and_then(|v| v.strip_suffix(')'))
            .ok_or_else(invalid)?;
        let values: Vec<String> = inner.split(',').map(unquote).collect();
        if values.len() > 100 {
            return Err(invalid());
        }
        values
    } else {
        vec![unquote(value)]
    };
    Ok(Filter {
        column: column.to_string(),
        op,
        values,
    })
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_string()
}

/// How the hosted server names a listener in its error messages.
pub fn describe(params: &Params) -> String {
    let filters: Vec<String> = params
        .filters
        .iter()
        .map(|f| {
            format!(
                "{{{:?}, {:?}, {:?}}}",
                f.column,
                f.op.name(),
                f.values.join(",")
            )
        })
        .collect();
    format!(
        "event: {}, schema: {}, table: {}, filters: [{}]",
        params.event.name(),
        params.schema,
        params.table,
        filters.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_one(params: &Value) -> Result<Params, String> {
        parse(params, 10)
    }

    #[test]
    fn ids_are_stable_and_follow_the_params() {
        let a = json!({"event": "*", "schema": "public", "table": "t", "filter": "id=eq.1"});
        let same = json!({"filter": "id=eq.1", "table": "t", "schema": "public", "event": "*"});
        let other = json!({"event": "INSERT", "schema": "public", "table": "t"});
        assert_eq!(binding_id(&a), binding_id(&same));
        assert_ne!(binding_id(&a), binding_id(&other));
        assert!(binding_id(&a) < 1 << 27);
        let entry = reply_entry(&a);
        assert_eq!(entry["id"], json!(binding_id(&a)));
        assert_eq!(entry["filter"], "id=eq.1");
    }

    #[test]
    fn parses_events_defaults_and_filters() {
        let p = parse_one(
            &json!({"event": "insert", "schema": "public", "table": "messages",
                              "filter": "conversation_id=eq.c1"}),
        )
        .unwrap();
        assert_eq!(p.event, Event::Insert);
        assert_eq!(
            p.filters,
            vec![Filter {
                column: "conversation_id".into(),
                op: Op::Eq,
                values: vec!["c1".into()]
            }]
        );
        let p = parse_one(&json!({"event": "*", "table": "messages"})).unwrap();
        assert_eq!((p.schema.as_str(), p.event), ("public", Event::All));
        let p = parse_one(&json!({"event": "whatever", "schema": "public"})).unwrap();
        assert_eq!((p.table.as_str(), p.event), ("*", Event::All));
        let p =
            parse_one(&json!({"schema": "public", "table": "t", "filter": "n=in.(1, 2,\"x\")"}));
        assert_eq!(p.unwrap().filters[0].values, vec!["1", "2", "x"]);
        let p = parse_one(&json!({"schema": "public", "table": "t", "filter": "a=gt.1,b=lte.2"}));
        assert_eq!(p.unwrap().filters.len(), 2);
        let p = parse_one(&json!({"schema": "public", "table": "t", "filter": "  "}));
        assert!(p.unwrap().filters.is_empty());
    }

    #[test]
    fn bad_params_are_explained() {
        let bad = |filter: &str| {
            parse_one(&json!({"schema": "public", "table": "t", "filter": filter})).unwrap_err()
        };
        assert_eq!(
            bad("subject=foo.hey"),
            r#"Error parsing `filter` params: ["foo", "hey"]"#
        );
        assert_eq!(
            bad("undefined"),
            r#"Error parsing `filter` params: ["undefined"]"#
        );
        assert!(bad("id=in.1,2").starts_with("Error parsing"));
        assert!(parse_one(&json!({}))
            .unwrap_err()
            .starts_with("No subscription params provided"));
        assert!(parse_one(&json!({"table": "t", "filter": "id=eq.1"})).is_err());
    }

    #[test]
    fn a_listener_carries_a_bounded_number_of_conditions() {
        let conditions = |n: usize| {
            (0..n)
                .map(|i| format!("c{i}=eq.{i}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let listener = |n| json!({"schema": "public", "table": "t", "filter": conditions(n)});
        assert_eq!(parse(&listener(10), 10).unwrap().filters.len(), 10);
        assert!(parse(&listener(6000), 10)
            .unwrap_err()
            .contains("6000 conditions (at most 10)"));
    }

    #[test]
    fn events_match_changes() {
        assert!(Event::All.matches("DELETE"));
        assert!(Event::Update.matches("UPDATE"));
        assert!(!Event::Insert.matches("UPDATE"));
    }
}
