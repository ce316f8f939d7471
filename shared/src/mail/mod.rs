//! The mail port: SES in AWS, `.eml` files in the sandbox's outbox folder.

pub mod absent;
pub mod outbox;
pub mod ses;
pub mod untrusted;

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Email {
    pub from: String,
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid email: {0}")]
    Invalid(String),
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
}

impl Email {
    pub(crate) fn validate(&self) -> Result<(), MailError> {
        let header_safe = |s: &str| !s.contains(['\r', '\n']);
        let address_ok = |s: &str| header_safe(s) && s.contains('@') && s.len() <= 320;
        if self.to.is_empty() || !self.to.iter().all(|a| address_ok(a)) {
            return Err(MailError::Invalid("recipients".into()));
        }
        if !address_ok(&self.from) || !self.reply_to.as_deref().is_none_or(address_ok) {
            return Err(MailError::Invalid("sender".into()));
        }
        if !header_safe(&self.subject) {
            return Err(MailError::Invalid("subject must be one line".into()));
        }
        Ok(())
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message and returns the provider's message id.
    async fn send(&self, email: &Email) -> Result<String, MailError>;
}
