//! Checks of e-mail addresses and passwords, with GoTrue's error codes.

use super::*;

/// GoTrue's check is a parse, not a lookup: one `@`, something before it, a dotted domain.
pub(super) fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 255
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(super) fn check_email(email: &str) -> Result<(), AuthError> {
    if valid_email(email) {
        Ok(())
    } else {
        Err(AuthError::bad_request(
            "validation_failed",
            "Unable to validate email address: invalid format",
        ))
    }
}

pub(super) fn check_password(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        Err(AuthError::weak_password())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_check_accepts_ordinary_addresses_and_refuses_the_rest() {
        for good in ["a@example.com", "first.last+tag@sub.example.bg"] {
            assert!(valid_email(good), "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@@example.com",
            "a@example.",
            "a b@example.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_shorter_than_six_characters_are_weak() {
        assert!(check_password("12345").is_err());
        assert!(check_password("пароля").is_ok(), "counted in characters");
        let error = AuthError::weak_password();
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.weak_reasons, Some(vec!["length"]));
    }
}
