//! Builds SQL from a parsed [`Query`] and the catalogue. Identifiers come from the
//! catalogue (quoted); every value is a bound text parameter cast to the column's type.
//! Writes live in `write.rs`, embedded resources in `embed.rs`.

use std::collections::HashMap;

use super::catalog::Catalog;
use super::filter::{Condition, Filter, IsValue, Operator};
use super::query::{Order, Query};
use super::select::Item;
use super::RestError;

/// SQL text plus the parameters it binds, in order. The statement answers one row:
/// (JSON body as text, rows returned, total rows when a count was asked for, else null).
#[derive(Debug, Default)]
pub struct Statement {
    pub sql: String,
    pub text_params: Vec<Param>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Text(String),
    TextArray(Vec<String>),
}

pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A row source's columns, found in the catalogue: a table, or a function's result.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    pub name: &'a str,
    pub columns: &'a HashMap<String, String>,
}

impl Table<'_> {
    pub fn column_type(&self, column: &str) -> Result<&str, RestError> {
        self.columns
            .get(column)
            .map(String::as_str)
            .ok_or_else(|| RestError::unknown_column(self.name, column))
    }

    pub fn qualified(&self) -> String {
        format!("public.{}", quote(self.name))
    }
}

/// Accumulates bound parameters and fresh table aliases while SQL is assembled.
pub struct Builder<'a> {
    pub catalog: &'a Catalog,
    pub statement: Statement,
    aliases: usize,
}

impl<'a> Builder<'a> {
    pub fn new(catalog: &'a Catalog) -> Self {
        Builder {
            catalog,
            statement: Statement::default(),
            aliases: 0,
        }
    }

    pub fn bind(&mut self, param: Param) -> usize {
        self.statement.text_params.push(param);
        self.statement.text_params.len()
    }

    /// `_t0`, `_t1`, …: distinct aliases so nested subqueries never capture each other.
    pub fn alias(&mut self) -> String {
        let alias = format!("_t{}", self.aliases);
        self.aliases += 1;
        alias
    }

    pub fn where_clause(
        &mut self,
        table: &Table,
        alias: &str,
        conditions: &[Condition],
    ) -> Result<String, RestError> {
        if conditions.is_empty() {
            return Ok(String::new());
        }
        let parts = conditions
            .iter()
            .map(|condition| self.condition(table, alias, condition))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!(" where {}", parts.join(" and ")))
    }

    fn condition(
        &mut self,
        table: &Table,
        alias: &str,
        condition: &Condition,
    ) -> Result<String, RestError> {
        match condition {
            Condition::Filter(filter) => self.filter(table, alias, filter),
            Condition::Logic {
                negated,
                any,
                children,
            } => {
                let parts = children
                    .iter()
                    .map(|child| self.condition(table, alias, child))
                    .collect::<Result<Vec<_>, _>>()?;
                let joined = format!("({})", parts.join(if *any { " or " } else { " and " }));
                Ok(if *negated {
                    format!("not {joined}")
                } else {
                    joined
                })
            }
        }
    }

    fn filter(&mut self, table: &Table, alias: &str, filter: &Filter) -> Result<String, RestError> {
        let column_type = table.column_type(&filter.column)?;
        let column = format!("{alias}.{}", quote(&filter.column));
        let condition = match &filter.op {
            Operator::Compare(comparison, value) => {
                let n = self.bind(Param::Text(value.clone()));
                format!("{column} {} (${n}::text)::{column_type}", comparison.sql())
            }
            Operator::In(values) => {
                let n = self.bind(Param::TextArray(values.clone()));
                format!("{column} = any ((${n}::text[])::{column_type}[])")
            }
            Operator::Is(value) => format!(
                "{column} is {}",
                match value {
                    IsValue::Null => "null",
                    IsValue::NotNull => "not null",
                    IsValue::True => "true",
                    IsValue::False => "false",
                    IsValue::Unknown => "unknown",
                }
            ),
        };
        Ok(if filter.negated {
            format!("not ({condition})")
        } else {
            condition
        })
    }

    /// The select list over `alias`; `None` is `*`.
    pub fn select_list(
        &mut self,
        table: &Table,
        alias: &str,
        items: Option<&[Item]>,
    ) -> Result<String, RestError> {
        let Some(items) = items else {
            return Ok(format!("{alias}.*"));
        };
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            list.push(match item {
                Item::Star => format!("{alias}.*"),
                Item::Column { name, alias: label } => {
                    table.column_type(name)?;
                    let column = format!("{alias}.{}", quote(name));
                    match label {
                        Some(label) => format!("{column} as {}", quote(label)),
                        None => column,
                    }
                }
                Item::Embed(embed) => self.embed(table, alias, embed)?,
            });
        }
        Ok(list.join(", "))
    }
}

