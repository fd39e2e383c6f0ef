//! `/realtime/v1/websocket`: Supabase Realtime's Phoenix-channel protocol.

mod authorize;
mod binary;
mod broadcast;
mod changes;
mod frame;
mod hub;
mod inspect;
mod join;
mod listener;
mod outbox;
mod presence;
mod reconnect;
mod replay;
mod session;
mod track;

use std::sync::Arc;

use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub use changes::{allow_wal2json, run_poller as run_changes_poller, ChangeRegistry};
pub use frame::{Frame, Vsn};
pub use hub::{Hub, TopicKey};
pub use listener::run as run_database_listener;
pub use presence::PresenceRegistry;

use crate::gateway::api_key;
use crate::jwt::now;
use crate::AppState;

/// Hosted Realtime's maximum incoming frame.
const MAX_FRAME_BYTES: usize = 5_000_000;
/// Bytes read from a socket at a time. tungstenite's default (128 KiB, allocated for every
/// socket) was most of an idle connection's memory; Realtime frames are small, and a
/// larger frame still arrives whole, in several reads.
const READ_BUFFER_BYTES: usize = 8 * 1024;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/websocket", get(upgrade))
        .route("/api/localbase/subscribers", get(inspect::subscribers))
}

async fn upgrade(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let query = uri.query();
    let refuse = |status: StatusCode, message: String| {
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    };
    let vsn_param = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "vsn")
        .map(|(_, value)| value.into_owned());
    let Some(vsn) = Vsn::from_query(vsn_param.as_deref()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Unsupported serializer version".into(),
        );
    };
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| api_key(&HeaderMap::new(), query));
    let Some(key) = key else {
        return refuse(StatusCode::UNAUTHORIZED, "API key is missing".into());
    };
    let claims = match state.keys.verify(&key, now()) {
        Ok(claims) => claims,
        Err(error) => return refuse(StatusCode::UNAUTHORIZED, error.to_string()),
    };
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session::run(socket, state, vsn, claims))
}
