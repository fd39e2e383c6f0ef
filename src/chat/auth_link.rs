//! Links mailed by Auth — a new password, a confirmed address. The server's `/verify`
//! sends the browser here with the new session in the fragment (`#access_token=…&
//! refresh_token=…&expires_at=…&expires_in=…&type=recovery`), or with why not
//! (`#error=…&error_code=otp_expired`). The fragment is read once at start and taken out of
//! the address (a reload or a shared screenshot does not carry the tokens on).

use serde::Deserialize;

use crate::api::auth::{Session, User};

/// What a link brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthLink {
    /// Signed in by the link; `recovery`: the person came to set a new password.
    SignedIn { session: Session, recovery: bool },
    /// The link was used, has expired or is wrong.
    Refused,
}

/// Reads a fragment; `user_of` names the token's holder (from its claims). `None`: the
/// fragment is not an Auth link.
pub fn parse(fragment: &str, user_of: impl Fn(&str) -> Option<User>) -> Option<AuthLink> {
    let value = |name: &str| {
        fragment
            .trim_start_matches('#')
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    };
    if value("error").is_some() || value("error_code").is_some() {
        return Some(AuthLink::Refused);
    }
    let access_token = value("access_token")?.to_string();
    let refresh_token = value("refresh_token")?.to_string();
    let number = |name: &str| value(name).and_then(|v| v.parse::<i64>().ok());
    let (Some(expires_at), Some(expires_in)) = (number("expires_at"), number("expires_in")) else {
        return Some(AuthLink::Refused);
    };
    let Some(user) = user_of(&access_token) else {
        return Some(AuthLink::Refused);
    };
    let session = Session {
        access_token,
        refresh_token,
        expires_at,
        expires_in,
        user,
    };
    let recovery = value("type") == Some("recovery");
    Some(AuthLink::SignedIn { session, recovery })
}

/// The holder of an access token, from its (JSON) claims.
pub fn user_from_claims(claims: &str) -> Option<User> {
    #[derive(Deserialize)]
    struct Claims {
        sub: String,
        #[serde(default)]
        email: Option<String>,
    }
    let claims: Claims = serde_json::from_str(claims).ok()?;
    Some(User {
        id: claims.sub,
        email: claims.email.filter(|e| !e.is_empty()),
    })
}

/// At start: an Auth link's outcome, taken out of the address.
pub fn take_from_address() -> Option<AuthLink> {
    let window = web_sys::window()?;
    let fragment = window.location().hash().ok()?;
    let link = parse(&fragment, |token| {
        // The claims are the JWT's middle part, base64url without padding.
        let part = token.split('.').nth(1)?;
        let mut base64 = part.replace('-', "+").replace('_', "/");
        while base64.len() % 4 != 0 {
            base64.push('=');
        }
        let bytes = window.atob(&base64).ok()?;
        // `atob` gives one character per byte: the UTF-8 of the claims, to decode.
        let bytes: Vec<u8> = bytes.chars().map(|c| c as u32 as u8).collect();
        user_from_claims(std::str::from_utf8(&bytes).ok()?)
    })?;
    crate::browser::clear_fragment();
    Some(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone(_: &str) -> Option<User> {
        Some(User {
            id: "u1".into(),
            email: Some("a@example.com".into()),
        })
    }

    #[test]
    fn a_recovery_link_signs_in_for_a_new_password() {
        let fragment = "#access_token=aaa.bbb.ccc&expires_at=1800000000&expires_in=3600\
                        &refresh_token=r1&token_type=bearer&type=recovery";
        let Some(AuthLink::SignedIn { session, recovery }) = parse(fragment, someone) else {
            panic!("signed in");
        };
        assert!(recovery);
        assert_eq!(session.access_token, "aaa.bbb.ccc");
        assert_eq!(session.refresh_token, "r1");
        assert_eq!(session.issued_at(), 1_800_000_000 - 3600);
        assert_eq!(session.user.id, "u1");
    }

    #[test]
    fn a_confirmation_link_signs_in_only() {
        let fragment = "access_token=t&refresh_token=r&expires_at=10&expires_in=5&type=signup";
        assert!(matches!(
            parse(fragment, someone),
            Some(AuthLink::SignedIn {
                recovery: false,
                ..
            })
        ));
    }

    #[test]
    fn a_used_or_broken_link_is_refused_and_other_fragments_are_not_links() {
        let used = "#error=access_denied&error_code=otp_expired&error_description=Email+link";
        assert_eq!(parse(used, someone), Some(AuthLink::Refused));
        let broken = "#access_token=t&refresh_token=r&expires_at=soon&expires_in=5";
        assert_eq!(parse(broken, someone), Some(AuthLink::Refused));
        let nobody = "#access_token=t&refresh_token=r&expires_at=10&expires_in=5";
        assert_eq!(parse(nobody, |_| None), Some(AuthLink::Refused));
        assert_eq!(parse("#invite=abc", someone), None);
        assert_eq!(parse("", someone), None);
        // A name that only starts like one of ours is not it.
        assert_eq!(parse("#errors_seen=1", someone), None);
    }

    #[test]
    fn the_holder_comes_from_the_claims() {
        let user =
            user_from_claims(r#"{"sub":"u9","email":"ива@example.com","role":"authenticated"}"#);
        assert_eq!(
            user,
            Some(User {
                id: "u9".into(),
                email: Some("ива@example.com".into())
            })
        );
        assert_eq!(user_from_claims(r#"{"role":"anon"}"#), None);
        assert_eq!(user_from_claims("not json"), None);
    }
}
