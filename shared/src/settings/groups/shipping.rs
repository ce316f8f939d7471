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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Shipping {
    pub origin: Option<Address>,
    /// In `dimension_unit` and `weight_unit`.
    pub default_package: Package,
    pub weight_unit: String,
    pub dimension_unit: String,
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
    }
}
