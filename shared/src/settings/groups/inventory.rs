//! The `inventory` group: when stock counts as low, and whether shoppers see quantities.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Inventory {
    /// A level whose available units are at or below this is low on stock (`low_stock`).
    pub low_stock_threshold: i64,
    /// Whether the storefront shows how many units are available, not only whether some are.
    pub show_stock_quantity: bool,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            low_stock_threshold: 5,
            show_stock_quantity: false,
        }
    }
}

impl Validate for Inventory {
    fn validate(&self, errors: &mut Errors) {
        range(
            errors,
            "low_stock_threshold",
            self.low_stock_threshold,
            0,
            1_000_000,
        );
    }
}
