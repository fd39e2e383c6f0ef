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
/// `filter`? Its value is parameter `$param` (text, or text[] for `in`), converted by a
/// `cast` to the column's type when it is known (cheap), else through the row type. A null
/// column never passes.
pub fn filter_condition(
    table: &str,
    record: &str,
    filter: &Filter,
    param: usize,
    cast: Option<&str>,
) -> String {
    let column = ident(&filter.column);
    let typed = |value: &str| match cast {
        Some(cast) => format!("({value})::{cast}"),
        None => typed(table, filter, value),
    };
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
    typed_value(table, &filter.column, value, None)
}

/// `value` (a text expression) converted to the type of `column`: by `cast` when the type
/// is known, else through the table's row type.
pub fn typed_value(table: &str, column: &str, value: &str, cast: Option<&str>) -> String {
    match cast {
        Some(cast) => format!("({value})::{cast}"),
        None => format!(
            "(jsonb_populate_record(null::{table}, jsonb_build_object({}, {value}))).{}",
            literal(column),
            ident(column)
        ),
    }
}

/// The SQL comparison of a filter operator (`in` compares each value with `=`).
pub fn operator(op: Op) -> &'static str {
    match op {
        Op::Eq | Op::In => "=",
        Op::Neq => "<>",
        Op::Lt => "<",
        Op::Lte => "<=",
        Op::Gt => ">",
        Op::Gte => ">=",
    }
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
/// Column types whose text form is equal exactly when PostgreSQL's `=` says so (with a
/// deterministic collation): an `eq`, `neq` or `in` condition on them is decided by
/// comparing texts, without any per-condition SQL (`numeric` keeps its scale in text,
/// floats have -0, `citext` ignores case: those stay with SQL).
const TEXT_EQUAL_TYPES: [&str; 10] = [
    "uuid",
    "text",
    "varchar",
    "int2",
    "int4",
    "int8",
    "bool",
    "date",
    "timestamp",
    "timestamptz",
];

/// The tables a listener's params name, and for each of its filters, when it names one
/// table: the equality's values in the column type's canonical text form (what
/// `column::text` of a row gives) if it is on a column of `TEXT_EQUAL_TYPES`, and the
/// column's type to cast values to.
pub struct Resolved {
    pub tables: Vec<(String, String)>,
    pub canonical: Vec<Option<Vec<String>>>,
    pub casts: Vec<Option<String>>,
}

pub async fn resolve(client: &Object, params: &Params) -> Result<Resolved, String> {
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
    let mut canonical = vec![None; params.filters.len()];
    let mut casts = vec![None; params.filters.len()];
    for (schema, table) in &tables {
        let table = table_ref(schema, table);
        for (index, filter) in params.filters.iter().enumerate() {
            let column = client
                .query_opt(
                    "select t.typname::text, coalesce(c.collisdeterministic, true), \
                     format_type(a.atttypid, a.atttypmod) \
                     from pg_attribute a join pg_type t on t.oid = a.atttypid \
                     left join pg_collation c on c.oid = a.attcollation \
                     where a.attrelid = $1::text::regclass \
                     and a.attname = $2 and a.attnum > 0 and not a.attisdropped",
                    &[&table, &filter.column],
                )
                .await
                .map_err(database_error)?;
            let Some(column) = column else {
                return Err(exception(format!(
                    "invalid column for filter {}",
                    filter.column
                )));
            };
            let (type_name, deterministic): (String, bool) = (column.get(0), column.get(1));
            // JSON values arrive as JSON text and take the row type's path.
            let cast: Option<String> =
                (tables.len() == 1 && !type_name.starts_with("json")).then(|| column.get(2));
            let by_text = tables.len() == 1
                && deterministic
                && TEXT_EQUAL_TYPES.contains(&type_name.as_str())
                && matches!(filter.op, Op::Eq | Op::Neq | Op::In);
            if by_text {
                let sql = format!(
                    "select array(select ({})::text from unnest($1::text[]) v)",
                    typed(&table, filter, "v")
                );
                let texts: Vec<String> = client
                    .query_one(&sql, &[&filter.values])
                    .await
                    .map_err(database_error)?
                    .get(0);
                canonical[index] = Some(texts);
            }
            // Evaluating the values proves they cast; planning the condition proves the
            // operator exists for the column's type.
            let probe = format!(
                "select {}, {}",
                typed_values(&table, filter, 1),
                filter_condition(
                    &table,
                    &format!("(null::{table})"),
                    filter,
                    1,
                    cast.as_deref()
                )
            );
            let value = filter_value(filter);
            client
                .query_one(&probe, &[value.as_ref() as &(dyn ToSql + Sync)])
                .await
                .map_err(database_error)?;
            casts[index] = cast;
        }
    }
    Ok(Resolved {
        tables,
        canonical,
        casts,
    })
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
        let sql = filter_condition("\"public\".\"t\"", "(r)", &filter, 3, None);
        assert!(sql.contains("(r).\"room\" = any"), "{sql}");
        assert!(sql.contains("unnest($3::text[])"), "{sql}");
        let filter = Filter {
            op: Op::Lte,
            ..filter
        };
        let sql = filter_condition("\"public\".\"t\"", "(r)", &filter, 2, None);
        assert!(sql.contains("<= (jsonb_populate_record"), "{sql}");
        assert!(sql.contains("$2::text"), "{sql}");
    }
}
