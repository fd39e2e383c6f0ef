//! HS256 JWTs as Supabase issues them: access tokens for users and the anon key.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The Supabase CLI's local default secret, so the well-known local keys keep working.
/// Clock skew tolerated for `nbf`, as GoTrue's clients allow.
const NBF_LEEWAY_SECONDS: i64 = 30;

pub const DEFAULT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// Signs and verifies tokens with one shared secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// Why a token was refused, worded as Supabase words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token has expired {0} seconds ago")]
    Expired(i64),
    #[error("Fields `role` and `exp` are required in JWT")]
    MissingClaims,
    #[error("The token provided is not a valid JWT")]
    Malformed,
    #[error("Failed to validate JWT signature")]
    Signature,
    #[error("The token is not valid yet (nbf)")]
    NotYetValid,
}

impl Keys {
    pub fn new(secret: &str) -> Self {
        Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of a JSON object cannot fail")
    }

    /// Verifies signature and expiry; returns the claims (which carry `role` and `exp`).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked below, to report "N seconds ago"
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = decode::<Value>(token, &self.decoding, &validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            match error.kind() {
                ErrorKind::InvalidSignature => TokenError::Signature,
                _ => TokenError::Malformed,
            }
        })?;
        let raw = data.claims;
        let role = raw.get("role").and_then(Value::as_str);
        let exp = raw.get("exp").and_then(Value::as_i64);
        let (Some(role), Some(exp)) = (role, exp) else {
            return Err(TokenError::MissingClaims);
        };
        if exp <= now {
            return Err(TokenError::Expired(now - exp));
        }
        // Not valid yet (`nbf` in the future, beyond a little clock skew).
        if raw
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|nbf| nbf > now + NBF_LEEWAY_SECONDS)
        {
            return Err(TokenError::NotYetValid);
        }
        Ok(Claims {
            role: role.to_string(),
            exp,
            sub: raw.get("sub").and_then(Value::as_str).map(str::to_string),
            raw,
        })
    }

    /// The anon key: a long-lived token with role `anon`.
    pub fn anon_key(&self) -> String {
        self.sign(&serde_json::json!({"iss": "supabase-demo", "role": "anon", "exp": 1983812996}))
    }

    /// The service-role key: bypasses RLS, for tools and tests.
    pub fn service_role_key(&self) -> String {
        self.sign(
            &serde_json::json!({"iss": "supabase-demo", "role": "service_role", "exp": 1983812996}),
        )
    }
}

/// Verified claims of a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub role: String,
    pub exp: i64,
    pub sub: Option<String>,
    pub raw: Value,
}

impl Claims {
    /// The database role the request runs as. Anything unexpected runs as `anon`.
    pub fn database_role(&self) -> &'static str {
        match self.role.as_str() {
            "authenticated" => "authenticated",
            "service_role" => "service_role",
            _ => "anon",
        }
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_its_own_tokens_and_reports_expiry_in_seconds() {
        let keys = Keys::new(DEFAULT_SECRET);
        let token =
            keys.sign(&serde_json::json!({"role": "authenticated", "exp": 100, "sub": "u"}));
        let claims = keys.verify(&token, 50).unwrap();
        assert_eq!(claims.sub.as_deref(), Some("u"));
        assert_eq!(claims.database_role(), "authenticated");
        assert_eq!(
            keys.verify(&token, 130).unwrap_err(),
            TokenError::Expired(30)
        );
    }

    #[test]
    fn refuses_foreign_signatures_garbage_and_missing_claims() {
        let keys = Keys::new(DEFAULT_SECRET);
        let other = Keys::new("another-secret-another-secret-another-secret");
        let token = other.sign(&serde_json::json!({"role": "anon", "exp": 100}));
        assert_eq!(keys.verify(&token, 0).unwrap_err(), TokenError::Signature);
        assert_eq!(
            keys.verify("not a jwt", 0).unwrap_err(),
            TokenError::Malformed
        );
        let no_role = keys.sign(&serde_json::json!({"exp": 100}));
        assert_eq!(
            keys.verify(&no_role, 0).unwrap_err(),
            TokenError::MissingClaims
        );
    }

    #[test]
    fn a_token_from_the_future_is_refused_until_its_nbf() {
        let keys = Keys::new(DEFAULT_SECRET);
        let token = keys.sign(&serde_json::json!({"role": "anon", "exp": 10_000, "nbf": 1_000}));
        assert_eq!(
            keys.verify(&token, 900).unwrap_err(),
            TokenError::NotYetValid
        );
        assert!(
            keys.verify(&token, 990).is_ok(),
            "a little clock skew is tolerated"
        );
        assert!(keys.verify(&token, 1_000).is_ok());
    }

    #[test]
    fn unknown_roles_run_as_anon() {
        let claims = Claims {
            role: "postgres".into(),
            exp: 1,
            sub: None,
            raw: Value::Null,
        };
        assert_eq!(claims.database_role(), "anon");
    }
}
