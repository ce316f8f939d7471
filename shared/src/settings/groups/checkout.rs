//! The `checkout` group: guest checkout, cart and reservation lifetimes, order numbers.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Checkout {
    pub guest_checkout: bool,
    pub cart_lifetime_seconds: i64,
    pub reservation_window_seconds: i64,
    pub required_customer_fields: Vec<String>,
    pub send_order_confirmation: bool,
    /// 0 (the default): order numbers without gaps, every order of the company taking the next
    /// in turn. 10 to 1,000: each running function takes blocks of this many numbers, so
    /// checkouts do not take turns on one counter; numbers then have gaps (those a function held
    /// when it stopped) and are not in time order across functions.
    pub order_number_block_size: i64,
}

impl Default for Checkout {
    fn default() -> Self {
        Checkout {
            guest_checkout: true,
            cart_lifetime_seconds: 7 * 24 * 3600,
            reservation_window_seconds: 15 * 60,
            required_customer_fields: vec!["email".into()],
            send_order_confirmation: true,
            order_number_block_size: 0,
        }
    }
}

impl Validate for Checkout {
    fn validate(&self, errors: &mut Errors) {
        range(
            errors,
            "cart_lifetime_seconds",
            self.cart_lifetime_seconds,
            3600,
            90 * 24 * 3600,
        );
        range(
            errors,
            "reservation_window_seconds",
            self.reservation_window_seconds,
            60,
            24 * 3600,
        );
        if self.order_number_block_size != 0 {
            range(
                errors,
                "order_number_block_size",
                self.order_number_block_size,
                10,
                1000,
            );
        }
        at_most(
            errors,
            "required_customer_fields",
            self.required_customer_fields.len(),
            5,
        );
        distinct(
            errors,
            "required_customer_fields",
            self.required_customer_fields.iter().map(String::as_str),
        );
        for (i, f) in self.required_customer_fields.iter().enumerate() {
            one_of(
                errors,
                &format!("required_customer_fields[{i}]"),
                f,
                &[
                    "email",
                    "phone",
                    "company",
                    "shipping_address",
                    "billing_address",
                ],
            );
        }
    }
}
