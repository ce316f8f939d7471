//! Access tokens: short-lived JWTs signed with Ed25519 (EdDSA), one key set per audience
//! (`admin` for staff, `store` for customers), so one kind can never pass as the other.
//!
//! Verification pins the algorithm, requires every claim, checks `typ`, `aud` and `iss`, and looks
//! the key up by `kid` among the verification keys, so keys rotate by publishing a new key before
//! signing with it. Only functions that issue tokens get a signing key.

use super::TenantId;
use crate::http::ApiError;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "commerce";
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
}

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

/// A verification key as published in the JWKS document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
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

/// The signing key (if this function issues tokens) and the verification keys of one audience.
pub struct TokenKeys {
    audience: Audience,
    signing: Option<(String, EncodingKey)>,
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

fn public_key(seed: &[u8; 32]) -> Vec<u8> {
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

impl TokenKeys {
    /// Keys from one Ed25519 seed: signs with it and verifies with its public key.
    pub fn from_seed(audience: Audience, seed: &[u8; 32]) -> Self {
        let public = public_key(seed);
        let kid = kid_for(&public);
        let mut keys = TokenKeys {
            audience,
            signing: Some((kid, EncodingKey::from_ed_der(&pkcs8_from_seed(seed)))),
            verifying: Vec::new(),
        };
        keys.add_verifier(&public);
        keys
    }

    /// Also accept tokens signed by another key (the previous key during a rotation).
    pub fn add_verifier(&mut self, public: &[u8]) {
        let kid = kid_for(public);
        if self.verifying.iter().any(|k| k.kid == kid) {
            return;
        }
        let x = URL_SAFE_NO_PAD.encode(public);
        self.verifying.push(VerifyKey {
            kid: kid.clone(),
            key: DecodingKey::from_ed_der(public),
            jwk: Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x,
                kid,
                use_: "sig".into(),
                alg: "EdDSA".into(),
            },
        });
    }

    /// Keys that only verify (functions that never issue tokens).
    pub fn verify_only(audience: Audience, publics: &[Vec<u8>]) -> Self {
        let mut keys = TokenKeys {
            audience,
            signing: None,
            verifying: Vec::new(),
        };
        for public in publics {
            keys.add_verifier(public);
        }
        keys
    }

    /// Whether this function holds the signing key.
    pub fn can_sign(&self) -> bool {
        self.signing.is_some()
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
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TYP.into());
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, claims, key).expect("Ed25519 signing does not fail")
    }

    /// Verifies an access token for this audience at `now` (epoch seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, ApiError> {
        let invalid = || ApiError::unauthorized("the access token is invalid or expired");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(TYP) {
            return Err(invalid());
        }
        let kid = header.kid.ok_or_else(invalid)?;
        let key = self
            .verifying
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(invalid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[self.audience.as_str()]);
        validation.set_issuer(&[ISSUER]);
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

/// The base64url public key of an Ed25519 seed, as `COMMERCE_STAFF_TOKEN_PUBLIC_KEYS` lists it.
pub fn public_key_b64(seed: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(public_key(seed))
}

impl Claims {
    pub fn tenant(&self) -> TenantId {
        TenantId::trusted(self.tid.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::secrets::Secret;

    fn claims(now: i64) -> Claims {
        Claims {
            iss: ISSUER.into(),
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

    fn public(seed: &[u8; 32]) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(public_key_b64(seed)).unwrap()
    }

    fn issuer(seed: [u8; 32], previous: Vec<Vec<u8>>) -> Config {
        let mut config = Config::without_secrets().with_staff_public_keys(previous);
        config
            .hold(Secret::StaffTokens, hex::encode(seed).into_bytes())
            .unwrap();
        config
    }

    #[test]
    fn only_the_secret_holder_signs_and_verifiers_follow_rotation() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let issuer_old = issuer(old, vec![]);
        let issuer_new = issuer(new, vec![public(&old)]);
        let verifier =
            Config::without_secrets().with_staff_public_keys(vec![public(&old), public(&new)]);
        assert!(issuer_old.staff_signer().is_ok());
        assert!(verifier.staff_signer().is_err());
        assert!(!verifier.staff_tokens().can_sign());
        assert!(verifier.staff_refresh_key().is_err());
        assert_eq!(
            issuer_new.staff_refresh_key().unwrap(),
            issuer_new.staff_refresh_key().unwrap()
        );
        assert_ne!(
            issuer_old.staff_refresh_key().unwrap(),
            issuer_new.staff_refresh_key().unwrap()
        );

        let t_old = issuer_old.staff_signer().unwrap().issue(&claims(1000));
        let t_new = issuer_new.staff_signer().unwrap().issue(&claims(1000));
        for token in [&t_old, &t_new] {
            assert!(verifier.staff_tokens().verify(token, 1001).is_ok());
        }
        assert!(
            issuer_new.staff_tokens().verify(&t_old, 1001).is_ok(),
            "old key kept during rotation"
        );
        assert_eq!(issuer_new.staff_tokens().jwks().len(), 2);
        let sandbox = Config::new(vec![5; 32]).unwrap();
        assert!(sandbox.staff_tokens().verify(&t_new, 1001).is_err());
    }

    #[test]
    fn a_malformed_signing_secret_is_refused_at_load() {
        let mut config = Config::without_secrets();
        assert!(config
            .hold(Secret::StaffTokens, b"not hex at all".to_vec())
            .is_err());
        assert!(config.hold(Secret::Cursor, b"short".to_vec()).is_err());
        assert!(config.secrets().held().is_empty());
    }
}
