//! The `tax` group: whether prices include tax, shipping tax, the default class, registrations.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRegistration {
    pub country: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Tax {
    pub prices_include_tax: bool,
    pub tax_on_shipping: bool,
    pub default_tax_class: String,
    pub registrations: Vec<TaxRegistration>,
}

impl Default for Tax {
    fn default() -> Self {
        Tax {
            prices_include_tax: false,
            tax_on_shipping: false,
            default_tax_class: "standard".into(),
            registrations: Vec::new(),
        }
    }
}

impl Validate for Tax {
    fn validate(&self, errors: &mut Errors) {
        errors.check(
            validate::handle("default_tax_class", &self.default_tax_class)
                .or_else(|_| validate::text("default_tax_class", &self.default_tax_class, 40)),
        );
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
