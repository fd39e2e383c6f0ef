//! Builds SQL from a parsed [`Query`] and the catalogue. Identifiers come from the
//! catalogue (quoted); every value is a bound text parameter cast to the column's type.

use std::collections::HashMap;

use super::query::{Filter, IsValue, Operator, Order, Query};
use super::RestError;

/// SQL text plus the parameters it binds, in order.
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

/// A table's columns, found in the catalogue.
pub struct Table<'a> {
    pub name: &'a str,
    pub columns: &'a HashMap<String, String>,
}

impl Table<'_> {
    fn column_type(&self, column: &str) -> Result<&str, RestError> {
        self.columns
            .get(column)
            .map(String::as_str)
            .ok_or_else(|| RestError::unknown_column(self.name, column))
    }

    fn qualified(&self) -> String {
        format!("public.{}", quote(self.name))
    }

    fn select_list(&self, select: &Option<Vec<String>>) -> Result<String, RestError> {
        match select {
            None => Ok("*".into()),
            Some(columns) => columns
                .iter()
                .map(|column| self.column_type(column).map(|_| quote(column)))
                .collect::<Result<Vec<_>, _>>()
                .map(|list| list.join(", ")),
        }
    }
}

impl Statement {
    fn bind(&mut self, param: Param) -> usize {
        self.text_params.push(param);
        self.text_params.len()
    }

    fn where_clause(&mut self, table: &Table, filters: &[Filter]) -> Result<String, RestError> {
        if filters.is_empty() {
            return Ok(String::new());
        }
        let mut conditions = Vec::with_capacity(filters.len());
        for filter in filters {
            let column_type = table.column_type(&filter.column)?;
            let column = quote(&filter.column);
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
            conditions.push(if filter.negated {
                format!("not ({condition})")
            } else {
                condition
            });
        }
        Ok(format!(" where {}", conditions.join(" and ")))
    }
}

