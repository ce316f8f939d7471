//! The notifications worker: sends the emails that events ask for.
//!
//! A module that needs an email sent (password reset, invite, order confirmation) writes a
//! `notification.email_requested` event in the same transaction as its change; this worker sends
//! it through the mail port exactly once per event.

use super::{consumed, Worker, WorkerError, WorkerFuture};
use crate::app::App;
use crate::events::DomainEvent;
use crate::mail::{Email, MailError};
use serde::{Deserialize, Serialize};
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

pub static WORKER: Worker = Worker {
    name: "notifications_worker",
    queue: crate::queue::names::NOTIFICATIONS,
    timeout: Duration::from_secs(30),
    sends_mail: true,
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
        let request: EmailRequest = serde_json::from_value(event.data.clone())
            .map_err(|e| WorkerError::Rejected(format!("bad email request: {e}")))?;
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
