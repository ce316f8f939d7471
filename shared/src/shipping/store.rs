//! Where shipping zones live, each with its methods.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | shipping zone (with its methods) | `T#<t>#SHIPPING_ZONES` | `ZONE#<zone id>` |
//! | zone count (caps zones per company) | `T#<t>#SHIPPING_ZONES` | `COUNT` |
//!
//! A company's zones share one partition (a [`Shelf`]), so carts read them all in one query
//! (kept per container, see `service::cached`).

use crate::identity::TenantId;
use crate::store::shelf::Shelf;

pub const ZONE: &str = "shipping_zone";

pub fn zones(tenant: &TenantId) -> Shelf {
    Shelf {
        partition: format!("T#{tenant}#SHIPPING_ZONES"),
        prefix: "ZONE",
        entity: ZONE,
    }
}
