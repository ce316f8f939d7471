//! The `payments` group: enabled providers (`manual`; `test`, whose card numbers decide the
//! outcome, for sandboxes and tests; `stripe`), capture mode and Stripe keys (kept sealed).

use super::*;

/// A secret as the API shows it: whether it is set, and its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MaskedSecret {
    pub configured: bool,
    pub last4: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Stripe {
    pub publishable_key: Option<String>,
    /// Write a string to set, `null` to clear; reads show only whether it is set.
    pub secret_key: MaskedSecret,
    pub webhook_secret: MaskedSecret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Payments {
    pub enabled_providers: Vec<String>,
    pub capture_mode: String,
    pub stripe: Stripe,
}

impl Default for Payments {
    fn default() -> Self {
        Payments {
            enabled_providers: vec!["manual".into()],
            capture_mode: "automatic".into(),
            stripe: Stripe::default(),
        }
    }
}

impl Validate for Payments {
    fn validate(&self, errors: &mut Errors) {
        at_most(errors, "enabled_providers", self.enabled_providers.len(), 3);
        distinct(
            errors,
            "enabled_providers",
            self.enabled_providers.iter().map(String::as_str),
        );
        for (i, p) in self.enabled_providers.iter().enumerate() {
            one_of(
                errors,
                &format!("enabled_providers[{i}]"),
                p,
                &["manual", "test", "stripe"],
            );
        }
        one_of(
            errors,
            "capture_mode",
            &self.capture_mode,
            &["automatic", "manual"],
        );
        if let Some(key) = &self.stripe.publishable_key {
            if !key.starts_with("pk_") || key.len() > 200 {
                errors.push(FieldError::new(
                    "stripe.publishable_key",
                    "invalid",
                    "must be a Stripe publishable key (pk_...)",
                ));
            }
        }
        if self.enabled_providers.iter().any(|p| p == "stripe")
            && !self.stripe.secret_key.configured
        {
            errors.push(FieldError::new(
                "stripe.secret_key",
                "required",
                "set the Stripe secret key to enable Stripe",
            ));
        }
    }
}
