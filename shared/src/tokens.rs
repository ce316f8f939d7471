//! Access tokens: short-lived JWTs, one key set per audience (`admin` for staff, `store` for
//! customers), so one kind can never pass as the other.
//!
//! Staff tokens are signed with RSA (RS256): API Gateway's HTTP API JWT authorizer, which refuses
//! forged admin requests before any function runs, verifies only RSA signatures. Customer tokens
//! keep Ed25519 (EdDSA): smaller and faster to sign, and verified only in the functions.
//!
//! Verification pins the audience's algorithm, requires every claim, checks `typ`, `aud` and
//! `iss`, and looks the key up by `kid` among the verification keys, so keys rotate by publishing
//! a new key before signing with it. Only functions that issue tokens hold a signing key.

pub use crate::secrets::{generate_rsa_key, rsa_public_der};
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The issuer when a deployment names none (`COMMERCE_TOKEN_ISSUER`).
pub const DEFAULT_ISSUER: &str = "commerce";
pub const TYP: &str = "at+jwt";
/// The longest an access token may live; companies may choose shorter.
pub const MAX_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Admin,
    Store,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Admin => "admin",
            Audience::Store => "store",
        }
    }

    /// The signature algorithm of the audience's tokens.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Audience::Admin => Algorithm::RS256,
            Audience::Store => Algorithm::EdDSA,
        }
    }
}

/// Why a token was refused. It says no more than that: a caller learns nothing about which check
/// failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the access token is invalid or expired")]
pub struct InvalidToken;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user (staff) or customer id.
    pub sub: String,
    /// The tenant.
    pub tid: String,
    /// The session the token was issued for.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Permissions (staff) or nothing (customers), fixed when the token is issued.
    #[serde(default)]
    pub perm: Vec<String>,
}

/// A verification key as published in the JWKS document: `RSA` with `n` and `e` (staff), or
/// `OKP` Ed25519 with `x` (customers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

struct VerifyKey {
    kid: String,
    key: DecodingKey,
    jwk: Jwk,
}

/// A signing key, parsed once per container (RSA keys are costly to parse and check).
enum SigningKey {
    Rsa(RsaKeyPair),
    Ed25519(EncodingKey),
}

/// The signing key (if this function issues tokens) and the verification keys of one audience.
pub struct TokenKeys {
    audience: Audience,
    issuer: String,
    signing: Option<(String, SigningKey)>,
    verifying: Vec<VerifyKey>,
}

