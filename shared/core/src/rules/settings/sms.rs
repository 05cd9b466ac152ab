//! A shop's SMS settings: origination identity, monthly budget, HELP answer.

use serde::{Deserialize, Serialize};

/// How a shop sends SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSettings {
    /// The origination identity SMS go out from (a phone number in E.164, a sender id, or a pool or
    /// phone-number ARN); the account's default when absent.
    pub origination_identity: Option<String>,
    /// At most this many SMS per calendar month (UTC); once reached, steps fall back to email.
    pub monthly_budget: u32,
    /// The program name in HELP answers; the shop's name when absent.
    pub program_name: Option<String>,
    /// How a shopper reaches a person, given in HELP answers (an email address or a phone number).
    pub support_contact: Option<String>,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self { origination_identity: None, monthly_budget: 500, program_name: None, support_contact: None }
    }
}
