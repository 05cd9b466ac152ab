//! Messages: one claim per checkout and step, the channel it went on, and the shopper's replies.

use super::{Channel, ConsentEvidence};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One recovery message, claimed before it is sent (the `CHK#…/MSG#{step}` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub step: u32,
    pub channel: Channel,
    pub claimed_at: DateTime<Utc>,
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
    /// A message just claimed for `step` on `channel` at `at`: not sent yet, nothing else known.
    pub fn claimed(step: u32, channel: Channel, at: DateTime<Utc>) -> Self {
        Self {
            step,
            channel,
            claimed_at: at,
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

/// A shopper's SMS reply that was not a keyword, kept with its cart for the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundReply {
    /// The provider's id of the inbound message.
    pub id: String,
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub body: String,
}
