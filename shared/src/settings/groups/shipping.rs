//! The `shipping` group: the origin address, default package and units.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub length: i64,
    pub width: i64,
    pub height: i64,
    pub weight: i64,
}

/// One row of the carrier rate table (`carrier` shipping methods): the price of a service to a
/// country (or `*`, any country the others do not name) for parcels up to a weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateTableRow {
    pub service: String,
    pub country: String,
    /// In `weight_unit`, the package's own weight included.
    pub up_to_weight: f64,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Shipping {
    pub origin: Option<Address>,
    /// In `dimension_unit` and `weight_unit`.
    pub default_package: Package,
    pub weight_unit: String,
    pub dimension_unit: String,
    /// The carrier rates `carrier` methods are priced from (at most 500 rows).
    pub rate_table: Vec<RateTableRow>,
}

impl Default for Shipping {
    fn default() -> Self {
        Shipping {
            origin: None,
            default_package: Package {
                length: 30,
                width: 20,
                height: 10,
                weight: 1,
            },
            weight_unit: "kg".into(),
            dimension_unit: "cm".into(),
            rate_table: Vec::new(),
        }
    }
}

impl Validate for Shipping {
    fn validate(&self, errors: &mut Errors) {
        if let Some(a) = &self.origin {
            check_address(errors, "origin", a);
        }
        let p = &self.default_package;
        for (name, value) in [
            ("length", p.length),
            ("width", p.width),
            ("height", p.height),
            ("weight", p.weight),
        ] {
            range(
                errors,
                &format!("default_package.{name}"),
                value,
                1,
                1_000_000,
            );
        }
        one_of(errors, "weight_unit", &self.weight_unit, &WEIGHT_UNITS);
        one_of(
            errors,
            "dimension_unit",
            &self.dimension_unit,
            &DIMENSION_UNITS,
        );
        at_most(errors, "rate_table", self.rate_table.len(), 500);
        for (i, row) in self.rate_table.iter().enumerate() {
            let field = |name: &str| format!("rate_table[{i}].{name}");
            errors.check(validate::text(&field("service"), &row.service, 40));
            if row.country != "*" {
                errors.check(validate::country(&field("country"), &row.country));
            }
            errors.check(validate::currency(&field("currency"), &row.currency));
            if !(row.up_to_weight.is_finite() && row.up_to_weight > 0.0) {
                errors.push(crate::http::FieldError::new(
                    field("up_to_weight"),
                    "out_of_range",
                    "a weight above 0",
                ));
            }
            range(errors, &field("amount"), row.amount, 0, 100_000_000);
        }
    }
}
