//! PostgREST calls the chat makes. Every call carries the user's token; the database's
//! row-level security decides what it may see and do.

use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::fetch::{call, Abort, REQUEST_TIMEOUT_MS};
use super::{encode_component, ApiError};
use crate::chat::model::{ConversationSummary, MessageRow};
use crate::config::Config;

/// How many messages a page of history holds (a conversation opens with at least one).
pub const HISTORY_PAGE: usize = 50;

pub(super) fn authorised(builder: RequestBuilder, config: &Config, token: &str) -> RequestBuilder {
    builder
        .header("apikey", &config.supabase_anon_key)
        .header("Authorization", &format!("Bearer {token}"))
}

pub(super) async fn get<T: DeserializeOwned>(
    config: &Config,
    token: &str,
    path: &str,
) -> Result<T, ApiError> {
    let url = format!("{}/rest/v1/{path}", config.supabase_url);
    let builder = authorised(Request::get(&url), config, token);
    call(builder, None, REQUEST_TIMEOUT_MS, Abort::new()).await
}

pub(super) async fn post<T: DeserializeOwned>(
    config: &Config,
    token: &str,
    path: &str,
    prefer: Option<&str>,
    body: &serde_json::Value,
    abort: Abort,
) -> Result<T, ApiError> {
    let url = format!("{}/rest/v1/{path}", config.supabase_url);
    let mut builder = authorised(Request::post(&url), config, token);
    if let Some(prefer) = prefer {
        builder = builder.header("Prefer", prefer);
    }
    call(builder, Some(body), REQUEST_TIMEOUT_MS, abort).await
}

pub async fn conversation_summaries(
    config: &Config,
    token: &str,
) -> Result<Vec<ConversationSummary>, ApiError> {
    post(
        config,
        token,
        "rpc/conversation_summaries",
        None,
        &json!({}),
        Abort::new(),
    )
    .await
}

/// Which of a conversation's messages to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rows {
    /// The newest this many.
    Newest(usize),
    /// The [`HISTORY_PAGE`] just before `(created_at, id)`: keyset pagination in the order
    /// of the `messages_conversation_created` index, so a page is an index scan however
    /// deep the history goes.
    Before(String, String),
    /// Those created or changed at or after this time (inclusive, so a message sharing the
    /// watermark's timestamp is not skipped; the store drops the overlap). Changed: an
    /// edit, deletion, receipt or reaction made while the reader was away.
    Since(String),
}

/// Messages of a conversation, oldest first. (One request function for every kind of
/// read: each caller awaits the same code.)
pub async fn messages(
    config: &Config,
    token: &str,
    conversation_id: &str,
    which: &Rows,
) -> Result<Vec<MessageRow>, ApiError> {
    let (filter, newest_first, limit) = match which {
        Rows::Newest(count) => (String::new(), true, *count),
        Rows::Before(created_at, id) => {
            let before = format!(
                "(created_at.lt.\"{created_at}\",and(created_at.eq.\"{created_at}\",id.lt.{id}))"
            );
            (
                format!("&or={}", encode_component(&before)),
                true,
                HISTORY_PAGE,
            )
        }
        // New since, or changed since (edited, deleted, read, reacted to).
        Rows::Since(since) => (
            format!(
                "&or={}",
                encode_component(&format!(
                    "(created_at.gte.\"{since}\",updated_at.gte.\"{since}\")"
                ))
            ),
            false,
            1000,
        ),
    };
    let order = if newest_first { "desc" } else { "asc" };
    let path = format!(
        "messages?select=*&conversation_id=eq.{}{filter}&order=created_at.{order},id.{order}&limit={limit}",
        encode_component(conversation_id)
    );
    let mut rows: Vec<MessageRow> = get(config, token, &path).await?;
    if newest_first {
        rows.reverse();
    }
    Ok(rows)
}

/// Stores a message. Idempotent: the client-made id makes a retry a no-op, and the
/// stored row is returned either way. `abort` cuts the attempt short (it is retried).
pub async fn insert_message(
    config: &Config,
    token: &str,
    row: &MessageRow,
    abort: Abort,
) -> Result<MessageRow, ApiError> {
    let mut body =
        json!({ "id": row.id, "conversation_id": row.conversation_id, "body": row.body });
    if let Some(original) = &row.reply_to {
        body["reply_to"] = json!(original);
    }
    let inserted: Vec<MessageRow> = post(
        config,
        token,
        "messages",
        Some("return=representation,resolution=ignore-duplicates"),
        &body,
        abort,
    )
    .await?;
    if let Some(row) = inserted.into_iter().next() {
        return Ok(row);
    }
    // Already stored by an earlier attempt: read it back.
    stored_message(config, token, &row.id)
        .await?
        .ok_or_else(|| ApiError::Decode("message neither inserted nor found".into()))
}

/// The stored row of a message, if the database has it (and lets us see it).
pub async fn stored_message(
    config: &Config,
    token: &str,
    id: &str,
) -> Result<Option<MessageRow>, ApiError> {
    let path = format!("messages?select=*&id=eq.{}", encode_component(id));
    let rows: Vec<MessageRow> = get(config, token, &path).await?;
    Ok(rows.into_iter().next())
}

