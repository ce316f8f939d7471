//! The port payment providers plug into, and the two that ship without a network: `manual`
//! (bank transfer, cash on delivery: authorized at once, marked paid by staff) and `test` (for
//! the sandbox and tests: the card number decides the outcome, like a payment provider's test
//! mode). Stripe implements the same trait.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// What a session is opened for.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    /// The payment's id (`pay_…`): providers key their own records by it, so asking twice
    /// opens one session.
    pub payment_id: String,
    pub currency: String,
    pub amount: i64,
}

/// Where a provider's step left the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The amount is authorized.
    Authorized,
    /// The shopper must do something first (3-D Secure); `client` says what.
    RequiresAction,
    /// Refused (declined card, insufficient funds).
    Declined,
    /// Not decided yet (a bank transfer on its way).
    Pending,
}

/// A session a storefront completes with the provider.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Session {
    /// The provider's reference for the payment.
    pub reference: String,
    /// What the storefront needs (for Stripe, the client secret).
    pub client: Value,
}

/// The answer to an authorization attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub outcome: Outcome,
    /// Why, when declined or waiting for an action.
    pub reason: Option<String>,
    pub reference: String,
}

/// What a provider tells about a payment out of band (a webhook), parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub reference: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the payment provider refused: {0}")]
    Refused(String),
    #[error("the payment provider could not be reached: {0}")]
    Unavailable(String),
    #[error("not a valid event: {0}")]
    InvalidEvent(String),
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;
    async fn create_session(&self, request: &SessionRequest) -> Result<Session, ProviderError>;
    /// Authorizes the session's amount; `details` is what the storefront collected (for the
    /// test provider, `{"card_number": …}`).
    async fn authorize(
        &self,
        reference: &str,
        amount: i64,
        details: &Value,
    ) -> Result<Authorization, ProviderError>;
    /// Captures `amount` of the authorization; answers the capture's reference.
    async fn capture(&self, reference: &str, amount: i64) -> Result<String, ProviderError>;
    async fn void(&self, reference: &str) -> Result<String, ProviderError>;
    /// Refunds `amount` of what was captured; answers the refund's reference.
    async fn refund(&self, reference: &str, amount: i64) -> Result<String, ProviderError>;
    /// Parses an event the provider sent (signature checked by the provider).
    fn parse_event(
        &self,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<ProviderEvent, ProviderError>;
}

/// Bank transfer and cash on delivery: nothing to ask anyone. Authorized at once; the money
/// arrives outside the platform and staff mark the order paid (a capture).
pub struct Manual;

#[async_trait]
impl PaymentProvider for Manual {
    fn name(&self) -> &'static str {
        "manual"
    }

    async fn create_session(&self, request: &SessionRequest) -> Result<Session, ProviderError> {
        Ok(Session {
            reference: format!("manual_{}", request.payment_id),
            client: json!({}),
        })
    }

    async fn authorize(
        &self,
        reference: &str,
        _amount: i64,
        _details: &Value,
    ) -> Result<Authorization, ProviderError> {
        Ok(Authorization {
            outcome: Outcome::Authorized,
            reason: None,
            reference: reference.to_owned(),
        })
    }

    async fn capture(&self, reference: &str, amount: i64) -> Result<String, ProviderError> {
        Ok(format!("{reference}_paid_{amount}"))
    }

    async fn void(&self, reference: &str) -> Result<String, ProviderError> {
        Ok(format!("{reference}_void"))
    }

    async fn refund(&self, reference: &str, amount: i64) -> Result<String, ProviderError> {
        Ok(format!("{reference}_refund_{amount}"))
    }

    fn parse_event(
        &self,
        _: &[(String, String)],
        _: &[u8],
    ) -> Result<ProviderEvent, ProviderError> {
        Err(ProviderError::InvalidEvent(
            "the manual provider sends no events".into(),
        ))
    }
}

/// Card numbers the test provider knows (any other number is declined as invalid).
pub mod cards {
    /// Authorized.
    pub const SUCCEEDS: &str = "4242424242424242";
    /// Declined.
    pub const DECLINED: &str = "4000000000000002";
    /// Needs the shopper's confirmation (3-D Secure) before it is authorized.
    pub const REQUIRES_ACTION: &str = "4000002500003155";
    /// Authorized, but every capture is refused (as when the bank let the authorization lapse):
    /// what an order looks like when its automatic capture fails.
    pub const CAPTURE_FAILS: &str = "4000000000000341";
}

/// The suffix the test provider puts on the reference of an authorization whose captures fail.
const CAPTURE_FAILS_SUFFIX: &str = "_capture_fails";

/// The sandbox's provider: no network, outcomes chosen by the card number (see [`cards`]).
/// A card requiring action is authorized when authorized again with `{"confirmed": true}`.
pub struct Test;

#[async_trait]
impl PaymentProvider for Test {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn create_session(&self, request: &SessionRequest) -> Result<Session, ProviderError> {
        let reference = format!("test_{}", request.payment_id);
        Ok(Session {
            client: json!({
                "client_secret": format!("{reference}_secret"),
                "cards": {
                    "succeeds": cards::SUCCEEDS,
                    "declined": cards::DECLINED,
                    "requires_action": cards::REQUIRES_ACTION,
                    "capture_fails": cards::CAPTURE_FAILS,
                }
            }),
            reference,
        })
    }

