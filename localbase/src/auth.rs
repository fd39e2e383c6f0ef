//! `/auth/v1`: the GoTrue endpoints supabase-js uses — sign-up (auto-confirmed, as a local
//! project without an SMTP server is), password and refresh-token grants (refresh tokens are
//! single-use and rotated), the current user (read and update), and logout with its scopes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
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

use crate::caller::bearer;
use crate::jwt::{now, TokenError};
use crate::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/signup", post(signup))
        .route("/token", post(token))
        .route("/user", get(user).put(update_user))
        .route("/logout", post(logout))
}

/// The API version auth-js announces; a response carrying it makes auth-js read `code`.
const API_VERSION: &str = "2024-01-01";
const API_VERSION_HEADER: &str = "x-supabase-api-version";
/// GoTrue's default `GOTRUE_PASSWORD_MIN_LENGTH`.
const MIN_PASSWORD_LENGTH: usize = 6;

/// GoTrue's error: `{code, message}` for clients that send `X-Supabase-Api-Version`,
/// the legacy `{code: <status>, error_code, msg}` otherwise.
#[derive(Debug)]
pub struct AuthError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Only `weak_password` errors: why the password was refused.
    weak_reasons: Option<Vec<&'static str>>,
    versioned: bool,
}

impl AuthError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AuthError {
            status,
            code,
            message: message.into(),
            weak_reasons: None,
            versioned: true,
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    fn weak_password() -> Self {
        let mut error = AuthError::unprocessable(
            "weak_password",
            format!("Password should be at least {MIN_PASSWORD_LENGTH} characters."),
        );
        error.weak_reasons = Some(vec!["length"]);
        error
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
        self.versioned = headers.contains_key(API_VERSION_HEADER);
        self
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut body = if self.versioned {
            json!({ "code": self.code, "message": self.message })
        } else {
            json!({ "code": self.status.as_u16(), "error_code": self.code, "msg": self.message })
        };
        if let Some(reasons) = self.weak_reasons {
            body["weak_password"] = json!({ "reasons": reasons });
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.versioned {
            response
                .headers_mut()
                .insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
        }
        response
    }
}

/// Runs a handler body and shapes its error for the request's API version.
async fn answer<T: IntoResponse>(
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

fn json_body(body: &Bytes) -> Result<Map<String, Value>, AuthError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(AuthError::bad_request(
            "bad_json",
            "Could not parse request body as JSON",
        )),
    }
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// GoTrue's check is a parse, not a lookup: one `@`, something before it, a dotted domain.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 255
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn check_email(email: &str) -> Result<(), AuthError> {
    if valid_email(email) {
        Ok(())
    } else {
        Err(AuthError::bad_request(
            "validation_failed",
            "Unable to validate email address: invalid format",
        ))
    }
}

fn check_password(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        Err(AuthError::weak_password())
    } else {
        Ok(())
    }
}

const USER_JSON: &str = "json_build_object(
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

