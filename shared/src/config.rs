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
        Ok(config)
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
