//! `/auth/v1`: the GoTrue endpoints supabase-js uses — sign-up (auto-confirmed with a
//! session, or with `--confirm-email` waiting for its mailed link), password and
//! refresh-token grants (refresh tokens are single-use and rotated), the current user (read
//! and update), logout with its scopes, password recovery by mail (`/recover`) and the
//! mailed links themselves (`/verify`). Mail goes through the notifier's `Mailer` (the
//! mail folder, or SMTP); a link's token is stored only as its SHA-256, works once and for
//! an hour, and leads only back to the app's origin.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::GenericClient;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::gateway::bearer;
use crate::jwt::{now, TokenError};
use crate::AppState;

mod error;
pub use limit::SignupLimiter;
mod grants;
mod limit;
mod links;
mod logout;
mod mail;
mod recover;
mod signup;
mod user;
mod validate;
mod verify;

pub use error::AuthError;
use grants::*;
use links::*;
use logout::*;
pub use mail::AuthMail;
use mail::*;
use recover::*;
use signup::*;
use user::*;
use validate::*;
use verify::*;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/signup", post(signup))
        .route("/token", post(token))
        .route("/user", get(user).put(update_user))
        .route("/logout", post(logout))
        .route("/recover", post(recover))
}

/// Routes the gateway lets through without an API key: `/verify` is opened from an
/// e-mail, as on hosted Supabase.
pub fn open_router() -> Router<Arc<AppState>> {
    Router::new().route("/verify", get(verify_link).post(verify_token))
}

/// The API version auth-js announces; a response carrying it makes auth-js read `code`.
const API_VERSION: &str = "2024-01-01";
const API_VERSION_HEADER: &str = "x-supabase-api-version";
/// GoTrue's default `GOTRUE_PASSWORD_MIN_LENGTH`.
const MIN_PASSWORD_LENGTH: usize = 6;
/// bcrypt reads only the first 72 bytes; GoTrue refuses longer passwords rather than let
/// a wrong tail sign in.
const MAX_PASSWORD_BYTES: usize = 72;
/// Largest `user_metadata` (sign-up `data`, `PUT /user`): it travels in every token.
const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Runs a handler body and shapes its error for the request's API version.
pub(super) async fn answer<T: IntoResponse>(
    headers: &HeaderMap,
    work: impl std::future::Future<Output = Result<T, AuthError>>,
) -> Response {
    let versioned = headers.contains_key(API_VERSION_HEADER);
    let mut response = match work.await {
        Ok(ok) => ok.into_response(),
        Err(error) => return error.for_headers(headers).into_response(),
    };
    if versioned {
        response
            .headers_mut()
            .insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
    }
    response
}

pub(super) fn json_body(body: &Bytes) -> Result<Map<String, Value>, AuthError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(AuthError::bad_request(
            "bad_json",
            "Could not parse request body as JSON",
        )),
    }
}

pub(super) fn text<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The first value of a query parameter. Read by hand rather than with `Query`, so that an
/// odd query (a repeated name) is not refused in a shape other than GoTrue's.
pub(super) fn query_param(query: &Option<String>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

pub(super) const USER_JSON: &str = "json_build_object(
    'id', u.id, 'aud', coalesce(u.aud, 'authenticated'), 'role', coalesce(u.role, 'authenticated'),
    'email', u.email, 'phone', coalesce(u.phone, ''), 'email_confirmed_at', u.email_confirmed_at,
    'confirmed_at', u.confirmed_at, 'last_sign_in_at', u.last_sign_in_at,
    'app_metadata', coalesce(u.raw_app_meta_data, '{}'), 'user_metadata', coalesce(u.raw_user_meta_data, '{}'),
    'identities', coalesce((select json_agg(json_build_object(
        'identity_id', i.id, 'id', i.provider_id, 'user_id', i.user_id, 'identity_data', i.identity_data,
        'provider', i.provider, 'email', i.email, 'last_sign_in_at', i.last_sign_in_at,
        'created_at', i.created_at, 'updated_at', i.updated_at)) from auth.identities i where i.user_id = u.id), '[]'),
    'created_at', u.created_at, 'updated_at', u.updated_at,
    'is_anonymous', u.is_anonymous)";
