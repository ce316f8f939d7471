//! Configuration read once per container from the environment.

use crate::secrets::{MissingSecret, Secret, Secrets};

/// Environment variables the functions read (the infra template sets them).
pub mod env {
    pub const TABLE: &str = "COMMERCE_TABLE";
    pub const BUCKET: &str = "COMMERCE_BUCKET";
    /// Prefix of the queue names of one deployment (`<stack>-`).
    pub const QUEUE_PREFIX: &str = "COMMERCE_QUEUE_PREFIX";
    /// A root secret from which every secret derives: for local runs only (the sandbox on AWS
    /// services); deployed functions load their secrets from Secrets Manager instead.
    pub const SECRET: &str = "COMMERCE_SECRET";
    /// The secrets a deployed function loads at cold start: `name=secret-arn` pairs (ids, never
    /// values; see [`crate::secrets`]).
    pub const SECRET_IDS: &str = "COMMERCE_SECRET_IDS";
    pub const MAIL_FROM: &str = "COMMERCE_MAIL_FROM";
    pub const PUBLIC_URL: &str = "COMMERCE_PUBLIC_URL";
    /// `true` adds a Server-Timing header with store call counts and time.
    pub const SERVER_TIMING: &str = "COMMERCE_SERVER_TIMING";
    /// Comma-separated browser origins allowed to call the admin API (`*` for any); empty for
    /// none. Storefront origins are each company's own setting.
    pub const ADMIN_ORIGINS: &str = "COMMERCE_ADMIN_ORIGINS";
    /// The `iss` of access tokens: the API's base URL in a deployment (API Gateway's JWT
    /// authorizer reads `<issuer>/.well-known/openid-configuration`).
    pub const TOKEN_ISSUER: &str = "COMMERCE_TOKEN_ISSUER";
    /// Comma-separated base64url RSA public keys (SubjectPublicKeyInfo DER) that verify staff
    /// access tokens.
    pub const STAFF_TOKEN_PUBLIC_KEYS: &str = "COMMERCE_STAFF_TOKEN_PUBLIC_KEYS";
    /// Comma-separated base64url Ed25519 public keys that verify customer access tokens.
    pub const CUSTOMER_TOKEN_PUBLIC_KEYS: &str = "COMMERCE_CUSTOMER_TOKEN_PUBLIC_KEYS";
}

use crate::tokens::{Audience, TokenKeys};

/// The keys of one token audience: the signing key when the function holds the audience's
/// secret, and the public keys the deployment lists, which every function verifies with.
struct TokenConfig {
    audience: Audience,
    secret: Secret,
    publics: Vec<Vec<u8>>,
    keys: std::sync::OnceLock<TokenKeys>,
}

impl TokenConfig {
    fn new(audience: Audience, secret: Secret) -> Self {
        TokenConfig {
            audience,
            secret,
            publics: Vec::new(),
            keys: std::sync::OnceLock::new(),
        }
    }

