//! Recovery rules: a shop's settings and [`decide`], the pure function that looks at one
//! checkout, what was already sent, what the contact asked for and the time, and says
//! [`Decision::Send`], [`Decision::Wait`] or [`Decision::Stop`] with a named reason.
//!
//! Everything here is deterministic: holdout and A/B assignment are stable hashes of the checkout,
//! so one cart always lands the same way, and the same inputs always give the same decision.

pub mod health;
pub mod lift;
mod settings;
pub mod simulate;
pub mod timeline;
pub mod timezone;

pub use crate::model::{CheckoutStage, Device};
pub use settings::{
    Conditions, CopyText, CountryCode, CustomerKind, Delay, DiscountCombination, EmailConsent, EmailTemplate,
    FrequencyCap, IncentiveOffer, IncentivePolicy, Policies, PushTemplate, QuietHours, RecoverySettings, SettingValue,
    SettingsError, ShopZone, SmsSettings, SmsTemplate, StepCopy, StepSettings, StorefrontAnswers, StorefrontSettings,
    TemplateName, Templates, TimeOfDay, ValueRange, Variant,
};

use crate::model::{Channel, CheckoutRecord, CheckoutSnapshot, CheckoutStatus, ContactState, MessageRecord};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// The channels Reclaim delivers on. A use case passes fewer to [`decide_with`] when one is out
/// for now (email paused for sender health, the SMS budget spent), and steps fall back in order.
pub const DELIVERABLE_CHANNELS: &[Channel] = &[Channel::Email, Channel::Sms, Channel::Push];

/// The variant name when a step has no A/B test.
pub const CONTROL_VARIANT: &str = "control";

/// A discount granted with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Incentive {
    pub percent: u8,
}

/// What to do with a checkout now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Send this step now.
    Send { step: u32, channel: Channel, template: String, variant: String, incentive: Option<Incentive> },
    /// Check again at `until`.
    Wait { until: DateTime<Utc>, step: u32, reason: WaitReason },
    /// The sequence is over for this checkout.
    Stop { reason: StopReason },
}

/// Why a check waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The step's delay since the last activity has not passed yet.
    NotYetDue,
    /// It would be inside the recipient's quiet hours.
    QuietHours,
    /// The contact got as many messages as the cap allows for now.
    FrequencyCap,
    /// The shop's email is paused for sender health and no other channel reaches the contact.
    SenderPaused,
    /// The step's last attempt failed in a way that may pass; the next waits out its backoff.
    RetryBackoff,
    /// The shop reached the operator's daily cap of recovery messages; tomorrow (UTC) it may send.
    DailyCap,
}

/// Why a sequence stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Converted,
    Completed,
    Deleted,
    NoContact,
    EmptyCart,
    Unsubscribed,
    NoConsent,
    Holdout,
    SequenceComplete,
    Expired,
    /// The shop uninstalled the app.
    Uninstalled,
}

impl StopReason {
    /// The name shown in stats and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Converted => "converted",
            Self::Completed => "completed",
            Self::Deleted => "deleted",
            Self::NoContact => "no_contact",
            Self::EmptyCart => "empty_cart",
            Self::Unsubscribed => "unsubscribed",
            Self::NoConsent => "no_consent",
            Self::Holdout => "holdout",
            Self::SequenceComplete => "sequence_complete",
            Self::Expired => "expired",
            Self::Uninstalled => "uninstalled",
        }
    }
}

impl WaitReason {
    /// The name shown in stats and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotYetDue => "not_yet_due",
            Self::QuietHours => "quiet_hours",
            Self::FrequencyCap => "frequency_cap",
            Self::SenderPaused => "sender_paused",
            Self::RetryBackoff => "retry_backoff",
            Self::DailyCap => "daily_cap",
        }
    }
}

/// Whether a step is held by a claim, whatever became of it: every message but a released one.
pub fn already_claimed(history: &[MessageRecord], step: u32) -> bool {
    history.iter().any(|m| m.step == step && m.state.holds_step())
}

