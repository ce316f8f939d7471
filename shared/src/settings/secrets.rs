//! Secret settings encrypted with AES-256-GCM under a key derived from the root secret (never
//! stored in the table). The associated data binds each ciphertext to its tenant, group and field,
//! so a ciphertext copied elsewhere does not decrypt.

use crate::app::App;
use crate::auth::TenantId;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const PREFIX: &str = "v1.";

fn key(app: &App) -> LessSafeKey {
    let bytes = app.config.derived_key("settings-secrets");
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &bytes).expect("32-byte AES key"))
}

fn aad(tenant: &str, group: &str, path: &str) -> String {
    format!("{tenant}|{group}|{path}")
}

pub fn encrypt(app: &App, tenant: &TenantId, group: &str, path: &str, plaintext: &str) -> String {
    let tenant = tenant.as_str();
    let nonce: [u8; NONCE_LEN] = rand::random();
    let mut buffer = plaintext.as_bytes().to_vec();
    key(app)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(tenant, group, path).as_bytes()),
            &mut buffer,
        )
        .expect("AES-GCM sealing does not fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buffer);
    format!("{PREFIX}{}", STANDARD.encode(out))
}

/// Decrypts a stored secret; `None` if it was tampered with or moved.
pub fn decrypt(app: &App, tenant: &str, group: &str, path: &str, stored: &str) -> Option<String> {
    let raw = STANDARD.decode(stored.strip_prefix(PREFIX)?).ok()?;
    if raw.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = raw.split_at(NONCE_LEN);
    let mut buffer = sealed.to_vec();
    let plain = key(app)
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).ok()?,
            Aad::from(aad(tenant, group, path).as_bytes()),
            &mut buffer,
        )
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// The masked form of a secret: its last four characters when it is long enough to keep the rest
/// hidden.
pub fn last4(plaintext: &str) -> Option<String> {
    let chars: Vec<char> = plaintext.chars().collect();
    (chars.len() >= 12).then(|| chars[chars.len() - 4..].iter().collect())
}