/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410), the form jsonwebtoken takes.
fn pkcs8_from_seed(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

fn ed25519_public_key(seed: &[u8; 32]) -> Vec<u8> {
    Ed25519KeyPair::from_seed_unchecked(seed)
        .expect("any 32 bytes are an Ed25519 seed")
        .public_key()
        .as_ref()
        .to_vec()
}

/// A key id that names the public key: a short hash, stable across deployments.
fn kid_for(public: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(public);
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

/// An RSA private key from its PEM text: PKCS#8 (`BEGIN PRIVATE KEY`, what `openssl genpkey`
/// and `cargo xtask keygen --rsa` write) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
pub fn rsa_private_key(pem: &str) -> Result<RsaKeyPair, String> {
    let pem = pem.trim();
    let pkcs1 = pem.starts_with("-----BEGIN RSA PRIVATE KEY-----");
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = STANDARD
        .decode(body)
        .map_err(|_| "the RSA private key is not PEM".to_owned())?;
    let pair = if pkcs1 {
        RsaKeyPair::from_der(&der)
    } else {
        RsaKeyPair::from_pkcs8(&der)
    }
    .map_err(|e| format!("the RSA private key was refused: {e}"))?;
    if pair.public_modulus_len() < 256 {
        return Err("RSA keys must have 2048 bits or more".into());
    }
    Ok(pair)
}

impl TokenKeys {
    fn empty(audience: Audience, issuer: &str) -> Self {
        TokenKeys {
            audience,
            issuer: issuer.to_owned(),
            signing: None,
            verifying: Vec::new(),
        }
    }

    /// Keys from an audience's secret: an RSA private key in PEM (staff) or a hex Ed25519 seed
    /// (customers). Signs with it and verifies with its public key.
    pub fn from_secret(audience: Audience, issuer: &str, material: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(material).map_err(|_| "the key is not text".to_owned())?;
        let mut keys = TokenKeys::empty(audience, issuer);
        match audience {
            Audience::Admin => {
                let pair = rsa_private_key(text)?;
                let public = rsa_public_der(&pair);
                keys.add_verifier(&public)?;
                keys.signing = Some((kid_for(&public), SigningKey::Rsa(pair)));
            }
            Audience::Store => {
                let seed: [u8; 32] = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| "an Ed25519 seed is 32 bytes of hex".to_owned())?;
                let public = ed25519_public_key(&seed);
                keys.add_verifier(&public)?;
                keys.signing = Some((
                    kid_for(&public),
                    SigningKey::Ed25519(EncodingKey::from_ed_der(&pkcs8_from_seed(&seed))),
                ));
            }
        }
        Ok(keys)
    }

    /// Keys that only verify (functions that never issue tokens).
    pub fn verify_only(
        audience: Audience,
        issuer: &str,
        publics: &[Vec<u8>],
    ) -> Result<Self, String> {
        let mut keys = TokenKeys::empty(audience, issuer);
        for public in publics {
            keys.add_verifier(public)?;
        }
        Ok(keys)
    }

    /// Also accept tokens signed by another key (the previous key during a rotation): an RSA
    /// public key as SubjectPublicKeyInfo DER (staff), a raw 32-byte Ed25519 key (customers).
    pub fn add_verifier(&mut self, public: &[u8]) -> Result<(), String> {
        let kid = kid_for(public);
        if self.verifying.iter().any(|k| k.kid == kid) {
            return Ok(());
        }
        let (key, jwk) = match self.audience {
            Audience::Admin => {
                let parsed = aws_lc_rs::rsa::PublicKey::from_der(public)
                    .map_err(|_| "not an RSA public key (SubjectPublicKeyInfo DER)".to_owned())?;
                if parsed.modulus_len() < 256 {
                    return Err("RSA keys must have 2048 bits or more".into());
                }
                let n = parsed.modulus().big_endian_without_leading_zero().to_vec();
                let e = parsed.exponent().big_endian_without_leading_zero().to_vec();
                let jwk = Jwk {
                    kty: "RSA".into(),
                    crv: None,
                    x: None,
                    n: Some(URL_SAFE_NO_PAD.encode(&n)),
                    e: Some(URL_SAFE_NO_PAD.encode(&e)),
                    kid: kid.clone(),
                    use_: "sig".into(),
                    alg: "RS256".into(),
                };
                (DecodingKey::from_rsa_raw_components(&n, &e), jwk)
            }
            Audience::Store => {
                if public.len() != 32 {
                    return Err("an Ed25519 public key is 32 bytes".into());
                }
                let jwk = Jwk {
                    kty: "OKP".into(),
                    crv: Some("Ed25519".into()),
                    x: Some(URL_SAFE_NO_PAD.encode(public)),
                    n: None,
                    e: None,
                    kid: kid.clone(),
                    use_: "sig".into(),
                    alg: "EdDSA".into(),
                };
                (DecodingKey::from_ed_der(public), jwk)
            }
        };
        self.verifying.push(VerifyKey { kid, key, jwk });
        Ok(())
    }

    /// Whether this function holds the signing key.
    pub fn can_sign(&self) -> bool {
        self.signing.is_some()
    }

    /// The `iss` of the tokens this deployment issues and accepts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn jwks(&self) -> Vec<Jwk> {
        self.verifying.iter().map(|k| k.jwk.clone()).collect()
    }

    /// Signs an access token.
    pub fn issue(&self, claims: &Claims) -> String {
        let (kid, key) = self
            .signing
            .as_ref()
            .expect("only token-issuing functions are configured with a signing key");
        let mut header = Header::new(self.audience.algorithm());
        header.typ = Some(TYP.into());
        header.kid = Some(kid.clone());
        match key {
            SigningKey::Ed25519(key) => {
                jsonwebtoken::encode(&header, claims, key).expect("Ed25519 signing does not fail")
            }
            // Signed here rather than by jsonwebtoken, which would parse and check the RSA key
            // again for every token.
            SigningKey::Rsa(pair) => {
                let signing_input = format!(
                    "{}.{}",
                    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header")),
                    URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims"))
                );
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    signing_input.as_bytes(),
                    &mut signature,
                )
                .expect("RSA signing does not fail");
                format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
            }
        }
    }

    /// Verifies an access token for this audience at `now` (epoch seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, InvalidToken> {
        let invalid = || InvalidToken;
        let algorithm = self.audience.algorithm();
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != algorithm || header.typ.as_deref() != Some(TYP) {
            return Err(invalid());
        }
        let kid = header.kid.ok_or_else(invalid)?;
        let key = self
            .verifying
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(invalid)?;
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[self.audience.as_str()]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Expiry is checked below against the injected clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|_| invalid())?
            .claims;
        if claims.exp <= now || claims.iat > now + 60 || claims.exp - claims.iat > MAX_TTL_SECS {
            return Err(invalid());
        }
        if claims.tid.is_empty() || claims.sid.is_empty() || claims.jti.is_empty() {
            return Err(invalid());
        }
        Ok(claims)
    }
}

