//! The notifications worker: sends the emails that events ask for.
//!
//! A module that needs an email sent (password reset, invite, order confirmation) writes a
//! `notification.email_requested` event in the same transaction as its change; this worker sends
//! it through the mail port exactly once per event. The request's subject and bodies travel
//! sealed (`events::email`): they may hold one-time tokens, and the event rests for days in the
//! outbox and may sit in a dead-letter queue.

use super::{consumed, Worker, WorkerError, WorkerFuture};
use crate::app::App;
use crate::events::DomainEvent;
use crate::mail::{Email, MailError};
use crate::secrets::Secret;
use std::sync::Arc;
use std::time::Duration;

pub use crate::events::email::{EmailRequest, EMAIL_REQUESTED};

/// The email request of an event, its content opened: a key this worker lacks is worth a retry,
/// content that does not open or parse never will be.
fn open_request(app: &App, event: &DomainEvent) -> Result<EmailRequest, WorkerError> {
    crate::events::email::open(app, event).map_err(|e| match e {
        crate::events::email::OpenError::KeyUnavailable(why) => WorkerError::Retry(why),
        crate::events::email::OpenError::Malformed(why) => WorkerError::Rejected(why),
    })
}

pub static WORKER: Worker = Worker {
    name: "notifications_worker",
    queue: crate::queue::names::NOTIFICATIONS,
    timeout: Duration::from_secs(30),
    sends_mail: true,
    defers: false,
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
