//! PostgREST's URL grammar, parsed into plain values. Nothing here knows SQL; identifiers
//! are checked against the catalogue later, and values always travel as bound parameters.

use super::filter::{self, Condition};
use super::select::{self, Item};
use super::RestError;

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
    pub select: Option<Vec<Item>>,
    pub filters: Vec<Condition>,
    pub order: Vec<Order>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub on_conflict: Option<Vec<String>>,
    pub columns: Option<Vec<String>>,
}

/// Deepest nesting of parentheses a value may have (embedded resources in `select`,
/// `or`/`and` trees). The app needs one or two levels; without a bound, a 2 KB URL of
/// nested parentheses would recurse the parser off the end of its stack.
pub const MAX_NESTING: usize = 10;

/// Query-string keys that are never filters.
const RESERVED: [&str; 6] = [
    "select",
    "order",
    "limit",
    "offset",
    "on_conflict",
    "columns",
];

impl Query {
    pub fn parse(pairs: &[(String, String)]) -> Result<Query, RestError> {
        Query::parse_except(pairs, &[])
    }

    /// Like `parse`, but keys in `skip` (a function's argument names) are left out.
    pub fn parse_except(pairs: &[(String, String)], skip: &[&str]) -> Result<Query, RestError> {
        let mut query = Query::default();
        for (key, value) in pairs {
            if skip.contains(&key.as_str()) && !RESERVED.contains(&key.as_str()) {
                continue;
            }
            if nesting_depth(value) > MAX_NESTING {
                return Err(RestError::parse(format!(
                    "\"failed to parse {key} parameter: nested deeper than {MAX_NESTING} levels\""
                )));
            }
            match key.as_str() {
                "select" => query.select = Some(select::parse(value)?),
                "order" => query.order = parse_order(value)?,
                "limit" => query.limit = Some(parse_count(key, value)?),
                "offset" => query.offset = Some(parse_count(key, value)?),
                "on_conflict" => query.on_conflict = Some(parse_list(value)),
                "columns" => query.columns = Some(parse_list(value)),
                _ => query.filters.push(filter::parse_pair(key, value)?),
            }
        }
        Ok(query)
    }
}

/// The deepest parenthesis nesting of `text` outside double quotes.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut quoted, mut escaped) = (0usize, 0usize, false, false);
    for c in text.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_string())
        .filter(|item| !item.is_empty())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::filter::{Comparison, Filter, IsValue, Operator};

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn filter(condition: &Condition) -> &Filter {
        match condition {
            Condition::Filter(filter) => filter,
            other => panic!("not a filter: {other:?}"),
        }
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
        assert_eq!(query.select.unwrap().len(), 3);
        assert_eq!(query.filters.len(), 2);
        assert_eq!(
            filter(&query.filters[0]).op,
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
    fn parses_in_is_not_like_and_or() {
        let query = Query::parse(&pairs(&[
            ("id", "in.(a,\"b\",c)"),
            ("read_at", "is.null"),
            ("body", "not.ilike.*hi*"),
            ("or", "(id.eq.1,body.eq.2)"),
        ]))
        .unwrap();
        assert_eq!(
            filter(&query.filters[0]).op,
            Operator::In(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(filter(&query.filters[1]).op, Operator::Is(IsValue::Null));
        assert!(filter(&query.filters[2]).negated);
        assert_eq!(
            filter(&query.filters[2]).op,
            Operator::Compare(Comparison::Ilike, "%hi%".into())
        );
        assert!(matches!(
            query.filters[3],
            Condition::Logic { any: true, .. }
        ));
    }

    #[test]
    fn rejects_malformed_filters_limits_and_orders() {
        assert!(Query::parse(&pairs(&[("id", "equals.1")])).is_err());
        assert!(Query::parse(&pairs(&[("id", "nodot")])).is_err());
        assert!(Query::parse(&pairs(&[("limit", "-1")])).is_err());
        assert!(Query::parse(&pairs(&[("order", "id.sideways")])).is_err());
        assert!(Query::parse(&pairs(&[("id", "in.a,b")])).is_err());
        assert!(Query::parse(&pairs(&[("or", "id.eq.1")])).is_err());
    }

    #[test]
    fn function_arguments_are_not_filters() {
        let query = Query::parse_except(
            &pairs(&[("conversation", "c1"), ("limit", "2")]),
            &["conversation", "limit"],
        )
        .unwrap();
        assert!(query.filters.is_empty());
        assert_eq!(query.limit, Some(2), "reserved words stay what they are");
    }

    #[test]
    fn deep_nesting_is_refused_with_a_parse_error_not_a_stack_overflow() {
        let deep_select = format!("{}id{}", "a(".repeat(600), ")".repeat(600));
        let deep_or = format!(
            "{}id.eq.1{}",
            "(or".repeat(1000).replacen("(or", "(", 1),
            ")".repeat(1000)
        );
        for (key, value) in [("select", deep_select.as_str()), ("or", deep_or.as_str())] {
            let error = Query::parse(&pairs(&[(key, value)])).unwrap_err();
            assert_eq!(error.code, "PGRST100", "{key}");
        }
        let at_limit = format!("{}id{}", "a(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(Query::parse(&pairs(&[("select", &at_limit)])).is_ok());
        // Parentheses inside quoted values do not count.
        let quoted = format!("in.(\"{}\")", "(".repeat(50));
        assert!(Query::parse(&pairs(&[("body", &quoted)])).is_ok());
    }
}
