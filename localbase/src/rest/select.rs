//! The `select` parameter: columns, `alias:column`, `*`, and embedded resources
//! `[alias:]table[!hint](…)` found through foreign keys. Plain values only.

use super::filter::split_top_level;
use super::RestError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `*`: every column of the table.
    Star,
    Column {
        name: String,
        alias: Option<String>,
    },
    Embed(Embed),
}

/// `alias:table!hint(select)`: rows of `table` related to each row through a foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    pub table: String,
    pub alias: Option<String>,
    /// A foreign-key constraint name or column that picks one of several relationships.
    pub hint: Option<String>,
    pub select: Vec<Item>,
}

/// `None` for an absent or empty `select`, which means `*`.
pub fn parse(value: &str) -> Result<Vec<Item>, RestError> {
    let bad = || RestError::parse(format!("\"failed to parse select parameter ({value})\""));
    let items = split_top_level(value).ok_or_else(bad)?;
    let mut parsed = Vec::new();
    for raw in items {
        let item = raw.trim();
        if item.is_empty() {
            continue;
        }
        parsed.push(parse_item(item).ok_or_else(bad)?);
    }
    if parsed.is_empty() {
        parsed.push(Item::Star);
    }
    Ok(parsed)
}

fn parse_item(item: &str) -> Option<Item> {
    if item == "*" {
        return Some(Item::Star);
    }
    let (alias, rest) = match item.split_once(':') {
        // `::` is a cast, which localbase does not support (refused below as a bad name).
        Some((alias, rest)) if !rest.starts_with(':') => (Some(name(alias)?), rest),
        _ => (None, item),
    };
    match rest.split_once('(') {
        None => Some(Item::Column {
            name: name(rest)?,
            alias,
        }),
        Some((target, inner)) => {
            let inner = inner.strip_suffix(')')?;
            let (table, hint) = match target.split_once('!') {
                Some((table, hint)) => (table, Some(name(hint)?)),
                None => (target, None),
            };
            let select = parse(inner).ok()?;
            Some(Item::Embed(Embed {
                table: name(table)?,
                alias,
                hint,
                select,
            }))
        }
    }
}

/// A bare or double-quoted name. Anything else (casts, JSON paths, spreads) is refused.
fn name(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return (!inner.is_empty() && !inner.contains('"')).then(|| inner.to_string());
    }
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ' ' || c == '-');
    plain.then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, alias: Option<&str>) -> Item {
        Item::Column {
            name: name.into(),
            alias: alias.map(Into::into),
        }
    }

    #[test]
    fn columns_aliases_and_nested_embeds() {
        let items =
            parse("id,text:body,sender:profiles!sender_id(full_name,conversations(*))").unwrap();
        assert_eq!(items[0], column("id", None));
        assert_eq!(items[1], column("body", Some("text")));
        assert_eq!(
            items[2],
            Item::Embed(Embed {
                table: "profiles".into(),
                alias: Some("sender".into()),
                hint: Some("sender_id".into()),
                select: vec![
                    column("full_name", None),
                    Item::Embed(Embed {
                        table: "conversations".into(),
                        alias: None,
                        hint: None,
                        select: vec![Item::Star],
                    }),
                ],
            })
        );
        assert_eq!(parse("").unwrap(), vec![Item::Star]);
    }

    #[test]
    fn refuses_casts_paths_subqueries_and_unbalanced_parentheses() {
        for bad in [
            "id::text",
            "data->x",
            "id,(select 1)",
            "profiles(id",
            "a:b:c",
            "\"x\"\"y\"",
            "id;drop",
            "...profiles(id)",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
