//! The mailer of a function that declares no mail access: every send fails plainly.

use super::{Email, MailError, Mailer};
use async_trait::async_trait;

pub struct AbsentMailer;

#[async_trait]
impl Mailer for AbsentMailer {
    async fn send(&self, _: &Email) -> Result<String, MailError> {
        Err(MailError::Unavailable(
            "this function declares no mail access".into(),
        ))
    }
}
