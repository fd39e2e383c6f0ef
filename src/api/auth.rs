//! Supabase Auth: sign-up, password sign-in, refresh, password change, sign-out.

use gloo_net::http::{Request, RequestBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::fetch::{call, Abort, REQUEST_TIMEOUT_MS};
use super::{encode_component, ApiError};
use crate::config::Config;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// What GoTrue returns for a token grant (the fields we keep).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Lifetime of the access token in seconds.
    #[serde(default = "default_lifetime")]
    pub expires_in: i64,
    pub user: User,
}

fn default_lifetime() -> i64 {
    3600
}

impl Session {
    /// When the server issued the token (unix seconds, server clock): GoTrue sets
    /// `expires_at` to the issue time plus `expires_in`.
    pub fn issued_at(&self) -> i64 {
        self.expires_at - self.expires_in
    }

    /// Milliseconds until the access token should be refreshed, given the server's clock
    /// now (never the browser's own, which may be hours off): 90 s before it expires, as
    /// supabase-js does, or half-way through the lifetime of short-lived tokens (so a 20 s
    /// token is refreshed every 10 s).
    pub fn refresh_in_ms(&self, server_now_ms: f64) -> f64 {
        let margin = 90.min(self.expires_in.max(2) / 2);
        ((self.expires_at - margin) as f64 * 1000.0 - server_now_ms).max(0.0)
    }
}

fn anon(builder: RequestBuilder, config: &Config) -> RequestBuilder {
    builder
        .header("apikey", &config.supabase_anon_key)
        .header("X-Supabase-Api-Version", "2024-01-01")
}

/// A request made before there is a session: the anon key is also its bearer.
fn signed_out(builder: RequestBuilder, config: &Config) -> RequestBuilder {
    anon(builder, config).header(
        "Authorization",
        &format!("Bearer {}", config.supabase_anon_key),
    )
}

async fn grant(config: &Config, grant_type: &str, body: Value) -> Result<Session, ApiError> {
    let url = format!(
        "{}/auth/v1/token?grant_type={grant_type}",
        config.supabase_url
    );
    let builder = signed_out(Request::post(&url), config);
    call(builder, Some(&body), REQUEST_TIMEOUT_MS, Abort::new()).await
}

pub async fn sign_in(config: &Config, email: &str, password: &str) -> Result<Session, ApiError> {
    grant(
        config,
        "password",
        json!({ "email": email.trim(), "password": password }),
    )
    .await
}

/// Creates an account (a trainer's; clients come by invitation). `Some` session when the
/// project confirms e-mail addresses at once (localbase, or "Confirm email" off); `None`
/// when the person must first follow the link mailed to them.
pub async fn sign_up(
    config: &Config,
    name: &str,
    email: &str,
    password: &str,
) -> Result<Option<Session>, ApiError> {
    // A confirmation link, if the project mails one, leads back here.
    let url = format!(
        "{}/auth/v1/signup?redirect_to={}",
        config.supabase_url,
        encode_component(&crate::browser::app_address())
    );
    let builder = signed_out(Request::post(&url), config);
    let body = json!({ "email": email.trim(), "password": password,
                       "data": { "full_name": name.trim() } });
    let answer: Value = call(builder, Some(&body), REQUEST_TIMEOUT_MS, Abort::new()).await?;
    // A session, or only the new user while the address waits for confirmation.
    Ok(serde_json::from_value(answer).ok())
}

/// Mails a link to set a new password, if the address has an account (the answer is the
/// same either way); the link leads back to this app.
pub async fn recover(config: &Config, email: &str) -> Result<(), ApiError> {
    let url = format!(
        "{}/auth/v1/recover?redirect_to={}",
        config.supabase_url,
        encode_component(&crate::browser::app_address())
    );
    let builder = signed_out(Request::post(&url), config);
    let body = json!({ "email": email.trim() });
    call::<Value>(builder, Some(&body), REQUEST_TIMEOUT_MS, Abort::new()).await?;
    Ok(())
}

/// A new password for the signed-in person.
pub async fn change_password(
    config: &Config,
    access_token: &str,
    password: &str,
) -> Result<(), ApiError> {
    let url = format!("{}/auth/v1/user", config.supabase_url);
    let builder =
        anon(Request::put(&url), config).header("Authorization", &format!("Bearer {access_token}"));
    let body = json!({ "password": password });
    call::<Value>(builder, Some(&body), REQUEST_TIMEOUT_MS, Abort::new()).await?;
    Ok(())
}

pub async fn refresh(config: &Config, refresh_token: &str) -> Result<Session, ApiError> {
    grant(
        config,
        "refresh_token",
        json!({ "refresh_token": refresh_token }),
    )
    .await
}

/// Ends this session on the server; its refresh token stops working.
pub async fn sign_out(config: &Config, access_token: &str) -> Result<(), ApiError> {
    let url = format!("{}/auth/v1/logout?scope=local", config.supabase_url);
    let builder = anon(Request::post(&url), config)
        .header("Authorization", &format!("Bearer {access_token}"));
    call::<Value>(builder, None, REQUEST_TIMEOUT_MS, Abort::new()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_is_due_ninety_seconds_before_expiry() {
        let session = Session {
            access_token: String::new(),
            refresh_token: String::new(),
            expires_at: 4_600,
            expires_in: 3600,
            user: User {
                id: "u".into(),
                email: None,
            },
        };
        assert_eq!(session.issued_at(), 1_000);
        assert_eq!(session.refresh_in_ms(1_000_000.0), 3_510_000.0);
        assert_eq!(session.refresh_in_ms(4_550_000.0), 0.0);
        let short = Session {
            expires_at: 1_020,
            expires_in: 20,
            ..session
        };
        assert_eq!(
            short.refresh_in_ms(1_000_000.0),
            10_000.0,
            "a fresh 20 s token is refreshed after 10 s"
        );
    }

    #[test]
    fn a_skewed_browser_clock_neither_loops_nor_waits_past_expiry() {
        use crate::clock::ServerClock;
        const HOUR_MS: f64 = 3_600_000.0;
        // The server issues a one-hour token at 10:00:00 (server time).
        let issued = 36_000;
        let session = Session {
            access_token: String::new(),
            refresh_token: String::new(),
            expires_at: issued + 3600,
            expires_in: 3600,
            user: User {
                id: "u".into(),
                email: None,
            },
        };
        for skew in [HOUR_MS, -HOUR_MS, 2.0 * HOUR_MS] {
            // The answer arrived 50 ms after the request left, by the local clock.
            let local_received = issued as f64 * 1000.0 + skew + 50.0;
            let mut clock = ServerClock::default();
            clock.observe(
                session.issued_at() as f64 * 1000.0,
                1000.0,
                local_received - 50.0,
                local_received,
            );
            let wait = session.refresh_in_ms(clock.server_ms(local_received));
            assert!(
                (3_508_000.0..=3_510_000.0).contains(&wait),
                "clock off by {skew} ms: refresh in {wait} ms"
            );
        }
    }
}
