//! Who is calling: the API gateway's `apikey` check, and the verified JWT of the request
//! (`Authorization: Bearer …`, or the API key itself when there is none).

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::jwt::{now, Claims, TokenError};
use crate::rest::RestError;
use crate::AppState;

/// A request's verified claims.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: Claims,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CallerError {
    #[error("JWT expired")]
    Expired,
    #[error("{0}")]
    Invalid(TokenError),
}

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

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = RestError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)
            .map(str::to_string)
            .or_else(|| api_key(&parts.headers, parts.uri.query()))
            .unwrap_or_default();
        match state.keys.verify(&token, now()) {
            Ok(claims) => Ok(Caller { claims, token }),
            Err(TokenError::Expired(_)) => Err(CallerError::Expired.into()),
            Err(other) => Err(CallerError::Invalid(other).into()),
        }
    }
}
