//! How to reach a shopper, and what a contact asked for at a shop: suppressions, consent, recent
//! sends, push devices.

use super::{Channel, ContactKey, Email, PhoneE164, ShopDomain, WrittenPhone};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How to reach a shopper, as far as the checkout tells.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    pub email: Option<Email>,
    /// The number as the checkout wrote it; [`Contact::phone_e164`] is the valid number, if any.
    pub phone: Option<WrittenPhone>,
    pub first_name: Option<String>,
    pub accepts_email_marketing: bool,
    pub accepts_sms_marketing: bool,
}

impl Contact {
    /// A stable, non-reversible key for this contact within a shop (used in keys and logs instead
    /// of the address itself). `None` when there is no email.
    pub fn email_key(&self, shop: &ShopDomain) -> Option<ContactKey> {
        self.email.as_deref().map(|email| ContactKey::for_email(shop, email))
    }
    /// The key of this contact's phone number within a shop, when there is one.
    pub fn phone_key(&self, shop: &ShopDomain) -> Option<ContactKey> {
        self.phone_e164().map(|phone| ContactKey::for_phone(shop, phone))
    }
    /// The shopper's valid phone number, when the checkout wrote one (validated on first use).
    pub fn phone_e164(&self) -> Option<&PhoneE164> {
        self.phone.as_ref().and_then(WrittenPhone::e164)
    }
}

/// What a contact has asked for at a shop, and what it was sent (the `CONTACT#…/STATE` item).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactState {
    pub email_suppressed: Option<Suppression>,
    #[serde(default)]
    pub sms_suppressed: Option<Suppression>,
    /// When recent messages went to this contact, on any channel, newest last (for the cap).
    #[serde(default)]
    pub recent_sends: Vec<DateTime<Utc>>,
    /// When this contact was last offered an incentive.
    #[serde(default)]
    pub last_incentive_at: Option<DateTime<Utc>>,
    /// SMS marketing consent given outside a checkout (`customers/update`), with its evidence.
    #[serde(default)]
    pub sms_consent: Option<ConsentEvidence>,
    /// Push was switched off ("stop all messages").
    #[serde(default)]
    pub push_suppressed: Option<Suppression>,
    /// Devices registered for push by the merchant's app.
    #[serde(default)]
    pub push_endpoints: Vec<PushEndpoint>,
    /// When the platform's marketing consent for this contact last changed (as applied).
    #[serde(default)]
    pub consent_updated_at: Option<DateTime<Utc>>,
}

/// A device registered for push: the SNS platform endpoint that reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushEndpoint {
    pub arn: String,
    pub platform: PushPlatform,
    pub registered_at: DateTime<Utc>,
}

/// The push services a device can be registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushPlatform {
    /// Apple Push Notification service.
    Apns,
    /// Firebase Cloud Messaging (SNS calls it GCM).
    Fcm,
}

impl ContactState {
    /// How many sends are kept for the frequency cap.
    pub const RECENT_SENDS_KEPT: usize = 20;

    /// Whether a channel is suppressed for this contact.
    pub fn is_suppressed(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email_suppressed.is_some(),
            Channel::Sms => self.sms_suppressed.is_some(),
            Channel::Push => self.push_suppressed.is_some(),
        }
    }

    /// Applies the platform's statement of marketing consent for `channel` to this contact (the
    /// email's state for email, the number's for SMS): a withdrawal suppresses the channel at
    /// once, a new subscription lifts only a suppression that a withdrawal made, and a statement
    /// older than the last one applied changes nothing. `evidence` is the SMS consent to keep.
    /// Returns whether anything changed.
    pub fn apply_marketing_consent(
        &mut self,
        channel: Channel,
        consent: &MarketingConsent,
        evidence: Option<ConsentEvidence>,
        now: DateTime<Utc>,
    ) -> bool {
        if let (Some(new), Some(applied)) = (consent.updated_at, self.consent_updated_at)
            && new <= applied
        {
            return false;
        }
        let mut changed = false;
        if consent.updated_at.is_some() && self.consent_updated_at != consent.updated_at {
            self.consent_updated_at = consent.updated_at;
            changed = true;
        }
        if channel == Channel::Sms && self.sms_consent != evidence {
            self.sms_consent = evidence;
            changed = true;
        }
        let slot = match channel {
            Channel::Email => &mut self.email_suppressed,
            Channel::Sms => &mut self.sms_suppressed,
            Channel::Push => &mut self.push_suppressed,
        };
        if consent.withdrawn && slot.is_none() {
            *slot = Some(Suppression {
                reason: SuppressionReason::ConsentWithdrawn,
                at: consent.updated_at.unwrap_or(now),
            });
            changed = true;
        } else if consent.subscribed && slot.as_ref().is_some_and(|s| s.reason == SuppressionReason::ConsentWithdrawn) {
            *slot = None;
            changed = true;
        }
        changed
    }

    /// Suppresses a channel (keeping the first reason); `false` when it was suppressed already.
    pub fn suppress(&mut self, channel: Channel, suppression: &Suppression) -> bool {
        let slot = match channel {
            Channel::Email => &mut self.email_suppressed,
            Channel::Sms => &mut self.sms_suppressed,
            Channel::Push => &mut self.push_suppressed,
        };
        let fresh = slot.is_none();
        if fresh {
            *slot = Some(suppression.clone());
        }
        fresh
    }

    /// The state of a checkout's contact: this (the email's state) with what is kept under the
    /// phone number (SMS suppression and consent) laid over it.
    pub fn with_phone_state(mut self, phone: ContactState) -> Self {
        self.sms_suppressed = self.sms_suppressed.or(phone.sms_suppressed);
        self.sms_consent = self.sms_consent.or(phone.sms_consent);
        self
    }

    /// Records a send (keeping the last [`Self::RECENT_SENDS_KEPT`]).
    pub fn record_send(&mut self, at: DateTime<Utc>, with_incentive: bool) {
        self.recent_sends.push(at);
        let excess = self.recent_sends.len().saturating_sub(Self::RECENT_SENDS_KEPT);
        self.recent_sends.drain(..excess);
        if with_incentive {
            self.last_incentive_at = Some(at);
        }
    }
}

/// Why and when a contact stopped receiving a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub reason: SuppressionReason,
    pub at: DateTime<Utc>,
}

/// The reasons a contact is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    Unsubscribed,
    Bounced,
    Complained,
    /// An SMS reply such as STOP.
    StopReply,
    /// The shopper withdrew marketing consent on the platform (e.g. `customers/update`).
    ConsentWithdrawn,
}

/// Marketing consent for one channel, as the platform now states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketingConsent {
    /// The platform says `subscribed`.
    pub subscribed: bool,
    /// The platform says `unsubscribed`: consent was withdrawn (not merely never given).
    pub withdrawn: bool,
    /// When the platform's consent last changed; an older statement never undoes a newer one.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A contact left on the storefront for a cart, with the evidence of the consent given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    pub email: Option<Email>,
    pub phone: Option<PhoneE164>,
    pub consent: ConsentEvidence,
}

/// What a shopper agreed to, where and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvidence {
    /// Where the consent was given, e.g. `storefront_exit_intent`.
    pub source: String,
    pub at: DateTime<Utc>,
    /// The text shown next to the checkbox.
    pub text: String,
    /// The storefront page it was given on.
    pub page: Option<String>,
}
