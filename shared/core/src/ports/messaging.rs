//! Messaging roles: one per channel, so that a function that never texts never needs an SMS
//! client. [`Messenger`] is their union.

use super::PortResult;
use crate::model::{Email, PhoneE164, PushPlatform};
use std::future::Future;

/// An email ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub from: String,
    /// One parsed address: SES gets it as the only destination.
    pub to: Email,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// RFC 8058 one-click unsubscribe URL, sent as `List-Unsubscribe` with `List-Unsubscribe-Post`
    /// (empty for mail to merchants, which is not marketing).
    pub unsubscribe_url: String,
    /// Tags for delivery events (shop, step), never personal data.
    pub tags: Vec<(String, String)>,
    /// A file to attach: its name and JSON content (customer data exports).
    pub attachment: Option<(String, Vec<u8>)>,
    /// Where a shopper's answer goes: the shop's own contact address (a reply never lands in
    /// the operator's mailbox, nor in another shop's).
    pub reply_to: Option<Email>,
}

/// A text message ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    pub to: PhoneE164,
    pub body: String,
    /// The shop's origination identity; the account default when `None`.
    pub origination: Option<String>,
    /// Marketing (promotional) rather than transactional.
    pub promotional: bool,
}

/// A push notification ready to go to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingPush {
    /// The device's endpoint.
    pub endpoint: String,
    pub platform: PushPlatform,
    pub title: String,
    pub body: String,
    /// Opened when the shopper taps the notification.
    pub deep_link: String,
}

/// Sends email; returns the provider's message id.
pub trait EmailSender: Send + Sync {
    fn send_email(&self, email: &OutgoingEmail) -> impl Future<Output = PortResult<String>> + Send;
}

/// Whether a sender domain may send: the onboarding checklist's first item.
pub trait SenderIdentity: Send + Sync {
    /// The state of the sending identity for `domain` (the operator's sender domain).
    fn sender_status(&self, domain: &str) -> impl Future<Output = PortResult<SenderStatus>> + Send;
}

/// A sending identity's state, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SenderStatus {
    /// Verified: mail from the domain is accepted.
    pub verified: bool,
    /// The provider's word for it (`SUCCESS`, `PENDING`, `FAILED`, `NOT_STARTED`, `NOT_FOUND`).
    pub status: String,
}

/// Sends text messages; returns the provider's message id.
pub trait SmsSender: Send + Sync {
    fn send_sms(&self, sms: &OutgoingSms) -> impl Future<Output = PortResult<String>> + Send;
}

/// Push notifications and the device registry behind them.
pub trait PushSender: Send + Sync {
    /// Sends a push notification; [`Gone`](super::PortError::Gone) when the device's endpoint is
    /// disabled.
    fn send_push(&self, push: &OutgoingPush) -> impl Future<Output = PortResult<String>> + Send;
    /// Registers a device token with a push service; returns the endpoint.
    fn register_device(
        &self,
        platform: PushPlatform,
        device_token: &str,
    ) -> impl Future<Output = PortResult<String>> + Send;
    /// Deletes a device's endpoint (a missing one counts as success).
    fn delete_device(&self, endpoint: &str) -> impl Future<Output = PortResult<()>> + Send;
}

/// Every channel.
pub trait Messenger: EmailSender + SmsSender + PushSender {}

impl<T: EmailSender + SmsSender + PushSender> Messenger for T {}