/// The stored rows of messages of a conversation, by id (to confirm broadcasts).
pub async fn messages_by_id(
    config: &Config,
    token: &str,
    conversation_id: &str,
    ids: &[String],
) -> Result<Vec<MessageRow>, ApiError> {
    let list = ids
        .iter()
        .map(|id| encode_component(id))
        .collect::<Vec<_>>()
        .join(",");
    let path = format!(
        "messages?select=*&conversation_id=eq.{}&id=in.({list})",
        encode_component(conversation_id)
    );
    get(config, token, &path).await
}

/// Marks the other person's messages in a conversation read, up to and including the one
/// with id `up_to` (the newest the reader has seen); returns their ids.
pub async fn mark_conversation_read(
    config: &Config,
    token: &str,
    conversation_id: &str,
    up_to: &str,
) -> Result<Vec<String>, ApiError> {
    post(
        config,
        token,
        "rpc/mark_conversation_read",
        None,
        &json!({ "conversation": conversation_id, "up_to": up_to }),
        Abort::new(),
    )
    .await
}

/// Tells the server the person is here: their `last_seen_at` becomes now (by the
/// server's clock), as the people they talk to see it.
pub async fn touch_last_seen(config: &Config, token: &str) -> Result<(), ApiError> {
    post::<serde_json::Value>(
        config,
        token,
        "rpc/touch_last_seen",
        None,
        &json!({}),
        Abort::new(),
    )
    .await
    .map(drop)
}

/// The language the person's e-mails are written in (`bg` or `en`): the app's.
pub async fn set_language(
    config: &Config,
    token: &str,
    user_id: &str,
    lang_tag: &str,
) -> Result<(), ApiError> {
    patch_profile(config, token, user_id, &json!({ "language": lang_tag })).await
}

/// Changes columns of the person's own profile (row-level security keeps it to theirs).
pub(super) async fn patch_profile(
    config: &Config,
    token: &str,
    user_id: &str,
    changes: &serde_json::Value,
) -> Result<(), ApiError> {
    let url = format!(
        "{}/rest/v1/profiles?id=eq.{}",
        config.supabase_url,
        encode_component(user_id)
    );
    let builder =
        authorised(Request::patch(&url), config, token).header("Prefer", "return=minimal");
    call::<serde_json::Value>(builder, Some(changes), REQUEST_TIMEOUT_MS, Abort::new())
        .await
        .map(drop)
}

/// Edits (`Some(text)`) or deletes (`None`) one of the person's messages; the database
/// dates it and checks it is theirs and, for an edit, at most 15 minutes old. Answers the
/// stored row, or `None` when there is no such message to change.
pub async fn change_message(
    config: &Config,
    token: &str,
    id: &str,
    body: Option<&str>,
    abort: Abort,
) -> Result<Option<MessageRow>, ApiError> {
    let url = format!(
        "{}/rest/v1/messages?id=eq.{}&select=*",
        config.supabase_url,
        encode_component(id)
    );
    let changes = match body {
        Some(body) => json!({ "body": body }),
        // The database writes its own time; a timestamp is only what the column takes.
        None => json!({ "deleted_at": crate::browser::now_iso() }),
    };
    let builder =
        authorised(Request::patch(&url), config, token).header("Prefer", "return=representation");
    let rows: Vec<MessageRow> = call(builder, Some(&changes), REQUEST_TIMEOUT_MS, abort).await?;
    Ok(rows.into_iter().next())
}

/// Mutes or unmutes (`mute`), pins or unpins (`pin`) a conversation for the person;
/// `None` leaves that setting as it is.
pub async fn set_conversation_settings(
    config: &Config,
    token: &str,
    conversation_id: &str,
    mute: Option<bool>,
    pin: Option<bool>,
) -> Result<(), ApiError> {
    let args = json!({ "conversation": conversation_id, "mute": mute, "pin": pin });
    post::<serde_json::Value>(
        config,
        token,
        "rpc/set_conversation_settings",
        None,
        &args,
        Abort::new(),
    )
    .await
    .map(drop)
}

/// The person's reaction to a message (`None`: none). Says what it should be, so a
/// retry changes nothing.
pub async fn set_reaction(
    config: &Config,
    token: &str,
    message_id: &str,
    emoji: Option<&str>,
) -> Result<(), ApiError> {
    let args = json!({ "message": message_id, "emoji": emoji });
    post::<serde_json::Value>(config, token, "rpc/set_reaction", None, &args, Abort::new())
        .await
        .map(drop)
}

/// Messages of the person's conversations whose text contains `query` (any case), newest
/// first, at most 50.
pub async fn search_messages(
    config: &Config,
    token: &str,
    query: &str,
) -> Result<Vec<MessageRow>, ApiError> {
    let args = json!({ "query": query });
    post(
        config,
        token,
        "rpc/search_messages",
        None,
        &args,
        Abort::new(),
    )
    .await
}
