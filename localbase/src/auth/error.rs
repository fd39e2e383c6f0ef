//! GoTrue's error body, in the versioned and the legacy shape.

use super::*;

/// GoTrue's error: `{code, message}` for clients that send `X-Supabase-Api-Version`,
/// the legacy `{code: <status>, error_code, msg}` otherwise.
#[derive(Debug)]
pub struct AuthError {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
    /// Only `weak_password` errors: why the password was refused.
    pub(super) weak_reasons: Option<Vec<&'static str>>,
    pub(super) versioned: bool,
}

impl AuthError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AuthError {
            status,
            code,
            message: message.into(),
            weak_reasons: None,
            versioned: true,
        }
    }

    pub(super) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(super) fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub(super) fn weak_password() -> Self {
        let mut error = AuthError::unprocessable(
            "weak_password",
            format!("Password should be at least {MIN_PASSWORD_LENGTH} characters."),
        );
        error.weak_reasons = Some(vec!["length"]);
        error
    }

    pub(super) fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "auth request failed");
        AuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            "Unexpected failure",
        )
    }

    pub(super) fn for_headers(mut self, headers: &HeaderMap) -> Self {
        self.versioned = headers.contains_key(API_VERSION_HEADER);
        self
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut body = if self.versioned {
            json!({ "code": self.code, "message": self.message })
        } else {
            json!({ "code": self.status.as_u16(), "error_code": self.code, "msg": self.message })
        };
        if let Some(reasons) = self.weak_reasons {
            body["weak_password"] = json!({ "reasons": reasons });
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.versioned {
            response
                .headers_mut()
                .insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
        }
        response
    }
}