pub fn order_clause(table: &Table, alias: &str, order: &[Order]) -> Result<String, RestError> {
    if order.is_empty() {
        return Ok(String::new());
    }
    let terms = order
        .iter()
        .map(|term| {
            table.column_type(&term.column)?;
            let mut sql = format!("{alias}.{}", quote(&term.column));
            sql.push_str(if term.descending { " desc" } else { " asc" });
            match term.nulls_first {
                Some(true) => sql.push_str(" nulls first"),
                Some(false) => sql.push_str(" nulls last"),
                None => {}
            }
            Ok(sql)
        })
        .collect::<Result<Vec<_>, RestError>>()?;
    Ok(format!(" order by {}", terms.join(", ")))
}

pub fn limit_offset(query: &Query) -> String {
    let mut sql = String::new();
    if let Some(limit) = query.limit {
        sql.push_str(&format!(" limit {limit}"));
    }
    if let Some(offset) = query.offset {
        sql.push_str(&format!(" offset {offset}"));
    }
    sql
}

/// `GET /table`: rows as one JSON array, and the total without limit/offset if `count`.
pub fn select(
    catalog: &Catalog,
    table: &Table,
    query: &Query,
    count: bool,
) -> Result<Statement, RestError> {
    let mut builder = Builder::new(catalog);
    let alias = builder.alias();
    let columns = builder.select_list(table, &alias, query.select.as_deref())?;
    let filters = builder.where_clause(table, &alias, &query.filters)?;
    let from = format!("{} {alias}{filters}", table.qualified());
    let source = format!(
        "select {columns} from {from}{}{}",
        order_clause(table, &alias, &query.order)?,
        limit_offset(query)
    );
    let total = if count {
        format!("(select count(*) from {from})")
    } else {
        "null::bigint".into()
    };
    builder.statement.sql = format!(
        "select coalesce(json_agg(_row), '[]')::text, count(*), {total} from ({source}) _row"
    );
    Ok(builder.statement)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::rest::query::Query;

    pub fn catalog() -> Catalog {
        let mut catalog = Catalog::default();
        catalog.tables.insert(
            "messages".into(),
            [
                ("id", "uuid"),
                ("body", "text"),
                ("created_at", "timestamp with time zone"),
            ]
            .into_iter()
            .map(|(c, t)| (c.to_string(), t.to_string()))
            .collect(),
        );
        catalog
    }

    pub fn query(items: &[(&str, &str)]) -> Query {
        Query::parse(
            &items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn messages(catalog: &Catalog) -> Table<'_> {
        Table {
            name: "messages",
            columns: &catalog.tables["messages"],
        }
    }

    #[test]
    fn values_are_bound_never_spliced() {
        let catalog = catalog();
        let hostile = "x'); drop table messages; --";
        let statement = select(
            &catalog,
            &messages(&catalog),
            &query(&[("body", &format!("eq.{hostile}"))]),
            false,
        )
        .unwrap();
        assert!(!statement.sql.contains("drop table"));
        assert_eq!(statement.text_params, vec![Param::Text(hostile.into())]);
        assert!(statement.sql.contains("_t0.\"body\" = ($1::text)::text"));
    }

    #[test]
    fn or_trees_bind_every_value_and_keep_their_shape() {
        let catalog = catalog();
        let hostile = "a') or true; --";
        let statement = select(
            &catalog,
            &messages(&catalog),
            &query(&[(
                "or",
                &format!("(body.eq.\"{hostile}\",and(id.in.(x,y),not.or(body.is.null)))"),
            )]),
            true,
        )
        .unwrap();
        assert!(!statement.sql.contains("or true"));
        assert!(statement.sql.contains(
            "where (_t0.\"body\" = ($1::text)::text or (_t0.\"id\" = any (($2::text[])::uuid[]) and not (_t0.\"body\" is null)))"
        ));
        assert_eq!(statement.text_params.len(), 2);
        assert!(statement
            .sql
            .contains("(select count(*) from public.\"messages\" _t0 where"));
    }

    #[test]
    fn unknown_columns_are_refused_before_sql() {
        let catalog = catalog();
        let table = messages(&catalog);
        let error = select(&catalog, &table, &query(&[("\"; drop", "eq.1")]), false).unwrap_err();
        assert_eq!(error.code, "42703");
        for bad in [
            ("order", "nope.desc"),
            ("select", "id,secret"),
            ("or", "(secret.eq.1)"),
            ("select", "x:\"id\"\"\""),
        ] {
            let parsed = Query::parse(&[(bad.0.to_string(), bad.1.to_string())]);
            assert!(
                parsed
                    .and_then(|q| select(&catalog, &table, &q, false))
                    .is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn aliases_are_quoted_identifiers() {
        let catalog = catalog();
        let statement = select(
            &catalog,
            &messages(&catalog),
            &query(&[("select", "text:body")]),
            false,
        )
        .unwrap();
        assert!(statement.sql.contains("_t0.\"body\" as \"text\""));
    }
}
