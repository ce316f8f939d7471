//! The `general` group: the store's name, contact, currency, locale, units and storefront.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct General {
    pub store_name: String,
    pub legal_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<Address>,
    pub default_currency: String,
    pub supported_currencies: Vec<String>,
    pub default_locale: String,
    pub supported_locales: Vec<String>,
    pub timezone: String,
    pub weight_unit: String,
    pub dimension_unit: String,
    pub order_number_prefix: String,
    /// The storefront's address, e.g. `https://shop.example.com`: customer emails then link to
    /// its pages (`/account/verify?token=...`) instead of carrying a bare token.
    pub storefront_url: Option<String>,
}

impl Default for General {
    fn default() -> Self {
        General {
            store_name: "My store".into(),
            legal_name: None,
            contact_email: None,
            contact_phone: None,
            address: None,
            default_currency: "USD".into(),
            supported_currencies: vec!["USD".into()],
            default_locale: "en".into(),
            supported_locales: vec!["en".into()],
            timezone: "UTC".into(),
            weight_unit: "kg".into(),
            dimension_unit: "cm".into(),
            order_number_prefix: "#".into(),
            storefront_url: None,
        }
    }
}

impl Validate for General {
    fn validate(&self, errors: &mut Errors) {
        errors.check(validate::text("store_name", &self.store_name, 100));
        if let Some(name) = &self.legal_name {
            errors.check(validate::text("legal_name", name, 200));
        }
        optional_email(errors, "contact_email", &self.contact_email);
        if let Some(phone) = &self.contact_phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !allowed || !(6..=15).contains(&digits) {
                errors.push(FieldError::new(
                    "contact_phone",
                    "invalid",
                    "must be a phone number, e.g. +49 30 1234567",
                ));
            }
        }
        if let Some(a) = &self.address {
            check_address(errors, "address", a);
        }
        errors.check(validate::currency(
            "default_currency",
            &self.default_currency,
        ));
        at_most(
            errors,
            "supported_currencies",
            self.supported_currencies.len(),
            50,
        );
        at_most(
            errors,
            "supported_locales",
            self.supported_locales.len(),
            50,
        );
        distinct(
            errors,
            "supported_currencies",
            self.supported_currencies.iter().map(String::as_str),
        );
        distinct(
            errors,
            "supported_locales",
            self.supported_locales.iter().map(String::as_str),
        );
        for (i, c) in self.supported_currencies.iter().enumerate() {
            errors.check(validate::currency(&format!("supported_currencies[{i}]"), c));
        }
        if !self.supported_currencies.contains(&self.default_currency) {
            errors.push(FieldError::new(
                "supported_currencies",
                "missing_default",
                "must include the default currency",
            ));
        }
        locale(errors, "default_locale", &self.default_locale);
        for (i, l) in self.supported_locales.iter().enumerate() {
            locale(errors, &format!("supported_locales[{i}]"), l);
        }
        if !self.supported_locales.contains(&self.default_locale) {
            errors.push(FieldError::new(
                "supported_locales",
                "missing_default",
                "must include the default locale",
            ));
        }
        errors.check(validate::timezone("timezone", &self.timezone));
        one_of(errors, "weight_unit", &self.weight_unit, &WEIGHT_UNITS);
        one_of(
            errors,
            "dimension_unit",
            &self.dimension_unit,
            &DIMENSION_UNITS,
        );
        if self.order_number_prefix.chars().count() > 10
            || self
                .order_number_prefix
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            errors.push(FieldError::new(
                "order_number_prefix",
                "invalid",
                "use at most 10 visible characters",
            ));
        }
        if let Some(url) = &self.storefront_url {
            base_url(errors, "storefront_url", url);
        }
    }
}
