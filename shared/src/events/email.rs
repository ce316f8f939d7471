//! Email requests: `notification.email_requested` events, which a module writes in the same
//! transaction as its change and the notifications worker sends. Their subject and bodies travel
//! sealed under the `email-content` secret, with the event id as associated data: they may hold
//! one-time tokens, and the event rests for days in the outbox, the stream and the queues.

use super::DomainEvent;
use crate::app::App;
use crate::secrets::{MissingSecret, Secret};
use serde::{Deserialize, Serialize};
use serde_json::Value;

crate::event_kinds! {
    /// Email events.
    pub enum EmailEvent {
        /// A module asked for an email to be sent (its subject and bodies sealed).
        Requested = "notification.email_requested", data: "`to`, `from`, `reply_to`, `sealed` (subject, text and HTML, encrypted)", queues: [crate::queue::names::NOTIFICATIONS],
    }
}

pub const EMAIL_REQUESTED: &str = EmailEvent::Requested.name();

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

/// Why an email request's content could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// This function does not hold the email content key.
    KeyUnavailable(String),
    /// The content was tampered with, moved or is not an email request.
    Malformed(String),
}

/// The email request of an event, its content opened (the notifications worker).
pub fn open(app: &App, event: &DomainEvent) -> Result<EmailRequest, OpenError> {
    let mut data = event.data.clone();
    if let Some(fields) = data.as_object_mut() {
        if let Some(sealed) = fields.remove(SEALED) {
            let key = content_key(app).map_err(|e| OpenError::KeyUnavailable(e.to_string()))?;
            let plain = sealed
                .as_str()
                .and_then(|s| crate::sealed::open(&key, &event.id, s))
                .ok_or_else(|| OpenError::Malformed("sealed content does not open".into()))?;
            let content: serde_json::Map<String, Value> = serde_json::from_str(&plain)
                .map_err(|e| OpenError::Malformed(format!("bad sealed content: {e}")))?;
            fields.extend(content);
        }
    }
    serde_json::from_value(data)
        .map_err(|e| OpenError::Malformed(format!("bad email request: {e}")))
}
