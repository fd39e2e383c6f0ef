//! Delivers broadcasts written by the database (`realtime.send`) to subscribers: the
//! insert trigger announces each row's id with NOTIFY, and this task reads the row and
//! publishes it on its topic. Reconnects on its own when PostgreSQL goes away.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_postgres::{AsyncMessage, NoTls};

use super::binary::{UserBroadcast, UserPayload};
use super::hub::TopicKey;
use crate::AppState;

pub async fn run(state: Arc<AppState>, database_url: String) {
    super::reconnect::run_until_shutdown(&state, "database broadcast listener", |_| async {
        let result = listen(&state, &database_url).await;
        state.listening.set(false);
        result
    })
    .await;
}

async fn listen(state: &Arc<AppState>, database_url: &str) -> Result<(), crate::error::Error> {
    let (client, mut connection) = tokio_postgres::connect(database_url, NoTls).await?;
    let (notify_tx, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(note)) => {
                    if notify_tx.send(note.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    });
    client.batch_execute("listen localbase_realtime").await?;
    state.listening.set(true);
    let mut shutdown = state.shutdown.subscribe();
    loop {
        let id = tokio::select! {
            id = notifications.recv() => id,
            _ = shutdown.changed() => return Ok(()),
        };
        let Some(id) = id else {
            // The connection ended: surface its error so the caller reconnects.
            return match driver.await {
                Ok(Err(error)) => Err(error.into()),
                _ => Ok(client.batch_execute("select 1").await?),
            };
        };
        let Ok(id) = id.parse::<uuid::Uuid>() else {
            continue;
        };
        let row = client
            .query_opt(
                "select topic, event, payload, coalesce(private, false) from realtime.messages where id = $1",
                &[&id],
            )
            .await?;
        let Some(row) = row else { continue };
        let topic: String = row.get(0);
        let event: Option<String> = row.get(1);
        let payload: Option<Value> = row.get(2);
        let key = TopicKey {
            private: row.get(3),
            topic: format!("realtime:{topic}"),
        };
        // Hosted Realtime fans database rows out as user broadcasts with `{"id": …}`
        // metadata: kind-4 binary frames for v2 sockets, JSON for v1.
        let broadcast = UserBroadcast {
            event: event.unwrap_or_default(),
            meta: json!({ "id": id }).to_string(),
            payload: UserPayload::Json(payload.unwrap_or(json!({})).to_string().into_bytes()),
        };
        state.hub.publish_user(&key, &broadcast, None);
    }
}
