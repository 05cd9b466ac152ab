//! A shop's recovery settings: the steps of the sequence and the policies around them, with
//! defaults (email at 1 h, 24 h and 72 h after the last activity) and validation that lists every
//! offending field by its path, e.g. `steps[2].delay: must be later than steps[1].delay`.

use crate::model::Channel;
use chrono::{Duration, NaiveTime};
use serde::{Deserialize, Serialize};

/// A duration as the merchant wrote it (`"30m"`, `"1h"`, `"3days"`; humantime syntax), parsed once
/// when the settings are read. Any string deserialises; [`RecoverySettings::validate`] reports the
/// ones that do not parse, together with every other problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delay {
    text: String,
    parsed: Result<Duration, String>,
}

impl Delay {
    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The duration, or why the text is not one.
    pub fn parsed(&self) -> Result<Duration, &str> {
        self.parsed.as_ref().copied().map_err(String::as_str)
    }
    /// The duration, or `fallback` when invalid (validated settings are never invalid).
    pub fn or(&self, fallback: Duration) -> Duration {
        self.parsed.as_ref().copied().unwrap_or(fallback)
    }
}

impl From<String> for Delay {
    fn from(text: String) -> Self {
        let parsed = parse_delay(&text);
        Self { text, parsed }
    }
}

impl From<&str> for Delay {
    fn from(text: &str) -> Self {
        Self::from(text.to_owned())
    }
}

impl Serialize for Delay {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Delay {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// The settings of one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySettings {
    /// The shop's IANA time zone, used when the shopper's cannot be told.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    pub steps: Vec<StepSettings>,
    #[serde(default)]
    pub policies: Policies,
    /// The storefront widget: cart rescuer, exit-intent help, idle help.
    #[serde(default)]
    pub storefront: StorefrontSettings,
    /// Text messages: origination identity, monthly budget, HELP answer.
    #[serde(default)]
    pub sms: SmsSettings,
}

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

/// What the storefront script does and says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorefrontSettings {
    /// Ask for confirmation when a shopper with a non-empty cart leaves the site.
    pub cart_rescuer: bool,
    /// Offer help when the shopper is about to leave.
    pub exit_intent: bool,
    /// Offer help on the cart page after a while without input.
    pub idle_help: bool,
    pub idle_seconds: u32,
    /// Offer an email or phone field (always with an explicit consent checkbox).
    pub capture: bool,
    pub answers: StorefrontAnswers,
    /// Shown next to the consent checkbox, and stored as the evidence of what was agreed to.
    pub consent_text: String,
}

/// The merchant's answers to the usual doubts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorefrontAnswers {
    pub shipping: String,
    pub returns: String,
    pub payment: String,
    pub support: String,
    pub size_guide_url: Option<String>,
}

impl Default for StorefrontAnswers {
    fn default() -> Self {
        Self {
            shipping: "Free standard shipping on orders over $50; delivery in 3 to 5 business days.".into(),
            returns: "Free returns within 30 days.".into(),
            payment: "We accept all major cards, Shop Pay, PayPal, Apple Pay and Google Pay.".into(),
            support: "Questions? Write to us and we answer within a day.".into(),
            size_guide_url: None,
        }
    }
}

impl Default for StorefrontSettings {
    fn default() -> Self {
        Self {
            cart_rescuer: true,
            exit_intent: true,
            idle_help: true,
            idle_seconds: 45,
            capture: true,
            answers: StorefrontAnswers::default(),
            consent_text: "Yes, email or text me a reminder about my cart. Consent is not a condition of purchase; unsubscribe any time.".into(),
        }
    }
}

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
    pub email: String,
    #[serde(default = "default_sms_template")]
    pub sms: String,
    #[serde(default = "default_push_template")]
    pub push: String,
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
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
            Channel::Push => &self.push,
        }
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
    pub countries_in: Vec<String>,
    #[serde(default)]
    pub countries_not_in: Vec<String>,
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

pub use crate::model::{CheckoutStage, Device};

