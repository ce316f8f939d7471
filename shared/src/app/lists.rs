//! Per-container copies of a company's small lists (selling locations, tax rates, shipping
//! zones), built on the TTL cache.

/// How long a container keeps a company's list ([`company_list`]): 30 s.
pub const LIST_TTL_MS: i64 = 30_000;

/// This container's copy of each company's list of `T` (one cache per `T`).
pub struct CompanyLists<T>(crate::ttl_cache::TtlCache<String, std::sync::Arc<Vec<T>>>);

impl<T> Default for CompanyLists<T> {
    fn default() -> Self {
        CompanyLists(crate::ttl_cache::TtlCache::new(LIST_TTL_MS, 10_000))
    }
}

/// A company's list of `T` (its selling locations, tax rates, shipping zones) as `load` read it
/// at most [`LIST_TTL_MS`] ago in this container; a change made through the container forgets it
/// ([`forget_company_list`]), so other containers see a change within 30 s.
pub async fn company_list<T, E, F>(
    app: &crate::app::App,
    tenant: &crate::identity::TenantId,
    load: F,
) -> Result<std::sync::Arc<Vec<T>>, E>
where
    T: Send + Sync + 'static,
    F: std::future::Future<Output = Result<Vec<T>, E>>,
{
    let now = app.clock.epoch_millis();
    let cache = &app.cache::<CompanyLists<T>>().0;
    if let Some(found) = cache.get(&tenant.to_string(), now) {
        return Ok(found);
    }
    let fresh = std::sync::Arc::new(load.await?);
    cache.put(tenant.to_string(), now, fresh.clone());
    Ok(fresh)
}

pub fn forget_company_list<T: Send + Sync + 'static>(
    app: &crate::app::App,
    tenant: &crate::identity::TenantId,
) {
    app.cache::<CompanyLists<T>>()
        .0
        .invalidate(&tenant.to_string());
}
