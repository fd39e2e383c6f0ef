//! `GET /realtime/v1/api/localbase/subscribers?topic=<sub-topic>&private=true`: how many
//! connections have joined a topic. localbase's own diagnostic (hosted Supabase has no
//! such endpoint), for tests that must see that a client really left a channel.
//! Requires the service-role key.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::hub::TopicKey;
use crate::gateway::{api_key, bearer};
use crate::jwt::now;
use crate::AppState;

#[derive(Deserialize)]
pub(super) struct Params {
    topic: String,
    #[serde(default)]
    private: bool,
}

pub(super) async fn subscribers(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let token = bearer(&headers)
        .map(str::to_string)
        .or_else(|| api_key(&headers, None));
    let is_service = token
        .and_then(|token| state.keys.verify(&token, now()).ok())
        .is_some_and(|claims| claims.role == "service_role");
    if !is_service {
        let body = json!({ "message": "service_role key required" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let key = TopicKey {
        private: params.private,
        topic: format!("realtime:{}", params.topic),
    };
    let count = state.hub.subscriber_count(&key);
    Json(json!({ "topic": params.topic, "private": params.private, "subscribers": count }))
        .into_response()
}