/// One arm of an A/B test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    pub weight: u32,
    /// Replaces the step's email template for this variant.
    #[serde(default)]
    pub email_template: Option<String>,
}

/// A percentage discount offered with a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncentiveOffer {
    pub percent: u8,
}

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
    pub start: String,
    pub end: String,
}

impl QuietHours {
    /// Start and end as times of day. Validated settings always parse.
    pub fn times(&self) -> (NaiveTime, NaiveTime) {
        (
            parse_time_of_day(&self.start).unwrap_or(NaiveTime::MIN),
            parse_time_of_day(&self.end).unwrap_or(NaiveTime::MIN),
        )
    }

    /// Adds a problem for each bad field, under `path`.
    fn validate(&self, path: &str, problems: &mut Problems) {
        let start = parse_time_of_day(&self.start);
        let end = parse_time_of_day(&self.end);
        if start.is_none() {
            problems.add(format!("{path}.start"), "must be a time like \"21:00\"");
        }
        if end.is_none() {
            problems.add(format!("{path}.end"), "must be a time like \"08:00\"");
        }
        if start.is_some() && start == end {
            problems.add(format!("{path}.end"), "must differ from start");
        }
    }

    /// Whether a local time of day is quiet.
    pub fn contains(&self, time: NaiveTime) -> bool {
        let (start, end) = self.times();
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

fn yes() -> bool {
    true
}
fn email_only() -> Vec<Channel> {
    vec![Channel::Email]
}
fn default_timezone() -> String {
    "UTC".to_owned()
}
fn default_email_template() -> String {
    "reminder".to_owned()
}
fn default_sms_template() -> String {
    "sms_reminder".to_owned()
}
fn default_push_template() -> String {
    "push_reminder".to_owned()
}
fn default_text_quiet_hours() -> QuietHours {
    QuietHours { start: "21:00".into(), end: "08:00".into() }
}
fn default_cutoff() -> Delay {
    "15m".into()
}
fn default_cap() -> Option<FrequencyCap> {
    Some(FrequencyCap { max_messages: 3, per: "1day".into() })
}
fn default_attribution() -> Delay {
    "5days".into()
}
fn default_max_age() -> Delay {
    "14days".into()
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
    "7days".into()
}

impl StepSettings {
    /// An enabled email step with default templates, no conditions and no incentive.
    pub fn email(name: &str, delay: &str, email_template: &str) -> Self {
        Self {
            name: name.to_owned(),
            description: String::new(),
            enabled: true,
            delay: delay.into(),
            channels: email_only(),
            templates: Templates { email: email_template.to_owned(), ..Templates::default() },
            conditions: Conditions::default(),
            variants: Vec::new(),
            incentive: None,
        }
    }

    /// The step's delay. Validated settings always parse.
    pub fn delay(&self) -> Duration {
        self.delay.or(Duration::hours(1))
    }
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            timezone: default_timezone(),
            steps: vec![
                StepSettings::email("reminder", "1h", "reminder"),
                StepSettings::email("follow-up", "24h", "follow_up"),
                StepSettings::email("last-chance", "72h", "last_chance"),
            ],
            policies: Policies::default(),
            storefront: StorefrontSettings::default(),
            sms: SmsSettings::default(),
        }
    }
}

/// One reason settings were refused, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{path}: {reason}")]
pub struct SettingsError {
    pub path: String,
    pub reason: String,
}

/// Collects problems while validating.
#[derive(Default)]
struct Problems(Vec<SettingsError>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(SettingsError { path: path.into(), reason: reason.into() });
    }

    fn duration(&mut self, path: impl Into<String>, value: &Delay) -> Option<Duration> {
        value.parsed().map_err(|reason| self.add(path, reason)).ok()
    }
}

