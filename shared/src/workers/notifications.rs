//! The notifications worker: sends the emails that events ask for.
//!
//! A module that needs an email sent (password reset, invite, order confirmation) writes a
//! `notification.email_requested` event in the same transaction as its change; this worker sends
//! it through the mail port exactly once per event. The request's subject and bodies travel
//! sealed ([`seal_content`]): they may hold one-time tokens, and the event rests for days in the
//! outbox and may sit in a dead-letter queue.

use super::{consumed, Worker, WorkerError, WorkerFuture};
use crate::app::App;
use crate::events::DomainEvent;
use crate::mail::{Email, MailError};
use crate::secrets::{MissingSecret, Secret};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub const EMAIL_REQUESTED: &str = "notification.email_requested";

/// The data of an `notification.email_requested` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailRequest {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Overrides the platform's sender (the company's configured sender, later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// The fields of an email request that may carry a secret (an invitation or reset link, a
/// verification token): sealed while the request rests in the outbox, the event stream, the
/// queues and their dead-letter queues, opened only by this worker.
const SEALED_FIELDS: [&str; 3] = ["subject", "text", "html"];
const SEALED: &str = "sealed";

fn content_key(app: &App) -> Result<[u8; 32], MissingSecret> {
    app.config.key(Secret::EmailContent, "email-content")
}

/// Seals an email request's content for the event `event_id` (its associated data, so a sealed
/// content copied into another event does not open). Anything else passes unchanged.
pub(crate) fn seal_content(
    app: &App,
    event_id: &str,
    mut data: Value,
) -> Result<Value, MissingSecret> {
    let key = content_key(app)?;
    let Some(fields) = data.as_object_mut() else {
        return Ok(data);
    };
    let mut content = serde_json::Map::new();
    for name in SEALED_FIELDS {
        if let Some(value) = fields.remove(name) {
            content.insert(name.into(), value);
        }
    }
    let plain = Value::Object(content).to_string();
    fields.insert(
        SEALED.into(),
        crate::sealed::seal(&key, event_id, &plain).into(),
    );
    Ok(data)
}

/// The email request of an event, its content opened.
fn open_request(app: &App, event: &DomainEvent) -> Result<EmailRequest, WorkerError> {
    let mut data = event.data.clone();
    if let Some(fields) = data.as_object_mut() {
        if let Some(sealed) = fields.remove(SEALED) {
            let key = content_key(app).map_err(|e| WorkerError::Retry(e.to_string()))?;
            let plain = sealed
                .as_str()
                .and_then(|s| crate::sealed::open(&key, &event.id, s))
                .ok_or_else(|| WorkerError::Rejected("sealed content does not open".into()))?;
            let content: serde_json::Map<String, Value> = serde_json::from_str(&plain)
                .map_err(|e| WorkerError::Rejected(format!("bad sealed content: {e}")))?;
            fields.extend(content);
        }
    }
    serde_json::from_value(data)
        .map_err(|e| WorkerError::Rejected(format!("bad email request: {e}")))
}

pub static WORKER: Worker = Worker {
    name: "notifications_worker",
    queue: crate::queue::names::NOTIFICATIONS,
    timeout: Duration::from_secs(30),
    sends_mail: true,
    secrets: &[Secret::EmailContent],
    handle,
};

fn handle(app: Arc<App>, body: String) -> WorkerFuture {
    Box::pin(async move {
        let event: DomainEvent = serde_json::from_str(&body)
            .map_err(|e| WorkerError::Rejected(format!("not an event: {e}")))?;
        if event.kind != EMAIL_REQUESTED {
            return Err(WorkerError::Rejected(format!(
                "unexpected event type {}",
                event.kind
            )));
        }
        let request = open_request(&app, &event)?;
        let email = Email {
            from: request.from.unwrap_or_else(|| app.config.mail_from.clone()),
            to: request.to,
            reply_to: request.reply_to,
            subject: request.subject,
            text: request.text,
            html: request.html,
        };
        let tenant = event.tenant();
        consumed::once(&app, &tenant, WORKER.name, &event.id, || async {
            match app.mailer.send(&email).await {
                Ok(_) => Ok(()),
                Err(MailError::Invalid(reason)) => Err(WorkerError::Rejected(reason)),
                Err(MailError::Unavailable(reason)) => Err(WorkerError::Retry(reason)),
            }
        })
        .await
    })
}
