//! Private-channel authorisation, decided by the `realtime.messages` policies evaluated
//! as the user, the way Supabase Realtime does it: probe rows are written and read back
//! as the user inside a transaction that is always rolled back.

use deadpool_postgres::Pool;

use crate::error::Result;
use crate::jwt::Claims;

/// What a user may do on a private topic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    pub read_broadcast: bool,
    pub read_presence: bool,
    pub write_broadcast: bool,
    pub write_presence: bool,
}

impl Permissions {
    pub fn can_read(&self) -> bool {
        self.read_broadcast || self.read_presence
    }
}

/// Evaluates the read policies for both extensions and the broadcast write policy.
pub async fn permissions(pool: &Pool, claims: &Claims, sub_topic: &str) -> Result<Permissions> {
    let mut client = pool.get().await?;
    let mut tx = client.transaction().await?;
    let probes = tx
        .query(
            "insert into realtime.messages (topic, extension, private, event, payload) \
             values ($1, 'broadcast', true, 'localbase_probe', '{}'), \
                    ($1, 'presence', true, 'localbase_probe', '{}') \
             returning id, extension",
            &[&sub_topic],
        )
        .await?;
    let ids: Vec<uuid::Uuid> = probes.iter().map(|row| row.get(0)).collect();
    let claims_json = claims.raw.to_string();
    tx.execute(
        "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), \
                set_config('realtime.topic', $3, true)",
        &[&claims.database_role(), &claims_json, &sub_topic],
    )
    .await?;
    let visible = tx
        .query(
            "select extension from realtime.messages where id = any($1)",
            &[&ids],
        )
        .await?;
    let mut permissions = Permissions::default();
    for row in visible {
        match row.get::<_, &str>(0) {
            "broadcast" => permissions.read_broadcast = true,
            "presence" => permissions.read_presence = true,
            _ => {}
        }
    }
    for extension in ["broadcast", "presence"] {
        let savepoint = tx.savepoint("write_probe").await?;
        let allowed = savepoint
            .execute(
                "insert into realtime.messages (topic, extension, private, event, payload) \
                 values ($1, $2, true, 'localbase_probe', '{}')",
                &[&sub_topic, &extension],
            )
            .await
            .is_ok();
        drop(savepoint);
        match extension {
            "broadcast" => permissions.write_broadcast = allowed,
            _ => permissions.write_presence = allowed,
        }
    }
    tx.rollback().await?;
    Ok(permissions)
}
