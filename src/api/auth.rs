//! Supabase Auth: password sign-in, refresh, sign-out.

use gloo_net::http::{Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{error_from_body, ApiError};
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
    /// Seconds until the access token should be refreshed, measured from `now` (unix
    /// seconds): 90 s before it expires, as supabase-js does, or half-way through the
    /// lifetime of short-lived tokens (so a 20 s token is refreshed every 10 s, never in
    /// a tight loop).
    pub fn refresh_in(&self, now: i64) -> i64 {
        let margin = 90.min(self.expires_in.max(2) / 2);
        (self.expires_at - margin - now).max(0)
    }
}

pub(crate) async fn read<T: serde::de::DeserializeOwned>(
    response: Response,
) -> Result<T, ApiError> {
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !(200..300).contains(&status) {
        return Err(error_from_body(status, &body));
    }
    serde_json::from_str(&body).map_err(|e| ApiError::Decode(e.to_string()))
}

async fn grant(
    config: &Config,
    grant_type: &str,
    body: serde_json::Value,
) -> Result<Session, ApiError> {
    let url = format!(
        "{}/auth/v1/token?grant_type={grant_type}",
        config.supabase_url
    );
    let response = Request::post(&url)
        .header("apikey", &config.supabase_anon_key)
        .header(
            "Authorization",
            &format!("Bearer {}", config.supabase_anon_key),
        )
        .header("X-Supabase-Api-Version", "2024-01-01")
        .json(&body)
        .map_err(|e| ApiError::Decode(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    read(response).await
}

pub async fn sign_in(config: &Config, email: &str, password: &str) -> Result<Session, ApiError> {
    grant(
        config,
        "password",
        json!({ "email": email.trim(), "password": password }),
    )
    .await
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
    Request::post(&url)
        .header("apikey", &config.supabase_anon_key)
        .header("Authorization", &format!("Bearer {access_token}"))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
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
            expires_at: 1_000,
            expires_in: 3600,
            user: User {
                id: "u".into(),
                email: None,
            },
        };
        assert_eq!(session.refresh_in(0), 910);
        assert_eq!(session.refresh_in(950), 0);
        let short = Session {
            expires_at: 1_020,
            expires_in: 20,
            ..session
        };
        assert_eq!(
            short.refresh_in(1_000),
            10,
            "a fresh 20 s token is refreshed after 10 s"
        );
    }
}
