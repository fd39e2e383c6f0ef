//! PostgREST's filter grammar: `column=[not.]op.value` and the logic trees of
//! `or=(…)`, `and=(…)`, `not.or=(…)` with nested `and(…)`/`or(…)`/`not.and(…)` inside.
//! Plain values only; identifiers are checked against the catalogue later.

use super::RestError;

/// A condition: one comparison, or `and`/`or` over several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Filter(Filter),
    Logic {
        negated: bool,
        any: bool,
        children: Vec<Condition>,
    },
}

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

/// `key=value` of the query string, where key is a column or `or`/`and`/`not.or`/`not.and`.
pub fn parse_pair(key: &str, value: &str) -> Result<Condition, RestError> {
    let (negated, logic) = match key.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, key),
    };
    match logic {
        "or" | "and" => parse_logic(negated, logic == "or", value),
        _ => parse_filter(key, value).map(Condition::Filter),
    }
}

/// `(a.eq.1,and(b.gt.2,c.is.null))` after a logic operator.
fn parse_logic(negated: bool, any: bool, value: &str) -> Result<Condition, RestError> {
    let inner = value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| logic_error(value))?;
    let children = split_top_level(inner)
        .ok_or_else(|| logic_error(value))?
        .into_iter()
        .map(|term| parse_term(&term))
        .collect::<Result<Vec<_>, _>>()?;
    if children.is_empty() {
        return Err(logic_error(value));
    }
    Ok(Condition::Logic {
        negated,
        any,
        children,
    })
}

/// One term inside a logic tree: `col.op.value`, `col.not.op.value` or a nested tree.
fn parse_term(term: &str) -> Result<Condition, RestError> {
    let (negated, rest) = match term.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, term),
    };
    for (name, any) in [("or(", true), ("and(", false)] {
        if rest.starts_with(name) {
            return parse_logic(negated, any, &rest[name.len() - 1..]);
        }
    }
    let (column, operation) = term.split_once('.').ok_or_else(|| logic_error(term))?;
    parse_filter(column, operation).map(Condition::Filter)
}

fn logic_error(value: &str) -> RestError {
    RestError::parse(format!("failed to parse logic tree ({value})"))
}

/// Splits on commas outside parentheses and double quotes; `None` if they do not balance.
pub fn split_top_level(text: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                current.push(c);
                current.push(chars.next()?);
                continue;
            }
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.checked_sub(1)?,
            ',' if !quoted && depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if quoted || depth != 0 {
        return None;
    }
    items.push(current);
    Some(items)
}

/// A value as PostgREST reads it: `"…"` quotes (with `\"` and `\\` escapes) protect
/// commas and parentheses; anything else is taken as written.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn parse_filter(column: &str, value: &str) -> Result<Filter, RestError> {
    let bad = || RestError::parse(format!("failed to parse filter ({value})"));
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (op, operand) = rest.split_once('.').ok_or_else(bad)?;
    let compare = |comparison| Operator::Compare(comparison, unquote(operand));
    let op = match op {
        "eq" => compare(Comparison::Eq),
        "neq" => compare(Comparison::Neq),
        "gt" => compare(Comparison::Gt),
        "gte" => compare(Comparison::Gte),
        "lt" => compare(Comparison::Lt),
        "lte" => compare(Comparison::Lte),
        // PostgREST accepts `*` for `%` so patterns survive URLs.
        "like" => Operator::Compare(Comparison::Like, unquote(operand).replace('*', "%")),
        "ilike" => Operator::Compare(Comparison::Ilike, unquote(operand).replace('*', "%")),
        "in" => {
            let inner = operand
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(bad)?;
            let items = split_top_level(inner).ok_or_else(bad)?;
            Operator::In(
                items
                    .iter()
                    .map(|item| unquote(item.trim()))
                    .filter(|item| !item.is_empty())
                    .collect(),
            )
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

    fn filter(column: &str, negated: bool, op: Operator) -> Condition {
        Condition::Filter(Filter {
            column: column.into(),
            negated,
            op,
        })
    }

    #[test]
    fn parses_nested_logic_with_not_and_quoted_values() {
        let tree = parse_pair(
            "or",
            "(read_at.not.is.null,and(body.eq.\"a,(b)\",id.in.(1,\"2,3\")),not.or(x.lt.1))",
        )
        .unwrap();
        let Condition::Logic {
            negated: false,
            any: true,
            children,
        } = tree
        else {
            panic!("not an or: {tree:?}")
        };
        assert_eq!(
            children[0],
            filter("read_at", true, Operator::Is(IsValue::Null))
        );
        assert_eq!(
            children[1],
            Condition::Logic {
                negated: false,
                any: false,
                children: vec![
                    filter(
                        "body",
                        false,
                        Operator::Compare(Comparison::Eq, "a,(b)".into())
                    ),
                    filter("id", false, Operator::In(vec!["1".into(), "2,3".into()])),
                ],
            }
        );
        assert!(matches!(
            &children[2],
            Condition::Logic {
                negated: true,
                any: true,
                ..
            }
        ));
    }

    #[test]
    fn not_or_at_the_top_and_unbalanced_trees() {
        assert!(matches!(
            parse_pair("not.and", "(a.eq.1,b.eq.2)").unwrap(),
            Condition::Logic {
                negated: true,
                any: false,
                ..
            }
        ));
        for bad in [
            "(a.eq.1",
            "a.eq.1",
            "(a.eq.(1)",
            "(\"a.eq.1)",
            "()",
            "(nodot)",
            "(a.wat.1)",
        ] {
            assert!(parse_pair("or", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn in_lists_keep_quoted_commas() {
        assert_eq!(
            parse_filter("name", "in.(\"a,b (c)\",d)").unwrap().op,
            Operator::In(vec!["a,b (c)".into(), "d".into()])
        );
    }
}