/// A stable number in `0..10_000` for a checkout and a purpose (xxh3 of purpose, step, shop and
/// checkout: the same on every machine and in every version of this code).
fn bucket(purpose: &str, step: u32, record: &CheckoutRecord) -> u32 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in [
        purpose.as_bytes(),
        &step.to_le_bytes(),
        record.shop.as_str().as_bytes(),
        record.snapshot.token.as_str().as_bytes(),
    ] {
        hasher.update(part);
        hasher.update(&[0]);
    }
    (hasher.digest() % 10_000) as u32
}

/// Whether a checkout belongs to the holdout group (stable for the checkout).
pub fn in_holdout(record: &CheckoutRecord, settings: &RecoverySettings) -> bool {
    bucket("holdout", 0, record) < u32::from(settings.policies.holdout_percent) * 100
}

/// The A/B variant of a step for a checkout (stable), with its email template.
pub fn variant_of<'a>(record: &CheckoutRecord, step_index: u32, step: &'a StepSettings) -> (&'a str, &'a str) {
    let total: u32 = step.variants.iter().map(|v| v.weight).sum();
    if total == 0 {
        return (CONTROL_VARIANT, step.templates.email.as_str());
    }
    let mut point = bucket("variant", step_index, record) % total;
    for variant in &step.variants {
        if point < variant.weight {
            return (&variant.name, variant.email_template.as_ref().unwrap_or(&step.templates.email).as_str());
        }
        point -= variant.weight;
    }
    (CONTROL_VARIANT, step.templates.email.as_str())
}

/// Whether a step's conditions hold for a checkout.
pub fn conditions_hold(conditions: &Conditions, checkout: &CheckoutSnapshot) -> bool {
    let country = checkout.region.country_code.as_deref();
    let value_ok = conditions.cart_value.as_ref().is_none_or(|range| {
        range.min.is_none_or(|min| checkout.total.minor >= min)
            && range.max.is_none_or(|max| checkout.total.minor <= max)
    });
    let country_in = conditions.countries_in.is_empty()
        || country.is_some_and(|c| conditions.countries_in.iter().any(|x| x.as_str() == c));
    let country_not_in = country.is_none_or(|c| !conditions.countries_not_in.iter().any(|x| x.as_str() == c));
    let customer_ok = conditions.customer.is_none_or(|kind| match (kind, checkout.customer_orders) {
        (CustomerKind::New, orders) => orders.unwrap_or(0) == 0,
        (CustomerKind::Returning, orders) => orders.unwrap_or(0) > 0,
    });
    let stage_ok = conditions.stage_reached.is_none_or(|stage| checkout.stage >= stage);
    let products_ok = conditions.contains_products.is_empty()
        || checkout.line_items.iter().any(|l| l.product_id.is_some_and(|p| conditions.contains_products.contains(&p)));
    let device_ok = conditions.device.is_none_or(|device| checkout.device == Some(device));
    let discount_ok = conditions.discount_code_used.is_none_or(|used| used != checkout.discount_codes.is_empty());
    value_ok && country_in && country_not_in && customer_ok && stage_ok && products_ok && device_ok && discount_ok
}

/// Why a channel cannot be used for a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Undeliverable,
    NoAddress,
    NoConsent,
    Suppressed,
}

fn channel_refusal(
    channel: Channel,
    record: &CheckoutRecord,
    contact: &ContactState,
    settings: &RecoverySettings,
    deliverable: &[Channel],
) -> Option<Refusal> {
    let shopper = &record.snapshot.contact;
    let (address, consent) = match channel {
        Channel::Email => (
            shopper.email.is_some(),
            settings.policies.email_consent == EmailConsent::AnyContact || shopper.accepts_email_marketing,
        ),
        // SMS always needs SMS marketing consent, whatever the email policy: at checkout, from the
        // customer record (`customers/update`) or a storefront capture.
        Channel::Sms => {
            (shopper.phone_e164().is_some(), shopper.accepts_sms_marketing || contact.sms_consent.is_some())
        }
        // A device is registered only after the shopper allowed notifications in the app.
        Channel::Push => (!contact.push_endpoints.is_empty(), true),
    };
    if !deliverable.contains(&channel) {
        Some(Refusal::Undeliverable)
    } else if !address {
        Some(Refusal::NoAddress)
    } else if contact.is_suppressed(channel) {
        Some(Refusal::Suppressed)
    } else if !consent {
        Some(Refusal::NoConsent)
    } else {
        None
    }
}