/// `POST /signup`: e-mail sign-up. There is no mailer, so the address is confirmed at once
/// and the answer is a session, as on a project with "Confirm email" turned off.
async fn signup(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&headers, async {
        let body = json_body(&body)?;
        let email = text(&body, "email").trim().to_lowercase();
        let password = text(&body, "password");
        if email.is_empty() && password.is_empty() && body.get("phone").is_none() {
            return Err(AuthError::unprocessable(
                "anonymous_provider_disabled",
                "Anonymous sign-ins are disabled",
            ));
        }
        if email.is_empty() {
            return Err(AuthError::bad_request(
                "validation_failed",
                "To signup, please provide your email",
            ));
        }
        check_email(&email)?;
        if password.is_empty() {
            return Err(AuthError::unprocessable(
                "validation_failed",
                "Signup requires a valid password",
            ));
        }
        check_password(password)?;
        let metadata = match body.get("data") {
            Some(Value::Object(data)) => Value::Object(data.clone()),
            _ => json!({}),
        };
        let mut client = state.pool.get().await.map_err(AuthError::internal)?;
        let tx = client.transaction().await.map_err(AuthError::internal)?;
        let taken = tx
            .query_opt("select 1 from auth.users where lower(email) = $1", &[&email])
            .await
            .map_err(AuthError::internal)?;
        let user_id = Uuid::new_v4();
        let inserted = tx
            .query_opt(
                &format!(
                    "with u as (
                       insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                         email_confirmed_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data,
                         created_at, updated_at)
                       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated',
                         $2, extensions.crypt($3, extensions.gen_salt('bf')), now(), now(),
                         '{{\"provider\":\"email\",\"providers\":[\"email\"]}}', $4::text::jsonb, now(), now())
                       on conflict (email) do nothing
                       returning *)
                     select {USER_JSON} from u"
                ),
                &[&user_id, &email, &password, &metadata.to_string()],
            )
            .await
            .map_err(AuthError::internal)?;
        let Some(row) = inserted.filter(|_| taken.is_none()) else {
            return Err(AuthError::unprocessable(
                "user_already_exists",
                "User already registered",
            ));
        };
        let user: Value = row.get(0);
        tx.execute(
            "insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
             values ($1::uuid::text, $1, jsonb_build_object('sub', $1::uuid::text, 'email', $2::text), 'email', now(), now(), now())",
            &[&user_id, &email],
        )
        .await
        .map_err(AuthError::internal)?;
        let session = start_session(&state, &tx, user_id, user).await?;
        tx.commit().await.map_err(AuthError::internal)?;
        Ok(Json(session))
    })
    .await
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
) -> Response {
    answer(&headers, async {
        let body = json_body(&body)?;
        let session = match grant.grant_type.as_deref() {
            Some("password") => {
                password_grant(&state, text(&body, "email"), text(&body, "password")).await
            }
            Some("refresh_token") => refresh_grant(&state, text(&body, "refresh_token")).await,
            _ => Err(AuthError::bad_request(
                "validation_failed",
                "unsupported_grant_type",
            )),
        }?;
        Ok(Json(session))
    })
    .await
}

