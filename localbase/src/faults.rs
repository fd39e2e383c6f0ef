//! Fault injection for tests (localbase's own; hosted Supabase has no such thing): with
//! the service-role key, `PUT /localbase/v1/faults` sets rules that slow down, hang or
//! spoil matching HTTP requests, or refuse Postgres Changes, so end-to-end tests can
//! reproduce a slow network, a request that never answers, or an error after a commit.
//! `DELETE` clears them. Requests that match no rule pass untouched.
//!
//! ```json
//! { "rules": [ { "method": "GET", "path": "/rest/v1/messages", "query": "order=created_at.desc",
//!                "delay_ms": 2000, "times": 3 },
//!              { "method": "POST", "path": "/rest/v1/messages", "hang": true },
//!              { "method": "POST", "path": "/rest/v1/messages", "status_after": 503, "times": 5 } ],
//!   "refuse_postgres_changes": false, "drop_client_broadcasts": false }
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::gateway::{api_key, bearer};
use crate::jwt::now;
use crate::AppState;

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub method: String,
    /// The request path must start with this.
    pub path: String,
    /// The query string must contain this.
    #[serde(default)]
    pub query: Option<String>,
    /// Answer only after this long.
    #[serde(default)]
    pub delay_ms: u64,
    /// Never answer.
    #[serde(default)]
    pub hang: bool,
    /// Do the work (commit included), then answer with this status instead.
    #[serde(default)]
    pub status_after: Option<u16>,
    /// Matching requests it applies to; 1 when not given.
    #[serde(default = "once")]
    pub times: u32,
}

fn once() -> u32 {
    1
}

#[derive(Debug, Default, Deserialize)]
pub struct Faults {
    #[serde(default)]
    rules: Vec<Rule>,
    #[serde(default)]
    refuse_postgres_changes: bool,
    /// Client broadcasts are lost on the way (as the `drop_client_broadcasts` setting).
    #[serde(default)]
    drop_client_broadcasts: bool,
}

/// The faults in force.
#[derive(Default)]
pub struct FaultSet(Mutex<Faults>);

impl FaultSet {
    /// The rule for a request, used up by one application.
    fn take(&self, method: &str, path: &str, query: &str) -> Option<Rule> {
        let mut faults = self.0.lock().expect("faults lock");
        let index = faults.rules.iter().position(|rule| {
            rule.times > 0
                && rule.method.eq_ignore_ascii_case(method)
                && path.starts_with(&rule.path)
                && rule
                    .query
                    .as_deref()
                    .is_none_or(|part| query.contains(part))
        })?;
        let rule = &mut faults.rules[index];
        rule.times -= 1;
        Some(rule.clone())
    }

    /// Whether Postgres Changes subscriptions are to be refused.
    pub fn refuse_postgres_changes(&self) -> bool {
        self.0.lock().expect("faults lock").refuse_postgres_changes
    }

    /// Whether client broadcasts are to be dropped.
    pub fn drop_client_broadcasts(&self) -> bool {
        self.0.lock().expect("faults lock").drop_client_broadcasts
    }
}

/// Applies the first matching rule to a request.
pub async fn inject(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let rule = state.faults.take(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query().unwrap_or_default(),
    );
    let Some(rule) = rule else {
        return next.run(request).await;
    };
    tokio::time::sleep(Duration::from_millis(rule.delay_ms)).await;
    if rule.hang {
        std::future::pending::<()>().await;
    }
    let response = next.run(request).await;
    match rule
        .status_after
        .and_then(|code| StatusCode::from_u16(code).ok())
    {
        Some(status) => {
            let body = json!({ "message": "fault injected after the request was served" });
            (status, Json(body)).into_response()
        }
        None => response,
    }
}

fn is_service(state: &AppState, headers: &HeaderMap) -> bool {
    bearer(headers)
        .map(str::to_string)
        .or_else(|| api_key(headers, None))
        .and_then(|token| state.keys.verify(&token, now()).ok())
        .is_some_and(|claims| claims.role == "service_role")
}

fn refused() -> Response {
    let body = json!({ "message": "service_role key required" });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// `PUT /localbase/v1/faults`: replaces the faults in force.
pub async fn set(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(faults): Json<Faults>,
) -> Response {
    if !is_service(&state, &headers) {
        return refused();
    }
    *state.faults.0.lock().expect("faults lock") = faults;
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /localbase/v1/faults`: no faults.
pub async fn clear(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !is_service(&state, &headers) {
        return refused();
    }
    *state.faults.0.lock().expect("faults lock") = Faults::default();
    StatusCode::NO_CONTENT.into_response()
}
