//! The API gateway's part: the `apikey` check in front of Auth and REST, and reading the
//! key and the bearer token from a request (REST turns them into a `Caller`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::jwt::now;
use crate::AppState;

/// The key from the `apikey` header or query parameter, as the hosted gateway reads it.
pub fn api_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(key) = headers.get("apikey").and_then(|v| v.to_str().ok()) {
        return Some(key.to_string());
    }
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "apikey")
        .map(|(_, value)| value.into_owned())
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// Gateway check in front of `/auth/v1` and `/rest/v1`: a request must carry a key that
/// this server signed. CORS preflights carry none and pass.
pub async fn require_api_key(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == axum::http::Method::OPTIONS {
        return next.run(request).await;
    }
    let message = match api_key(request.headers(), request.uri().query()) {
        None => "No API key found in request",
        Some(key) if state.keys.verify(&key, now()).is_err() => "Invalid API key",
        Some(_) => return next.run(request).await,
    };
    (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({ "message": message })),
    )
        .into_response()
}