async fn password_grant(state: &AppState, email: &str, password: &str) -> Result<Value, AuthError> {
    if email.is_empty() || password.is_empty() {
        return Err(AuthError::bad_request(
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
        return Err(AuthError::bad_request(
            "invalid_credentials",
            "Invalid login credentials",
        ));
    };
    let session = start_session(state, &tx, row.get(0), row.get(1)).await?;
    tx.commit().await.map_err(AuthError::internal)?;
    Ok(session)
}

/// A new session with its first refresh token, answered as GoTrue's AccessTokenResponse.
async fn start_session(
    state: &AppState,
    client: &impl GenericClient,
    user_id: Uuid,
    user: Value,
) -> Result<Value, AuthError> {
    let session_id = Uuid::new_v4();
    client
        .execute(
            "insert into auth.sessions (id, user_id) values ($1, $2)",
            &[&session_id, &user_id],
        )
        .await
        .map_err(AuthError::internal)?;
    let refresh = issue_refresh_token(client, user_id, session_id, None).await?;
    Ok(session_response(state, user, session_id, refresh))
}

/// Refresh tokens are single-use. Presenting a used one again is treated as theft, as
/// GoTrue does outside its reuse interval: the whole session's token family is revoked.
async fn refresh_grant(state: &AppState, refresh_token: &str) -> Result<Value, AuthError> {
    let mut client = state.pool.get().await.map_err(AuthError::internal)?;
    let tx = client.transaction().await.map_err(AuthError::internal)?;
    let row = tx
        .query_opt(
            &format!(
                "select t.revoked, t.session_id, {USER_JSON}, u.id \
                 from auth.refresh_tokens t join auth.users u on u.id = t.user_id \
                 where t.token = $1 and u.deleted_at is null for update of t"
            ),
            &[&refresh_token],
        )
        .await
        .map_err(AuthError::internal)?;
    let Some(row) = row else {
        return Err(AuthError::bad_request(
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        ));
    };
    let revoked: bool = row.get(0);
    let session_id: Uuid = row.get(1);
    if revoked {
        tx.execute(
            "update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1",
            &[&session_id],
        )
        .await
        .map_err(AuthError::internal)?;
        tx.commit().await.map_err(AuthError::internal)?;
        return Err(AuthError::bad_request(
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        ));
    }
    let user: Value = row.get(2);
    let user_id: Uuid = row.get(3);
    tx.execute(
        "update auth.refresh_tokens set revoked = true, updated_at = now() where token = $1",
        &[&refresh_token],
    )
    .await
    .map_err(AuthError::internal)?;
    tx.execute(
        "update auth.sessions set updated_at = now() where id = $1",
        &[&session_id],
    )
    .await
    .map_err(AuthError::internal)?;
    let refresh = issue_refresh_token(&tx, user_id, session_id, Some(refresh_token)).await?;
    tx.commit().await.map_err(AuthError::internal)?;
    Ok(session_response(state, user, session_id, refresh))
}

async fn issue_refresh_token(
    client: &impl GenericClient,
    user_id: Uuid,
    session_id: Uuid,
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

fn session_response(state: &AppState, user: Value, session_id: Uuid, refresh: String) -> Value {
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
        "is_anonymous": user["is_anonymous"].as_bool().unwrap_or(false),
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

/// The user and session named by the request's access token. Like GoTrue, a token whose
/// session has ended (logout) is refused even though its signature is still valid.
struct Authenticated {
    user_id: Uuid,
    session_id: Option<Uuid>,
}

async fn authenticate(
    state: &AppState,
    client: &impl GenericClient,
    headers: &HeaderMap,
) -> Result<Authenticated, AuthError> {
    let bad_jwt = |message: &str| AuthError::new(StatusCode::FORBIDDEN, "bad_jwt", message);
    let token = bearer(headers).unwrap_or_default();
    let claims = match state.keys.verify(token, now()) {
        Ok(claims) => claims,
        Err(TokenError::Expired(_)) => {
            return Err(bad_jwt("invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired"))
        }
        Err(_) => {
            return Err(bad_jwt(
                "invalid JWT: unable to parse or verify signature, token is malformed",
            ))
        }
    };
    let user_id = claims
        .sub
        .as_deref()
        .ok_or_else(|| bad_jwt("invalid claim: missing sub claim"))?
        .parse::<Uuid>()
        .map_err(|_| bad_jwt("invalid claim: sub claim must be a UUID"))?;
    let session_id = match claims.raw.get("session_id").and_then(Value::as_str) {
        None | Some("") => None,
        Some(id) => Some(
            id.parse::<Uuid>()
                .map_err(|_| bad_jwt("invalid claim: session_id claim must be a UUID"))?,
        ),
    };
    if let Some(session_id) = session_id {
        let live = client
            .query_opt(
                "select 1 from auth.sessions where id = $1 and user_id = $2",
                &[&session_id, &user_id],
            )
            .await
            .map_err(AuthError::internal)?;
        if live.is_none() {
            return Err(AuthError::new(
                StatusCode::FORBIDDEN,
                "session_not_found",
                "Session from session_id claim in JWT does not exist",
            ));
        }
    }
    Ok(Authenticated {
        user_id,
        session_id,
    })
}

async fn load_user(client: &impl GenericClient, user_id: Uuid) -> Result<Value, AuthError> {
    let row = client
        .query_opt(
            &format!(
                "select {USER_JSON} from auth.users u where u.id = $1 and u.deleted_at is null"
            ),
            &[&user_id],
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

async fn user(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    answer(&headers, async {
        let client = state.pool.get().await.map_err(AuthError::internal)?;
        let caller = authenticate(&state, &client, &headers).await?;
        Ok(Json(load_user(&client, caller.user_id).await?))
    })
    .await
}

/// `PUT /user`: `data` is merged into user_metadata (a null value removes the key),
/// `password` replaces the password, `email` changes the address at once (auto-confirmed).
async fn update_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&headers, async {
        let body = json_body(&body)?;
        let mut client = state.pool.get().await.map_err(AuthError::internal)?;
        let tx = client.transaction().await.map_err(AuthError::internal)?;
        let caller = authenticate(&state, &tx, &headers).await?;
        let user_id = caller.user_id;
        if let Some(data) = body.get("data") {
            let Value::Object(data) = data else {
                return Err(AuthError::bad_request(
                    "validation_failed",
                    "data must be a JSON object",
                ));
            };
            tx.execute(
                "update auth.users set updated_at = now(), raw_user_meta_data =
                   jsonb_strip_nulls(coalesce(raw_user_meta_data, '{}') || $2::text::jsonb)
                 where id = $1",
                &[&user_id, &Value::Object(data.clone()).to_string()],
            )
            .await
            .map_err(AuthError::internal)?;
        }
        if let Some(password) = body.get("password").and_then(Value::as_str) {
            check_password(password)?;
            let changed = tx
                .execute(
                    "update auth.users set updated_at = now(),
                       encrypted_password = extensions.crypt($2, extensions.gen_salt('bf'))
                     where id = $1 and (encrypted_password is null
                       or encrypted_password <> extensions.crypt($2, encrypted_password))",
                    &[&user_id, &password],
                )
                .await
                .map_err(AuthError::internal)?;
            if changed == 0 {
                return Err(AuthError::unprocessable(
                    "same_password",
                    "New password should be different from the old password.",
                ));
            }
        }
        if let Some(email) = body.get("email").and_then(Value::as_str) {
            change_email(&tx, user_id, &email.trim().to_lowercase()).await?;
        }
        let user = load_user(&tx, user_id).await?;
        tx.commit().await.map_err(AuthError::internal)?;
        Ok(Json(user))
    })
    .await
}

async fn change_email(
    client: &impl GenericClient,
    user_id: Uuid,
    email: &str,
) -> Result<(), AuthError> {
    check_email(email)?;
    let taken = client
        .query_opt(
            "select 1 from auth.users where lower(email) = $1 and id <> $2",
            &[&email, &user_id],
        )
        .await
        .map_err(AuthError::internal)?;
    if taken.is_some() {
        return Err(AuthError::unprocessable(
            "email_exists",
            "A user with this email address has already been registered",
        ));
    }
    client
        .execute(
            "update auth.users set email = $2, email_confirmed_at = now(), updated_at = now()
             where id = $1 and email is distinct from $2",
            &[&user_id, &email],
        )
        .await
        .map_err(AuthError::internal)?;
    client
        .execute(
            "update auth.identities set updated_at = now(),
               identity_data = identity_data || jsonb_build_object('email', $2::text)
             where user_id = $1 and provider = 'email'",
            &[&user_id, &email],
        )
        .await
        .map_err(AuthError::internal)?;
    Ok(())
}

#[derive(Deserialize)]
struct LogoutQuery {
    scope: Option<String>,
}

/// Ends the current session (`scope=local`), every session of the user (`global`, the
/// default), or all but the current one (`others`). Deleting a session deletes its
/// refresh tokens (foreign key cascade), so they stop working at once.
async fn logout(
    State(state): State<Arc<AppState>>,
    Query(query): Query<LogoutQuery>,
    headers: HeaderMap,
) -> Response {
    answer(&headers, async {
        let client = state.pool.get().await.map_err(AuthError::internal)?;
        let caller = authenticate(&state, &client, &headers).await?;
        let scope = query.scope.as_deref().unwrap_or("global");
        let sql = match (scope, caller.session_id) {
            ("global", _) => "delete from auth.sessions where user_id = $1",
            ("local", Some(_)) => "delete from auth.sessions where user_id = $1 and id = $2",
            ("others", Some(_)) => "delete from auth.sessions where user_id = $1 and id <> $2",
            // A token without a session (minted by hand) has nothing local to end.
            ("local" | "others", None) => return Ok(StatusCode::NO_CONTENT),
            _ => {
                return Err(AuthError::bad_request(
                    "validation_failed",
                    format!("Unsupported logout scope {scope:?}"),
                ))
            }
        };
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = match &caller.session_id {
            Some(session_id) if scope != "global" => vec![&caller.user_id, session_id],
            _ => vec![&caller.user_id],
        };
        client
            .execute(sql, &params)
            .await
            .map_err(AuthError::internal)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_check_accepts_ordinary_addresses_and_refuses_the_rest() {
        for good in ["a@example.com", "first.last+tag@sub.example.bg"] {
            assert!(valid_email(good), "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@@example.com",
            "a@example.",
            "a b@example.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_shorter_than_six_characters_are_weak() {
        assert!(check_password("12345").is_err());
        assert!(check_password("пароля").is_ok(), "counted in characters");
        let error = AuthError::weak_password();
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.weak_reasons, Some(vec!["length"]));
    }
}