    /// Reads the listed public keys (base64url: RSA SubjectPublicKeyInfo DER for staff, raw
    /// Ed25519 keys for customers), refusing any that does not parse.
    fn read_publics(
        &mut self,
        publics_var: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(keys) = var(publics_var) {
            use base64::Engine;
            for key in keys.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(key)
                    .map_err(|_| ConfigError(format!("{publics_var} holds base64url keys")))?;
                TokenKeys::verify_only(self.audience, "", std::slice::from_ref(&public))
                    .map_err(|e| ConfigError(format!("{publics_var}: {e}")))?;
                self.publics.push(public);
            }
        }
        Ok(())
    }

    /// With the audience's secret this signs (and verifies its own tokens); without it, it only
    /// verifies, with the listed public keys.
    fn keys(&self, secrets: &Secrets, issuer: &str) -> &TokenKeys {
        self.keys.get_or_init(|| {
            let built = match secrets.material(self.secret) {
                Some(material) => TokenKeys::from_secret(self.audience, issuer, material),
                None => TokenKeys::verify_only(self.audience, issuer, &[]),
            };
            let mut keys = built.unwrap_or_else(|e| {
                // `Config::hold` checked the secret; this cannot happen with a held one.
                tracing::error!(error = %e, "token keys");
                TokenKeys::verify_only(self.audience, issuer, &[]).expect("no keys to refuse")
            });
            for public in &self.publics {
                // Checked when read.
                let _ = keys.add_verifier(public);
            }
            keys
        })
    }

    fn reset(&mut self) {
        self.keys = std::sync::OnceLock::new();
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
    /// The `iss` of access tokens (see [`env::TOKEN_ISSUER`]).
    token_issuer: String,
    secrets: Secrets,
    staff: TokenConfig,
    customer: TokenConfig,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl From<crate::secrets::SecretsError> for ConfigError {
    fn from(e: crate::secrets::SecretsError) -> Self {
        ConfigError(e.0)
    }
}

impl Config {
    /// A configuration holding every secret, each derived from `root` (the sandbox, tests).
    pub fn new(root: Vec<u8>) -> Result<Self, ConfigError> {
        if root.len() < 32 {
            return Err(ConfigError(format!(
                "{} must hold at least 32 bytes",
                env::SECRET
            )));
        }
        let mut config = Config::without_secrets();
        config.secrets = Secrets::from_root(&root);
        Ok(config)
    }

    /// A configuration holding no secret yet (a function adds what it loads).
    pub fn without_secrets() -> Self {
        Config {
            table: "commerce".into(),
            bucket: "commerce-files".into(),
            queue_prefix: String::new(),
            mail_from: "no-reply@example.com".into(),
            public_url: "http://127.0.0.1:3000".into(),
            server_timing: false,
            admin_origins: Vec::new(),
            token_issuer: crate::tokens::DEFAULT_ISSUER.into(),
            secrets: Secrets::default(),
            staff: TokenConfig::new(Audience::Admin, Secret::StaffTokens),
            customer: TokenConfig::new(Audience::Store, Secret::CustomerTokens),
        }
    }

    /// The configuration from the environment. Secrets are not read here: a function loads the
    /// ones `COMMERCE_SECRET_IDS` names ([`Config::secret_ids_from_env`]) and adds them with
    /// [`Config::hold`]. Only a local run may pass a root secret (`COMMERCE_SECRET`) instead.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut config = match var(env::SECRET) {
            Some(root) => Config::new(decode_secret(&root)?)?,
            None => Config::without_secrets(),
        };
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
        if let Some(v) = var(env::TOKEN_ISSUER) {
            config.set_token_issuer(v.trim_end_matches('/'));
        }
        config
            .staff
            .read_publics(env::STAFF_TOKEN_PUBLIC_KEYS, var)?;
        config
            .customer
            .read_publics(env::CUSTOMER_TOKEN_PUBLIC_KEYS, var)?;
        Ok(config)
    }

    /// The secrets `COMMERCE_SECRET_IDS` names, for the function to load.
    pub fn secret_ids_from_env() -> Result<Vec<(Secret, String)>, ConfigError> {
        match std::env::var(env::SECRET_IDS) {
            Ok(list) => Ok(crate::secrets::parse_ids(&list)?),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// Holds a loaded secret, checking its form: token secrets are hex seeds, others carry at
    /// least 32 bytes.
    pub fn hold(&mut self, secret: Secret, material: Vec<u8>) -> Result<(), ConfigError> {
        let malformed = |why: String| {
            ConfigError(format!(
                "the `{}` secret is malformed: {why}",
                secret.name()
            ))
        };
        match secret {
            Secret::StaffTokens => {
                TokenKeys::from_secret(Audience::Admin, "", &material).map_err(malformed)?;
            }
            Secret::CustomerTokens => {
                TokenKeys::from_secret(Audience::Store, "", &material).map_err(malformed)?;
            }
            _ if material.len() < 32 => {
                return Err(malformed("it must hold at least 32 characters".into()))
            }
            _ => {}
        }
        self.secrets.insert(secret, material);
        self.staff.reset();
        self.customer.reset();
        Ok(())
    }

    /// Adds public keys (SubjectPublicKeyInfo DER) that verify staff tokens (a rotation's
    /// previous key).
    pub fn with_staff_public_keys(mut self, publics: Vec<Vec<u8>>) -> Self {
        self.staff.publics.extend(publics);
        self.staff.reset();
        self
    }

    /// Sets the `iss` of access tokens: the deployment's API URL, where API Gateway's JWT
    /// authorizer finds `/.well-known/openid-configuration`.
    pub fn set_token_issuer(&mut self, issuer: &str) {
        self.token_issuer = issuer.to_owned();
        self.staff.reset();
        self.customer.reset();
    }

    pub fn token_issuer(&self) -> &str {
        &self.token_issuer
    }

    /// The secrets this container holds.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The keys that verify staff access tokens (audience `admin`), and sign them where the
    /// function holds the staff token secret.
    pub fn staff_tokens(&self) -> &TokenKeys {
        self.staff.keys(&self.secrets, &self.token_issuer)
    }

    /// The staff token keys, for signing: refused unless the running route declares the secret.
    pub fn staff_signer(&self) -> Result<&TokenKeys, MissingSecret> {
        self.usable(Secret::StaffTokens)?;
        Ok(self.staff_tokens())
    }

    /// The key of staff refresh-token MACs, which only token-issuing functions hold.
    pub fn staff_refresh_key(&self) -> Result<[u8; 32], MissingSecret> {
        self.key(Secret::StaffTokens, "refresh-token")
    }

    /// The keys that verify customer access tokens (audience `store`), separate from the staff
    /// keys.
    pub fn customer_tokens(&self) -> &TokenKeys {
        self.customer.keys(&self.secrets, &self.token_issuer)
    }

    /// The customer token keys, for signing (see [`Config::staff_signer`]).
    pub fn customer_signer(&self) -> Result<&TokenKeys, MissingSecret> {
        self.usable(Secret::CustomerTokens)?;
        Ok(self.customer_tokens())
    }

    /// The key of customer refresh-token MACs.
    pub fn customer_refresh_key(&self) -> Result<[u8; 32], MissingSecret> {
        self.key(Secret::CustomerTokens, "refresh-token")
    }

    /// The key for `purpose` derived from `secret`: an error when this function was not given
    /// the secret or the running route does not declare it.
    pub fn key(&self, secret: Secret, purpose: &str) -> Result<[u8; 32], MissingSecret> {
        self.usable(secret)
            .map(|material| crate::secrets::derive(material, secret, purpose))
    }

    /// A secret's material, refused when the running route does not declare the secret: the
    /// sandbox and the tests hold every secret, and this is how they refuse what a deployed
    /// function's role would.
    fn usable(&self, secret: Secret) -> Result<&[u8], MissingSecret> {
        if let Some(reason) = crate::access::refusal(crate::access::Need::Secret(secret)) {
            return Err(MissingSecret(reason));
        }
        self.secrets.usable(secret)
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
