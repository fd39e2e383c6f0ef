//! HTTP clients for Supabase Auth (GoTrue) and PostgREST, with one error type that the UI
//! turns into a sentence.

pub mod account;
pub mod auth;
pub mod fetch;
pub mod rest;

use crate::i18n::Text;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request never got an answer (offline, server down, CORS).
    #[error("network: {0}")]
    Network(String),
    #[error("invalid login credentials")]
    InvalidCredentials,
    /// The access or refresh token is no longer accepted.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The server refused the request; `code` is PostgREST's / GoTrue's code.
    #[error("{status} {code}: {message}")]
    Http {
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl ApiError {
    /// What to tell the person.
    pub fn text(&self) -> Text {
        match self {
            ApiError::Network(_) => Text::NetworkError,
            ApiError::InvalidCredentials => Text::InvalidCredentials,
            ApiError::Unauthorized(_) => Text::SessionExpired,
            ApiError::Http { code, message, .. } => refusal(code, message),
            ApiError::Decode(_) => Text::ServerError,
        }
    }

    /// Worth retrying later with the same request.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network(_) => true,
            ApiError::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// What the server's refusal means to the person: by GoTrue's or PostgreSQL's code, and
/// for the database's own refusals (`raise exception 'invitation_used'`) by name.
fn refusal(code: &str, message: &str) -> Text {
    match (code, message) {
        ("42501", _) => Text::NotAllowed,
        (_, "message_edit_too_late") => Text::EditTooLate,
        (_, "invitation_not_found") => Text::InvitationNotFound,
        (_, "invitation_used") => Text::InvitationUsed,
        (_, "invitation_expired") => Text::InvitationExpired,
        (_, "invitation_revoked") => Text::InvitationRevoked,
        (_, "invitation_own") => Text::InvitationOwn,
        (_, "invitation_too_many") => Text::TooManyInvitations,
        (_, "invitation_bad_email") | ("email_address_invalid", _) => Text::InvalidEmail,
        ("user_already_exists" | "email_exists", _) => Text::EmailTaken,
        ("weak_password", _) => Text::WeakPassword,
        ("validation_failed", message) if message.contains("mail") => Text::InvalidEmail,
        ("validation_failed", message) if message.contains("assword") => Text::WeakPassword,
        ("over_request_rate_limit" | "over_email_send_rate_limit", _) => Text::TooManyTries,
        _ => Text::ServerError,
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub fn encode_component(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Reads an error body of either API into an [`ApiError`].
pub(crate) fn error_from_body(status: u16, body: &str) -> ApiError {
    let value = crate::json::parse(body).unwrap_or_default();
    let code = value["error_code"]
        .as_str()
        .or_else(|| value["code"].as_str())
        .unwrap_or_default()
        .to_string();
    let message = ["message", "msg", "error_description", "error"]
        .iter()
        .find_map(|key| value[*key].as_str())
        .unwrap_or(body)
        .to_string();
    match (status, code.as_str()) {
        (_, "invalid_credentials") => ApiError::InvalidCredentials,
        (401, _)
        | (
            _,
            "bad_jwt"
            | "PGRST301"
            | "PGRST303"
            | "refresh_token_not_found"
            | "refresh_token_already_used"
            | "session_not_found",
        ) => ApiError::Unauthorized(message),
        _ => ApiError::Http {
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_survive_query_encoding() {
        assert_eq!(
            encode_component("2026-11-25T14:29:15.1+00:00"),
            "2026-11-25T14%3A29%3A15.1%2B00%3A00"
        );
        assert_eq!(encode_component("ж"), "%D0%B6");
    }

    #[test]
    fn error_bodies_of_both_apis_are_understood() {
        assert_eq!(
            error_from_body(
                400,
                r#"{"code":"invalid_credentials","message":"Invalid login credentials"}"#
            ),
            ApiError::InvalidCredentials
        );
        assert_eq!(
            error_from_body(
                400,
                r#"{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}"#
            ),
            ApiError::InvalidCredentials
        );
        let denied = error_from_body(
            403,
            r#"{"code":"42501","message":"new row violates row-level security policy","details":null,"hint":null}"#,
        );
        assert_eq!(denied.text(), Text::NotAllowed);
        assert!(!denied.is_transient());
        assert!(matches!(
            error_from_body(401, r#"{"code":"PGRST303","message":"JWT expired"}"#),
            ApiError::Unauthorized(_)
        ));
        assert!(error_from_body(503, "<html>").is_transient());
    }

    #[test]
    fn refusals_by_the_database_and_auth_are_named_to_the_person() {
        let said = |status, body| error_from_body(status, body).text();
        assert_eq!(
            said(
                400,
                r#"{"code":"P0001","message":"invitation_used","details":null}"#
            ),
            Text::InvitationUsed
        );
        assert_eq!(
            said(400, r#"{"code":"P0001","message":"invitation_expired"}"#),
            Text::InvitationExpired
        );
        assert_eq!(
            said(
                422,
                r#"{"code":422,"error_code":"user_already_exists","msg":"User already registered"}"#
            ),
            Text::EmailTaken
        );
        assert_eq!(
            said(
                422,
                r#"{"code":"weak_password","message":"Password should be at least 6 characters."}"#
            ),
            Text::WeakPassword
        );
        assert_eq!(
            said(
                400,
                r#"{"code":"validation_failed","message":"Unable to validate email address: invalid format"}"#
            ),
            Text::InvalidEmail
        );
        assert_eq!(
            said(400, r#"{"code":"P0001","message":"something else"}"#),
            Text::ServerError
        );
    }
}
