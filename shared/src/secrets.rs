//! The secrets a function holds, and the keys derived from them.
//!
//! Each secret protects one thing (cursor integrity, stored idempotent answers, company secret
//! settings, email content in flight, the staff and customer token signing keys) and lives in its
//! own AWS Secrets Manager secret. A function is told the ids of the secrets its declaration
//! names (`COMMERCE_SECRET_IDS`, never a value), reads them in one call at cold start, and keeps
//! them for the container's life; its IAM role may read those and no others. So a function that
//! only pages lists holds the cursor secret and cannot decrypt payment settings or sign a token.
//!
//! Keys derive from a secret by purpose with HKDF-SHA256, so one key leaking reveals no other.
//! The sandbox and the tests hold every secret, each derived from one root secret, and check that
//! a route uses only the secrets it declares, as its IAM role would in AWS.

use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::future::Future;
use std::pin::Pin;

/// One secret of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Secret {
    /// Signs list cursors, so a client cannot forge a position in another list.
    Cursor,
    /// Encrypts the answers kept for idempotent replay.
    Idempotency,
    /// Encrypts companies' secret settings (payment provider keys).
    Settings,
    /// Encrypts the content of emails on their way to the mail worker (it may hold one-time
    /// tokens).
    EmailContent,
    /// The staff access-token signing key, and the staff refresh-token MAC key.
    StaffTokens,
    /// The customer access-token signing key, and the customer refresh-token MAC key.
    CustomerTokens,
}

impl Secret {
    pub const ALL: [Secret; 6] = [
        Secret::Cursor,
        Secret::Idempotency,
        Secret::Settings,
        Secret::EmailContent,
        Secret::StaffTokens,
        Secret::CustomerTokens,
    ];

