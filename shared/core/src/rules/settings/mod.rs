//! A shop's recovery settings, parsed rather than checked: every value is built by its parser
//! ([`values`]: delays, times of day, the time zone, country codes, template names), so code that
//! reads settings never meets an invalid one. [`RecoverySettings::from_json`] still reports every
//! problem with its field path, e.g. `steps[2].delay: must be later than steps[1].delay`: values
//! that do not parse, then the rules that span fields ([`RecoverySettings::validate`]).
//!
//! Defaults: email at 1 h, 24 h and 72 h after the last activity.

mod policies;
mod sms;
mod steps;
mod storefront;
mod values;

pub use policies::{DiscountCombination, EmailConsent, FrequencyCap, IncentivePolicy, Policies, QuietHours};
pub use sms::SmsSettings;
pub use steps::{Conditions, CustomerKind, IncentiveOffer, StepCopy, StepSettings, Templates, ValueRange, Variant};
pub use storefront::{StorefrontAnswers, StorefrontSettings};
pub use values::{
    CopyText, CountryCode, Delay, EmailTemplate, PushTemplate, SettingValue, ShopZone, SmsTemplate, TemplateName,
    TimeOfDay,
};

use crate::render::copy::CopyField;
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// The settings of one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySettings {
    /// The shop's IANA time zone, used when the shopper's cannot be told.
    #[serde(default = "default_timezone")]
    pub timezone: ShopZone,
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

fn default_timezone() -> ShopZone {
    ShopZone::UTC
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

/// Collects problems.
#[derive(Default)]
struct Problems(Vec<SettingsError>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(SettingsError { path: path.into(), reason: reason.into() });
    }
}

/// At most this many values that do not parse are reported (then the rest is not read).
const MAX_PARSE_PROBLEMS: usize = 50;

impl RecoverySettings {
    /// Parses settings from JSON. Every problem is listed with its path: each value that does not
    /// parse (the value is set aside and reading goes on), then every rule across fields.
    pub fn from_json(json: &str) -> Result<Self, Vec<SettingsError>> {
        let mut document: serde_json::Value =
            serde_json::from_str(json).map_err(|e| vec![SettingsError { path: "$".into(), reason: e.to_string() }])?;
        let mut problems = Vec::new();
        let settings = loop {
            let read = values::reading(!problems.is_empty(), || serde_path_to_error::deserialize::<_, Self>(&document));
            match read {
                Ok(settings) => break settings,
                Err(error) => {
                    let path = error.path().to_string();
                    let path = if path == "." { "$".to_owned() } else { path };
                    let seen = problems.iter().any(|p: &SettingsError| p.path == path);
                    let set_aside =
                        !seen && problems.len() < MAX_PARSE_PROBLEMS && set_aside(&mut document, error.path());
                    problems.push(SettingsError { path, reason: error.into_inner().to_string() });
                    if !set_aside {
                        return Err(problems);
                    }
                }
            }
        };
        if let Err(rules) = settings.validate() {
            // A rule about a value that did not parse would only repeat that problem.
            let unparsed: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
            problems.extend(rules.into_iter().filter(|rule| !unparsed.contains(&rule.path)));
        }
        if problems.is_empty() { Ok(settings) } else { Err(problems) }
    }