impl RecoverySettings {
    /// Parses settings from JSON and validates them; every problem is listed with its path.
    pub fn from_json(json: &str) -> Result<Self, Vec<SettingsError>> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let settings: Self = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = e.path().to_string();
            vec![SettingsError {
                path: if path == "." { "$".into() } else { path },
                reason: e.into_inner().to_string(),
            }]
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every field; returns all problems, not just the first.
    pub fn validate(&self) -> Result<(), Vec<SettingsError>> {
        let mut problems = Problems::default();
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            problems.add("timezone", "is not an IANA time zone such as \"America/New_York\"");
        }
        if self.steps.is_empty() {
            problems.add("steps", "must have at least one step");
        }
        if self.steps.len() > 10 {
            problems.add("steps", "must have at most 10 steps");
        }
        let policies = &self.policies;
        let cutoff = problems.duration("policies.abandonment_cutoff", &policies.abandonment_cutoff);
        let mut previous: Option<(usize, Duration)> = None;
        for (index, step) in self.steps.iter().enumerate() {
            let path = |field: &str| format!("steps[{index}].{field}");
            if step.name.trim().is_empty() {
                problems.add(path("name"), "must not be empty");
            } else if self.steps[..index].iter().any(|s| s.name == step.name) {
                problems.add(path("name"), "must be unique");
            }
            if let Some(delay) = problems.duration(path("delay"), &step.delay)
                && step.enabled
            {
                if let Some((before, previous_delay)) = previous {
                    if delay <= previous_delay {
                        problems.add(path("delay"), format!("must be later than steps[{before}].delay"));
                    }
                } else if cutoff.is_some_and(|cutoff| delay < cutoff) {
                    problems.add(path("delay"), "must not be earlier than policies.abandonment_cutoff");
                }
                previous = Some((index, delay));
            }
            validate_step(step, &path, policies, &mut problems);
        }
        if let Some(quiet) = &policies.quiet_hours {
            quiet.validate("policies.quiet_hours", &mut problems);
        }
        policies.text_quiet_hours.validate("policies.text_quiet_hours", &mut problems);
        if let Some(identity) = &self.sms.origination_identity
            && identity.trim().is_empty()
        {
            problems.add("sms.origination_identity", "must not be blank (leave it out for the account default)");
        }
        if let Some(cap) = &policies.frequency_cap {
            if cap.max_messages == 0 {
                problems.add("policies.frequency_cap.max_messages", "must be at least 1");
            }
            problems.duration("policies.frequency_cap.per", &cap.per);
        }
        problems.duration("policies.max_sequence_age", &policies.max_sequence_age);
        problems.duration("policies.attribution_window", &policies.attribution_window);
        if policies.holdout_percent > 50 {
            problems.add("policies.holdout_percent", "must be between 0 and 50");
        }
        let incentives = &policies.incentives;
        if incentives.max_percent > 100 {
            problems.add("policies.incentives.max_percent", "must be between 0 and 100");
        }
        if incentives.min_cart_value < 0 {
            problems.add("policies.incentives.min_cart_value", "must not be negative");
        }
        problems.duration("policies.incentives.code_valid_for", &incentives.code_valid_for);
        if incentives.not_before_step == 0 {
            problems.add("policies.incentives.not_before_step", "counts from 1");
        }
        let storefront = &self.storefront;
        if !(5..=600).contains(&storefront.idle_seconds) {
            problems.add("storefront.idle_seconds", "must be between 5 and 600");
        }
        if storefront.capture && storefront.consent_text.trim().is_empty() {
            problems.add("storefront.consent_text", "must say what the shopper agrees to when capture is on");
        }
        if let Some(url) = &storefront.answers.size_guide_url
            && !(url.starts_with("https://") || url.starts_with('/'))
        {
            problems.add("storefront.answers.size_guide_url", "must be an https:// URL or a path on the shop");
        }
        if problems.0.is_empty() { Ok(()) } else { Err(problems.0) }
    }

    /// The enabled steps with their index in [`Self::steps`].
    pub fn enabled_steps(&self) -> impl Iterator<Item = (u32, &StepSettings)> {
        self.steps.iter().enumerate().filter(|(_, s)| s.enabled).map(|(i, s)| (i as u32, s))
    }

    /// The shop's time zone (UTC if invalid, which validation prevents).
    pub fn shop_timezone(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The attribution window.
    pub fn attribution_window(&self) -> Duration {
        self.policies.attribution_window.or(Duration::days(5))
    }

    /// The maximum age of a checkout that may still get messages.
    pub fn max_sequence_age(&self) -> Duration {
        self.policies.max_sequence_age.or(Duration::days(14))
    }

    /// How long a checkout must be idle before it counts as abandoned.
    pub fn abandonment_cutoff(&self) -> Duration {
        self.policies.abandonment_cutoff.or(Duration::minutes(15))
    }
}

