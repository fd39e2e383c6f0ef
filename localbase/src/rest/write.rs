//! INSERT (with upsert), UPDATE and DELETE. The request body is bound as one JSON text
//! parameter and unpacked by PostgreSQL into the table's row type, so values never touch
//! the SQL text; column names are checked against the catalogue first.

use super::catalog::Catalog;
use super::query::Query;
use super::select::Item;
use super::sql::{quote, quote_literal, Builder, Param, Statement, Table};
use super::RestError;

/// How an insert treats rows whose key already exists (`Prefer: resolution=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    Fail,
    Ignore,
    Merge,
}

/// What an insert asks for beyond the rows themselves.
#[derive(Debug, Clone, Copy)]
pub struct InsertOptions {
    pub on_conflict: OnConflict,
    /// `Prefer: missing=default`: keys absent from a row take the column default, not null.
    pub missing_default: bool,
}

/// Body columns must exist: PostgREST answers PGRST204 otherwise.
fn check_body_columns(table: &Table, columns: &[String]) -> Result<(), RestError> {
    match columns.iter().find(|c| !table.columns.contains_key(*c)) {
        Some(missing) => Err(RestError::unknown_body_column(table.name, missing)),
        None => Ok(()),
    }
}

fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Wraps a data-modifying statement (allowed only in a top-level WITH) into the answer row.
/// Without `rows` (`return=minimal`, the default) nothing is read back, as PostgREST does:
/// a writer needs no SELECT privilege on columns it does not ask for.
fn answer(
    builder: &mut Builder,
    table: &Table,
    query: &Query,
    write: &str,
    rows: bool,
) -> Result<(), RestError> {
    if !rows {
        builder.statement.sql = format!(
            "with _written as ({write} returning 1) select '[]', count(*), count(*) from _written"
        );
        return Ok(());
    }
    let alias = builder.alias();
    let returning = builder.select_list(table, &alias, query.select.as_deref())?;
    // Only the columns asked for, when they are plain columns (PostgREST's RETURNING): the
    // writer may read those and not others; embeds and `*` need the whole row.
    let columns: Option<Vec<String>> = query.select.as_deref().and_then(|items| {
        items
            .iter()
            .map(|item| match item {
                Item::Column { name, .. } if table.columns.contains_key(name) => Some(quote(name)),
                _ => None,
            })
            .collect()
    });
    let read = columns.map_or_else(|| "*".to_string(), |columns| columns.join(", "));
    builder.statement.sql = format!(
        "with _written as ({write} returning {read}) \
         select coalesce(json_agg(_row), '[]')::text, count(*), count(*) \
         from (select {returning} from _written {alias}) _row"
    );
    Ok(())
}

