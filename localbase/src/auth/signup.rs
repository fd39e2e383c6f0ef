//! `POST /signup`: auto-confirmed accounts (a local project has no SMTP server).

use super::*;

/// `POST /signup`: e-mail sign-up. There is no mailer, so the address is confirmed at once
/// and the answer is a session, as on a project with "Confirm email" turned off.
pub(super) async fn signup(
    State(state): State<Arc<AppState>>,
    client: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&headers, async {
        if let Some(axum::Extension(axum::extract::ConnectInfo(peer))) = client {
            let limit = state.settings.max_signups_per_window;
            if !state
                .signups
                .admit(peer.ip(), limit, std::time::Instant::now())
            {
                return Err(AuthError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "over_request_rate_limit",
                    "Request rate limit reached",
                ));
            }
        }
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
            Some(data @ Value::Object(_)) => {
                check_metadata(data)?;
                data.clone()
            }
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
