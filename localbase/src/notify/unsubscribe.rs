//! The one-click unsubscribe link of every digest: `GET` (a person clicking the link) or
//! `POST` (a mail client's "Unsubscribe" button, RFC 8058) with the person's secret token
//! turns their e-mail notifications off and says so in both languages.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use deadpool_postgres::Pool;
use serde::Deserialize;

pub const PATH: &str = "/notify/v1/unsubscribe";

#[derive(Deserialize)]
pub struct Token {
    #[serde(default)]
    token: String,
}

/// Mountable in any router (`S` is that router's state).
pub fn router<S: Clone + Send + Sync + 'static>(pool: Pool) -> Router<S> {
    Router::new()
        .route(PATH, get(unsubscribe).post(unsubscribe))
        .with_state(pool)
}

async fn unsubscribe(
    State(pool): State<Pool>,
    Query(Token { token }): Query<Token>,
) -> (StatusCode, Html<String>) {
    let valid = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let done = match (valid, pool.get().await) {
        (true, Ok(client)) => client
            .execute(
                "update public.profiles set email_notifications = false
                 where id = (select user_id from public.email_unsubscribe_tokens where token = $1)",
                &[&token],
            )
            .await
            .map(|updated| updated == 1),
        (true, Err(error)) => {
            tracing::warn!(%error, "unsubscribe: no database connection");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Опитайте отново след малко.",
                "Please try again in a moment.",
            );
        }
        (false, _) => Ok(false),
    };
    match done {
        Ok(true) => page(
            StatusCode::OK,
            "Отписахте се: няма да получавате известия по имейл от Coach Chat.",
            "You are unsubscribed: Coach Chat will not send you e-mail notifications.",
        ),
        Ok(false) => page(
            StatusCode::NOT_FOUND,
            "Тази връзка за отписване не е валидна.",
            "This unsubscribe link is not valid.",
        ),
        Err(error) => {
            tracing::warn!(%error, "unsubscribe failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Опитайте отново след малко.",
                "Please try again in a moment.",
            )
        }
    }
}

fn page(status: StatusCode, bg: &str, en: &str) -> (StatusCode, Html<String>) {
    (
        status,
        Html(format!(
            "<!doctype html><html lang=\"bg\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Coach Chat</title></head><body style=\"font-family:sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem\">\
             <h1>Coach Chat</h1><p>{bg}</p><p lang=\"en\">{en}</p></body></html>"
        )),
    )
}
