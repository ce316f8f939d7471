//! Domain events and the outbox.
//!
//! A change and the event it causes are written in one transaction: the event is an outbox item
//! in the table ([`outbox_put`]). A dispatcher then moves each new outbox item to the queues
//! that consume its type, at least once: in AWS a DynamoDB Streams consumer
//! ([`stream::serve`]), in the sandbox a poller over the embedded store's change stream
//! ([`dispatch::run_embedded`]). Nothing can be lost between a committed change and its side
//! effects, and a change that fails emits nothing.

pub mod dispatch;
pub mod email;
pub mod kinds;
pub mod store;
pub mod stream;

use crate::app::App;
use crate::identity::TenantId;
use crate::store::{Item, TxOp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The envelope every event travels in, on queues and (later) to webhook endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainEvent {
    /// `evt_<ULID>`: unique, and what consumers deduplicate on.
    pub id: String,
    /// `<resource>.<past-tense verb>`, e.g. `product.created`.
    #[serde(rename = "type")]
    pub kind: String,
    pub tenant_id: String,
    /// RFC 3339.
    pub occurred_at: String,
    /// Who caused it (a user, customer or key id), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub data: Value,
    /// The queues it goes to, as its kind declares: recorded beside the event in the outbox,
    /// not part of what consumers see.
    #[serde(skip)]
    pub queues: Vec<String>,
}

/// Two events are the same event whatever queues they are routed to: the queues travel beside an
/// event, not in it.
impl PartialEq for DomainEvent {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.kind == other.kind
            && self.tenant_id == other.tenant_id
            && self.occurred_at == other.occurred_at
            && self.actor == other.actor
            && self.data == other.data
    }
}

impl DomainEvent {
    /// A new event of `kind` for `tenant`, stamped by the app's clock and id generator.
    pub fn new(
        app: &crate::app::App,
        tenant: &TenantId,
        kind: impl Into<kinds::Kind>,
        actor: Option<String>,
        data: Value,
    ) -> Self {
        let kind = kind.into();
        debug_assert!(
            kind.name != email::EMAIL_REQUESTED,
            "email events are made with DomainEvent::email, which seals them"
        );
        Self::with_id(app, app.ids.new_id("evt"), tenant, kind, actor, data)
    }

    /// A `notification.email_requested` event. Emails may carry one-time tokens: their content
    /// is sealed wherever the event goes, so this is the only way to make one.
    pub fn email(
        app: &crate::app::App,
        tenant: &TenantId,
        actor: Option<String>,
        request: &email::EmailRequest,
    ) -> Result<Self, crate::secrets::MissingSecret> {
        let id = app.ids.new_id("evt");
        let data = email::seal_content(
            app,
            &id,
            serde_json::to_value(request).expect("email requests serialise"),
        )?;
        Ok(Self::with_id(
            app,
            id,
            tenant,
            email::EmailEvent::Requested.kind(),
            actor,
            data,
        ))
    }

    fn with_id(
        app: &crate::app::App,
        id: String,
        tenant: &TenantId,
        kind: kinds::Kind,
        actor: Option<String>,
        data: Value,
    ) -> Self {
        DomainEvent {
            id,
            kind: kind.name.to_owned(),
            queues: kind.queues.iter().map(|q| (*q).to_owned()).collect(),
            tenant_id: tenant.to_string(),
            occurred_at: crate::clock::rfc3339(app.clock.now()),
            actor,
            data,
        }
    }

    /// The tenant of an event read back from our own table or queues.
    pub(crate) fn tenant(&self) -> TenantId {
        TenantId::trusted(self.tenant_id.clone())
    }
}

/// The outbox operation of one domain event, written in the same transaction as the change.
pub fn event(
    app: &App,
    tenant: &TenantId,
    kind: impl Into<kinds::Kind>,
    actor: Option<&str>,
    data: serde_json::Value,
) -> TxOp {
    let event = DomainEvent::new(app, tenant, kind, actor.map(str::to_owned), data);
    outbox_put(&event, app.clock.epoch_seconds())
}

/// The transaction operation that records `event` in the outbox; add it to the transaction of
/// the change that caused it.
pub fn outbox_put(event: &DomainEvent, now_epoch: i64) -> TxOp {
    TxOp::Put {
        item: store::outbox_item(event, now_epoch),
        condition: Some(crate::store::Condition::NotExists),
    }
}

/// Reads an event back from an outbox item; `None` for any other item.
pub fn from_item(item: &Item) -> Option<DomainEvent> {
    if item.get(crate::store::attr::ENTITY).and_then(Value::as_str) != Some(store::ENTITY) {
        return None;
    }
    let parsed = item
        .get("event")
        .cloned()
        .map(serde_json::from_value::<DomainEvent>);
    match parsed {
        Some(Ok(mut event)) => {
            event.queues = match item.get(store::QUEUES).and_then(Value::as_array) {
                Some(queues) => queues
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                // Written before events recorded their queues.
                None => dispatch::legacy_queues(&event.kind)
                    .iter()
                    .map(|q| (*q).to_owned())
                    .collect(),
            };
            Some(event)
        }
        _ => {
            tracing::error!(pk = ?item.get("pk"), sk = ?item.get("sk"), "unreadable outbox item skipped");
            None
        }
    }
}
