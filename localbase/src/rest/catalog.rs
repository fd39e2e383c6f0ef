//! The schema cache: tables, columns and functions of `public`, read from PostgreSQL's
//! catalogue. Every identifier in a request must be found here before it reaches SQL.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;

use crate::error::Result;

#[derive(Debug, Default, Clone)]
pub struct Catalog {
    /// table → column → SQL type (as `format_type` prints it)
    pub tables: HashMap<String, HashMap<String, String>>,
    pub functions: HashMap<String, Function>,
}

#[derive(Debug, Clone)]
pub struct Function {
    /// (name, SQL type) of each input argument, in order.
    pub args: Vec<(String, String)>,
    pub returns_set: bool,
}

impl Catalog {
    pub async fn load(client: &impl GenericClient) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        let columns = client
            .query(
                "select c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
                 from pg_class c
                 join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid
                 where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')
                   and a.attnum > 0 and not a.attisdropped",
                &[],
            )
            .await?;
        for row in columns {
            catalog
                .tables
                .entry(row.get(0))
                .or_default()
                .insert(row.get(1), row.get(2));
        }
        let functions = client
            .query(
                "select p.proname::text,
                        coalesce(p.proargnames, array[]::text[]),
                        coalesce(p.proargmodes::text[], array[]::text[]),
                        array(select format_type(t, null) from unnest(p.proallargtypes) t)::text[],
                        array(select format_type(t, null) from unnest(p.proargtypes) t)::text[],
                        p.proretset
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                 where n.nspname = 'public' and p.prokind = 'f'",
                &[],
            )
            .await?;
        for row in functions {
            let names: Vec<String> = row.get(1);
            let modes: Vec<String> = row.get(2);
            let all_types: Vec<String> = row.get(3);
            let in_types: Vec<String> = row.get(4);
            // Without modes every argument is an input; with them, keep `i`, `b` and `v`.
            let args = if modes.is_empty() {
                names.into_iter().zip(in_types).collect()
            } else {
                names
                    .into_iter()
                    .zip(all_types)
                    .zip(modes)
                    .filter(|(_, mode)| matches!(mode.as_str(), "i" | "b" | "v"))
                    .map(|(arg, _)| arg)
                    .collect()
            };
            catalog.functions.insert(
                row.get(0),
                Function {
                    args,
                    returns_set: row.get(5),
                },
            );
        }
        Ok(catalog)
    }
}
