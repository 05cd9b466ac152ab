//! Email on SES v2: a multipart (text + HTML) MIME message with RFC 8058 one-click unsubscribe
//! headers, sent raw so that the headers reach the inbox. [`crate::AwsMessenger`] sends through it.

use crate::error::provider_failure;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use reclaim_core::ports::{EmailSender, OutgoingEmail, PortError, PortResult, SenderIdentity, SenderStatus};

/// SES v2 adapter.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
    pacer: Option<std::sync::Arc<std::sync::Mutex<Pacer>>>,
}

impl SesMailer {
    pub fn new(client: Client, configuration_set: Option<String>) -> Self {
        Self { client, configuration_set, pacer: None }
    }

    /// Sends at most `per_second` emails per second from this instance (the account's SES rate
    /// divided by the function's reserved concurrency).
    pub fn paced(mut self, per_second: f64) -> Self {
        if per_second > 0.0 && per_second.is_finite() {
            let interval = std::time::Duration::from_secs_f64(1.0 / per_second);
            self.pacer = Some(std::sync::Arc::new(std::sync::Mutex::new(Pacer::new(interval))));
        }
        self
    }
}

/// Spaces sends at least `interval` apart: each call takes the next free slot.
#[derive(Debug)]
pub struct Pacer {
    interval: std::time::Duration,
    next: Option<std::time::Instant>,
}

impl Pacer {
    pub fn new(interval: std::time::Duration) -> Self {
        Self { interval, next: None }
    }

    /// Takes the next slot at or after `now`; returns how long to wait for it.
    pub fn take(&mut self, now: std::time::Instant) -> std::time::Duration {
        let slot = self.next.map_or(now, |next| next.max(now));
        self.next = Some(slot + self.interval);
        slot - now
    }
}

/// Splits `Name <addr@host>` into its parts; a bare address has no name.
fn parse_mailbox(mailbox: &str) -> (Option<&str>, &str) {
    match mailbox.split_once('<') {
        Some((name, rest)) => {
            let name = name.trim().trim_matches('"');
            ((!name.is_empty()).then_some(name), rest.trim_end().trim_end_matches('>').trim())
        }
        None => (None, mailbox.trim()),
    }
}

/// The MIME bytes of an email, with `List-Unsubscribe` and `List-Unsubscribe-Post`.
pub fn build_mime(email: &OutgoingEmail) -> Result<Vec<u8>, std::io::Error> {
    let (from_name, from_address) = parse_mailbox(&email.from);
    let mut message = MessageBuilder::new()
        .from(Address::new_address(from_name, from_address))
        .to(email.to.as_str())
        .subject(email.subject.as_str())
        .text_body(email.text.as_str())
        .html_body(email.html.as_str());
    if !email.unsubscribe_url.is_empty() {
        message = message
            .header("List-Unsubscribe", Raw::new(format!("<{}>", email.unsubscribe_url)))
            .header("List-Unsubscribe-Post", Raw::new("List-Unsubscribe=One-Click"));
    }
    if let Some(reply_to) = &email.reply_to {
        message = message.reply_to(reply_to.as_str());
    }
    if let Some((name, content)) = &email.attachment {
        message = message.attachment("application/json", name.as_str(), content.as_slice());
    }
    message.write_to_vec()
}

impl EmailSender for SesMailer {
    /// Sends one email; returns SES's message id.
    async fn send_email(&self, email: &OutgoingEmail) -> PortResult<String> {
        if let Some(pacer) = &self.pacer {
            let wait = pacer.lock().unwrap().take(std::time::Instant::now());
            tokio::time::sleep(wait).await;
        }
        let mime = build_mime(email).map_err(|e| PortError::Rejected(e.to_string()))?;
        let tags = email
            .tags
            .iter()
            .map(|(name, value)| MessageTag::builder().name(name).value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PortError::Rejected(e.to_string()))?;
        let raw =
            RawMessage::builder().data(Blob::new(mime)).build().map_err(|e| PortError::Rejected(e.to_string()))?;
        let result = self
            .client
            .send_email()
            // The one parsed recipient, also as the envelope's only destination: whatever the
            // MIME says, SES delivers to this address and no other.
            .destination(Destination::builder().to_addresses(email.to.as_str()).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .set_email_tags(Some(tags))
            .send()
            .await;
        // Sent once (the client has the SDK's retries off): SES may have accepted a request
        // whose answer was lost, and only `provider_failure` knows which failures are safe to repeat.
        result.map(|output| output.message_id.unwrap_or_default()).map_err(|e| provider_failure("SendEmail", e))
    }
}

impl SenderIdentity for SesMailer {
    /// SES v2 `GetEmailIdentity`: verified when the identity's verification succeeded (or SES
    /// says it may send); an identity SES does not know is `NOT_FOUND`, not an error.
    async fn sender_status(&self, domain: &str) -> PortResult<SenderStatus> {
        match self.client.get_email_identity().email_identity(domain).send().await {
            Ok(identity) => {
                let status =
                    identity.verification_status.map_or_else(|| "NOT_STARTED".to_owned(), |s| s.as_str().to_owned());
                Ok(SenderStatus { verified: identity.verified_for_sending_status || status == "SUCCESS", status })
            }
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {
                Ok(SenderStatus { verified: false, status: "NOT_FOUND".into() })
            }
            Err(error) => Err(provider_failure("GetEmailIdentity", error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_spaces_sends_by_its_interval_and_lets_idle_time_pass() {
        use std::time::{Duration, Instant};
        let mut pacer = Pacer::new(Duration::from_millis(100));
        let start = Instant::now();
        let waits: Vec<Duration> = (0..3).map(|_| pacer.take(start)).collect();
        assert_eq!(waits, [Duration::ZERO, Duration::from_millis(100), Duration::from_millis(200)]);
        assert_eq!(pacer.take(start + Duration::from_millis(250)), Duration::from_millis(50));
        assert_eq!(pacer.take(start + Duration::from_secs(5)), Duration::ZERO, "an idle pacer sends at once");
    }

    #[test]
    fn mime_carries_both_parts_and_one_click_headers() {
        let email = OutgoingEmail {
            from: "Demo Store <recover@example.com>".into(),
            to: reclaim_core::model::Email::parse("ada@example.com").unwrap(),
            subject: "Your cart".into(),
            html: "<p>Hello</p>".into(),
            text: "Hello".into(),
            unsubscribe_url: "https://r.test/u/abc".into(),
            tags: vec![],
            attachment: None,
            reply_to: Some(reclaim_core::model::Email::parse("owner@shop.test").unwrap()),
        };
        let mime = String::from_utf8(build_mime(&email).unwrap()).unwrap();
        assert!(mime.contains("List-Unsubscribe: <https://r.test/u/abc>"), "{mime}");
        assert!(mime.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(mime.contains("Reply-To: <owner@shop.test>"), "{mime}");
        assert!(mime.contains("multipart/alternative"));
        assert!(mime.contains("text/plain") && mime.contains("text/html"));
        assert!(
            mime.contains("\"Demo Store\" <recover@example.com>") || mime.contains("Demo Store <recover@example.com>")
        );
    }

    #[test]
    fn mailboxes_split() {
        assert_eq!(parse_mailbox("A B <a@b.co>"), (Some("A B"), "a@b.co"));
        assert_eq!(parse_mailbox("a@b.co"), (None, "a@b.co"));
    }
}
