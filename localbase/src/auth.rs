//! `/auth/v1`: the GoTrue endpoints the app uses — password and refresh-token grants
//! (refresh tokens are single-use and rotated), the current user, and logout.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::GenericClient;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::caller::bearer;
use crate::jwt::{now, TokenError};
use crate::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/token", post(token))
        .route("/user", get(user))
        .route("/logout", post(logout))
}

/// GoTrue's error: `{code, message}` for clients that send `X-Supabase-Api-Version`,
/// the legacy `{code: <status>, error_code, msg}` otherwise.
#[derive(Debug)]
pub struct AuthError {
    status: StatusCode,
    code: &'static str,
    message: String,
    versioned: bool,
}

impl AuthError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AuthError {
            status,
            code,
            message: message.into(),
            versioned: true,
        }
    }

    fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "auth request failed");
        AuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            "Unexpected failure",
        )
    }

    fn for_headers(mut self, headers: &HeaderMap) -> Self {
        self.versioned = headers.contains_key("x-supabase-api-version");
        self
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let body = if self.versioned {
            json!({ "code": self.code, "message": self.message })
        } else {
            json!({ "code": self.status.as_u16(), "error_code": self.code, "msg": self.message })
        };
        (self.status, Json(body)).into_response()
    }
}

#[derive(Deserialize)]
struct GrantQuery {
    grant_type: Option<String>,
}

async fn token(
    State(state): State<Arc<AppState>>,
    Query(grant): Query<GrantQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    let result = async {
        let body: Value = serde_json::from_slice(&body).map_err(|_| {
            AuthError::new(
                StatusCode::BAD_REQUEST,
                "bad_json",
                "Could not parse request body as JSON",
            )
        })?;
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
        match grant.grant_type.as_deref() {
            Some("password") => password_grant(&state, field("email"), field("password")).await,
            Some("refresh_token") => refresh_grant(&state, field("refresh_token")).await,
            _ => Err(AuthError::new(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "unsupported_grant_type",
            )),
        }
    }
    .await;
    result
        .map(Json)
        .map_err(|error| error.for_headers(&headers))
}

const USER_JSON: &str = "json_build_object(
    'id', u.id, 'aud', coalesce(u.aud, 'authenticated'), 'role', coalesce(u.role, 'authenticated'),
    'email', u.email, 'phone', coalesce(u.phone, ''), 'email_confirmed_at', u.email_confirmed_at,
    'confirmed_at', u.confirmed_at, 'last_sign_in_at', u.last_sign_in_at,
    'app_metadata', coalesce(u.raw_app_meta_data, '{}'), 'user_metadata', coalesce(u.raw_user_meta_data, '{}'),
    'identities', '[]'::json, 'created_at', u.created_at, 'updated_at', u.updated_at,
    'is_anonymous', u.is_anonymous)";

async fn password_grant(state: &AppState, email: &str, password: &str) -> Result<Value, AuthError> {
    if email.is_empty() || password.is_empty() {
        return Err(AuthError::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "missing email or phone",
        ));
    }
    let mut client = state.pool.get().await.map_err(AuthError::internal)?;
    let tx = client.transaction().await.map_err(AuthError::internal)?;
    let row = tx
        .query_opt(
            &format!(
                "update auth.users u set last_sign_in_at = now() \
                 where lower(u.email) = lower($1) and u.deleted_at is null \
                   and u.encrypted_password = extensions.crypt($2, u.encrypted_password) \
                 returning u.id, {USER_JSON}"
            ),
            &[&email, &password],
        )
        .await
        .map_err(AuthError::internal)?;
    let Some(row) = row else {
        return Err(AuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_credentials",
            "Invalid login credentials",
        ));
    };
    let user_id: uuid::Uuid = row.get(0);
    let user: Value = row.get(1);
    let session_id = uuid::Uuid::new_v4();
    tx.execute(
        "insert into auth.sessions (id, user_id) values ($1, $2)",
        &[&session_id, &user_id],
    )
    .await
    .map_err(AuthError::internal)?;
    let refresh = issue_refresh_token(&tx, user_id, session_id, None).await?;
    tx.commit().await.map_err(AuthError::internal)?;
    Ok(session_response(state, user, session_id, refresh))
}

async fn refresh_grant(state: &AppState, refresh_token: &str) -> Result<Value, AuthError> {
    let mut client = state.pool.get().await.map_err(AuthError::internal)?;
    let tx = client.transaction().await.map_err(AuthError::internal)?;
    let row = tx
        .query_opt(
            &format!(
                "select t.revoked, t.session_id, {USER_JSON}, u.id \
                 from auth.refresh_tokens t join auth.users u on u.id = t.user_id \
                 where t.token = $1 for update of t"
            ),
            &[&refresh_token],
        )
        .await
        .map_err(AuthError::internal)?;
    let Some(row) = row else {
        return Err(AuthError::new(
            StatusCode::BAD_REQUEST,
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        ));
    };
    let revoked: bool = row.get(0);
    if revoked {
        return Err(AuthError::new(
            StatusCode::BAD_REQUEST,
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        ));
    }
    let session_id: uuid::Uuid = row.get(1);
    let user: Value = row.get(2);
    let user_id: uuid::Uuid = row.get(3);
    tx.execute(
        "update auth.refresh_tokens set revoked = true, updated_at = now() where token = $1",
        &[&refresh_token],
    )
    .await
    .map_err(AuthError::internal)?;
    let refresh = issue_refresh_token(&tx, user_id, session_id, Some(refresh_token)).await?;
    tx.commit().await.map_err(AuthError::internal)?;
    Ok(session_response(state, user, session_id, refresh))
}

