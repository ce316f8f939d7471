//! Where tax rates live.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | tax rate | `T#<t>#TAX_RATES` | `RATE#<rate id>` |
//! | rate count (caps rates per company) | `T#<t>#TAX_RATES` | `COUNT` |
//!
//! A company's rates share one partition (a [`Shelf`]), so pricing reads them all in one query
//! (kept per container, see `service::cached`).

use crate::identity::TenantId;
use crate::store::shelf::Shelf;

pub const RATE: &str = "tax_rate";

pub fn rates(tenant: &TenantId) -> Shelf {
    Shelf {
        partition: format!("T#{tenant}#TAX_RATES"),
        prefix: "RATE",
        entity: RATE,
    }
}
