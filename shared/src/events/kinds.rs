//! Event kinds. Each module declares its kinds once, as an enum ([`event_kinds!`](crate::event_kinds)):
//! the name (`<resource>.<past-tense verb>`, what consumers and webhooks see), what happened and
//! what the event's `data` holds. Events are made only from these ([`Kind`]), so a kind cannot
//! be misspelt at a call site, and the catalog of every kind (`routes::event_kinds`,
//! `docs/events.md`) cannot miss one. A kind also names the queues that consume it: the outbox
//! records them with each event and the dispatcher sends it there, so a module that adds a
//! consumer declares it beside its kinds and no platform code changes.

/// One event kind, as a module's enum declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    /// What happened.
    pub description: &'static str,
    /// The fields of the event's `data`.
    pub data: &'static str,
    /// The queues whose workers consume it (none: it stays in the outbox for its retention,
    /// for webhooks and audit to read).
    pub queues: &'static [&'static str],
}

/// Declares a module's event kinds: an enum whose variants convert into [`Kind`].
///
/// ```ignore
/// event_kinds! {
///     /// Product events.
///     pub enum CatalogEvent {
///         /// A product was created.
///         ProductCreated = "product.created", data: "`product`: the product",
///         /// Consumed by the workers of one queue.
///         StockReserved = "stock.reserved", data: "`holder`", queues: [names::CART_EXPIRY],
///     }
/// }
/// ```
#[macro_export]
macro_rules! event_kinds {
    (
        $(#[doc = $enum_doc:literal])*
        pub enum $name:ident {
            $(
                #[doc = $doc:literal]
                $variant:ident = $kind:literal, data: $data:literal
                $(, queues: [$($queue:path),* $(,)?])? ,
            )*
        }
    ) => {
        $(#[doc = $enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $( #[doc = $doc] $variant, )*
        }

        impl $name {
            /// Every kind of this module, in declaration order.
            pub const ALL: &'static [$crate::events::kinds::Kind] = &[
                $( $crate::events::kinds::Kind {
                    name: $kind,
                    description: $doc,
                    data: $data,
                    queues: &[$($($queue),*)?],
                }, )*
            ];

            pub const fn kind(self) -> $crate::events::kinds::Kind {
                Self::ALL[self as usize]
            }

            pub const fn name(self) -> &'static str {
                self.kind().name
            }
        }

        impl From<$name> for $crate::events::kinds::Kind {
            fn from(kind: $name) -> Self {
                kind.kind()
            }
        }
    };
}
