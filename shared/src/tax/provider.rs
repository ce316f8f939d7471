//! The port a tax engine plugs into. The built-in engine ([`BuiltIn`]: the company's rate table,
//! `engine.rs`) is the default and the fallback: an external engine (Avalara, TaxJar, Stripe Tax)
//! implements [`TaxProvider`], and [`taxes`] asks it with a time limit, answering the built-in
//! engine's taxes instead when it fails or is late, so a cart or a checkout never waits on
//! it or fails because of it.

use super::engine::{self, Charge};
use super::model::TaxRate;
use crate::places::Destination;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// An amount to tax: a cart line or the shipping, after discounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxable {
    /// The cart line's id, or `shipping`.
    pub id: String,
    pub tax_class: String,
    pub amount: i64,
}

/// What a provider is asked.
#[derive(Debug, Clone)]
pub struct TaxRequest {
    pub currency: &'static str,
    pub prices_include_tax: bool,
    pub destination: Destination,
    pub lines: Vec<Taxable>,
    pub shipping: Option<Taxable>,
    /// The company's rate table (what the built-in engine uses).
    pub rates: Arc<Vec<TaxRate>>,
}

/// What a provider answers: each line's charges (in line order) and the shipping's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxAnswer {
    pub lines: Vec<Vec<Charge>>,
    pub shipping: Vec<Charge>,
}

#[async_trait]
pub trait TaxProvider: Send + Sync {
    fn name(&self) -> &'static str;
    async fn taxes(&self, request: &TaxRequest) -> Result<TaxAnswer, String>;
}

/// The company's own rates.
pub struct BuiltIn;

impl BuiltIn {
    pub fn answer(request: &TaxRequest) -> TaxAnswer {
        let charge = |taxable: &Taxable| {
            let rates =
                engine::applicable(&request.rates, &request.destination, &taxable.tax_class);
            engine::charges(taxable.amount, &rates, request.prices_include_tax)
        };
        TaxAnswer {
            lines: request.lines.iter().map(charge).collect(),
            shipping: request.shipping.as_ref().map(charge).unwrap_or_default(),
        }
    }
}

#[async_trait]
impl TaxProvider for BuiltIn {
    fn name(&self) -> &'static str {
        "built_in"
    }

    async fn taxes(&self, request: &TaxRequest) -> Result<TaxAnswer, String> {
        Ok(BuiltIn::answer(request))
    }
}

/// How long an external engine may take before the built-in one answers instead.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The taxes `provider` answers within `timeout`, or the built-in engine's (logged) when it
/// fails, is late, or answers for other lines than it was asked about.
pub async fn taxes(
    provider: &dyn TaxProvider,
    request: &TaxRequest,
    timeout: Duration,
) -> TaxAnswer {
    match tokio::time::timeout(timeout, provider.taxes(request)).await {
        Ok(Ok(answer)) if answer.lines.len() == request.lines.len() => answer,
        Ok(Ok(_)) => {
            tracing::warn!(
                provider = provider.name(),
                "tax engine answered other lines; built-in rates used"
            );
            BuiltIn::answer(request)
        }
        Ok(Err(error)) => {
            tracing::warn!(provider = provider.name(), %error, "tax engine failed; built-in rates used");
            BuiltIn::answer(request)
        }
        Err(_) => {
            tracing::warn!(
                provider = provider.name(),
                "tax engine timed out; built-in rates used"
            );
            BuiltIn::answer(request)
        }
    }
}

/// The engine a company's taxes come from. Only the built-in one ships; an external engine is
/// chosen here (from the company's settings) once one is added.
pub fn for_company(_settings: &crate::settings::groups::Tax) -> Arc<dyn TaxProvider> {
    Arc::new(BuiltIn)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Slow;
    #[async_trait]
    impl TaxProvider for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }
        async fn taxes(&self, _: &TaxRequest) -> Result<TaxAnswer, String> {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(TaxAnswer::default())
        }
    }

    struct Failing;
    #[async_trait]
    impl TaxProvider for Failing {
        fn name(&self) -> &'static str {
            "failing"
        }
        async fn taxes(&self, _: &TaxRequest) -> Result<TaxAnswer, String> {
            Err("503 from the engine".into())
        }
    }

    /// Charges a flat 1 on everything.
    struct Flat;
    #[async_trait]
    impl TaxProvider for Flat {
        fn name(&self) -> &'static str {
            "flat"
        }
        async fn taxes(&self, request: &TaxRequest) -> Result<TaxAnswer, String> {
            let one = || Charge {
                rate_id: "flat".into(),
                name: "Flat".into(),
                rate: 0,
                amount: 1,
            };
            Ok(TaxAnswer {
                lines: request.lines.iter().map(|_| vec![one()]).collect(),
                shipping: vec![one()],
            })
        }
    }

    fn request() -> TaxRequest {
        let vat = TaxRate {
            id: "txr_de".into(),
            name: "MwSt.".into(),
            country: "DE".into(),
            region: None,
            postcode: None,
            tax_class: "standard".into(),
            rate: 190_000,
            compound: false,
            priority: 1,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        };
        TaxRequest {
            currency: "EUR",
            prices_include_tax: false,
            destination: Destination::country("DE"),
            lines: vec![Taxable {
                id: "item_1".into(),
                tax_class: "standard".into(),
                amount: 10_000,
            }],
            shipping: None,
            rates: Arc::new(vec![vat]),
        }
    }

    #[tokio::test]
    async fn a_late_or_failing_engine_gives_way_to_the_built_in_rates() {
        let limit = Duration::from_millis(50);
        let built_in = BuiltIn::answer(&request());
        assert_eq!(built_in.lines[0][0].amount, 1_900);
        assert_eq!(taxes(&Slow, &request(), limit).await, built_in);
        assert_eq!(taxes(&Failing, &request(), limit).await, built_in);
        let flat = taxes(&Flat, &request(), limit).await;
        assert_eq!(
            flat.lines[0][0].amount, 1,
            "a working engine's answer is taken"
        );
    }
}
