//! Identifiers: a type prefix and a ULID (`prod_01J...`), sortable by creation time.
//!
//! The generator is injected so tests can make ids deterministic.

use std::sync::Mutex;
use ulid::Generator;

pub trait IdGen: Send + Sync {
    /// A new ULID string, monotonic within this generator.
    fn ulid(&self) -> String;

    /// A new id with its type prefix, e.g. `new_id("prod")` → `prod_01J...`.
    fn new_id(&self, prefix: &str) -> String {
        format!("{prefix}_{}", self.ulid())
    }
}

/// ULIDs from the system clock and a random source, monotonic even within one millisecond.
#[derive(Default)]
pub struct UlidGen {
    generator: Mutex<Generator>,
}

impl IdGen for UlidGen {
    fn ulid(&self) -> String {
        let mut generator = self.generator.lock().unwrap_or_else(|e| e.into_inner());
        match generator.generate() {
            Ok(id) => id.to_string(),
            // The random part overflowed within one millisecond: fall back to a fresh ULID.
            Err(_) => ulid::Ulid::new().to_string(),
        }
    }
}

/// Whether `id` has the given prefix followed by a well-formed ULID.
pub fn is_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid::Ulid::from_string(ulid).is_ok())
}

/// Declares id types: a prefix and a ULID, kept apart by type so that a variant id cannot be
/// passed where a product id is expected. They serialise as the plain string, and deserialise
/// only from an id of their own type.
macro_rules! typed_ids {
    ($( $(#[doc = $doc:literal])* $name:ident = $prefix:literal, )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(
                Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
            )]
            #[serde(try_from = "String", into = "String")]
            pub struct $name(String);

            impl TryFrom<String> for $name {
                type Error = String;

                /// Only ids of this type deserialise: a body naming another kind of id, or
                /// garbage, is refused where it is parsed.
                fn try_from(id: String) -> Result<Self, String> {
                    if is_id(&id, $prefix) {
                        Ok($name(id))
                    } else {
                        Err(format!("not a `{}_...` id", $prefix))
                    }
                }
            }

            impl $name {
                /// The type prefix (`prod` in `prod_01J...`).
                pub const PREFIX: &'static str = $prefix;

                /// A new id of this type.
                pub fn generate(ids: &dyn IdGen) -> Self {
                    $name(ids.new_id($prefix))
                }

                /// An id from outside (a path, a body): `None` unless it has this type's prefix
                /// and a well-formed ULID, so a foreign or garbled id never reaches a key.
                pub fn parse(id: &str) -> Option<Self> {
                    is_id(id, $prefix).then(|| $name(id.to_owned()))
                }

                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(&self.0)
                }
            }

            /// An id reads as its string where a key or a message needs one.
            impl std::ops::Deref for $name {
                type Target = str;

                fn deref(&self) -> &str {
                    &self.0
                }
            }

            impl AsRef<str> for $name {
                fn as_ref(&self) -> &str {
                    &self.0
                }
            }

            impl PartialEq<str> for $name {
                fn eq(&self, other: &str) -> bool {
                    self.0 == other
                }
            }

            impl PartialEq<&str> for $name {
                fn eq(&self, other: &&str) -> bool {
                    self.0 == *other
                }
            }

            impl PartialEq<&$name> for $name {
                fn eq(&self, other: &&$name) -> bool {
                    self == *other
                }
            }

            impl From<$name> for String {
                fn from(id: $name) -> String {
                    id.0
                }
            }
        )*
    };
}

typed_ids! {
    /// A product: `prod_<ULID>`.
    ProductId = "prod",
    /// A variant of a product: `var_<ULID>`.
    VariantId = "var",
    /// A customer of a company: `cus_<ULID>`.
    CustomerId = "cus",
    /// A stock location: `loc_<ULID>`.
    LocationId = "loc",
    /// A collection of products: `col_<ULID>`.
    CollectionId = "col",
    /// A cart: `cart_` and 128 random bits written as a ULID, so that its id cannot be guessed
    /// (a guest's cart is reachable with its id and the company's publishable key alone). Made
    /// by [`CartId::random`], never by `generate`.
    CartId = "cart",
}

impl CartId {
    /// A new cart id: 128 bits from the operating system's random source.
    pub fn random() -> Self {
        CartId(format!("cart_{}", ulid::Ulid::from(rand::random::<u128>())))
    }
}

/// The most units one stock figure (on hand, a reservation, an adjustment, safety stock) may hold:
/// far beyond any shop's stock, and small enough that sums never overflow.
pub const MAX_STOCK_UNITS: i64 = 1_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_ids_parse_only_their_own_kind() {
        let ids = UlidGen::default();
        let product = ProductId::generate(&ids);
        assert!(product.as_str().starts_with("prod_"));
        assert_eq!(ProductId::parse(product.as_str()), Some(product.clone()));
        // A variant id, or garbage, is not a product id.
        let variant = VariantId::generate(&ids);
        assert_eq!(ProductId::parse(variant.as_str()), None);
        assert_eq!(VariantId::parse(product.as_str()), None);
        for hostile in [
            "",
            "prod_",
            "prod_not-a-ulid",
            "PROD_01J0000000000000000000000",
            "prod_01J0000000000000000000000/x",
        ] {
            assert_eq!(ProductId::parse(hostile), None, "{hostile}");
        }
    }

    #[test]
    fn cart_ids_are_random_and_parse() {
        let (a, b) = (CartId::random(), CartId::random());
        assert_ne!(a, b);
        assert_eq!(CartId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.as_str().len(), "cart_".len() + 26);
    }

    #[test]
    fn typed_ids_serialise_as_their_string() {
        let id = VariantId::parse("var_01J0000000000000000000000A").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"var_01J0000000000000000000000A\"");
        let back: VariantId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert_eq!(back, "var_01J0000000000000000000000A");
        assert!(serde_json::from_str::<VariantId>("\"prod_01J0000000000000000000000A\"").is_err());
        assert!(serde_json::from_str::<VariantId>("\"var_x\"").is_err());
    }
}
