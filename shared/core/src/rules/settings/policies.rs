//! The rules around every step: abandonment cut-off, quiet hours, frequency cap, consent, sequence
//! age, holdout, attribution window and the incentive policy.

use super::values::{Delay, TimeOfDay};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// The rules around every step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// A checkout counts as abandoned only after this long without activity.
    #[serde(default = "default_cutoff")]
    pub abandonment_cutoff: Delay,
    /// No message inside these hours of the recipient's local time.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// No SMS or push inside these hours of the recipient's local time (by default 21:00 to 08:00:
    /// texts only between 08:00 and 21:00).
    #[serde(default = "default_text_quiet_hours")]
    pub text_quiet_hours: QuietHours,
    /// At most this many messages to one contact, across channels and checkouts.
    #[serde(default = "default_cap")]
    pub frequency_cap: Option<FrequencyCap>,
    #[serde(default)]
    pub email_consent: EmailConsent,
    #[serde(default = "default_max_age")]
    pub max_sequence_age: Delay,
    /// Share of carts that get no message at all, to measure what recovery really adds.
    #[serde(default)]
    pub holdout_percent: u8,
    #[serde(default = "default_attribution")]
    pub attribution_window: Delay,
    #[serde(default)]
    pub incentives: IncentivePolicy,
}

impl Default for Policies {
    fn default() -> Self {
        Self {
            abandonment_cutoff: default_cutoff(),
            quiet_hours: None,
            text_quiet_hours: default_text_quiet_hours(),
            frequency_cap: default_cap(),
            email_consent: EmailConsent::default(),
            max_sequence_age: default_max_age(),
            holdout_percent: 0,
            attribution_window: default_attribution(),
            incentives: IncentivePolicy::default(),
        }
    }
}

/// Local hours with no messages, e.g. 21:00 to 08:00 (may cross midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl QuietHours {
    /// Quiet hours from `HH:MM` texts; panics if either is not one (for settings written in code).
    pub fn known(start: &str, end: &str) -> Self {
        Self { start: TimeOfDay::known(start), end: TimeOfDay::known(end) }
    }

    /// Whether a local time of day is quiet.
    pub fn contains(&self, time: NaiveTime) -> bool {
        let (start, end) = (self.start.time(), self.end.time());
        if start <= end { time >= start && time < end } else { time >= start || time < end }
    }
}

/// A frequency cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    pub max_messages: u32,
    pub per: Delay,
}

/// Whom email may go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailConsent {
    /// Only shoppers who accepted marketing (the default).
    #[default]
    MarketingOnly,
    /// Any shopper who gave an email (where the law lets cart reminders go without consent).
    AnyContact,
}

/// When a discount may be offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncentivePolicy {
    /// No incentive before this step number (1 = the first step).
    #[serde(default = "default_not_before")]
    pub not_before_step: u32,
    /// Minimum cart total in minor units.
    #[serde(default)]
    pub min_cart_value: i64,
    #[serde(default = "default_max_percent")]
    pub max_percent: u8,
    /// At most one incentive per contact in this many days.
    #[serde(default = "default_once_per")]
    pub once_per_contact_days: u32,
    /// How long a single-use code stays valid after it is sent.
    #[serde(default = "default_code_valid_for")]
    pub code_valid_for: Delay,
    /// Whether the code combines with the shop's other discounts.
    #[serde(default)]
    pub combines_with: DiscountCombination,
}

/// Which other discounts a recovery code combines with (Shopify's `combinesWith`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscountCombination {
    pub order_discounts: bool,
    pub product_discounts: bool,
    pub shipping_discounts: bool,
}

impl Default for IncentivePolicy {
    fn default() -> Self {
        Self {
            not_before_step: default_not_before(),
            min_cart_value: 0,
            max_percent: default_max_percent(),
            once_per_contact_days: default_once_per(),
            code_valid_for: default_code_valid_for(),
            combines_with: DiscountCombination::default(),
        }
    }
}

fn default_text_quiet_hours() -> QuietHours {
    QuietHours::known("21:00", "08:00")
}

fn default_cutoff() -> Delay {
    Delay::known("15m")
}

fn default_cap() -> Option<FrequencyCap> {
    Some(FrequencyCap { max_messages: 3, per: Delay::known("1day") })
}

fn default_attribution() -> Delay {
    Delay::known("5days")
}

fn default_max_age() -> Delay {
    Delay::known("14days")
}

fn default_not_before() -> u32 {
    2
}

fn default_max_percent() -> u8 {
    15
}

fn default_once_per() -> u32 {
    30
}

fn default_code_valid_for() -> Delay {
    Delay::known("7days")
}