/// The base64url public key of an Ed25519 seed, as `COMMERCE_CUSTOMER_TOKEN_PUBLIC_KEYS` lists it.
pub fn public_key_b64(seed: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(ed25519_public_key(seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::secrets::Secret;

    fn claims(now: i64, iss: &str) -> Claims {
        Claims {
            iss: iss.into(),
            aud: "admin".into(),
            sub: "usr_1".into(),
            tid: "co_1".into(),
            sid: "ses_1".into(),
            iat: now,
            exp: now + 600,
            jti: "j".into(),
            perm: vec![],
        }
    }

    fn public(b64: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(b64).unwrap()
    }

    fn issuer(pem: &str, previous: Vec<Vec<u8>>) -> Config {
        let mut config = Config::without_secrets().with_staff_public_keys(previous);
        config
            .hold(Secret::StaffTokens, pem.as_bytes().to_vec())
            .unwrap();
        config
    }

    #[test]
    fn staff_tokens_are_rs256_and_verifiers_follow_rotation() {
        let (old_pem, old_public) = generate_rsa_key();
        let (new_pem, new_public) = generate_rsa_key();
        let issuer_old = issuer(&old_pem, vec![]);
        let issuer_new = issuer(&new_pem, vec![public(&old_public)]);
        let verifier = Config::without_secrets()
            .with_staff_public_keys(vec![public(&old_public), public(&new_public)]);
        assert!(issuer_old.staff_signer().is_ok());
        assert!(verifier.staff_signer().is_err());
        assert!(!verifier.staff_tokens().can_sign());
        assert!(verifier.staff_refresh_key().is_err());
        assert_ne!(
            issuer_old.staff_refresh_key().unwrap(),
            issuer_new.staff_refresh_key().unwrap()
        );

        let iss = DEFAULT_ISSUER;
        let t_old = issuer_old.staff_signer().unwrap().issue(&claims(1000, iss));
        let t_new = issuer_new.staff_signer().unwrap().issue(&claims(1000, iss));
        let header = jsonwebtoken::decode_header(&t_new).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        for token in [&t_old, &t_new] {
            assert_eq!(
                verifier.staff_tokens().verify(token, 1001).unwrap().sub,
                "usr_1"
            );
        }
        assert!(
            issuer_new.staff_tokens().verify(&t_old, 1001).is_ok(),
            "old key kept during rotation"
        );
        let jwks = issuer_new.staff_tokens().jwks();
        assert_eq!(jwks.len(), 2);
        assert!(jwks.iter().all(|k| k.kty == "RSA" && k.alg == "RS256"));
        assert_eq!(jwks[0].e.as_deref(), Some("AQAB"));
        assert!(Config::new(vec![5; 32])
            .unwrap()
            .staff_tokens()
            .verify(&t_new, 1001)
            .is_err());

        // A token whose signature does not match, or of another issuer, is refused.
        let mut forged = t_new.clone();
        forged.pop();
        forged.push(if t_new.ends_with('A') { 'B' } else { 'A' });
        assert!(verifier.staff_tokens().verify(&forged, 1001).is_err());
        let elsewhere = issuer_new
            .staff_signer()
            .unwrap()
            .issue(&claims(1000, "https://other.example.com"));
        assert!(verifier.staff_tokens().verify(&elsewhere, 1001).is_err());
    }

    #[test]
    fn the_issuer_is_the_configured_one() {
        let (pem, _) = generate_rsa_key();
        let mut config = issuer(&pem, vec![]);
        config.set_token_issuer("https://api.example.com");
        let keys = config.staff_signer().unwrap();
        assert_eq!(keys.issuer(), "https://api.example.com");
        let token = keys.issue(&claims(1000, "https://api.example.com"));
        assert!(config.staff_tokens().verify(&token, 1001).is_ok());
        let stale = keys.issue(&claims(1000, DEFAULT_ISSUER));
        assert!(config.staff_tokens().verify(&stale, 1001).is_err());
    }

    #[test]
    fn malformed_signing_secrets_are_refused_at_load() {
        let mut config = Config::without_secrets();
        assert!(config
            .hold(Secret::StaffTokens, b"not a key at all".to_vec())
            .is_err());
        assert!(
            config
                .hold(Secret::StaffTokens, hex::encode([1u8; 32]).into_bytes())
                .is_err(),
            "an Ed25519 seed does not sign staff tokens"
        );
        assert!(config.hold(Secret::CustomerTokens, b"zz".to_vec()).is_err());
        assert!(config.hold(Secret::Cursor, b"short".to_vec()).is_err());
        assert!(config.secrets().held().is_empty());
        assert!(config
            .hold(Secret::CustomerTokens, hex::encode([1u8; 32]).into_bytes())
            .is_ok());
    }
}
