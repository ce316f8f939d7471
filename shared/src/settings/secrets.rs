//! Secret settings encrypted with AES-256-GCM under a key derived from the settings secret (never
//! stored in the table). The associated data binds each ciphertext to its tenant, group and field,
//! so a ciphertext copied elsewhere does not decrypt.

use crate::app::App;
use crate::auth::TenantId;
use crate::secrets::{MissingSecret, Secret};

fn key(app: &App) -> Result<[u8; 32], MissingSecret> {
    app.config.key(Secret::Settings, "settings")
}

fn aad(tenant: &str, group: &str, path: &str) -> String {
    format!("{tenant}|{group}|{path}")
}

pub fn encrypt(
    app: &App,
    tenant: &TenantId,
    group: &str,
    path: &str,
    plaintext: &str,
) -> Result<String, MissingSecret> {
    Ok(crate::sealed::seal(
        &key(app)?,
        &aad(tenant.as_str(), group, path),
        plaintext,
    ))
}

/// Decrypts a stored secret; `None` if it was tampered with or moved.
pub fn decrypt(app: &App, tenant: &str, group: &str, path: &str, stored: &str) -> Option<String> {
    crate::sealed::open(&key(app).ok()?, &aad(tenant, group, path), stored)
}

/// The masked form of a secret: its last four characters when it is long enough to keep the rest
/// hidden.
pub fn last4(plaintext: &str) -> Option<String> {
    let chars: Vec<char> = plaintext.chars().collect();
    (chars.len() >= 12).then(|| chars[chars.len() - 4..].iter().collect())
}
