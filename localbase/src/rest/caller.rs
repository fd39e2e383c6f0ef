//! Who is calling REST: the verified JWT of the request (`Authorization: Bearer …`, or the
//! API key itself when there is none).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::RestError;
use crate::gateway::{api_key, bearer};
use crate::jwt::{now, Claims, TokenError};
use crate::AppState;

/// A request's verified claims.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: Claims,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CallerError {
    #[error("JWT expired")]
    Expired,
    #[error("{0}")]
    Invalid(TokenError),
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = RestError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)
            .map(str::to_string)
            .or_else(|| api_key(&parts.headers, parts.uri.query()))
            .unwrap_or_default();
        match state.keys.verify(&token, now()) {
            Ok(claims) => Ok(Caller { claims, token }),
            Err(TokenError::Expired(_)) => Err(CallerError::Expired.into()),
            Err(other) => Err(CallerError::Invalid(other).into()),
        }
    }
}
