//! `POST /signup`: e-mail sign-up. By default the address counts as confirmed at once and
//! the answer is a session, as on a project with "Confirm email" off (the app and most tests
//! rely on it). With `--confirm-email` the account waits: the answer is the user alone, no
//! session (as GoTrue answers), a confirmation link is mailed (`verify.rs` uses it), and
//! the password grant refuses the account with `email_not_confirmed` until then.

use super::*;

/// A sign-up's fields, checked.
struct NewAccount {
    email: String,
    password: String,
    metadata: Value,
}

pub(super) async fn signup(
    State(state): State<Arc<AppState>>,
    client: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&headers, async {
        if let Some(axum::Extension(axum::extract::ConnectInfo(peer))) = client {
            admit(&state, peer.ip())?;
        }
        let account = read_account(&json_body(&body)?)?;
        let redirect_to = query_param(&query, "redirect_to");
        check_redirect(redirect_to.as_deref())?;
        let confirm = state.auth_mail.get().is_some_and(|mail| mail.confirm_email);
        let token = confirm.then(new_token);
        let mut client = state.pool.get().await.map_err(AuthError::internal)?;
        let tx = client.transaction().await.map_err(AuthError::internal)?;
        // Signing up again with an address still waiting for confirmation mails a new
        // link (GoTrue does; a lost mail must not lock the address out). The account is
        // left as it is: whoever asks again may not be who signed up.
        if let Some(token) = &token {
            if let Some(user) = renew_confirmation(&tx, &account.email, token).await? {
                mail_confirmation(&state, &account.email, token, redirect_to.as_deref()).await?;
                tx.commit().await.map_err(AuthError::internal)?;
                return Ok(Json(user));
            }
        }
        let (user_id, user) = insert_account(&tx, &account, token.as_deref()).await?;
        let Some(token) = token else {
            let session = start_session(&state, &tx, user_id, user).await?;
            tx.commit().await.map_err(AuthError::internal)?;
            return Ok(Json(session));
        };
        // Mailed before the commit: an account whose link never left is not kept (the
        // address could not sign up again).
        mail_confirmation(&state, &account.email, &token, redirect_to.as_deref()).await?;
        tx.commit().await.map_err(AuthError::internal)?;
        Ok(Json(user))
    })
    .await
}

fn admit(state: &AppState, peer: std::net::IpAddr) -> Result<(), AuthError> {
    let limit = state.settings.max_signups_per_window;
    if state.signups.admit(peer, limit, std::time::Instant::now()) {
        Ok(())
    } else {
        Err(AuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "over_request_rate_limit",
            "Request rate limit reached",
        ))
    }
}

fn read_account(body: &Map<String, Value>) -> Result<NewAccount, AuthError> {
    let email = text(body, "email").trim().to_lowercase();
    let password = text(body, "password");
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
        Some(data @ Value::Object(_)) => {
            check_metadata(data)?;
            data.clone()
        }
        _ => json!({}),
    };
    Ok(NewAccount {
        email,
        password: password.to_string(),
        metadata,
    })
}

/// For an account of `email` still unconfirmed: a new confirmation token (its hash
/// stored), answered with the user. `None` when there is no such account. A link mailed
/// less than a minute ago is `over_email_send_rate_limit`.
async fn renew_confirmation(
    tx: &impl GenericClient,
    email: &str,
    token: &str,
) -> Result<Option<Value>, AuthError> {
    let waiting = tx
        .query_opt(
            "select id, ceil(extract(epoch from confirmation_sent_at + interval '60 seconds' - now()))::int8
             from auth.users
             where lower(email) = $1 and email_confirmed_at is null and deleted_at is null
             for update",
            &[&email],
        )
        .await
        .map_err(AuthError::internal)?;
    let Some(waiting) = waiting else {
        return Ok(None);
    };
    if let Some(wait) = waiting.get::<_, Option<i64>>(1).filter(|wait| *wait > 0) {
        return Err(mail_too_soon(wait));
    }
    let id: Uuid = waiting.get(0);
    let row = tx
        .query_one(
            &format!(
                "update auth.users u set confirmation_token = {hash}, confirmation_sent_at = now(),
                   updated_at = now()
                 where u.id = $2
                 returning {USER_JSON}, to_json(u.confirmation_sent_at)",
                hash = token_hash_sql(1)
            ),
            &[&token, &id],
        )
        .await
        .map_err(AuthError::internal)?;
    let mut user: Value = row.get(0);
    user["confirmation_sent_at"] = row.get(1);
    Ok(Some(user))
}

/// Inserts the user and its e-mail identity. With a confirmation `token` the address is
/// unconfirmed and the token's hash is stored; the user JSON then says when it was sent.
async fn insert_account(
    tx: &impl GenericClient,
    account: &NewAccount,
    token: Option<&str>,
) -> Result<(Uuid, Value), AuthError> {
    let taken = tx
        .query_opt(
            "select 1 from auth.users where lower(email) = $1",
            &[&account.email],
        )
        .await
        .map_err(AuthError::internal)?;
    let user_id = Uuid::new_v4();
    let inserted = tx
        .query_opt(
            &format!(
                "with u as (
                   insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                     email_confirmed_at, last_sign_in_at, confirmation_token, confirmation_sent_at,
                     raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
                   values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated',
                     $2, extensions.crypt($3, extensions.gen_salt('bf')),
                     case when $5::text is null then now() end, case when $5::text is null then now() end,
                     coalesce({hash}, ''), case when $5::text is not null then now() end,
                     '{{\"provider\":\"email\",\"providers\":[\"email\"]}}', $4::text::jsonb, now(), now())
                   on conflict (email) do nothing
                   returning *)
                 select {USER_JSON}, to_json(u.confirmation_sent_at) from u",
                hash = token_hash_sql(5)
            ),
            &[&user_id, &account.email, &account.password, &account.metadata.to_string(), &token],
        )
        .await
        .map_err(AuthError::internal)?;
    let Some(row) = inserted.filter(|_| taken.is_none()) else {
        return Err(AuthError::unprocessable(
            "user_already_exists",
            "User already registered",
        ));
    };
    let mut user: Value = row.get(0);
    if token.is_some() {
        user["confirmation_sent_at"] = row.get(1);
    }
    tx.execute(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
         values ($1::uuid::text, $1, jsonb_build_object('sub', $1::uuid::text, 'email', $2::text), 'email', now(), now(), now())",
        &[&user_id, &account.email],
    )
    .await
    .map_err(AuthError::internal)?;
    Ok((user_id, user))
}

async fn mail_confirmation(
    state: &AppState,
    email: &str,
    token: &str,
    redirect_to: Option<&str>,
) -> Result<(), AuthError> {
    let link = verify_url(state, token, LinkKind::Signup, redirect_to)?;
    send(state, email, &confirmation_email(&link))
        .await
        .map_err(|error| {
            tracing::warn!(%error, "confirmation mail not sent");
            AuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unexpected_failure",
                "Error sending confirmation email",
            )
        })
}
