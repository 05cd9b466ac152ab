//! Messages: one claim per checkout and step, the channel it went on, and the shopper's replies.

use super::{Channel, ConsentEvidence};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a claimed message stands. Every state but [`DeliveryState::Released`] holds its step:
/// the step is never claimed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Claimed; the provider has not accepted it yet (or the check stopped before it knew).
    #[default]
    Pending,
    /// The provider accepted it.
    Sent,
    /// It did not go out, for a reason that may pass (throttling, an outage, our own storage or
    /// discount errors): the step is free again from `retry_at`.
    Released,
    /// It will not go out: the provider refused it, or every attempt failed definitely.
    Failed,
    /// The request left and no answer came: it may have gone out, so it is never sent again.
    Uncertain,
}

impl DeliveryState {
    /// Whether a message in this state keeps its step from being claimed again.
    pub fn holds_step(self) -> bool {
        self != Self::Released
    }

    /// The name stored on the item and shown in stats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Released => "released",
            Self::Failed => "failed",
            Self::Uncertain => "uncertain",
        }
    }
}

/// One recovery message, claimed before it is sent (the `CHK#…/MSG#{step}` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub step: u32,
    pub channel: Channel,
    pub claimed_at: DateTime<Utc>,
    /// What became of it so far.
    #[serde(default)]
    pub state: DeliveryState,
    /// Which attempt at this step this claim is (1 for the first).
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// The id of the check that claimed it: a claim that finds its own id already written knows
    /// that its earlier, unanswered write committed.
    #[serde(default)]
    pub owner: String,
    /// For a released message: when the step may be tried again.
    #[serde(default)]
    pub retry_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub provider_id: Option<String>,
    pub failure: Option<String>,
    pub clicked_at: Option<DateTime<Utc>>,
    /// The A/B variant sent.
    #[serde(default)]
    pub variant: Option<String>,
    /// The discount granted with this message, in percent.
    #[serde(default)]
    pub incentive_percent: Option<u8>,
    /// The single-use code that carries the discount.
    #[serde(default)]
    pub discount_code: Option<String>,
    /// For an SMS: the consent it was sent under (where, when, what the shopper agreed to).
    #[serde(default)]
    pub sms_consent: Option<ConsentEvidence>,
}

impl MessageRecord {
    /// A message just claimed for `step` on `channel` at `at`: pending, first attempt, nothing
    /// else known.
    pub fn claimed(step: u32, channel: Channel, at: DateTime<Utc>) -> Self {
        Self {
            step,
            channel,
            claimed_at: at,
            state: DeliveryState::Pending,
            attempt: first_attempt(),
            owner: String::new(),
            retry_at: None,
            sent_at: None,
            provider_id: None,
            failure: None,
            clicked_at: None,
            variant: None,
            incentive_percent: None,
            discount_code: None,
            sms_consent: None,
        }
    }
}

fn first_attempt() -> u32 {
    1
}

/// One shop's text conversation with a shopper's number from an origination identity: the cart
/// it is about and when the shop last texted. A shared number may have one per shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsThread {
    pub shop: super::ShopDomain,
    pub checkout: super::CheckoutToken,
    pub texted_at: DateTime<Utc>,
}

/// A shopper's SMS reply that was not a keyword, kept with its cart for the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundReply {
    /// The provider's id of the inbound message.
    pub id: String,
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub body: String,
}