    async fn authorize(
        &self,
        reference: &str,
        _amount: i64,
        details: &Value,
    ) -> Result<Authorization, ProviderError> {
        let card: String = details["card_number"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let confirmed = details["confirmed"].as_bool() == Some(true);
        let (outcome, reason) = match card.as_str() {
            cards::SUCCEEDS | cards::CAPTURE_FAILS => (Outcome::Authorized, None),
            cards::REQUIRES_ACTION if confirmed => (Outcome::Authorized, None),
            cards::REQUIRES_ACTION => (
                Outcome::RequiresAction,
                Some("the card needs the shopper's confirmation".to_owned()),
            ),
            cards::DECLINED => (Outcome::Declined, Some("the card was declined".to_owned())),
            _ => (Outcome::Declined, Some("not a test card number".to_owned())),
        };
        // The reference carries what captures will do, as a real provider's records would.
        let base = reference.trim_end_matches(CAPTURE_FAILS_SUFFIX);
        let reference = if card == cards::CAPTURE_FAILS {
            format!("{base}{CAPTURE_FAILS_SUFFIX}")
        } else {
            base.to_owned()
        };
        Ok(Authorization {
            outcome,
            reason,
            reference,
        })
    }

    async fn capture(&self, reference: &str, amount: i64) -> Result<String, ProviderError> {
        if reference.ends_with(CAPTURE_FAILS_SUFFIX) {
            return Err(ProviderError::Refused(
                "the authorization has lapsed and cannot be captured".into(),
            ));
        }
        Ok(format!("{reference}_capture_{amount}"))
    }

    async fn void(&self, reference: &str) -> Result<String, ProviderError> {
        Ok(format!("{reference}_void"))
    }

    async fn refund(&self, reference: &str, amount: i64) -> Result<String, ProviderError> {
        Ok(format!("{reference}_refund_{amount}"))
    }

    /// `{"reference": …, "outcome": "authorized" | "declined" | …}`, for tests that play the
    /// provider's webhook.
    fn parse_event(
        &self,
        _: &[(String, String)],
        body: &[u8],
    ) -> Result<ProviderEvent, ProviderError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| ProviderError::InvalidEvent(e.to_string()))?;
        let reference = value["reference"]
            .as_str()
            .filter(|r| r.starts_with("test_"))
            .ok_or_else(|| ProviderError::InvalidEvent("no test reference".into()))?;
        let outcome = match value["outcome"].as_str() {
            Some("authorized") => Outcome::Authorized,
            Some("declined") => Outcome::Declined,
            Some("requires_action") => Outcome::RequiresAction,
            Some("pending") => Outcome::Pending,
            _ => return Err(ProviderError::InvalidEvent("unknown outcome".into())),
        };
        Ok(ProviderEvent {
            reference: reference.to_owned(),
            outcome,
        })
    }
}

/// The provider named (`None`: not one this build has).
pub fn named(name: &str) -> Option<Box<dyn PaymentProvider>> {
    match name {
        "manual" => Some(Box::new(Manual)),
        "test" => Some(Box::new(Test)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_cards_decide_the_outcome() {
        let session = Test
            .create_session(&SessionRequest {
                payment_id: "pay_1".into(),
                currency: "EUR".into(),
                amount: 100,
            })
            .await
            .unwrap();
        let outcome = |card: &'static str, confirmed: bool| {
            let reference = session.reference.clone();
            async move {
                Test.authorize(
                    &reference,
                    100,
                    &json!({"card_number": card, "confirmed": confirmed}),
                )
                .await
                .unwrap()
                .outcome
            }
        };
        assert_eq!(outcome(cards::SUCCEEDS, false).await, Outcome::Authorized);
        assert_eq!(outcome(cards::DECLINED, false).await, Outcome::Declined);
        assert_eq!(
            outcome(cards::REQUIRES_ACTION, false).await,
            Outcome::RequiresAction
        );
        assert_eq!(
            outcome(cards::REQUIRES_ACTION, true).await,
            Outcome::Authorized
        );
        assert_eq!(outcome("1234", false).await, Outcome::Declined);
        // A card whose captures fail is authorized under a reference that captures refuse.
        let lapsing = Test
            .authorize(
                &session.reference,
                100,
                &json!({"card_number": cards::CAPTURE_FAILS}),
            )
            .await
            .unwrap();
        assert_eq!(lapsing.outcome, Outcome::Authorized);
        assert!(matches!(
            Test.capture(&lapsing.reference, 100).await,
            Err(ProviderError::Refused(_))
        ));
        assert!(Test.void(&lapsing.reference).await.is_ok());
        assert!(Test.capture(&session.reference, 100).await.is_ok());
        assert_eq!(
            Manual
                .authorize("manual_pay_1", 100, &json!({}))
                .await
                .unwrap()
                .outcome,
            Outcome::Authorized
        );
        let event = Test
            .parse_event(
                &[],
                br#"{"reference": "test_pay_1", "outcome": "authorized"}"#,
            )
            .unwrap();
        assert_eq!(event.outcome, Outcome::Authorized);
        assert!(Test.parse_event(&[], b"{}").is_err());
    }
}