/// `body` (a JSON array of objects) is bound as the last parameter by the caller.
pub fn insert(
    catalog: &Catalog,
    table: &Table,
    query: &Query,
    columns: &[String],
    options: InsertOptions,
    rows: bool,
) -> Result<Statement, RestError> {
    check_body_columns(table, columns)?;
    let list = column_list(columns);
    let conflict = conflict_clause(catalog, table, query, columns, options.on_conflict)?;
    let mut builder = Builder::new(catalog);
    let n = builder.bind(Param::Text(String::new()));
    let write = if options.missing_default {
        let defaults = catalog.defaults.get(table.name);
        let values = columns
            .iter()
            .map(|column| {
                let fallback = defaults
                    .and_then(|d| d.get(column))
                    .cloned()
                    .unwrap_or_else(|| "null".into());
                format!(
                    "case when _json ? {} then _record.{} else {fallback} end",
                    quote_literal(column),
                    quote(column)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "insert into {table} ({list}) select {values} \
             from jsonb_array_elements(${n}::text::jsonb) _json \
             cross join lateral jsonb_populate_record(null::{table}, _json) _record{conflict}",
            table = table.qualified()
        )
    } else {
        format!(
            "insert into {table} ({list}) select {list} \
             from json_populate_recordset(null::{table}, ${n}::text::json){conflict}",
            table = table.qualified()
        )
    };
    answer(&mut builder, table, query, &write, rows)?;
    Ok(builder.statement)
}

/// `on conflict …` for upserts: the `on_conflict` columns, else the primary key.
fn conflict_clause(
    catalog: &Catalog,
    table: &Table,
    query: &Query,
    columns: &[String],
    on_conflict: OnConflict,
) -> Result<String, RestError> {
    if on_conflict == OnConflict::Fail {
        return Ok(String::new());
    }
    let keys: &[String] = match &query.on_conflict {
        Some(keys) => keys,
        None => catalog
            .primary_keys
            .get(table.name)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    };
    for key in keys {
        table.column_type(key)?;
    }
    let target = if keys.is_empty() {
        String::new()
    } else {
        format!(" ({})", column_list(keys))
    };
    Ok(match on_conflict {
        OnConflict::Fail => String::new(),
        OnConflict::Ignore => format!(" on conflict{target} do nothing"),
        OnConflict::Merge if target.is_empty() => {
            return Err(RestError::parse(format!(
                "merge-duplicates needs on_conflict or a primary key on {}",
                table.name
            )))
        }
        OnConflict::Merge => {
            let updates = columns
                .iter()
                .map(|c| format!("{0} = excluded.{0}", quote(c)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(" on conflict{target} do update set {updates}")
        }
    })
}

/// `body` (one JSON object) is bound as the last parameter by the caller.
pub fn update(
    catalog: &Catalog,
    table: &Table,
    query: &Query,
    columns: &[String],
    rows: bool,
) -> Result<Statement, RestError> {
    check_body_columns(table, columns)?;
    let mut builder = Builder::new(catalog);
    let alias = builder.alias();
    let filters = builder.where_clause(table, &alias, &query.filters)?;
    let n = builder.bind(Param::Text(String::new()));
    let list = column_list(columns);
    let write = format!(
        "update {table} {alias} set ({list}) = (select {list} \
         from json_populate_record(null::{table}, ${n}::text::json)){filters}",
        table = table.qualified()
    );
    answer(&mut builder, table, query, &write, rows)?;
    Ok(builder.statement)
}

pub fn delete(
    catalog: &Catalog,
    table: &Table,
    query: &Query,
    rows: bool,
) -> Result<Statement, RestError> {
    let mut builder = Builder::new(catalog);
    let alias = builder.alias();
    let filters = builder.where_clause(table, &alias, &query.filters)?;
    let write = format!("delete from {} {alias}{filters}", table.qualified());
    answer(&mut builder, table, query, &write, rows)?;
    Ok(builder.statement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::sql::tests::{catalog, query};

    fn options(on_conflict: OnConflict) -> InsertOptions {
        InsertOptions {
            on_conflict,
            missing_default: false,
        }
    }

    #[test]
    fn ignore_duplicates_becomes_on_conflict_do_nothing() {
        let catalog = catalog();
        let table = Table {
            name: "messages",
            columns: &catalog.tables["messages"],
        };
        let columns = ["id".to_string(), "body".to_string()];
        let statement = insert(
            &catalog,
            &table,
            &query(&[]),
            &columns,
            options(OnConflict::Ignore),
            true,
        )
        .unwrap();
        assert!(statement.sql.contains(" on conflict do nothing"));
        assert!(statement
            .sql
            .contains("insert into public.\"messages\" (\"id\", \"body\")"));
    }

    #[test]
    fn merge_uses_on_conflict_or_the_primary_key() {
        let mut catalog = catalog();
        let columns = ["id".to_string(), "body".to_string()];
        let merge = |catalog: &Catalog, q: &Query| {
            let table = Table {
                name: "messages",
                columns: &catalog.tables["messages"],
            };
            insert(
                catalog,
                &table,
                q,
                &columns,
                options(OnConflict::Merge),
                true,
            )
        };
        assert!(merge(&catalog, &query(&[])).is_err(), "no key to merge on");
        catalog
            .primary_keys
            .insert("messages".into(), vec!["id".into()]);
        let sql = merge(&catalog, &query(&[])).unwrap().sql;
        assert!(sql.contains(
            "on conflict (\"id\") do update set \"id\" = excluded.\"id\", \"body\" = excluded.\"body\""
        ));
        let hostile = query(&[("on_conflict", "id\"); drop table x; --")]);
        assert_eq!(merge(&catalog, &hostile).unwrap_err().code, "42703");
    }

    #[test]
    fn unknown_body_columns_are_pgrst204_and_defaults_come_from_the_catalogue() {
        let mut catalog = catalog();
        catalog.defaults.insert(
            "messages".into(),
            [("created_at".to_string(), "now()".to_string())].into(),
        );
        let table = Table {
            name: "messages",
            columns: &catalog.tables["messages"],
        };
        let hostile = ["body".to_string(), "x'); drop table y; --".to_string()];
        let error = insert(
            &catalog,
            &table,
            &query(&[]),
            &hostile,
            options(OnConflict::Fail),
            true,
        )
        .unwrap_err();
        assert_eq!(error.code, "PGRST204");
        let columns = ["body".to_string(), "created_at".to_string()];
        let statement = insert(
            &catalog,
            &table,
            &query(&[]),
            &columns,
            InsertOptions {
                on_conflict: OnConflict::Fail,
                missing_default: true,
            },
            true,
        )
        .unwrap();
        assert!(statement
            .sql
            .contains("case when _json ? 'created_at' then _record.\"created_at\" else now() end"));
        assert!(statement
            .sql
            .contains("case when _json ? 'body' then _record.\"body\" else null end"));
        let update_error = update(&catalog, &table, &query(&[]), &hostile, true).unwrap_err();
        assert_eq!(update_error.code, "PGRST204");
    }

    #[test]
    fn a_write_without_return_reads_nothing_back() {
        let catalog = catalog();
        let table = Table {
            name: "messages",
            columns: &catalog.tables["messages"],
        };
        let body = ["body".to_string()];
        let quiet = update(&catalog, &table, &query(&[]), &body, false).unwrap();
        assert!(
            quiet.sql.contains("returning 1) select '[]'"),
            "{}",
            quiet.sql
        );
        let answered = update(&catalog, &table, &query(&[]), &body, true).unwrap();
        assert!(answered.sql.contains("returning *"), "{}", answered.sql);
        let some = update(&catalog, &table, &query(&[("select", "id")]), &body, true).unwrap();
        assert!(some.sql.contains("returning \"id\")"), "{}", some.sql);
    }
}
