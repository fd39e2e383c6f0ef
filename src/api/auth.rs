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
    pub user: User,
}

impl Session {
    /// Seconds until the access token should be refreshed (90 s before it expires, as
    /// supabase-js does), measured from `now` (unix seconds).
    pub fn refresh_in(&self, now: i64) -> i64 {
        (self.expires_at - 90 - now).max(0)
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
            user: User {
                id: "u".into(),
                email: None,
            },
        };
        assert_eq!(session.refresh_in(0), 910);
        assert_eq!(session.refresh_in(950), 0);
    }
}
