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
    /// Comma-separated browser origins allowed to call the admin API (`*` for any); empty for
    /// none. Storefront origins are each company's own setting.
    pub const ADMIN_ORIGINS: &str = "COMMERCE_ADMIN_ORIGINS";
    /// Hex Ed25519 seed that signs staff access tokens: set only on functions that issue them.
    pub const STAFF_TOKEN_SEED: &str = "COMMERCE_STAFF_TOKEN_SEED";
    /// Comma-separated base64url Ed25519 public keys that verify staff access tokens.
    pub const STAFF_TOKEN_PUBLIC_KEYS: &str = "COMMERCE_STAFF_TOKEN_PUBLIC_KEYS";
    /// Hex Ed25519 seed that signs customer access tokens: set only on functions that issue them.
    pub const CUSTOMER_TOKEN_SEED: &str = "COMMERCE_CUSTOMER_TOKEN_SEED";
    /// Comma-separated base64url Ed25519 public keys that verify customer access tokens.
    pub const CUSTOMER_TOKEN_PUBLIC_KEYS: &str = "COMMERCE_CUSTOMER_TOKEN_PUBLIC_KEYS";
}

use crate::auth::tokens::{Audience, TokenKeys};

/// The configured keys of one token audience: a signing seed on functions that issue tokens,
/// public keys on every function that verifies them.
struct TokenConfig {
    audience: Audience,
    seed: Option<SecretBox<[u8; 32]>>,
    publics: Vec<Vec<u8>>,
    keys: std::sync::OnceLock<TokenKeys>,
}

impl TokenConfig {
    fn new(audience: Audience) -> Self {
        TokenConfig {
            audience,
            seed: None,
            publics: Vec::new(),
            keys: std::sync::OnceLock::new(),
        }
    }

    fn set(&mut self, seed: Option<[u8; 32]>, publics: Vec<Vec<u8>>) {
        self.seed = seed.map(|s| SecretBox::new(Box::new(s)));
        self.publics = publics;
        self.keys = std::sync::OnceLock::new();
    }

    fn read_env(
        &mut self,
        seed_var: &str,
        publics_var: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(seed) = var(seed_var) {
            let bytes: [u8; 32] = hex::decode(seed.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ConfigError(format!("{seed_var} must be 32 bytes of hex")))?;
            self.seed = Some(SecretBox::new(Box::new(bytes)));
        }
        if let Some(keys) = var(publics_var) {
            use base64::Engine;
            for key in keys.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(key)
                    .ok()
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| {
                        ConfigError(format!("{publics_var} holds base64url Ed25519 keys"))
                    })?;
                self.publics.push(public);
            }
        }
        Ok(())
    }

    fn purpose(&self, what: &str) -> String {
        format!("{}-{what}", self.audience.as_str())
    }

    /// With a seed this signs; with only public keys it verifies; with neither (the sandbox,
    /// tests) the seed derives from the root secret.
    fn keys(&self, config: &Config) -> &TokenKeys {
        self.keys.get_or_init(|| {
            let mut keys = match &self.seed {
                Some(seed) => TokenKeys::from_seed(self.audience, seed.expose_secret()),
                None if !self.publics.is_empty() => TokenKeys::verify_only(self.audience, &[]),
                None => TokenKeys::from_seed(
                    self.audience,
                    &config.derived_key(&self.legacy_purpose("token-ed25519")),
                ),
            };
            for public in &self.publics {
                keys.add_verifier(public);
            }
            keys
        })
    }

    /// Purpose names of keys derived from the root secret (staff keys keep their first names).
    fn legacy_purpose(&self, what: &str) -> String {
        match self.audience {
            Audience::Admin => format!("staff-{what}"),
            Audience::Store => self.purpose(what),
        }
    }

    /// The refresh-token MAC key follows the signing seed, so that a function without the seed
    /// can neither sign access tokens nor forge the refresh tokens that would buy them.
    fn refresh_key(&self, config: &Config) -> Option<[u8; 32]> {
        match &self.seed {
            Some(seed) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(seed.expose_secret())
                    .expect("HMAC takes any key length");
                mac.update(self.legacy_purpose("refresh-token").as_bytes());
                Some(mac.finalize().into_bytes().into())
            }
            None if !self.publics.is_empty() => None,
            None => Some(config.derived_key(&self.legacy_purpose("refresh-token"))),
        }
    }
}

pub struct Config {
    pub table: String,
    pub bucket: String,
    pub queue_prefix: String,
    pub mail_from: String,
    /// Where the API is reachable, for links in emails.
    pub public_url: String,
    pub server_timing: bool,
    /// Browser origins allowed on the admin API (see [`env::ADMIN_ORIGINS`]).
    pub admin_origins: Vec<String>,
    secret: SecretBox<Vec<u8>>,
    staff: TokenConfig,
    customer: TokenConfig,
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
            admin_origins: Vec::new(),
            secret: SecretBox::new(Box::new(secret)),
            staff: TokenConfig::new(Audience::Admin),
            customer: TokenConfig::new(Audience::Store),
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
        if let Some(v) = var(env::ADMIN_ORIGINS) {
            config.admin_origins = parse_origins(&v);
        }
        config
            .staff
            .read_env(env::STAFF_TOKEN_SEED, env::STAFF_TOKEN_PUBLIC_KEYS, var)?;
        config.customer.read_env(
            env::CUSTOMER_TOKEN_SEED,
            env::CUSTOMER_TOKEN_PUBLIC_KEYS,
            var,
        )?;
        Ok(config)
    }

    /// Sets the staff token keys explicitly (what `from_env` reads from the environment).
    pub fn with_staff_token_keys(mut self, seed: Option<[u8; 32]>, publics: Vec<Vec<u8>>) -> Self {
        self.staff.set(seed, publics);
        self
    }

    /// Sets the customer token keys explicitly (what `from_env` reads from the environment).
    pub fn with_customer_token_keys(
        mut self,
        seed: Option<[u8; 32]>,
        publics: Vec<Vec<u8>>,
    ) -> Self {
        self.customer.set(seed, publics);
        self
    }

    /// The keys of staff access tokens (audience `admin`).
    pub fn staff_tokens(&self) -> &TokenKeys {
        self.staff.keys(self)
    }

    /// The key of staff refresh-token MACs; `None` on a function without the signing seed.
    pub fn staff_refresh_key(&self) -> Option<[u8; 32]> {
        self.staff.refresh_key(self)
    }

    /// The keys of customer access tokens (audience `store`), separate from the staff keys.
    pub fn customer_tokens(&self) -> &TokenKeys {
        self.customer.keys(self)
    }

    /// The key of customer refresh-token MACs; `None` on a function without the signing seed.
    pub fn customer_refresh_key(&self) -> Option<[u8; 32]> {
        self.customer.refresh_key(self)
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

/// A comma-separated origin list, without trailing slashes or empty entries.
pub fn parse_origins(list: &str) -> Vec<String> {
    list.split(',')
        .map(|o| o.trim().trim_end_matches('/'))
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    /// Whether a browser page at `origin` may call the admin API.
    pub fn admin_origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        self.admin_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
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
