//! `POST /recover`: mails a password-recovery link. The answer is the same whether or not
//! the address has an account, and the mail goes out after it, so neither the answer nor
//! its timing tells who has one. Only a repeat within a minute (GoTrue's per-user mail
//! frequency) is refused.

use super::*;

/// Least time between two recovery mails to one user (GoTrue's `SMTP_MAX_FREQUENCY`).
const MAIL_INTERVAL_SECONDS: f64 = 60.0;

pub(super) async fn recover(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&headers, async {
        let body = json_body(&body)?;
        let email = text(&body, "email").trim().to_lowercase();
        if email.is_empty() {
            return Err(AuthError::bad_request(
                "validation_failed",
                "Password recovery requires an email",
            ));
        }
        check_email(&email)?;
        let redirect_to = query_param(&query, "redirect_to");
        check_redirect(redirect_to.as_deref())?;
        if state.auth_mail.get().is_none() {
            return Ok(Json(json!({})));
        }
        let token = new_token();
        if let Some(to) = store_recovery_token(&state, &email, &token).await? {
            let link = verify_url(&state, &token, LinkKind::Recovery, redirect_to.as_deref())?;
            send_later(state.clone(), to, recovery_email(&link));
        }
        Ok(Json(json!({})))
    })
    .await
}

/// Stores the token's hash for the account of `email`, if there is one; answers the
/// address to mail. A previous mail less than a minute old is `over_email_send_rate_limit`.
async fn store_recovery_token(
    state: &AppState,
    email: &str,
    token: &str,
) -> Result<Option<String>, AuthError> {
    let mut client = state.pool.get().await.map_err(AuthError::internal)?;
    let tx = client.transaction().await.map_err(AuthError::internal)?;
    let row = tx
        .query_opt(
            "select id, email::text,
               ceil(extract(epoch from recovery_sent_at + make_interval(secs => $2) - now()))::int8
             from auth.users where lower(email) = $1 and deleted_at is null
             for update",
            &[&email, &MAIL_INTERVAL_SECONDS],
        )
        .await
        .map_err(AuthError::internal)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let user_id: Uuid = row.get(0);
    if let Some(wait) = row.get::<_, Option<i64>>(2).filter(|wait| *wait > 0) {
        return Err(mail_too_soon(wait));
    }
    tx.execute(
        &format!(
            "update auth.users set recovery_token = {}, recovery_sent_at = now(), updated_at = now()
             where id = $2",
            token_hash_sql(1)
        ),
        &[&token, &user_id],
    )
    .await
    .map_err(AuthError::internal)?;
    tx.commit().await.map_err(AuthError::internal)?;
    Ok(Some(row.get(1)))
}