/// The recipient's time zone for a checkout.
pub fn recipient_timezone(record: &CheckoutRecord, settings: &RecoverySettings) -> Tz {
    timezone::recipient_timezone(
        &record.snapshot.region,
        record.snapshot.contact.phone_e164().map(|p| p.as_str()),
        settings.shop_timezone(),
    )
}

/// The first instant at or after `at` outside the quiet hours, in `zone`.
pub fn after_quiet_hours(at: DateTime<Utc>, quiet: &QuietHours, zone: Tz) -> DateTime<Utc> {
    let local = at.with_timezone(&zone);
    if !quiet.contains(local.time()) {
        return at;
    }
    let end = quiet.end.time();
    let date = if local.time() < end { local.date_naive() } else { local.date_naive() + Duration::days(1) };
    let naive = date.and_time(end);
    // In a daylight-saving gap the end does not exist locally: take the first instant after it.
    // In the autumn fold it exists twice: take the first one after `at` (the earlier one can lie
    // before it, when `at` is already in the repeated hour).
    (0..4)
        .flat_map(|hour| {
            let local = zone.from_local_datetime(&(naive + Duration::hours(hour)));
            [local.earliest(), local.latest()]
        })
        .flatten()
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t > at)
        .unwrap_or(at + Duration::hours(1))
}

/// The first instant at or after `at` at which the cap allows another message.
fn after_frequency_cap(at: DateTime<Utc>, cap: &FrequencyCap, sends: &[DateTime<Utc>]) -> DateTime<Utc> {
    let window = cap.per.duration();
    let max = cap.max_messages.max(1) as usize;
    let inside = |s: &&DateTime<Utc>| **s > at - window && **s <= at;
    if sends.iter().filter(inside).count() < max {
        return at;
    }
    let mut in_window: Vec<DateTime<Utc>> = sends.iter().filter(inside).copied().collect();
    in_window.sort();
    // The oldest send that has to leave the window before one more is allowed.
    in_window[in_window.len() - max] + window
}

/// Decides what to do with `record` at `now`, on the channels this version delivers.
pub fn decide(
    record: &CheckoutRecord,
    history: &[MessageRecord],
    contact: &ContactState,
    settings: &RecoverySettings,
    now: DateTime<Utc>,
) -> Decision {
    decide_with(record, history, contact, settings, now, DELIVERABLE_CHANNELS)
}

