//! The port carrier-calculated rates come through. A method with a `carrier` rate asks the
//! company's [`ShippingRateProvider`] for a service's price to a destination; [`carrier_price`]
//! waits at most [`TIMEOUT`] and answers the method's fallback price when the provider has no
//! rate or fails, so a cart never waits on a carrier or fails because of one.
//!
//! [`TableRates`] is the provider that ships: a rate table in the company's shipping settings
//! (`rate_table`: service, country or `*`, weight up to, amount, currency), no network. A real
//! carrier (UPS, DHL, a rate-shopping service) implements the same trait.

use crate::places::Destination;
use crate::settings::groups::{Package, RateTableRow, Shipping};
use async_trait::async_trait;
use std::time::Duration;

/// What a carrier is asked to price.
#[derive(Debug, Clone)]
pub struct RateRequest {
    pub service: String,
    pub currency: String,
    pub destination: Destination,
    /// The lines' weight plus the package's, in the settings' weight unit.
    pub weight: f64,
    pub package: Package,
    /// The origin's country, when the settings name one.
    pub origin_country: Option<String>,
}

#[async_trait]
pub trait ShippingRateProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// The service's price in minor units of the request's currency.
    async fn rate(&self, request: &RateRequest) -> Result<i64, String>;
}

/// Rates from the company's shipping settings.
pub struct TableRates {
    rows: Vec<RateTableRow>,
}

impl TableRates {
    pub fn of(settings: &Shipping) -> TableRates {
        TableRates {
            rows: settings.rate_table.clone(),
        }
    }
}

#[async_trait]
impl ShippingRateProvider for TableRates {
    fn name(&self) -> &'static str {
        "rate_table"
    }

    /// The row of the service and currency for the destination's country (over a `*` row)
    /// with the lowest weight limit the parcel stays within.
    async fn rate(&self, request: &RateRequest) -> Result<i64, String> {
        self.rows
            .iter()
            .filter(|r| r.service == request.service && r.currency == request.currency)
            .filter(|r| r.country == request.destination.country || r.country == "*")
            .filter(|r| request.weight <= r.up_to_weight)
            .min_by(|a, b| {
                (a.country == "*")
                    .cmp(&(b.country == "*"))
                    .then(a.up_to_weight.total_cmp(&b.up_to_weight))
            })
            .map(|r| r.amount)
            .ok_or_else(|| {
                format!(
                    "no {} rate to {} for {} in {}",
                    request.service, request.destination.country, request.weight, request.currency
                )
            })
    }
}

/// How long a carrier may take before the fallback price is used.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The carrier's price, or `fallback` (logged) when it has none, fails or is late.
pub async fn carrier_price(
    provider: &dyn ShippingRateProvider,
    request: &RateRequest,
    fallback: i64,
    timeout: Duration,
) -> i64 {
    match tokio::time::timeout(timeout, provider.rate(request)).await {
        Ok(Ok(amount)) if amount >= 0 => amount,
        Ok(Ok(amount)) => {
            tracing::warn!(
                provider = provider.name(),
                amount,
                "carrier rate below zero; fallback used"
            );
            fallback
        }
        Ok(Err(error)) => {
            tracing::info!(provider = provider.name(), %error, "no carrier rate; fallback used");
            fallback
        }
        Err(_) => {
            tracing::warn!(
                provider = provider.name(),
                "carrier rate timed out; fallback used"
            );
            fallback
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Slow;
    #[async_trait]
    impl ShippingRateProvider for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }
        async fn rate(&self, _: &RateRequest) -> Result<i64, String> {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(1)
        }
    }

    fn row(service: &str, country: &str, up_to_weight: f64, amount: i64) -> RateTableRow {
        RateTableRow {
            service: service.into(),
            country: country.into(),
            up_to_weight,
            amount,
            currency: "EUR".into(),
        }
    }

    fn request(country: &str, weight: f64) -> RateRequest {
        RateRequest {
            service: "express".into(),
            currency: "EUR".into(),
            destination: Destination::country(country),
            weight,
            package: Package {
                length: 30,
                width: 20,
                height: 10,
                weight: 1,
            },
            origin_country: Some("DE".into()),
        }
    }

    #[tokio::test]
    async fn the_table_answers_and_the_fallback_covers_what_it_cannot() {
        let table = TableRates {
            rows: vec![
                row("express", "*", 10.0, 2_500),
                row("express", "DE", 2.0, 990),
                row("express", "DE", 10.0, 1_490),
                row("standard", "DE", 10.0, 490),
            ],
        };
        let limit = Duration::from_millis(50);
        assert_eq!(
            carrier_price(&table, &request("DE", 1.5), 0, limit).await,
            990
        );
        assert_eq!(
            carrier_price(&table, &request("DE", 2.5), 0, limit).await,
            1_490
        );
        assert_eq!(
            carrier_price(&table, &request("FR", 2.5), 0, limit).await,
            2_500
        );
        assert_eq!(
            carrier_price(&table, &request("FR", 12.0), 777, limit).await,
            777
        );
        assert_eq!(
            carrier_price(&Slow, &request("DE", 1.0), 888, limit).await,
            888
        );
    }
}