fn order_clause(table: &Table, order: &[Order]) -> Result<String, RestError> {
    if order.is_empty() {
        return Ok(String::new());
    }
    let terms = order
        .iter()
        .map(|term| {
            table.column_type(&term.column)?;
            let mut sql = quote(&term.column);
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

/// Wraps a row source into one JSON array text (and the row count).
fn json_rows(source: &str) -> String {
    format!("select coalesce(json_agg(_row), '[]')::text, count(*) from ({source}) _row")
}

/// Same for a data-modifying statement, which PostgreSQL only allows in a top-level WITH.
fn json_rows_written(write: &str, returning: &str) -> String {
    format!(
        "with _written as ({write} returning *) \
         select coalesce(json_agg(_row), '[]')::text, count(*) from (select {returning} from _written) _row"
    )
}

pub fn select(table: &Table, query: &Query) -> Result<Statement, RestError> {
    let mut statement = Statement::default();
    let columns = table.select_list(&query.select)?;
    let filters = statement.where_clause(table, &query.filters)?;
    let mut source = format!("select {columns} from {}{filters}", table.qualified());
    source.push_str(&order_clause(table, &query.order)?);
    if let Some(limit) = query.limit {
        source.push_str(&format!(" limit {limit}"));
    }
    if let Some(offset) = query.offset {
        source.push_str(&format!(" offset {offset}"));
    }
    statement.sql = json_rows(&source);
    Ok(statement)
}

/// How an insert treats rows whose key already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    Fail,
    Ignore,
    Merge,
}

/// `body` is bound as the last parameter: a JSON array of objects.
pub fn insert(
    table: &Table,
    query: &Query,
    columns: &[String],
    on_conflict: OnConflict,
) -> Result<Statement, RestError> {
    let mut statement = Statement::default();
    for column in columns {
        table.column_type(column)?;
    }
    let list = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let target = match &query.on_conflict {
        Some(keys) => {
            for key in keys {
                table.column_type(key)?;
            }
            format!(
                "({})",
                keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
            )
        }
        None => String::new(),
    };
    let conflict = match on_conflict {
        OnConflict::Fail => String::new(),
        OnConflict::Ignore => format!(" on conflict {target} do nothing"),
        OnConflict::Merge => {
            if target.is_empty() {
                return Err(RestError::parse(
                    "merge-duplicates needs on_conflict=<columns> in localbase".into(),
                ));
            }
            let updates = columns
                .iter()
                .map(|c| format!("{0} = excluded.{0}", quote(c)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(" on conflict {target} do update set {updates}")
        }
    };
    let n = statement.bind(Param::Text(String::new()));
    let returning = table.select_list(&query.select)?;
    let write = format!(
        "insert into {table} ({list}) select {list} \
         from json_populate_recordset(null::{table}, ${n}::text::json){conflict}",
        table = table.qualified()
    );
    statement.sql = json_rows_written(&write, &returning);
    Ok(statement)
}

/// `body` (one JSON object) is bound as the last parameter.
pub fn update(table: &Table, query: &Query, columns: &[String]) -> Result<Statement, RestError> {
    let mut statement = Statement::default();
    for column in columns {
        table.column_type(column)?;
    }
    let filters = statement.where_clause(table, &query.filters)?;
    let n = statement.bind(Param::Text(String::new()));
    let list = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let returning = table.select_list(&query.select)?;
    let write = format!(
        "update {table} set ({list}) = (select {list} \
         from json_populate_record(null::{table}, ${n}::text::json)){filters}",
        table = table.qualified()
    );
    statement.sql = json_rows_written(&write, &returning);
    Ok(statement)
}

pub fn delete(table: &Table, query: &Query) -> Result<Statement, RestError> {
    let mut statement = Statement::default();
    let filters = statement.where_clause(table, &query.filters)?;
    let returning = table.select_list(&query.select)?;
    let write = format!("delete from {table}{filters}", table = table.qualified());
    statement.sql = json_rows_written(&write, &returning);
    Ok(statement)
}

/// Calls `public.<name>` with named arguments taken from the JSON object `args` (bound
/// as $1 when there are any).
pub fn call(
    name: &str,
    function: &super::catalog::Function,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Statement, RestError> {
    let given: Vec<&String> = args.keys().collect();
    for key in &given {
        if !function.args.iter().any(|(arg, _)| arg == *key) {
            return Err(RestError::unknown_function(name));
        }
    }
    let arg_list = function
        .args
        .iter()
        .filter(|(arg, _)| args.contains_key(arg))
        .map(|(arg, sql_type)| {
            format!(
                "{0} => ($1::text::json ->> {1})::{sql_type}",
                quote(arg),
                quote_literal(arg)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let call = format!("public.{}({arg_list})", quote(name));
    let sql = if function.returns_set {
        format!("select coalesce(json_agg(_row), '[]')::text, count(*) from {call} _row")
    } else {
        format!("select to_json({call})::text, 1::bigint")
    };
    let text_params = if args.is_empty() {
        Vec::new()
    } else {
        vec![Param::Text(
            serde_json::Value::Object(args.clone()).to_string(),
        )]
    };
    Ok(Statement { sql, text_params })
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::query::Query;

    fn columns() -> HashMap<String, String> {
        [
            ("id", "uuid"),
            ("body", "text"),
            ("created_at", "timestamp with time zone"),
        ]
        .into_iter()
        .map(|(c, t)| (c.to_string(), t.to_string()))
        .collect()
    }

    fn query(items: &[(&str, &str)]) -> Query {
        Query::parse(
            &items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn values_are_bound_never_spliced() {
        let columns = columns();
        let table = Table {
            name: "messages",
            columns: &columns,
        };
        let hostile = "x'); drop table messages; --";
        let statement = select(&table, &query(&[("body", &format!("eq.{hostile}"))])).unwrap();
        assert!(!statement.sql.contains("drop table"));
        assert_eq!(statement.text_params, vec![Param::Text(hostile.into())]);
        assert!(statement.sql.contains("\"body\" = ($1::text)::text"));
    }

    #[test]
    fn unknown_columns_are_refused_before_sql() {
        let columns = columns();
        let table = Table {
            name: "messages",
            columns: &columns,
        };
        let error = select(&table, &query(&[("\"; drop", "eq.1")])).unwrap_err();
        assert_eq!(error.code, "42703");
        assert!(select(&table, &query(&[("order", "nope.desc")])).is_err());
        assert!(select(&table, &query(&[("select", "id,secret")])).is_err());
    }

    #[test]
    fn ignore_duplicates_becomes_on_conflict_do_nothing() {
        let columns = columns();
        let table = Table {
            name: "messages",
            columns: &columns,
        };
        let statement = insert(
            &table,
            &query(&[]),
            &["id".into(), "body".into()],
            OnConflict::Ignore,
        )
        .unwrap();
        assert!(statement.sql.contains("on conflict  do nothing"));
        assert!(statement
            .sql
            .contains("insert into public.\"messages\" (\"id\", \"body\")"));
    }
}