/// [`decide`] for a given set of deliverable channels.
///
/// Guarantees (property-tested): never `Send` unless the checkout is open, not in the holdout,
/// the channel is reachable, consented and not suppressed, the step was never claimed, the step is
/// due, the time is outside quiet hours, the cap allows it, and any incentive is within policy.
pub fn decide_with(
    record: &CheckoutRecord,
    history: &[MessageRecord],
    contact: &ContactState,
    settings: &RecoverySettings,
    now: DateTime<Utc>,
    deliverable: &[Channel],
) -> Decision {
    let stop = |reason| Decision::Stop { reason };
    match record.status {
        CheckoutStatus::Converted => return stop(StopReason::Converted),
        CheckoutStatus::Completed => return stop(StopReason::Completed),
        CheckoutStatus::Deleted => return stop(StopReason::Deleted),
        CheckoutStatus::Open => {}
    }
    let snapshot = &record.snapshot;
    if snapshot.contact.email.is_none() && snapshot.contact.phone_e164().is_none() {
        return stop(StopReason::NoContact);
    }
    if snapshot.line_items.is_empty() {
        return stop(StopReason::EmptyCart);
    }
    if in_holdout(record, settings) {
        return stop(StopReason::Holdout);
    }
    if now - snapshot.created_at > settings.max_sequence_age() {
        return stop(StopReason::Expired);
    }
    let last_claimed = history.iter().filter(|m| m.state.holds_step()).map(|m| m.step).max();
    let Some((index, step)) = settings
        .enabled_steps()
        .filter(|(index, _)| last_claimed.is_none_or(|last| *index > last))
        .find(|(_, step)| conditions_hold(&step.conditions, snapshot))
    else {
        return stop(StopReason::SequenceComplete);
    };
    let refusals: Vec<(Channel, Option<Refusal>)> =
        step.channels.iter().map(|c| (*c, channel_refusal(*c, record, contact, settings, deliverable))).collect();
    let Some(channel) = refusals.iter().find(|(_, refusal)| refusal.is_none()).map(|(c, _)| *c) else {
        let any = |r| refusals.iter().any(|(_, refusal)| *refusal == Some(r));
        return stop(if any(Refusal::Suppressed) {
            StopReason::Unsubscribed
        } else if any(Refusal::NoConsent) {
            StopReason::NoConsent
        } else {
            StopReason::NoContact
        });
    };

    let due = record.last_activity_at + step.delay().max(settings.abandonment_cutoff());
    let (mut at, mut reason) = if now < due { (due, WaitReason::NotYetDue) } else { (now, WaitReason::NotYetDue) };
    // A released attempt at this step waits out its backoff.
    let retry_at = history.iter().filter(|m| m.step == index && !m.state.holds_step()).filter_map(|m| m.retry_at).max();
    if let Some(retry_at) = retry_at
        && retry_at > at
    {
        (at, reason) = (retry_at, WaitReason::RetryBackoff);
    }
    let zone = recipient_timezone(record, settings);
    // The cap and quiet hours can push each other; a few rounds settle it.
    for _ in 0..4 {
        let mut moved = false;
        if let Some(cap) = &settings.policies.frequency_cap {
            let later = after_frequency_cap(at, cap, &contact.recent_sends);
            if later > at {
                (at, reason, moved) = (later, WaitReason::FrequencyCap, true);
            }
        }
        let text_quiet = (channel != Channel::Email).then_some(&settings.policies.text_quiet_hours);
        for quiet in settings.policies.quiet_hours.iter().chain(text_quiet) {
            let later = after_quiet_hours(at, quiet, zone);
            if later > at {
                (at, reason, moved) = (later, WaitReason::QuietHours, true);
            }
        }
        if !moved {
            break;
        }
    }
    if at > now {
        return Decision::Wait { until: at, step: index, reason };
    }
    let (variant, email_template) = variant_of(record, index, step);
    let template = if channel == Channel::Email { email_template } else { step.templates.for_channel(channel) };
    Decision::Send {
        step: index,
        channel,
        template: template.to_owned(),
        variant: variant.to_owned(),
        incentive: incentive_for(index, step, record, contact, settings, now),
    }
}

/// The step's incentive, if the policy allows it now.
pub fn incentive_for(
    index: u32,
    step: &StepSettings,
    record: &CheckoutRecord,
    contact: &ContactState,
    settings: &RecoverySettings,
    now: DateTime<Utc>,
) -> Option<Incentive> {
    let offer = step.incentive?;
    let policy = &settings.policies.incentives;
    let recently = contact
        .last_incentive_at
        .is_some_and(|last| now - last < Duration::days(i64::from(policy.once_per_contact_days)));
    let allowed = index + 1 >= policy.not_before_step
        && record.snapshot.total.minor >= policy.min_cart_value
        && offer.percent <= policy.max_percent
        && offer.percent > 0
        && !recently;
    allowed.then_some(Incentive { percent: offer.percent })
}

#[cfg(test)]
mod tests;
