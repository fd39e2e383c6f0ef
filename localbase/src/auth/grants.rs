//! `POST /token`: password and refresh-token grants; refresh tokens are single-use and rotated.

use super::*;

#[derive(Deserialize)]
pub(super) struct GrantQuery {
    grant_type: Option<String>,
}

pub(super) async fn token(
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

pub(super) async fn password_grant(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<Value, AuthError> {
    if email.is_empty() || password.is_empty() {
        return Err(AuthError::bad_request(
            "validation_failed",
            "missing email or phone",
        ));
    }
    check_password_fits(password)?;
    let mut client = state.pool.get().await.map_err(AuthError::internal)?;
    let tx = client.transaction().await.map_err(AuthError::internal)?;
    // The password is hashed whether or not the address exists (with a fresh salt of the
    // same cost as sign-up's), so the answer's timing does not tell who has an account.
    // Only the right password learns that the address is not confirmed yet.
    let row = tx
        .query_one(
            &format!(
                "with candidate as ( \
                   select u.id, u.encrypted_password, u.email_confirmed_at is not null as confirmed \
                   from auth.users u \
                   where lower(u.email) = lower($1) and u.deleted_at is null limit 1), \
                 checked as materialized ( \
                   select c.id, coalesce(c.confirmed, false) as confirmed, coalesce( \
                     extensions.crypt($2, coalesce(c.encrypted_password, extensions.gen_salt('bf'))) \
                       = c.encrypted_password, false) as matches \
                   from (select 1) one left join candidate c on true), \
                 signed_in as ( \
                   update auth.users u set last_sign_in_at = now() from checked \
                   where u.id = checked.id and checked.matches and checked.confirmed \
                   returning u.id, {USER_JSON} as user_json) \
                 select checked.matches, signed_in.id, signed_in.user_json \
                 from checked left join signed_in on true"
            ),
            &[&email, &password],
        )
        .await
        .map_err(AuthError::internal)?;
    let (matches, user_id): (bool, Option<Uuid>) = (row.get(0), row.get(1));
    let Some(user_id) = user_id else {
        return Err(if matches {
            AuthError::bad_request("email_not_confirmed", "Email not confirmed")
        } else {
            AuthError::bad_request("invalid_credentials", "Invalid login credentials")
        });
    };
    let session = start_session(state, &tx, user_id, row.get(2)).await?;
    tx.commit().await.map_err(AuthError::internal)?;
    Ok(session)
}

/// A new session with its first refresh token, answered as GoTrue's AccessTokenResponse.
pub(super) async fn start_session(
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

/// Refresh tokens are single-use, with GoTrue's two allowances for a client that lost
/// the answer to its refresh (a sleeping laptop, a request abandoned after its deadline
/// that the server still carried out): the parent of the session's active token gets
/// that active token back, and a token revoked less than the reuse interval ago is swapped
/// once more. Any other used token is treated as theft: the whole session's token family
/// is revoked.
pub(super) async fn refresh_grant(
    state: &AppState,
    refresh_token: &str,
) -> Result<Value, AuthError> {
    let mut client = state.pool.get().await.map_err(AuthError::internal)?;
    let tx = client.transaction().await.map_err(AuthError::internal)?;
    let row = tx
        .query_opt(
            &format!(
                "select t.revoked, t.session_id, {USER_JSON}, u.id, \
                 t.updated_at > now() - make_interval(secs => $2) \
                 from auth.refresh_tokens t join auth.users u on u.id = t.user_id \
                 where t.token = $1 and u.deleted_at is null for update of t"
            ),
            &[
                &refresh_token,
                &state.settings.refresh_token_reuse_interval.as_secs_f64(),
            ],
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
    let user: Value = row.get(2);
    let within_reuse_interval: bool = row.get(4);
    if revoked {
        let active: Option<String> = tx
            .query_opt(
                "select token from auth.refresh_tokens \
                 where session_id = $1 and not revoked and parent = $2 \
                 and id = (select max(id) from auth.refresh_tokens where session_id = $1 and not revoked)",
                &[&session_id, &refresh_token],
            )
            .await
            .map_err(AuthError::internal)?
            .map(|row| row.get(0));
        if let Some(active) = active {
            tx.commit().await.map_err(AuthError::internal)?;
            return Ok(session_response(state, user, session_id, active));
        }
        if !within_reuse_interval {
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
    }
    let user_id: Uuid = row.get(3);
    tx.execute(
        // A token reused within the interval keeps its revocation time: no endless reuse.
        "update auth.refresh_tokens set revoked = true, updated_at = now() where token = $1 and not revoked",
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

pub(super) async fn issue_refresh_token(
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

pub(super) fn session_response(
    state: &AppState,
    user: Value,
    session_id: Uuid,
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
