//! The `tax` group: whether prices include tax, shipping tax, the default class, registrations.

use super::*;

/// The tax classes every company has; `custom_classes` adds its own.
pub const BUILT_IN_TAX_CLASSES: [&str; 4] = ["standard", "reduced", "zero", "exempt"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRegistration {
    pub country: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Tax {
    /// Whether catalog prices include tax (see the tax engine for what a destination with other
    /// rates pays).
    pub prices_include_tax: bool,
    /// Whether shipping is taxed, at the rates of `shipping_tax_class`.
    pub tax_on_shipping: bool,
    /// The class of variants that name none.
    pub default_tax_class: String,
    /// The class whose rates tax shipping.
    pub shipping_tax_class: String,
    /// Classes of the company's own beside `standard`, `reduced`, `zero` and `exempt`
    /// (lowercase handles).
    pub custom_classes: Vec<String>,
    pub registrations: Vec<TaxRegistration>,
}

impl Default for Tax {
    fn default() -> Self {
        Tax {
            prices_include_tax: false,
            tax_on_shipping: false,
            default_tax_class: "standard".into(),
            shipping_tax_class: "standard".into(),
            custom_classes: Vec::new(),
            registrations: Vec::new(),
        }
    }
}

impl Tax {
    /// Whether `class` is one of the company's tax classes.
    pub fn knows_class(&self, class: &str) -> bool {
        BUILT_IN_TAX_CLASSES.contains(&class) || self.custom_classes.iter().any(|c| c == class)
    }
}

impl Validate for Tax {
    fn validate(&self, errors: &mut Errors) {
        at_most(errors, "custom_classes", self.custom_classes.len(), 20);
        distinct(
            errors,
            "custom_classes",
            self.custom_classes.iter().map(String::as_str),
        );
        // One registration per country: checkout looks the company's number up by country.
        distinct(
            errors,
            "registrations",
            self.registrations.iter().map(|r| r.country.as_str()),
        );
        for (i, class) in self.custom_classes.iter().enumerate() {
            errors.check(validate::handle(&format!("custom_classes[{i}]"), class));
        }
        for (field, class) in [
            ("default_tax_class", &self.default_tax_class),
            ("shipping_tax_class", &self.shipping_tax_class),
        ] {
            if !self.knows_class(class) {
                errors.push(crate::http::FieldError::new(
                    field,
                    "unknown_tax_class",
                    "standard, reduced, zero, exempt, or one of custom_classes",
                ));
            }
        }
        at_most(errors, "registrations", self.registrations.len(), 50);
        for (i, r) in self.registrations.iter().enumerate() {
            errors.check(validate::country(
                &format!("registrations[{i}].country"),
                &r.country,
            ));
            errors.check(validate::text(
                &format!("registrations[{i}].number"),
                &r.number,
                40,
            ));
        }
    }
}