    /// Checks the rules that span fields (every value parsed already); returns all problems.
    pub fn validate(&self) -> Result<(), Vec<SettingsError>> {
        let mut problems = Problems::default();
        if self.steps.is_empty() {
            problems.add("steps", "must have at least one step");
        }
        if self.steps.len() > 10 {
            problems.add("steps", "must have at most 10 steps");
        }
        let policies = &self.policies;
        let mut previous: Option<(usize, Duration)> = None;
        for (index, step) in self.steps.iter().enumerate() {
            let path = |field: &str| format!("steps[{index}].{field}");
            if step.name.trim().is_empty() {
                problems.add(path("name"), "must not be empty");
            } else if self.steps[..index].iter().any(|s| s.name == step.name) {
                problems.add(path("name"), "must be unique");
            }
            if step.enabled {
                let delay = step.delay();
                if let Some((before, previous_delay)) = previous {
                    if delay <= previous_delay {
                        problems.add(path("delay"), format!("must be later than steps[{before}].delay"));
                    }
                } else if delay < self.abandonment_cutoff() {
                    problems.add(path("delay"), "must not be earlier than policies.abandonment_cutoff");
                }
                previous = Some((index, delay));
            }
            check_step(step, &path, policies, &mut problems);
        }
        for (path, quiet) in policies
            .quiet_hours
            .iter()
            .map(|q| ("policies.quiet_hours", q))
            .chain([("policies.text_quiet_hours", &policies.text_quiet_hours)])
        {
            if quiet.start == quiet.end {
                problems.add(format!("{path}.end"), "must differ from start");
            }
        }
        if let Some(identity) = &self.sms.origination_identity
            && identity.trim().is_empty()
        {
            problems.add("sms.origination_identity", "must not be blank (leave it out for the account default)");
        }
        if let Some(cap) = &policies.frequency_cap
            && cap.max_messages == 0
        {
            problems.add("policies.frequency_cap.max_messages", "must be at least 1");
        }
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

    /// The shop's time zone.
    pub fn shop_timezone(&self) -> chrono_tz::Tz {
        self.timezone.tz()
    }

    /// The attribution window.
    pub fn attribution_window(&self) -> Duration {
        self.policies.attribution_window.duration()
    }

    /// The maximum age of a checkout that may still get messages.
    pub fn max_sequence_age(&self) -> Duration {
        self.policies.max_sequence_age.duration()
    }

    /// How long a checkout must be idle before it counts as abandoned.
    pub fn abandonment_cutoff(&self) -> Duration {
        self.policies.abandonment_cutoff.duration()
    }
}

/// Sets aside the value at `path` so that reading can go on and find the next problem: a string
/// becomes the placeholder that only a later reading accepts ([`values::reading`]), anything else is removed
/// (its default applies). `false` when there is nothing to set aside (the problem is the
/// document's shape: an unknown or missing field).
fn set_aside(document: &mut serde_json::Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let Some((last, parents)) = segments.split_last() else { return false };
    let mut parent = &mut *document;
    for segment in parents {
        parent = match (segment, parent) {
            (Segment::Seq { index }, serde_json::Value::Array(items)) => match items.get_mut(*index) {
                Some(item) => item,
                None => return false,
            },
            (Segment::Map { key }, serde_json::Value::Object(map)) => match map.get_mut(key) {
                Some(item) => item,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, parent) {
        (Segment::Map { key }, serde_json::Value::Object(map)) => match map.get_mut(key) {
            Some(value @ serde_json::Value::String(_)) if value != values::UNPARSED => {
                *value = values::UNPARSED.into();
                true
            }
            Some(value) if !value.is_string() => map.remove(key).is_some(),
            _ => false,
        },
        (Segment::Seq { index }, serde_json::Value::Array(items)) => match items.get_mut(*index) {
            Some(value @ serde_json::Value::String(_)) if value != values::UNPARSED => {
                *value = values::UNPARSED.into();
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn check_step(step: &StepSettings, path: &dyn Fn(&str) -> String, policies: &Policies, problems: &mut Problems) {
    if step.channels.is_empty() {
        problems.add(path("channels"), "must name at least one channel");
    }
    for (i, channel) in step.channels.iter().enumerate() {
        if step.channels[..i].contains(channel) {
            problems.add(path(&format!("channels[{i}]")), "is listed twice");
        }
    }
    if let Some(range) = &step.conditions.cart_value {
        if range.min.is_some_and(|m| m < 0) || range.max.is_some_and(|m| m < 0) {
            problems.add(path("conditions.cart_value"), "must not be negative");
        }
        if let (Some(min), Some(max)) = (range.min, range.max)
            && min > max
        {
            problems.add(path("conditions.cart_value.max"), "must not be below min");
        }
    }
    for (channel, languages) in step.copy.channels() {
        for (language, copy) in languages {
            for field in copy.keys().filter(|field| !field.is_of(channel)) {
                problems.add(
                    path(&format!("copy.{}.{language}.{}", channel.as_str(), field.as_str())),
                    format!("is not part of {} copy (it has {})", channel.as_str(), CopyField::names_of(channel)),
                );
            }
        }
    }
    // A/B variants differ by their email template; the step's own email copy would replace the
    // words of both arms, and the test would compare the same email with itself.
    if !step.copy.email.is_empty() && step.variants.iter().any(|variant| variant.email_template.is_some()) {
        problems.add(
            path("copy.email"),
            "cannot be combined with A/B variants that choose email templates (both arms would send these words)",
        );
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
    }
    if let Some(offer) = step.incentive {
        if offer.percent == 0 || offer.percent > 100 {
            problems.add(path("incentive.percent"), "must be between 1 and 100");
        } else if offer.percent > policies.incentives.max_percent {
            problems.add(path("incentive.percent"), "must not exceed policies.incentives.max_percent");
        }
    }
}
