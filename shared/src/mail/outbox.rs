//! The sandbox mailer: every message becomes an RFC 5322 `.eml` file in the outbox folder, named
//! so that a directory listing is in sending order.

use super::{Email, MailError, Mailer};
use crate::clock::Clock;
use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::Arc;

pub struct OutboxMailer {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    /// Monotonic ids: two messages sent within one millisecond still name their files in
    /// sending order (a plain ULID is random within its millisecond).
    ids: std::sync::Mutex<ulid::Generator>,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Self {
        OutboxMailer {
            dir: dir.into(),
            clock,
            ids: std::sync::Mutex::new(ulid::Generator::new()),
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// Renders the message as MIME text: plain only, or multipart/alternative with HTML.
pub fn render_eml(email: &Email, id: &str, date: &str) -> String {
    let mut out = String::new();
    let header = |out: &mut String, name: &str, value: &str| {
        out.push_str(&format!("{name}: {value}\r\n"));
    };
    header(&mut out, "Message-ID", &format!("<{id}@sandbox.local>"));
    header(&mut out, "Date", date);
    header(&mut out, "From", &email.from);
    header(&mut out, "To", &email.to.join(", "));
    if let Some(reply_to) = &email.reply_to {
        header(&mut out, "Reply-To", reply_to);
    }
    header(&mut out, "Subject", &email.subject);
    header(&mut out, "MIME-Version", "1.0");
    match &email.html {
        None => {
            header(&mut out, "Content-Type", "text/plain; charset=utf-8");
            out.push_str("\r\n");
            out.push_str(&email.text);
        }
        Some(html) => {
            let boundary = format!("=_{id}");
            header(
                &mut out,
                "Content-Type",
                &format!("multipart/alternative; boundary=\"{boundary}\""),
            );
            out.push_str("\r\n");
            for (kind, body) in [("text/plain", &email.text), ("text/html", html)] {
                out.push_str(&format!(
                    "--{boundary}\r\nContent-Type: {kind}; charset=utf-8\r\n\r\n{body}\r\n"
                ));
            }
            out.push_str(&format!("--{boundary}--\r\n"));
        }
    }
    out
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        email.validate()?;
        let id = {
            let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
            // Overflow needs 2^80 ids in one millisecond; a fresh one is then as good.
            ids.generate().unwrap_or_else(|_| ulid::Ulid::new())
        }
        .to_string();
        let now = self.clock.now();
        let date = now
            .format(&time::format_description::well_known::Rfc2822)
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        let eml = render_eml(email, &id, &date);
        let io = |e: std::io::Error| MailError::Unavailable(e.to_string());
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        let name = format!("{}-{id}.eml", now.unix_timestamp());
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, eml).await.map_err(io)?;
        tokio::fs::rename(&tmp, self.dir.join(&name))
            .await
            .map_err(io)?;
        Ok(id)
    }
}
