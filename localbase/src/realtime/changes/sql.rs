//! SQL text for Postgres Changes. Identifiers are quoted, never interpolated raw; filter
//! values travel as parameters and are converted by the column's own type, so `uuid`,
//! `timestamptz` or `int8` compare as PostgreSQL compares them.

use deadpool_postgres::Object;
use tokio_postgres::types::ToSql;

use super::params::{Filter, Op, Params};

/// The publication whose tables produce changes, as on hosted Supabase.
pub const PUBLICATION: &str = "supabase_realtime";

pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub fn table_ref(schema: &str, table: &str) -> String {
    format!("{}.{}", ident(schema), ident(table))
}

/// A boolean SQL expression: does `record` (an expression of `table`'s row type) pass
/// `filter`? Its value is parameter `$param` (text, or text[] for `in`). A null column
/// never passes.
pub fn filter_condition(table: &str, record: &str, filter: &Filter, param: usize) -> String {
    let column = ident(&filter.column);
    let typed = |value: &str| typed(table, filter, value);
    let operator = match filter.op {
        Op::Eq => "=",
        Op::Neq => "<>",
        Op::Lt => "<",
        Op::Lte => "<=",
        Op::Gt => ">",
        Op::Gte => ">=",
        Op::In => {
            return format!(
                "coalesce({record}.{column} = any(array(select {} from unnest(${param}::text[]) v)), false)",
                typed("v")
            )
        }
    };
    format!(
        "coalesce({record}.{column} {operator} {}, false)",
        typed(&format!("${param}::text"))
    )
}

/// `value` (a text expression) converted to the type of the filter's column.
fn typed(table: &str, filter: &Filter, value: &str) -> String {
    format!(
        "(jsonb_populate_record(null::{table}, jsonb_build_object({}, {value}))).{}",
        literal(&filter.column),
        ident(&filter.column)
    )
}

/// The filter's value(s) converted to the column's type: evaluating it proves they cast.
fn typed_values(table: &str, filter: &Filter, param: usize) -> String {
    if filter.op == Op::In {
        format!(
            "array(select {} from unnest(${param}::text[]) v)",
            typed(table, filter, "v")
        )
    } else {
        typed(table, filter, &format!("${param}::text"))
    }
}

/// The parameter carrying a filter's value(s), matching `filter_condition`.
pub fn filter_value(filter: &Filter) -> Box<dyn ToSql + Sync + Send> {
    if filter.op == Op::In {
        Box::new(filter.values.clone())
    } else {
        Box::new(filter.values.first().cloned().unwrap_or_default())
    }
}

/// The published tables a listener names (`*` matches any), after checking that its
/// filters name real columns and values of the right type. The error is the sentence the
/// hosted server pushes in its `system` message.
pub async fn resolve(client: &Object, params: &Params) -> Result<Vec<(String, String)>, String> {
    let unable = || {
        format!(
            "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [{}]",
            super::params::describe(params)
        )
    };
    let exception = |message: String| {
        format!(
            "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [{}]. Exception: {message}",
            super::params::describe(params)
        )
    };
    let database_error = |error: tokio_postgres::Error| {
        exception(
            error
                .as_db_error()
                .map_or_else(|| error.to_string(), |db| db.message().to_string()),
        )
    };
    let rows = client
        .query(
            "select schemaname::text, tablename::text from pg_publication_tables \
             where pubname = $1 \
               and schemaname like (case $2 when '*' then '%' else $2 end) escape '' \
               and tablename like (case $3 when '*' then '%' else $3 end) escape '' \
             order by 1, 2",
            &[&PUBLICATION, &params.schema, &params.table],
        )
        .await
        .map_err(database_error)?;
    if rows.is_empty() {
        return Err(unable());
    }
    let tables: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for (schema, table) in &tables {
        let table = table_ref(schema, table);
        for filter in &params.filters {
            let exists: bool = client
                .query_one(
                    "select exists (select 1 from pg_attribute where attrelid = $1::text::regclass \
                     and attname = $2 and attnum > 0 and not attisdropped)",
                    &[&table, &filter.column],
                )
                .await
                .map_err(database_error)?
                .get(0);
            if !exists {
                return Err(exception(format!(
                    "invalid column for filter {}",
                    filter.column
                )));
            }
            // Evaluating the values proves they cast; planning the condition proves the
            // operator exists for the column's type.
            let probe = format!(
                "select {}, {}",
                typed_values(&table, filter, 1),
                filter_condition(&table, &format!("(null::{table})"), filter, 1)
            );
            let value = filter_value(filter);
            client
                .query_one(&probe, &[value.as_ref() as &(dyn ToSql + Sync)])
                .await
                .map_err(database_error)?;
        }
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_literals() {
        assert_eq!(table_ref("public", "we\"ird"), r#""public"."we""ird""#);
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn conditions_use_the_column_type_and_a_parameter() {
        let filter = Filter {
            column: "room".into(),
            op: Op::In,
            values: vec!["1".into()],
        };
        let sql = filter_condition("\"public\".\"t\"", "(r)", &filter, 3);
        assert!(sql.contains("(r).\"room\" = any"), "{sql}");
        assert!(sql.contains("unnest($3::text[])"), "{sql}");
        let filter = Filter {
            op: Op::Lte,
            ..filter
        };
        let sql = filter_condition("\"public\".\"t\"", "(r)", &filter, 2);
        assert!(sql.contains("<= (jsonb_populate_record"), "{sql}");
        assert!(sql.contains("$2::text"), "{sql}");
    }
}
