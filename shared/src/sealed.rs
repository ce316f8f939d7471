//! Authenticated encryption of values kept in the table (AES-256-GCM), under keys derived from
//! the root secret and never stored. The associated data binds a ciphertext to where it belongs,
//! so one copied elsewhere does not open.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const PREFIX: &str = "v1.";

fn cipher(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte AES key"))
}

/// Encrypts `plaintext` for the place named by `aad`: `v1.<base64(nonce | ciphertext | tag)>`.
pub fn seal(key: &[u8; 32], aad: &str, plaintext: &str) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let mut buffer = plaintext.as_bytes().to_vec();
    cipher(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_bytes()),
            &mut buffer,
        )
        .expect("AES-GCM sealing does not fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buffer);
    format!("{PREFIX}{}", STANDARD.encode(out))
}

/// Decrypts a sealed value; `None` if it was tampered with, moved or sealed under another key.
pub fn open(key: &[u8; 32], aad: &str, sealed: &str) -> Option<String> {
    let raw = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
    if raw.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = raw.split_at(NONCE_LEN);
    let mut buffer = sealed.to_vec();
    let plain = cipher(key)
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).ok()?,
            Aad::from(aad.as_bytes()),
            &mut buffer,
        )
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_where_and_with_what_it_was_sealed() {
        let sealed = seal(&[1; 32], "here", "secret");
        assert!(!sealed.contains("secret"));
        assert_eq!(open(&[1; 32], "here", &sealed).as_deref(), Some("secret"));
        assert_eq!(open(&[1; 32], "there", &sealed), None);
        assert_eq!(open(&[2; 32], "here", &sealed), None);
        assert_ne!(seal(&[1; 32], "here", "secret"), sealed, "fresh nonce");
    }
}
