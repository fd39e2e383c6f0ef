//! `/verify`: a mailed link opened in a browser (`GET`, answered with a redirect carrying
//! the session or the error in the fragment, as GoTrue's implicit flow does), or its
//! token handed over by the app (`POST`, supabase-js `verifyOtp({ token_hash, type })`).

use axum::http::header;

use super::*;

/// What an invalid, used or expired link leads to (GoTrue's words).
const EXPIRED_FRAGMENT: &str =
    "error=access_denied&error_code=otp_expired&error_description=Email+link+is+invalid+or+has+expired";

/// `GET /verify?token&type&redirect_to`: no API key (it is a link in an e-mail).
pub(super) async fn verify_link(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(kind) = query_param(&query, "type").and_then(|kind| LinkKind::parse(&kind)) else {
        return unsupported_type().for_headers(&headers).into_response();
    };
    let redirect_to = query_param(&query, "redirect_to");
    let redirect = safe_redirect(&site_url(&state), redirect_to.as_deref());
    let token = query_param(&query, "token").unwrap_or_default();
    match redeem(&state, kind, &token).await {
        Ok(session) => see_other(&redirect, &session_fragment(&session, kind)),
        Err(error) if error.code == "otp_expired" => see_other(&redirect, EXPIRED_FRAGMENT),
        Err(error) => error.for_headers(&headers).into_response(),
    }
}

/// `POST /verify` with `{type, token_hash}`: the session, as the token grant answers it.
pub(super) async fn verify_token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&headers, async {
        let body = json_body(&body)?;
        let kind = LinkKind::parse(text(&body, "type")).ok_or_else(unsupported_type)?;
        let token_hash = text(&body, "token_hash");
        if token_hash.is_empty() {
            if text(&body, "token").is_empty() {
                return Err(AuthError::bad_request(
                    "validation_failed",
                    "Verify requires either a token or a token hash",
                ));
            }
            // A code typed from a mail: localbase mails links, never codes.
            return Err(link_expired());
        }
        Ok(Json(redeem(&state, kind, token_hash).await?))
    })
    .await
}

/// The session in a URL fragment, which the browser keeps from every server (no
/// `Referer`, no logs) and supabase-js reads on the page it lands on.
fn session_fragment(session: &Value, kind: LinkKind) -> String {
    let field = |name: &str| match &session[name] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("access_token", &field("access_token"))
        .append_pair("expires_at", &field("expires_at"))
        .append_pair("expires_in", &field("expires_in"))
        .append_pair("refresh_token", &field("refresh_token"))
        .append_pair("token_type", "bearer")
        .append_pair("type", kind.as_str())
        .finish()
}

fn see_other(target: &url::Url, fragment: &str) -> Response {
    let location = format!("{target}#{fragment}");
    match HeaderValue::try_from(location) {
        Ok(location) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(error) => AuthError::internal(error).into_response(),
    }
}
