//! The `notifications` group: the sender and who gets order alerts.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Notifications {
    pub sender_name: Option<String>,
    pub sender_email: Option<String>,
    pub reply_to: Option<String>,
    /// Which transactional emails are sent to customers.
    pub customer_emails: Vec<String>,
    /// Staff addresses told about new orders.
    pub order_alert_recipients: Vec<String>,
}

pub const CUSTOMER_EMAILS: [&str; 5] = [
    "order_confirmation",
    "shipping_confirmation",
    "order_cancelled",
    "refund_issued",
    "customer_welcome",
];

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            sender_name: None,
            sender_email: None,
            reply_to: None,
            customer_emails: CUSTOMER_EMAILS.iter().map(|s| (*s).to_owned()).collect(),
            order_alert_recipients: Vec::new(),
        }
    }
}

impl Validate for Notifications {
    fn validate(&self, errors: &mut Errors) {
        if let Some(name) = &self.sender_name {
            errors.check(validate::text("sender_name", name, 100));
        }
        optional_email(errors, "sender_email", &self.sender_email);
        optional_email(errors, "reply_to", &self.reply_to);
        at_most(
            errors,
            "customer_emails",
            self.customer_emails.len(),
            CUSTOMER_EMAILS.len(),
        );
        distinct(
            errors,
            "customer_emails",
            self.customer_emails.iter().map(String::as_str),
        );
        distinct(
            errors,
            "order_alert_recipients",
            self.order_alert_recipients.iter().map(String::as_str),
        );
        for (i, e) in self.customer_emails.iter().enumerate() {
            one_of(
                errors,
                &format!("customer_emails[{i}]"),
                e,
                &CUSTOMER_EMAILS,
            );
        }
        if self.order_alert_recipients.len() > 10 {
            errors.push(FieldError::new(
                "order_alert_recipients",
                "too_many",
                "list at most 10 addresses",
            ));
        }
        for (i, e) in self.order_alert_recipients.iter().enumerate() {
            errors.check(validate::email(&format!("order_alert_recipients[{i}]"), e));
        }
    }
}