    /// The name in `COMMERCE_SECRET_IDS` and in derivations.
    pub fn name(self) -> &'static str {
        match self {
            Secret::Cursor => "cursor",
            Secret::Idempotency => "idempotency",
            Secret::Settings => "settings",
            Secret::EmailContent => "email-content",
            Secret::StaffTokens => "staff-tokens",
            Secret::CustomerTokens => "customer-tokens",
        }
    }

    pub fn parse(name: &str) -> Option<Secret> {
        Secret::ALL.into_iter().find(|s| s.name() == name)
    }

    /// What a reader of the secret could do, for the documentation and the template.
    pub fn protects(self) -> &'static str {
        match self {
            Secret::Cursor => "signs list cursors",
            Secret::Idempotency => "encrypts stored idempotent answers",
            Secret::Settings => "encrypts companies' secret settings (payment provider keys)",
            Secret::EmailContent => {
                "encrypts email content (one-time links) in the outbox and queues"
            }
            Secret::StaffTokens => "signs staff access tokens and refresh tokens",
            Secret::CustomerTokens => "signs customer access tokens and refresh tokens",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of secrets (what a route declares, what a function holds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretSet(u8);

impl SecretSet {
    pub const NONE: SecretSet = SecretSet(0);

    pub const fn of(secrets: &[Secret]) -> SecretSet {
        let mut bits = 0;
        let mut i = 0;
        while i < secrets.len() {
            bits |= secrets[i].bit();
            i += 1;
        }
        SecretSet(bits)
    }

    pub const fn with(self, secret: Secret) -> SecretSet {
        SecretSet(self.0 | secret.bit())
    }

    pub const fn contains(self, secret: Secret) -> bool {
        self.0 & secret.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Secret::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Secret> {
        Secret::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

/// Why secrets could not be read or named.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecretsError(pub String);

/// Why a key is not available.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MissingSecret(pub String);

/// The secret material this container holds.
#[derive(Default)]
pub struct Secrets {
    held: Vec<(Secret, SecretBox<Vec<u8>>)>,
    /// With [`Secrets::from_root`], the staff token key, generated on first use: RSA key
    /// generation takes tens of milliseconds, which a function that never signs a staff token
    /// should not pay at its cold start.
    staff_key_from_root: Option<StaffKeyFromRoot>,
}

struct StaffKeyFromRoot {
    root: SecretBox<Vec<u8>>,
    pem: std::sync::OnceLock<SecretBox<Vec<u8>>>,
}

impl Secrets {
    /// Every secret, each derived from one root (the sandbox and the tests), in the form a
    /// deployment's secret holds (the customer token seed as hex, the staff key as PEM).
    pub fn from_root(root: &[u8]) -> Self {
        let mut secrets = Secrets::default();
        for secret in Secret::ALL {
            if secret != Secret::StaffTokens {
                let material = hex::encode(derive_from_root(root, secret.name())).into_bytes();
                secrets.insert(secret, material);
            }
        }
        secrets.staff_key_from_root = Some(StaffKeyFromRoot {
            root: SecretBox::new(Box::new(root.to_vec())),
            pem: std::sync::OnceLock::new(),
        });
        secrets
    }

    /// Holds `material` as `secret` (replacing what was held).
    pub fn insert(&mut self, secret: Secret, material: Vec<u8>) {
        if secret == Secret::StaffTokens {
            self.staff_key_from_root = None;
        }
        self.held.retain(|(s, _)| *s != secret);
        self.held.push((secret, SecretBox::new(Box::new(material))));
    }

    pub fn held(&self) -> SecretSet {
        let held = self
            .held
            .iter()
            .fold(SecretSet::NONE, |set, (s, _)| set.with(*s));
        match self.staff_key_from_root {
            Some(_) => held.with(Secret::StaffTokens),
            None => held,
        }
    }

    /// The raw material of a secret, if held (token seeds are read this way).
    pub fn material(&self, secret: Secret) -> Option<&[u8]> {
        if let Some(found) = self.held.iter().find(|(s, _)| *s == secret) {
            return Some(found.1.expose_secret().as_slice());
        }
        match (&self.staff_key_from_root, secret) {
            (Some(lazy), Secret::StaffTokens) => Some(
                lazy.pem
                    .get_or_init(|| {
                        let pem = local_rsa_key(lazy.root.expose_secret());
                        SecretBox::new(Box::new(pem.into_bytes()))
                    })
                    .expose_secret()
                    .as_slice(),
            ),
            _ => None,
        }
    }

    /// The key for `purpose` derived from `secret`, if the container holds it. (`Config::key`
    /// also checks that the running route declares it.)
    pub fn key(&self, secret: Secret, purpose: &str) -> Result<[u8; 32], MissingSecret> {
        self.usable(secret)
            .map(|material| derive(material, secret, purpose))
    }

    /// The material of `secret`, if the container holds it.
    pub fn usable(&self, secret: Secret) -> Result<&[u8], MissingSecret> {
        self.material(secret).ok_or_else(|| {
            MissingSecret(format!(
                "this function was not given the `{}` secret",
                secret.name()
            ))
        })
    }
}

/// The staff token signing key of a root secret. RSA keys cannot be derived from bytes, so one is
/// generated per root and kept for the life of the process (tests make many apps from one root;
/// the durable sandbox passes its own, kept beside its data).
fn local_rsa_key(root: &[u8]) -> String {
    use std::sync::Mutex;
    static KEYS: Mutex<Vec<([u8; 32], String)>> = Mutex::new(Vec::new());
    let id = derive_from_root(root, "staff-tokens-rsa");
    let mut keys = KEYS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, pem)) = keys.iter().find(|(k, _)| *k == id) {
        return pem.clone();
    }
    let (pem, _) = generate_rsa_key();
    keys.push((id, pem.clone()));
    pem
}

/// The SubjectPublicKeyInfo (X.509) DER of an RSA key pair's public key: what
/// `COMMERCE_STAFF_TOKEN_PUBLIC_KEYS` lists, base64url-encoded.
pub fn rsa_public_der(pair: &aws_lc_rs::rsa::KeyPair) -> Vec<u8> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair;
    pair.public_key()
        .as_der()
        .expect("an RSA public key encodes")
        .as_ref()
        .to_vec()
}

/// A new RSA-2048 signing key for staff tokens: its PKCS#8 PEM (the secret) and the base64url of
/// its public key (for `COMMERCE_STAFF_TOKEN_PUBLIC_KEYS`).
pub fn generate_rsa_key() -> (String, String) {
    use aws_lc_rs::encoding::AsDer;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .expect("RSA key generation");
    let der = pair.as_der().expect("PKCS#8 encoding");
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    (
        pem,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rsa_public_der(&pair)),
    )
}

/// HKDF-SHA256 of a secret's material, for one purpose within it.
pub fn derive(material: &[u8], secret: Secret, purpose: &str) -> [u8; 32] {
    let info = format!("commerce/{}/{purpose}", secret.name());
    let prk = Salt::new(HKDF_SHA256, b"commerce-v1").extract(material);
    let info = [info.as_bytes()];
    let okm = prk
        .expand(&info, HKDF_SHA256)
        .expect("32 bytes is within HKDF's output limit");
    let mut key = [0u8; 32];
    okm.fill(&mut key).expect("the output length matches");
    key
}

/// A key derived from a root secret (the sandbox's secrets and its blob URL signing key).
pub fn derive_from_root(root: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(root).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

/// `COMMERCE_SECRET_IDS`: `name=id` pairs, comma-separated, where the id is the ARN or name of
/// the Secrets Manager secret.
pub fn parse_ids(list: &str) -> Result<Vec<(Secret, String)>, SecretsError> {
    let mut out = Vec::new();
    for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, id) = pair
            .split_once('=')
            .map(|(n, i)| (n.trim(), i.trim()))
            .filter(|(_, i)| !i.is_empty())
            .ok_or_else(|| {
                SecretsError(format!(
                    "{} holds name=id pairs, not `{pair}`",
                    "COMMERCE_SECRET_IDS"
                ))
            })?;
        let secret = Secret::parse(name)
            .ok_or_else(|| SecretsError(format!("unknown secret `{name}` in {pair}")))?;
        out.push((secret, id.to_owned()));
    }
    Ok(out)
}

