//! Pagination cursors: opaque, tamper-proof, and bound to the tenant and the query they came
//! from. A cursor is `base64url(payload) "." base64url(HMAC-SHA256(payload))`; the payload names
//! the tenant, a fingerprint of the query (route and filters), and where the page stopped.

use super::ApiError;
use crate::http::HttpCode;
use crate::store::Item;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Tenant.
    t: String,
    /// Query fingerprint.
    q: String,
    /// Last key of the page.
    k: Item,
}

fn mac(key: &[u8; 32], payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload);
    mac
}

/// The page a list request asks for (`?limit=&cursor=`), bound to the tenant and the query.
pub struct Window {
    pub limit: u32,
    /// Where the previous page stopped.
    pub after: Option<Item>,
    key: [u8; 32],
    tenant: String,
    query: String,
}

impl Window {
    /// Reads `limit` and `cursor` from the request; `query` names the list and its filters.
    pub fn of(
        ctx: &super::Ctx,
        tenant: &crate::identity::TenantId,
        query: &str,
    ) -> Result<Self, ApiError> {
        let params: super::ListParams = ctx.req.query_params()?;
        let limit = params.limit()?;
        let key = ctx
            .app
            .config
            .key(crate::secrets::Secret::Cursor, "cursor")?;
        let after = params
            .cursor
            .as_deref()
            .map(|c| open(&key, tenant.as_str(), query, c))
            .transpose()?;
        Ok(Window {
            limit,
            after,
            key,
            tenant: tenant.to_string(),
            query: query.to_owned(),
        })
    }

    /// Takes where to start (for the store call), leaving the window to answer the page.
    pub fn start(&mut self) -> Option<Item> {
        self.after.take()
    }

    /// The page answering the request, with a cursor when more may follow `last`.
    pub fn page<T>(&self, data: Vec<T>, last: Option<Item>) -> super::ListPage<T> {
        super::ListPage {
            data,
            next_cursor: last.map(|k| seal(&self.key, &self.tenant, &self.query, &k)),
        }
    }
}

/// Seals where a page stopped into a cursor for the same tenant and query.
pub fn seal(key: &[u8; 32], tenant: &str, query: &str, last_key: &Item) -> String {
    let payload = serde_json::to_vec(&Payload {
        t: tenant.to_owned(),
        q: query.to_owned(),
        k: last_key.clone(),
    })
    .expect("cursor payload serialises");
    let tag = mac(key, &payload).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Opens a cursor, refusing (400 `invalid_cursor`) one that was altered, made for another
/// tenant, or made for another query.
pub fn open(key: &[u8; 32], tenant: &str, query: &str, cursor: &str) -> Result<Item, ApiError> {
    let invalid = || {
        ApiError::new(
            HttpCode::InvalidCursor,
            "the cursor is not valid for this list",
        )
    };
    let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    mac(key, &payload)
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let payload: Payload = serde_json::from_slice(&payload).map_err(|_| invalid())?;
    if payload.t != tenant || payload.q != query {
        return Err(invalid());
    }
    Ok(payload.k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: [u8; 32] = [7; 32];

    fn last() -> Item {
        json!({"pk": "T#co_1#P", "sk": "PROD#9"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn round_trips_for_the_same_tenant_and_query() {
        let c = seal(&KEY, "co_1", "products?status=active", &last());
        assert_eq!(
            open(&KEY, "co_1", "products?status=active", &c).unwrap(),
            last()
        );
    }

    #[test]
    fn refuses_other_tenants_queries_keys_and_edits() {
        let c = seal(&KEY, "co_1", "q", &last());
        assert_eq!(
            open(&KEY, "co_2", "q", &c).unwrap_err().code,
            "invalid_cursor"
        );
        assert_eq!(
            open(&KEY, "co_1", "other", &c).unwrap_err().code,
            "invalid_cursor"
        );
        assert_eq!(
            open(&[8; 32], "co_1", "q", &c).unwrap_err().code,
            "invalid_cursor"
        );
        let (payload, tag) = c.split_once('.').unwrap();
        let mut forged = URL_SAFE_NO_PAD.decode(payload).unwrap();
        let n = forged.len() - 3;
        forged[n] ^= 1;
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
        assert_eq!(
            open(&KEY, "co_1", "q", &forged).unwrap_err().code,
            "invalid_cursor"
        );
        assert_eq!(
            open(&KEY, "co_1", "q", "garbage").unwrap_err().code,
            "invalid_cursor"
        );
    }
}
