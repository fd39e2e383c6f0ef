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
    check_password_fits(password)?;
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        Err(AuthError::weak_password())
    } else {
        Ok(())
    }
}

/// Longer than bcrypt can tell apart: refused, at sign-up and at sign-in alike.
pub(super) fn check_password_fits(password: &str) -> Result<(), AuthError> {
    if password.len() > MAX_PASSWORD_BYTES {
        Err(AuthError::bad_request(
            "validation_failed",
            format!("Password cannot be longer than {MAX_PASSWORD_BYTES} characters"),
        ))
    } else {
        Ok(())
    }
}

/// `user_metadata` must be an object of modest size.
pub(super) fn check_metadata(data: &Value) -> Result<(), AuthError> {
    if !data.is_object() {
        return Err(AuthError::bad_request(
            "validation_failed",
            "data must be a JSON object",
        ));
    }
    if data.to_string().len() > MAX_METADATA_BYTES {
        return Err(AuthError::bad_request(
            "validation_failed",
            format!("data is larger than {MAX_METADATA_BYTES} bytes"),
        ));
    }
    Ok(())
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
    fn passwords_longer_than_bcrypt_reads_and_huge_metadata_are_refused() {
        assert!(check_password(&"x".repeat(72)).is_ok());
        let long = check_password(&"x".repeat(73)).unwrap_err();
        assert_eq!(long.code, "validation_failed");
        assert!(
            check_password_fits(&"ж".repeat(37)).is_err(),
            "counted in bytes"
        );
        assert!(check_metadata(&serde_json::json!({"full_name": "Иван"})).is_ok());
        let huge = serde_json::json!({"x": "y".repeat(MAX_METADATA_BYTES)});
        assert!(check_metadata(&huge).is_err());
        assert!(check_metadata(&serde_json::json!([1])).is_err());
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