/// Loading secrets: what a function's `main` links only when its route declares any.
pub type LoadFuture =
    Pin<Box<dyn Future<Output = Result<Vec<(Secret, Vec<u8>)>, SecretsError>> + Send>>;

/// Reads the given secrets from AWS Secrets Manager in one `BatchGetSecretValue` call.
pub fn load_from_secrets_manager(
    client: aws_sdk_secretsmanager::Client,
    ids: Vec<(Secret, String)>,
) -> LoadFuture {
    Box::pin(async move {
        let fail = |what: String| SecretsError(format!("secrets: {what}"));
        let out = client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.iter().map(|(_, id)| id.clone()).collect()))
            .send()
            .await
            .map_err(|e| fail(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
        if let Some(error) = out.errors().first() {
            return Err(fail(format!(
                "{} could not be read: {}",
                error.secret_id().unwrap_or("a secret"),
                error.message().unwrap_or("no reason given")
            )));
        }
        let mut loaded = Vec::new();
        for (secret, id) in &ids {
            let value = out
                .secret_values()
                .iter()
                .find(|v| v.arn() == Some(id) || v.name() == Some(id))
                .and_then(|v| v.secret_string())
                .ok_or_else(|| fail(format!("no value came back for `{}`", secret.name())))?;
            loaded.push((*secret, value.trim().as_bytes().to_vec()));
        }
        Ok(loaded)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_secret_and_purpose_and_need_the_secret() {
        let secrets = Secrets::from_root(&[7; 32]);
        let cursor = secrets.key(Secret::Cursor, "cursor").unwrap();
        assert_ne!(cursor, secrets.key(Secret::Settings, "cursor").unwrap());
        assert_ne!(cursor, secrets.key(Secret::Cursor, "other").unwrap());
        assert_eq!(cursor, secrets.key(Secret::Cursor, "cursor").unwrap());

        let mut only_cursor = Secrets::default();
        only_cursor.insert(
            Secret::Cursor,
            secrets.material(Secret::Cursor).unwrap().to_vec(),
        );
        assert_eq!(only_cursor.key(Secret::Cursor, "cursor").unwrap(), cursor);
        assert!(only_cursor.key(Secret::Settings, "settings").is_err());
        assert_eq!(only_cursor.held(), SecretSet::of(&[Secret::Cursor]));
    }

    #[test]
    fn ids_parse_and_refuse_unknown_names() {
        let ids =
            parse_ids("cursor=arn:aws:secretsmanager:x:1:secret:c-AbC, staff-tokens=seed").unwrap();
        assert_eq!(
            ids,
            vec![
                (
                    Secret::Cursor,
                    "arn:aws:secretsmanager:x:1:secret:c-AbC".into()
                ),
                (Secret::StaffTokens, "seed".into())
            ]
        );
        assert!(parse_ids("root=x").is_err());
        assert!(parse_ids("cursor").is_err());
        assert!(parse_ids("cursor=").is_err());
        assert_eq!(parse_ids("").unwrap(), vec![]);
    }

    #[test]
    fn sets_hold_what_they_are_given() {
        let set = SecretSet::of(&[Secret::Cursor, Secret::EmailContent]);
        assert!(set.contains(Secret::Cursor) && set.contains(Secret::EmailContent));
        assert!(!set.contains(Secret::Settings));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Secret::Cursor, Secret::EmailContent]
        );
        assert!(SecretSet::NONE.is_empty());
    }
}
