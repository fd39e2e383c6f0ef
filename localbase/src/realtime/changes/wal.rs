//! One wal2json (format 2) change row: what happened to which table, and when. The
//! column values stay in the raw text, which PostgreSQL itself turns into typed JSON, so
//! numbers keep their precision and every type looks as PostgREST shows it.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct WalChange {
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub action: &'static str,
    pub schema: String,
    pub table: String,
    /// Commit time as wal2json prints it (`2026-11-25 15:14:57.272721+00`).
    pub timestamp: String,
    /// Primary-key column names.
    pub primary_key: Vec<String>,
    /// The row exactly as wal2json wrote it.
    pub raw: String,
}

#[derive(Deserialize)]
struct Row {
    action: String,
    #[serde(default)]
    schema: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    pk: Vec<Named>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

impl WalChange {
    /// `None` for rows that are not row changes (transaction markers, truncates, messages).
    pub fn parse(raw: &str) -> Option<WalChange> {
        let row: Row = serde_json::from_str(raw).ok()?;
        let action = match row.action.as_str() {
            "I" => "INSERT",
            "U" => "UPDATE",
            "D" => "DELETE",
            _ => return None,
        };
        Some(WalChange {
            action,
            schema: row.schema,
            table: row.table,
            timestamp: row.timestamp,
            primary_key: row.pk.into_iter().map(|named| named.name).collect(),
            raw: raw.to_string(),
        })
    }
}

/// wal2json's `add-tables` list: `schema.table` pairs separated by commas, with its
/// special characters escaped by a backslash.
pub fn add_tables(tables: &[(String, String)]) -> String {
    let escape = |name: &str| {
        name.chars().fold(String::new(), |mut out, character| {
            if matches!(character, '\\' | ',' | '.' | '*' | ' ') {
                out.push('\\');
            }
            out.push(character);
            out
        })
    };
    tables
        .iter()
        .map(|(schema, table)| format!("{}.{}", escape(schema), escape(table)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_row_changes_and_skips_markers() {
        let raw = r#"{"action":"U","timestamp":"2026-11-25 15:14:57.273282+00","schema":"public","table":"exp","columns":[{"name":"id","type":"bigint","typeoid":20,"value":1}],"identity":[{"name":"id","type":"bigint","typeoid":20,"value":1}],"pk":[{"name":"id","type":"bigint","typeoid":20}]}"#;
        let change = WalChange::parse(raw).unwrap();
        assert_eq!(change.action, "UPDATE");
        assert_eq!(
            (change.schema.as_str(), change.table.as_str()),
            ("public", "exp")
        );
        assert_eq!(change.primary_key, vec!["id"]);
        assert_eq!(change.timestamp, "2026-11-25 15:14:57.273282+00");
        assert_eq!(change.raw, raw);
        assert!(WalChange::parse(r#"{"action":"B","timestamp":"x"}"#).is_none());
        assert!(WalChange::parse("not json").is_none());
    }

    #[test]
    fn add_tables_escapes_separators() {
        let tables = vec![
            ("public".to_string(), "messages".to_string()),
            ("my schema".to_string(), "a.b,c".to_string()),
        ];
        assert_eq!(add_tables(&tables), r"public.messages,my\ schema.a\.b\,c");
    }
}
