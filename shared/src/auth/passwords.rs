//! Password hashing (argon2id with OWASP's parameters) and the password policy.

use crate::http::FieldError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP's argon2id recommendation: 19 MiB of memory, two passes, one lane.
fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None).expect("valid argon2 parameters"),
    )
}

pub const DEFAULT_MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("hashing a bounded password cannot fail")
        .to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a password nobody has, with the same parameters as every stored hash.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$md83kdP3EKR5aCs0S7Z5kA$12XToULRVocPVgRerrJzzp/WLm87/yoFeZIKNToxEnk";

/// Spends the time of one verification against a fixed hash, so that an unknown account takes as
/// long to refuse as a wrong password (the hash is a constant: no first-call cost to time).
pub fn verify_nothing(password: &str) {
    let _ = verify(password, DUMMY_HASH);
}

/// A fingerprint of what recovers an account: its password hash (salted anew with every change,
/// so each new password moves it, even back to an old one) and its email. Reset tokens carry the
/// stamp of the account they were issued for and stop working once it moves.
pub fn credential_stamp(password_hash: Option<&str>, email: &str) -> String {
    use sha2::{Digest, Sha256};
    let material = format!("{}\n{email}", password_hash.unwrap_or_default());
    hex::encode(Sha256::digest(material.as_bytes()))
}

/// Checks a new password against the policy; `field` names it in the error.
pub fn check_policy(
    password: &str,
    min_length: usize,
    field: &str,
    context: &[&str],
) -> Result<(), FieldError> {
    let length = password.chars().count();
    if length < min_length {
        return Err(FieldError::new(
            field,
            "too_short",
            format!("use at least {min_length} characters"),
        ));
    }
    if length > MAX_LENGTH {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("use at most {MAX_LENGTH} characters"),
        ));
    }
    // zxcvbn rates guessability against common passwords, names, keyboard patterns and the
    // user's own details; scores 0 to 2 fall to an online or cheap offline attack.
    let score = zxcvbn::zxcvbn(password, context).score();
    if (score as u8) < 3 {
        return Err(FieldError::new(
            field,
            "too_common",
            "this password is too easy to guess; use a longer or less common one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_has_the_current_parameters() {
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("correct horse battery staple");
        let b = hash("correct horse battery staple");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery staple", &a));
        assert!(!verify("correct horse battery stapl", &a));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn the_credential_stamp_moves_with_every_new_password_and_email() {
        let first = hash("correct horse battery staple");
        let again = hash("correct horse battery staple");
        let stamp = credential_stamp(Some(&first), "ana@example.com");
        assert_eq!(stamp, credential_stamp(Some(&first), "ana@example.com"));
        assert_ne!(
            stamp,
            credential_stamp(Some(&again), "ana@example.com"),
            "the same password set again"
        );
        assert_ne!(stamp, credential_stamp(Some(&first), "eve@example.com"));
        assert_ne!(stamp, credential_stamp(None, "ana@example.com"));
    }

    #[test]
    fn policy_refuses_short_long_and_common() {
        assert_eq!(
            check_policy("short", 12, "password", &[]).unwrap_err().code,
            "too_short"
        );
        assert_eq!(
            check_policy(&"a".repeat(257), 12, "password", &[])
                .unwrap_err()
                .code,
            "too_long"
        );
        assert_eq!(
            check_policy("password1234", 12, "password", &[])
                .unwrap_err()
                .code,
            "too_common"
        );
        assert_eq!(
            check_policy(
                "ana.smith@example.com",
                12,
                "password",
                &["ana.smith@example.com"]
            )
            .unwrap_err()
            .code,
            "too_common"
        );
        assert!(check_policy("plum-orbit-quiet-harbor-7", 12, "password", &[]).is_ok());
    }
}
