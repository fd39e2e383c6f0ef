//! PostgREST's URL grammar, parsed into plain values. Nothing here knows SQL; identifiers
//! are checked against the catalogue later, and values always travel as bound parameters.

use super::RestError;

/// One `column=op.value` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub column: String,
    pub negated: bool,
    pub op: Operator,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    Compare(Comparison, String),
    In(Vec<String>),
    Is(IsValue),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    Ilike,
}

impl Comparison {
    pub fn sql(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Neq => "<>",
            Comparison::Gt => ">",
            Comparison::Gte => ">=",
            Comparison::Lt => "<",
            Comparison::Lte => "<=",
            Comparison::Like => "like",
            Comparison::Ilike => "ilike",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

/// One `order` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub column: String,
    pub descending: bool,
    pub nulls_first: Option<bool>,
}

/// Everything a request's query string says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    /// `None` means `*`.
    pub select: Option<Vec<String>>,
    pub filters: Vec<Filter>,
    pub order: Vec<Order>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub on_conflict: Option<Vec<String>>,
    pub columns: Option<Vec<String>>,
}

impl Query {
    pub fn parse(pairs: &[(String, String)]) -> Result<Query, RestError> {
        let mut query = Query::default();
        for (key, value) in pairs {
            match key.as_str() {
                "select" => query.select = parse_select(value)?,
                "order" => query.order = parse_order(value)?,
                "limit" => query.limit = Some(parse_count(key, value)?),
                "offset" => query.offset = Some(parse_count(key, value)?),
                "on_conflict" => query.on_conflict = Some(parse_list(value)),
                "columns" => query.columns = Some(parse_list(value)),
                _ => query.filters.push(parse_filter(key, value)?),
            }
        }
        Ok(query)
    }
}

fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

fn parse_select(value: &str) -> Result<Option<Vec<String>>, RestError> {
    let items = parse_list(value);
    if items.is_empty() || items.iter().any(|item| item == "*") {
        return Ok(None);
    }
    if items.iter().any(|item| item.contains(['(', ')', ':', '.'])) {
        return Err(RestError::parse(format!(
            "\"failed to parse select parameter ({value})\" (embedding, aliases and casts are not supported by localbase yet)"
        )));
    }
    Ok(Some(items))
}

fn parse_order(value: &str) -> Result<Vec<Order>, RestError> {
    parse_list(value)
        .into_iter()
        .map(|term| {
            let mut parts = term.split('.');
            let column = parts.next().unwrap_or_default().to_string();
            let mut order = Order {
                column,
                descending: false,
                nulls_first: None,
            };
            for modifier in parts {
                match modifier {
                    "asc" => order.descending = false,
                    "desc" => order.descending = true,
                    "nullsfirst" => order.nulls_first = Some(true),
                    "nullslast" => order.nulls_first = Some(false),
                    _ => return Err(RestError::parse(format!("failed to parse order ({value})"))),
                }
            }
            Ok(order)
        })
        .collect()
}

fn parse_count(key: &str, value: &str) -> Result<i64, RestError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|count| *count >= 0)
        .ok_or_else(|| RestError::parse(format!("failed to parse {key} ({value})")))
}

fn parse_filter(column: &str, value: &str) -> Result<Filter, RestError> {
    let bad = || RestError::parse(format!("failed to parse filter ({value})"));
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (op, operand) = rest.split_once('.').ok_or_else(bad)?;
    let op = match op {
        "eq" => Operator::Compare(Comparison::Eq, operand.to_string()),
        "neq" => Operator::Compare(Comparison::Neq, operand.to_string()),
        "gt" => Operator::Compare(Comparison::Gt, operand.to_string()),
        "gte" => Operator::Compare(Comparison::Gte, operand.to_string()),
        "lt" => Operator::Compare(Comparison::Lt, operand.to_string()),
        "lte" => Operator::Compare(Comparison::Lte, operand.to_string()),
        // PostgREST accepts `*` for `%` so patterns survive URLs.
        "like" => Operator::Compare(Comparison::Like, operand.replace('*', "%")),
        "ilike" => Operator::Compare(Comparison::Ilike, operand.replace('*', "%")),
        "in" => {
            let inner = operand
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(bad)?;
            Operator::In(parse_list(inner))
        }
        "is" => Operator::Is(match operand.to_ascii_lowercase().as_str() {
            "null" => IsValue::Null,
            "not_null" => IsValue::NotNull,
            "true" => IsValue::True,
            "false" => IsValue::False,
            "unknown" => IsValue::Unknown,
            _ => return Err(bad()),
        }),
        _ => return Err(bad()),
    };
    Ok(Filter {
        column: column.to_string(),
        negated,
        op,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_what_the_app_sends_for_latest_messages() {
        let query = Query::parse(&pairs(&[
            ("select", "id,body,created_at"),
            ("conversation_id", "eq.c1"),
            ("created_at", "gt.2026-01-01T00:00:00Z"),
            ("order", "created_at.desc,id.desc.nullslast"),
            ("limit", "50"),
        ]))
        .unwrap();
        assert_eq!(query.select.unwrap(), ["id", "body", "created_at"]);
        assert_eq!(query.filters.len(), 2);
        assert_eq!(
            query.filters[0].op,
            Operator::Compare(Comparison::Eq, "c1".into())
        );
        assert_eq!(
            query.order[1],
            Order {
                column: "id".into(),
                descending: true,
                nulls_first: Some(false)
            }
        );
        assert_eq!(query.limit, Some(50));
    }

    #[test]
    fn parses_in_is_not_and_like() {
        let query = Query::parse(&pairs(&[
            ("id", "in.(a,\"b\",c)"),
            ("read_at", "is.null"),
            ("body", "not.ilike.*hi*"),
        ]))
        .unwrap();
        assert_eq!(
            query.filters[0].op,
            Operator::In(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(query.filters[1].op, Operator::Is(IsValue::Null));
        assert!(query.filters[2].negated);
        assert_eq!(
            query.filters[2].op,
            Operator::Compare(Comparison::Ilike, "%hi%".into())
        );
    }

    #[test]
    fn rejects_malformed_filters_limits_and_orders() {
        assert!(Query::parse(&pairs(&[("id", "equals.1")])).is_err());
        assert!(Query::parse(&pairs(&[("id", "nodot")])).is_err());
        assert!(Query::parse(&pairs(&[("limit", "-1")])).is_err());
        assert!(Query::parse(&pairs(&[("order", "id.sideways")])).is_err());
        assert!(Query::parse(&pairs(&[("id", "in.a,b")])).is_err());
    }

    #[test]
    fn star_or_empty_select_means_all_columns() {
        assert_eq!(
            Query::parse(&pairs(&[("select", "*")])).unwrap().select,
            None
        );
        assert_eq!(Query::parse(&pairs(&[])).unwrap().select, None);
    }
}
