//! One step of the recovery sequence: when it goes, on which channels, with which templates, for
//! whom (conditions), in which A/B variants and with which incentive.

use super::values::{CountryCode, Delay, EmailTemplate, PushTemplate, SmsTemplate};
use crate::model::{Channel, CheckoutStage, Device};
use crate::render::Language;
use crate::render::copy::MessageCopy;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One step of the recovery sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSettings {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Time since the shopper's last activity, e.g. `"30m"`, `"1h"`, `"3days"`.
    pub delay: Delay,
    /// Channels in order of preference; the first one permitted is used.
    #[serde(default = "email_only")]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub templates: Templates,
    /// The merchant's own words for this step, per channel and language, in place of the
    /// templates' (each field left out keeps the template's).
    #[serde(default, skip_serializing_if = "StepCopy::is_empty")]
    pub copy: StepCopy,
    #[serde(default)]
    pub conditions: Conditions,
    /// A/B variants; empty means one implicit variant `"control"`.
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// A discount offered with this step, subject to the incentive policy.
    #[serde(default)]
    pub incentive: Option<IncentiveOffer>,
}

/// The template of a step on each channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    #[serde(default = "default_email_template")]
    pub email: EmailTemplate,
    #[serde(default = "default_sms_template")]
    pub sms: SmsTemplate,
    #[serde(default = "default_push_template")]
    pub push: PushTemplate,
}

impl Default for Templates {
    fn default() -> Self {
        Self { email: default_email_template(), sms: default_sms_template(), push: default_push_template() }
    }
}

impl Templates {
    /// The template for a channel.
    pub fn for_channel(&self, channel: Channel) -> &str {
        match channel {
            Channel::Email => self.email.as_str(),
            Channel::Sms => self.sms.as_str(),
            Channel::Push => self.push.as_str(),
        }
    }
}

/// A step's own copy: per channel, per language, the fields the merchant rewrote.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepCopy {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub email: BTreeMap<Language, MessageCopy>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sms: BTreeMap<Language, MessageCopy>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub push: BTreeMap<Language, MessageCopy>,
}

impl StepCopy {
    pub fn is_empty(&self) -> bool {
        self.email.is_empty() && self.sms.is_empty() && self.push.is_empty()
    }

    /// The copy of `channel` in `language`, if the merchant wrote any.
    pub fn get(&self, channel: Channel, language: Language) -> Option<&MessageCopy> {
        match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
            Channel::Push => &self.push,
        }
        .get(&language)
    }

    /// Every channel's copy, for checks across them.
    pub fn channels(&self) -> [(Channel, &BTreeMap<Language, MessageCopy>); 3] {
        [(Channel::Email, &self.email), (Channel::Sms, &self.sms), (Channel::Push, &self.push)]
    }
}

/// Who a step is for. Every condition that is set must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Cart total in minor units (cents), inclusive.
    #[serde(default)]
    pub cart_value: Option<ValueRange>,
    /// ISO 3166 alpha-2 codes of the shipping country.
    #[serde(default)]
    pub countries_in: Vec<CountryCode>,
    #[serde(default)]
    pub countries_not_in: Vec<CountryCode>,
    #[serde(default)]
    pub customer: Option<CustomerKind>,
    /// The checkout got at least this far.
    #[serde(default)]
    pub stage_reached: Option<CheckoutStage>,
    /// At least one of these product ids is in the cart.
    #[serde(default)]
    pub contains_products: Vec<u64>,
    #[serde(default)]
    pub device: Option<Device>,
    #[serde(default)]
    pub discount_code_used: Option<bool>,
}

/// An inclusive range of minor units.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueRange {
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
}

/// New (no previous order) or returning customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    New,
    Returning,
}

/// One arm of an A/B test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    pub weight: u32,
    /// Replaces the step's email template for this variant.
    #[serde(default)]
    pub email_template: Option<EmailTemplate>,
}

/// A percentage discount offered with a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncentiveOffer {
    pub percent: u8,
}

fn yes() -> bool {
    true
}

fn email_only() -> Vec<Channel> {
    vec![Channel::Email]
}

fn default_email_template() -> EmailTemplate {
    EmailTemplate::known("reminder")
}

fn default_sms_template() -> SmsTemplate {
    SmsTemplate::known("sms_reminder")
}

fn default_push_template() -> PushTemplate {
    PushTemplate::known("push_reminder")
}

impl StepSettings {
    /// An enabled email step with default templates, no conditions and no incentive. Panics when
    /// `delay` or `email_template` is not valid (for settings written in code).
    pub fn email(name: &str, delay: &str, email_template: &str) -> Self {
        Self {
            name: name.to_owned(),
            description: String::new(),
            enabled: true,
            delay: Delay::known(delay),
            channels: email_only(),
            templates: Templates { email: EmailTemplate::known(email_template), ..Templates::default() },
            copy: StepCopy::default(),
            conditions: Conditions::default(),
            variants: Vec::new(),
            incentive: None,
        }
    }

    /// The step's delay.
    pub fn delay(&self) -> Duration {
        self.delay.duration()
    }
}
