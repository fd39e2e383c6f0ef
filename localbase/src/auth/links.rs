//! One-time e-mail links (password recovery, sign-up confirmation): their tokens, of which
//! the database keeps only a SHA-256, and where they lead afterwards — only back to the
//! site, so a link never carries a session to a foreign origin (no open redirect).

use rand::RngCore;
use url::Url;

use super::*;

/// Longest `redirect_to` accepted (a URL, not a document).
pub(super) const MAX_REDIRECT_BYTES: usize = 2048;
/// Longest token looked up; ours are 64 hex characters.
const MAX_TOKEN_BYTES: usize = 128;
/// How long a mailed link works (GoTrue's default `GOTRUE_MAILER_OTP_EXP`).
const LINK_LIFETIME_SECONDS: f64 = 3600.0;
/// The site when nothing says otherwise (`serve`'s app port).
const DEFAULT_SITE_URL: &str = "http://127.0.0.1:8080";

/// What a link does once opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LinkKind {
    Recovery,
    Signup,
}

impl LinkKind {
    /// GoTrue's verification types; `email` is its newer name for a sign-up confirmation.
    pub(super) fn parse(kind: &str) -> Option<LinkKind> {
        match kind {
            "recovery" => Some(LinkKind::Recovery),
            "signup" | "email" => Some(LinkKind::Signup),
            _ => None,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            LinkKind::Recovery => "recovery",
            LinkKind::Signup => "signup",
        }
    }

    /// The columns of `auth.users` holding this kind's token hash and when it was sent
    /// (fixed names, never client text).
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            LinkKind::Recovery => ("recovery_token", "recovery_sent_at"),
            LinkKind::Signup => ("confirmation_token", "confirmation_sent_at"),
        }
    }
}

/// A fresh token: 32 random bytes as hex (URL-safe as it is).
pub(super) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SQL for the stored form of the token bound as `$n`.
pub(super) fn token_hash_sql(n: usize) -> String {
    format!("encode(extensions.digest(${n}::text, 'sha256'), 'hex')")
}

/// A mail to this account went out `wait` seconds too recently (GoTrue's per-user mail
/// frequency, for recovery and confirmation alike).
pub(super) fn mail_too_soon(wait: i64) -> AuthError {
    AuthError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "over_email_send_rate_limit",
        format!("For security purposes, you can only request this after {wait} seconds."),
    )
}

pub(super) fn link_expired() -> AuthError {
    AuthError::new(
        StatusCode::FORBIDDEN,
        "otp_expired",
        "Email link is invalid or has expired",
    )
}

pub(super) fn unsupported_type() -> AuthError {
    AuthError::bad_request("validation_failed", "Unsupported verification type")
}

/// A `redirect_to` longer than any real URL is refused rather than silently replaced.
pub(super) fn check_redirect(redirect_to: Option<&str>) -> Result<(), AuthError> {
    match redirect_to {
        Some(url) if url.len() > MAX_REDIRECT_BYTES => Err(AuthError::bad_request(
            "validation_failed",
            format!("redirect_to cannot be longer than {MAX_REDIRECT_BYTES} characters"),
        )),
        _ => Ok(()),
    }
}

/// The app's URL: where links lead unless they ask for another page of it.
pub(super) fn site_url(state: &AppState) -> Url {
    state
        .auth_mail
        .get()
        .map(|mail| mail.site_url.clone())
        .unwrap_or_else(|| Url::parse(DEFAULT_SITE_URL).expect("a valid constant URL"))
}

/// `requested` when it is on the site's origin (scheme, host and port), else the site.
pub(super) fn safe_redirect(site: &Url, requested: Option<&str>) -> Url {
    let mut target = requested
        .filter(|url| url.len() <= MAX_REDIRECT_BYTES)
        .and_then(|url| Url::parse(url).ok())
        .filter(|url| url.origin().is_tuple() && url.origin() == site.origin())
        .unwrap_or_else(|| site.clone());
    // The session goes in the fragment; one the caller brought would be in its way.
    target.set_fragment(None);
    target
}

/// The link mailed for `token`: `GET /auth/v1/verify` on this server, which then sends
/// the browser on to the (checked) `redirect_to`.
pub(super) fn verify_url(
    state: &AppState,
    token: &str,
    kind: LinkKind,
    redirect_to: Option<&str>,
) -> Result<String, AuthError> {
    let redirect = safe_redirect(&site_url(state), redirect_to);
    let base = format!(
        "{}/auth/v1/verify",
        state.settings.public_url.trim_end_matches('/')
    );
    let mut url = Url::parse(&base).map_err(AuthError::internal)?;
    url.query_pairs_mut()
        .append_pair("token", token)
        .append_pair("type", kind.as_str())
        .append_pair("redirect_to", redirect.as_str());
    Ok(url.into())
}

/// Uses a link's token: valid (hash matches, sent within the hour, user not deleted), it
/// is spent, the address counts as confirmed (a recovery mail reached it too, as GoTrue
/// reasons) and a new session begins. Anything else is `otp_expired`, whatever the cause.
pub(super) async fn redeem(
    state: &AppState,
    kind: LinkKind,
    token: &str,
) -> Result<Value, AuthError> {
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(link_expired());
    }
    let (token_column, sent_column) = kind.columns();
    let mut client = state.pool.get().await.map_err(AuthError::internal)?;
    let tx = client.transaction().await.map_err(AuthError::internal)?;
    let row = tx
        .query_opt(
            &format!(
                "update auth.users u set {token_column} = '', updated_at = now(),
                   email_confirmed_at = coalesce(u.email_confirmed_at, now()), last_sign_in_at = now()
                 where u.{token_column} = {hash} and u.{sent_column} > now() - make_interval(secs => $2)
                   and u.deleted_at is null
                 returning u.id, {USER_JSON}",
                hash = token_hash_sql(1)
            ),
            &[&token, &LINK_LIFETIME_SECONDS],
        )
        .await
        .map_err(AuthError::internal)?;
    let Some(row) = row else {
        return Err(link_expired());
    };
    let session = start_session(state, &tx, row.get(0), row.get(1)).await?;
    tx.commit().await.map_err(AuthError::internal)?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Url {
        Url::parse("http://127.0.0.1:8080").unwrap()
    }

    #[test]
    fn redirects_stay_on_the_site_origin() {
        let on_site = safe_redirect(&site(), Some("http://127.0.0.1:8080/reset?x=1#old"));
        assert_eq!(on_site.as_str(), "http://127.0.0.1:8080/reset?x=1");
        for foreign in [
            "https://evil.example/",
            "http://127.0.0.1:8081/",
            "https://127.0.0.1:8080/",
            "http://127.0.0.1:8080@evil.example/",
            "javascript:alert(1)",
            "//evil.example",
            "not a url",
        ] {
            assert_eq!(safe_redirect(&site(), Some(foreign)), site(), "{foreign}");
        }
        assert_eq!(safe_redirect(&site(), None), site());
        let long = format!("http://127.0.0.1:8080/{}", "a".repeat(MAX_REDIRECT_BYTES));
        assert_eq!(safe_redirect(&site(), Some(&long)), site());
        assert!(check_redirect(Some(&long)).is_err());
        assert!(check_redirect(Some("http://127.0.0.1:8080/")).is_ok());
    }

    #[test]
    fn tokens_are_fresh_hex_and_kinds_parse() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(LinkKind::parse("recovery"), Some(LinkKind::Recovery));
        assert_eq!(LinkKind::parse("email"), Some(LinkKind::Signup));
        assert_eq!(LinkKind::parse("magiclink"), None);
    }
}