fn validate_step(step: &StepSettings, path: &dyn Fn(&str) -> String, policies: &Policies, problems: &mut Problems) {
    if step.channels.is_empty() {
        problems.add(path("channels"), "must name at least one channel");
    }
    for (i, channel) in step.channels.iter().enumerate() {
        if step.channels[..i].contains(channel) {
            problems.add(path(&format!("channels[{i}]")), "is listed twice");
        }
    }
    for channel in [Channel::Email, Channel::Sms, Channel::Push] {
        let template = step.templates.for_channel(channel);
        if !crate::render::is_known_template(channel, template) {
            problems.add(
                path(&format!("templates.{}", channel.as_str())),
                format!("{template:?} is not a known {} template", channel.as_str()),
            );
        }
    }
    let conditions = &step.conditions;
    if let Some(range) = &conditions.cart_value {
        if range.min.is_some_and(|m| m < 0) || range.max.is_some_and(|m| m < 0) {
            problems.add(path("conditions.cart_value"), "must not be negative");
        }
        if let (Some(min), Some(max)) = (range.min, range.max)
            && min > max
        {
            problems.add(path("conditions.cart_value.max"), "must not be below min");
        }
    }
    for (field, codes) in
        [("countries_in", &conditions.countries_in), ("countries_not_in", &conditions.countries_not_in)]
    {
        for (i, code) in codes.iter().enumerate() {
            if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
                problems
                    .add(path(&format!("conditions.{field}[{i}]")), "must be an ISO 3166 alpha-2 code such as \"US\"");
            }
        }
    }
    for (i, variant) in step.variants.iter().enumerate() {
        let variant_path = |field: &str| path(&format!("variants[{i}].{field}"));
        if variant.name.trim().is_empty() {
            problems.add(variant_path("name"), "must not be empty");
        } else if step.variants[..i].iter().any(|v| v.name == variant.name) {
            problems.add(variant_path("name"), "must be unique within the step");
        }
        if variant.weight == 0 {
            problems.add(variant_path("weight"), "must be at least 1");
        }
        if let Some(template) = &variant.email_template
            && !crate::render::is_known_template(Channel::Email, template)
        {
            problems.add(variant_path("email_template"), format!("{template:?} is not a known email template"));
        }
    }
    if let Some(offer) = step.incentive {
        if offer.percent == 0 || offer.percent > 100 {
            problems.add(path("incentive.percent"), "must be between 1 and 100");
        } else if offer.percent > policies.incentives.max_percent {
            problems.add(path("incentive.percent"), "must not exceed policies.incentives.max_percent");
        }
    }
}

/// Parses `HH:MM` (24-hour clock).
pub fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

/// Parses a positive duration such as `"90s"`, `"30m"`, `"1h"`, `"3days"` (humantime syntax).
pub fn parse_delay(text: &str) -> Result<Duration, String> {
    let std = humantime::parse_duration(text).map_err(|e| format!("{e} (use e.g. \"30m\", \"1h\", \"3days\")"))?;
    if std.is_zero() {
        return Err("must be longer than zero".into());
    }
    if std > std::time::Duration::from_secs(365 * 24 * 3600) {
        return Err("must be at most a year".into());
    }
    Duration::from_std(std).map_err(|e| e.to_string())
}