async fn issue_refresh_token(
    client: &impl GenericClient,
    user_id: uuid::Uuid,
    session_id: uuid::Uuid,
    parent: Option<&str>,
) -> Result<String, AuthError> {
    let token: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    client
        .execute(
            "insert into auth.refresh_tokens (token, user_id, session_id, parent) values ($1, $2, $3, $4)",
            &[&token, &user_id, &session_id, &parent],
        )
        .await
        .map_err(AuthError::internal)?;
    Ok(token)
}

fn session_response(
    state: &AppState,
    user: Value,
    session_id: uuid::Uuid,
    refresh: String,
) -> Value {
    let issued_at = now();
    let expires_in = state.settings.jwt_expiry_seconds;
    let claims = json!({
        "iss": format!("{}/auth/v1", state.settings.public_url),
        "sub": user["id"],
        "aud": "authenticated",
        "exp": issued_at + expires_in,
        "iat": issued_at,
        "email": user["email"],
        "phone": user["phone"],
        "app_metadata": user["app_metadata"],
        "user_metadata": user["user_metadata"],
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{ "method": "password", "timestamp": issued_at }],
        "session_id": session_id,
        "is_anonymous": false,
    });
    json!({
        "access_token": state.keys.sign(&claims),
        "token_type": "bearer",
        "expires_in": expires_in,
        "expires_at": issued_at + expires_in,
        "refresh_token": refresh,
        "user": user,
    })
}

fn user_claims(state: &AppState, headers: &HeaderMap) -> Result<Value, AuthError> {
    let token = bearer(headers).unwrap_or_default();
    match state.keys.verify(token, now()) {
        Ok(claims) if claims.sub.is_some() => Ok(claims.raw),
        Ok(_) => Err(AuthError::new(StatusCode::FORBIDDEN, "bad_jwt", "invalid claim: missing sub claim")),
        Err(TokenError::Expired(_)) => Err(AuthError::new(
            StatusCode::FORBIDDEN,
            "bad_jwt",
            "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired",
        )),
        Err(_) => Err(AuthError::new(
            StatusCode::FORBIDDEN,
            "bad_jwt",
            "invalid JWT: unable to parse or verify signature, token is malformed",
        )),
    }
}

async fn user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    let result = async {
        let claims = user_claims(&state, &headers)?;
        let id: uuid::Uuid = claims["sub"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                AuthError::new(StatusCode::FORBIDDEN, "bad_jwt", "invalid claim: sub")
            })?;
        let client = state.pool.get().await.map_err(AuthError::internal)?;
        let row = client
            .query_opt(
                &format!("select {USER_JSON} from auth.users u where u.id = $1"),
                &[&id],
            )
            .await
            .map_err(AuthError::internal)?;
        row.map(|row| row.get::<_, Value>(0)).ok_or_else(|| {
            AuthError::new(
                StatusCode::FORBIDDEN,
                "user_not_found",
                "User from sub claim in JWT does not exist",
            )
        })
    }
    .await;
    result
        .map(Json)
        .map_err(|error| error.for_headers(&headers))
}

#[derive(Deserialize)]
struct LogoutQuery {
    scope: Option<String>,
}

/// Ends the session (`scope=local`), every session of the user (`global`, the default),
/// or all but this one (`others`); their refresh tokens stop working.
async fn logout(
    State(state): State<Arc<AppState>>,
    Query(query): Query<LogoutQuery>,
    headers: HeaderMap,
) -> Result<StatusCode, AuthError> {
    let result = async {
        let claims = user_claims(&state, &headers)?;
        let user_id: uuid::Uuid = claims["sub"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let session_id: Option<uuid::Uuid> =
            claims["session_id"].as_str().and_then(|s| s.parse().ok());
        let client = state.pool.get().await.map_err(AuthError::internal)?;
        let (sql, scope_session) = match query.scope.as_deref() {
            Some("local") => (
                "delete from auth.sessions where user_id = $1 and id = $2",
                session_id,
            ),
            Some("others") => (
                "delete from auth.sessions where user_id = $1 and id <> $2",
                session_id,
            ),
            _ => (
                "delete from auth.sessions where user_id = $1 and $2::uuid is null or user_id = $1",
                None,
            ),
        };
        client
            .execute(sql, &[&user_id, &scope_session])
            .await
            .map_err(AuthError::internal)?;
        Ok(StatusCode::NO_CONTENT)
    }
    .await;
    result.map_err(|error: AuthError| error.for_headers(&headers))
}
