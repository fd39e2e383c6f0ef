//! `GET`/`PUT /user`: the signed-in user, read and updated.

use super::*;

/// The user and session named by the request's access token. Like GoTrue, a token whose
/// session has ended (logout) is refused even though its signature is still valid.
pub(super) struct Authenticated {
    pub(super) user_id: Uuid,
    pub(super) session_id: Option<Uuid>,
}

pub(super) async fn authenticate(
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

pub(super) async fn load_user(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<Value, AuthError> {
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

pub(super) async fn user(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    answer(&headers, async {
        let client = state.pool.get().await.map_err(AuthError::internal)?;
        let caller = authenticate(&state, &client, &headers).await?;
        Ok(Json(load_user(&client, caller.user_id).await?))
    })
    .await
}

/// `PUT /user`: `data` is merged into user_metadata (a null value removes the key),
/// `password` replaces the password, `email` changes the address at once (auto-confirmed).
pub(super) async fn update_user(
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
            check_metadata(data)?;
            let Value::Object(data) = data else {
                unreachable!("checked to be an object");
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

pub(super) async fn change_email(
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
