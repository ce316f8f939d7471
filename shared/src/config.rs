//! Configuration read once per container from the environment.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

/// Environment variables the functions read (the infra template sets them).
pub mod env {
    pub const TABLE: &str = "COMMERCE_TABLE";
    pub const BUCKET: &str = "COMMERCE_BUCKET";
    /// Prefix of the queue names of one deployment (`<stack>-`).
    pub const QUEUE_PREFIX: &str = "COMMERCE_QUEUE_PREFIX";
    /// Root secret (hex, or a random string of 32+ characters) from which purpose keys derive.
    pub const SECRET: &str = "COMMERCE_SECRET";
    pub const MAIL_FROM: &str = "COMMERCE_MAIL_FROM";
    pub const PUBLIC_URL: &str = "COMMERCE_PUBLIC_URL";
    /// `true` adds a Server-Timing header with store call counts and time.
    pub const SERVER_TIMING: &str = "COMMERCE_SERVER_TIMING";
    /// Hex Ed25519 seed that signs staff access tokens: set only on functions that issue them.
    pub const STAFF_TOKEN_SEED: &str = "COMMERCE_STAFF_TOKEN_SEED";
    /// Comma-separated base64url Ed25519 public keys that verify staff access tokens.
    pub const STAFF_TOKEN_PUBLIC_KEYS: &str = "COMMERCE_STAFF_TOKEN_PUBLIC_KEYS";
}

pub struct Config {
    pub table: String,
    pub bucket: String,
    pub queue_prefix: String,
    pub mail_from: String,
    /// Where the API is reachable, for links in emails.
    pub public_url: String,
    pub server_timing: bool,
    secret: SecretBox<Vec<u8>>,
    staff_token_seed: Option<SecretBox<[u8; 32]>>,
    staff_token_publics: Vec<Vec<u8>>,
    staff_tokens: std::sync::OnceLock<crate::auth::tokens::TokenKeys>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    pub fn new(secret: Vec<u8>) -> Result<Self, ConfigError> {
        if secret.len() < 32 {
            return Err(ConfigError(format!(
                "{} must hold at least 32 bytes",
                env::SECRET
            )));
        }
        Ok(Config {
            table: "commerce".into(),
            bucket: "commerce-files".into(),
            queue_prefix: String::new(),
            mail_from: "no-reply@example.com".into(),
            public_url: "http://127.0.0.1:3000".into(),
            server_timing: false,
            secret: SecretBox::new(Box::new(secret)),
            staff_token_seed: None,
            staff_token_publics: Vec::new(),
            staff_tokens: std::sync::OnceLock::new(),
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let secret =
            var(env::SECRET).ok_or_else(|| ConfigError(format!("{} is not set", env::SECRET)))?;
        let mut config = Config::new(decode_secret(&secret)?)?;
        if let Some(v) = var(env::TABLE) {
            config.table = v;
        }
        if let Some(v) = var(env::BUCKET) {
            config.bucket = v;
        }
        if let Some(v) = var(env::QUEUE_PREFIX) {
            config.queue_prefix = v;
        }
        if let Some(v) = var(env::MAIL_FROM) {
            config.mail_from = v;
        }
        if let Some(v) = var(env::PUBLIC_URL) {
            config.public_url = v;
        }
        config.server_timing = var(env::SERVER_TIMING).is_some_and(|v| v == "true" || v == "1");
        if let Some(seed) = var(env::STAFF_TOKEN_SEED) {
            let bytes: [u8; 32] = hex::decode(seed.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    ConfigError(format!("{} must be 32 bytes of hex", env::STAFF_TOKEN_SEED))
                })?;
            config.staff_token_seed = Some(SecretBox::new(Box::new(bytes)));
        }
        if let Some(keys) = var(env::STAFF_TOKEN_PUBLIC_KEYS) {
            use base64::Engine;
            for key in keys.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(key)
                    .ok()
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{} holds base64url Ed25519 keys",
                            env::STAFF_TOKEN_PUBLIC_KEYS
                        ))
                    })?;
                config.staff_token_publics.push(public);
            }
        }
        Ok(config)
    }

    /// Sets the staff token keys explicitly (what `from_env` reads from the environment).
    pub fn with_staff_token_keys(mut self, seed: Option<[u8; 32]>, publics: Vec<Vec<u8>>) -> Self {
        self.staff_token_seed = seed.map(|s| SecretBox::new(Box::new(s)));
        self.staff_token_publics = publics;
        self.staff_tokens = std::sync::OnceLock::new();
        self
    }

    /// The keys of staff access tokens. A function configured with a seed signs; one with only
    /// public keys verifies; with neither (the sandbox, tests) the seed derives from the root
    /// secret.
    pub fn staff_tokens(&self) -> &crate::auth::tokens::TokenKeys {
        use crate::auth::tokens::{Audience, TokenKeys};
        self.staff_tokens.get_or_init(|| {
            let mut keys = match &self.staff_token_seed {
                Some(seed) => TokenKeys::from_seed(Audience::Admin, seed.expose_secret()),
                None if !self.staff_token_publics.is_empty() => {
                    TokenKeys::verify_only(Audience::Admin, &[])
                }
                None => {
                    TokenKeys::from_seed(Audience::Admin, &self.derived_key("staff-token-ed25519"))
                }
            };
            for public in &self.staff_token_publics {
                keys.add_verifier(public);
            }
            keys
        })
    }

    /// The key of staff refresh-token MACs. It follows the signing seed, so that a function
    /// without the seed can neither sign access tokens nor forge the refresh tokens that would
    /// buy them; `None` on such a function.
    pub fn staff_refresh_key(&self) -> Option<[u8; 32]> {
        match &self.staff_token_seed {
            Some(seed) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(seed.expose_secret())
                    .expect("HMAC takes any key length");
                mac.update(b"staff-refresh-token");
                Some(mac.finalize().into_bytes().into())
            }
            None if !self.staff_token_publics.is_empty() => None,
            None => Some(self.derived_key("staff-refresh-token")),
        }
    }

    /// A key for one purpose (`cursor`, `blob-url`, ...), derived from the root secret so that
    /// one leaked purpose key reveals nothing about the others.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// Accepts the root secret as hex, else as its raw bytes (a generated random string, as the
/// infra template's Secrets Manager secret holds). Either way it must carry 32 bytes or more.
pub fn decode_secret(text: &str) -> Result<Vec<u8>, ConfigError> {
    let text = text.trim();
    let bytes = hex::decode(text).unwrap_or_else(|_| text.as_bytes().to_vec());
    if bytes.len() < 32 {
        return Err(ConfigError(format!(
            "{} must hold at least 32 bytes",
            env::SECRET
        )));
    }
    Ok(bytes)
}
