//! The schema cache: tables, columns and functions of `public`, read from PostgreSQL's
//! catalogue. Every identifier in a request must be found here before it reaches SQL.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;

use crate::error::Result;

#[derive(Debug, Default, Clone)]
pub struct Catalog {
    /// table → column → SQL type (as `format_type` prints it)
    pub tables: HashMap<String, HashMap<String, String>>,
    /// table → column → default expression (as `pg_get_expr` prints it). These are SQL the
    /// database itself holds, never request data.
    pub defaults: HashMap<String, HashMap<String, String>>,
    /// table → primary-key columns, in key order.
    pub primary_keys: HashMap<String, Vec<String>>,
    pub foreign_keys: Vec<ForeignKey>,
    pub functions: HashMap<String, Function>,
}

/// `table(columns) references referenced(referenced_columns)`, both in `public`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub table: String,
    pub columns: Vec<String>,
    pub referenced: String,
    pub referenced_columns: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Function {
    /// (name, SQL type) of each input argument, in order.
    pub args: Vec<(String, String)>,
    /// Number of trailing arguments with defaults (they may be left out).
    pub optional_args: usize,
    pub returns_set: bool,
    /// `volatile` functions may write; PostgREST refuses them over GET.
    pub volatile: bool,
    /// Output columns of `returns table (…)` / `out` arguments: name → SQL type.
    pub columns: HashMap<String, String>,
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
        catalog.load_keys(client).await?;
        catalog.load_functions(client).await?;
        Ok(catalog)
    }

    async fn load_keys(&mut self, client: &impl GenericClient) -> Result<()> {
        let defaults = client
            .query(
                "select c.relname::text, a.attname::text, pg_get_expr(d.adbin, d.adrelid)
                 from pg_attrdef d
                 join pg_class c on c.oid = d.adrelid
                 join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum = d.adnum
                 where n.nspname = 'public' and a.attgenerated = ''",
                &[],
            )
            .await?;
        for row in defaults {
            self.defaults
                .entry(row.get(0))
                .or_default()
                .insert(row.get(1), row.get(2));
        }
        // Column lists in key order (`unnest … with ordinality` keeps conkey's order).
        let constraints = client
            .query(
                "select k.contype::text, k.conname::text, c.relname::text,
                        array(select a.attname::text from unnest(k.conkey) with ordinality u(num, i)
                              join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.num
                              order by u.i),
                        coalesce(r.relname::text, ''),
                        array(select a.attname::text from unnest(coalesce(k.confkey, '{}')) with ordinality u(num, i)
                              join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.num
                              order by u.i)
                 from pg_constraint k
                 join pg_class c on c.oid = k.conrelid
                 join pg_namespace n on n.oid = c.relnamespace
                 left join pg_class r on r.oid = k.confrelid
                 left join pg_namespace rn on rn.oid = r.relnamespace
                 where n.nspname = 'public' and k.contype in ('p', 'f')
                   and (k.contype = 'p' or rn.nspname = 'public')
                 order by k.conname",
                &[],
            )
            .await?;
        for row in constraints {
            let kind: String = row.get(0);
            if kind == "p" {
                self.primary_keys.insert(row.get(2), row.get(3));
            } else {
                self.foreign_keys.push(ForeignKey {
                    name: row.get(1),
                    table: row.get(2),
                    columns: row.get(3),
                    referenced: row.get(4),
                    referenced_columns: row.get(5),
                });
            }
        }
        Ok(())
    }

    async fn load_functions(&mut self, client: &impl GenericClient) -> Result<()> {
        let functions = client
            .query(
                "select p.proname::text,
                        coalesce(p.proargnames, array[]::text[]),
                        coalesce(p.proargmodes::text[], array[]::text[]),
                        array(select format_type(t, null) from unnest(p.proallargtypes) t)::text[],
                        array(select format_type(t, null) from unnest(p.proargtypes) t)::text[],
                        p.proretset, p.provolatile = 'v', p.pronargdefaults::int4
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
            let mut function = Function {
                returns_set: row.get(5),
                volatile: row.get(6),
                optional_args: usize::try_from(row.get::<_, i32>(7)).unwrap_or(0),
                ..Function::default()
            };
            // Without modes every argument is an input; with them, `i`, `b` and `v` are
            // inputs and `o`, `b` and `t` are output columns.
            if modes.is_empty() {
                function.args = names.into_iter().zip(in_types).collect();
            } else {
                for ((name, sql_type), mode) in names.into_iter().zip(all_types).zip(modes) {
                    if matches!(mode.as_str(), "o" | "b" | "t") {
                        function.columns.insert(name.clone(), sql_type.clone());
                    }
                    if matches!(mode.as_str(), "i" | "b" | "v") {
                        function.args.push((name, sql_type));
                    }
                }
            }
            self.functions.insert(row.get(0), function);
        }
        Ok(())
    }
}
