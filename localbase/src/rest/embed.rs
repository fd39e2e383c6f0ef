//! Embedded resources: `select=*,sender:profiles(full_name)` follows a foreign key from the
//! row to one related row (an object, or null), or from related rows back to it (an array).
//! The related rows are read in the same statement, so row-level security applies to them.

use super::catalog::ForeignKey;
use super::select::Embed;
use super::sql::{quote, Builder, Table};
use super::RestError;

/// Which way the foreign key points, seen from the row being read.
enum Direction {
    /// The row holds the key: at most one related row.
    ToOne,
    /// The related rows hold the key: any number of them.
    ToMany,
}

impl Builder<'_> {
    /// The select-list entry for one embed over the parent row `parent_alias`.
    pub fn embed(
        &mut self,
        parent: &Table,
        parent_alias: &str,
        embed: &Embed,
    ) -> Result<String, RestError> {
        let catalog = self.catalog;
        let columns = catalog
            .tables
            .get(&embed.table)
            .ok_or_else(|| RestError::no_relationship(parent.name, &embed.table))?;
        let (key, direction) = relationship(&catalog.foreign_keys, parent.name, embed)?;
        let child = Table {
            name: &embed.table,
            columns,
        };
        let alias = self.alias();
        let inner = self.select_list(&child, &alias, Some(&embed.select))?;
        // Pairs of (column on the parent row, column on the related row).
        let pairs: Vec<(&String, &String)> = match direction {
            Direction::ToOne => key.columns.iter().zip(&key.referenced_columns).collect(),
            Direction::ToMany => key.referenced_columns.iter().zip(&key.columns).collect(),
        };
        let join = pairs
            .iter()
            .map(|(parent_column, child_column)| {
                format!(
                    "{alias}.{} = {parent_alias}.{}",
                    quote(child_column),
                    quote(parent_column)
                )
            })
            .collect::<Vec<_>>()
            .join(" and ");
        let rows = format!(
            "select {inner} from {} {alias} where {join}",
            child.qualified()
        );
        let label = quote(embed.alias.as_deref().unwrap_or(&embed.table));
        Ok(match direction {
            Direction::ToOne => format!("(select row_to_json(_e) from ({rows}) _e) as {label}"),
            Direction::ToMany => {
                format!("(select coalesce(json_agg(_e), '[]') from ({rows}) _e) as {label}")
            }
        })
    }
}

/// The one foreign key between `parent` and the embedded table, narrowed by the hint (a
/// constraint name or a key column). None is PGRST200, several are PGRST201.
fn relationship<'k>(
    keys: &'k [ForeignKey],
    parent: &str,
    embed: &Embed,
) -> Result<(&'k ForeignKey, Direction), RestError> {
    let matches_hint = |key: &ForeignKey| match &embed.hint {
        None => true,
        Some(hint) => key.name == *hint || key.columns == [hint.clone()],
    };
    let mut found: Vec<(&ForeignKey, Direction)> = Vec::new();
    for key in keys.iter().filter(|key| matches_hint(key)) {
        if key.table == parent && key.referenced == embed.table {
            found.push((key, Direction::ToOne));
        } else if key.table == embed.table && key.referenced == parent {
            found.push((key, Direction::ToMany));
        }
    }
    match found.len() {
        0 => Err(RestError::no_relationship(parent, &embed.table)),
        1 => Ok(found.remove(0)),
        _ => Err(RestError::ambiguous_relationship(parent, &embed.table)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::catalog::Catalog;
    use crate::rest::sql::{select, tests::query};

    fn chat() -> Catalog {
        let mut catalog = Catalog::default();
        let table = |columns: &[&str]| {
            columns
                .iter()
                .map(|c| (c.to_string(), "uuid".to_string()))
                .collect()
        };
        catalog
            .tables
            .insert("profiles".into(), table(&["id", "full_name"]));
        catalog.tables.insert(
            "conversations".into(),
            table(&["id", "trainer_id", "client_id"]),
        );
        catalog.tables.insert(
            "messages".into(),
            table(&["id", "conversation_id", "sender_id"]),
        );
        let key = |name: &str, table: &str, column: &str, referenced: &str| ForeignKey {
            name: name.into(),
            table: table.into(),
            columns: vec![column.into()],
            referenced: referenced.into(),
            referenced_columns: vec!["id".into()],
        };
        catalog.foreign_keys = vec![
            key(
                "messages_sender_id_fkey",
                "messages",
                "sender_id",
                "profiles",
            ),
            key(
                "messages_conversation_id_fkey",
                "messages",
                "conversation_id",
                "conversations",
            ),
            key(
                "conversations_trainer_id_fkey",
                "conversations",
                "trainer_id",
                "profiles",
            ),
            key(
                "conversations_client_id_fkey",
                "conversations",
                "client_id",
                "profiles",
            ),
        ];
        catalog
    }

    fn read(catalog: &Catalog, table: &str, select_value: &str) -> Result<String, RestError> {
        let table = Table {
            name: table,
            columns: &catalog.tables[table],
        };
        select(catalog, &table, &query(&[("select", select_value)]), false).map(|s| s.sql)
    }

    #[test]
    fn to_one_and_to_many_follow_the_foreign_key() {
        let catalog = chat();
        let sql = read(&catalog, "messages", "id,sender:profiles(full_name)").unwrap();
        assert!(sql.contains(
            "(select row_to_json(_e) from (select _t1.\"full_name\" from public.\"profiles\" _t1 where _t1.\"id\" = _t0.\"sender_id\") _e) as \"sender\""
        ), "{sql}");
        let sql = read(&catalog, "conversations", "id,messages(id)").unwrap();
        assert!(sql.contains("json_agg(_e)"), "{sql}");
        assert!(
            sql.contains("_t1.\"conversation_id\" = _t0.\"id\""),
            "{sql}"
        );
    }

    #[test]
    fn hints_pick_one_of_several_keys() {
        let catalog = chat();
        let error = read(&catalog, "conversations", "profiles(full_name)").unwrap_err();
        assert_eq!(error.code, "PGRST201");
        let sql = read(
            &catalog,
            "conversations",
            "client:profiles!client_id(full_name)",
        )
        .unwrap();
        assert!(sql.contains("_t1.\"id\" = _t0.\"client_id\""), "{sql}");
        let sql = read(
            &catalog,
            "conversations",
            "t:profiles!conversations_trainer_id_fkey(full_name)",
        )
        .unwrap();
        assert!(sql.contains("_t1.\"id\" = _t0.\"trainer_id\""), "{sql}");
    }

    #[test]
    fn unknown_or_unrelated_tables_and_hostile_hints_are_refused() {
        let catalog = chat();
        for select_value in [
            "nothing(id)",
            "profiles!\"x; drop\"(id)",
            "pg_authid(rolname)",
            "profiles(secret)",
        ] {
            let error = read(&catalog, "messages", select_value).unwrap_err();
            assert!(
                error.code == "PGRST200" || error.code == "42703" || error.code == "PGRST100",
                "{select_value}: {}",
                error.code
            );
        }
    }
}
