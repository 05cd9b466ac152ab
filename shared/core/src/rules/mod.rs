//! Recovery rules: a shop's settings and [`decide`], the pure function that looks at one
//! checkout, what was already sent, what the contact asked for and the time, and says
//! [`Decision::Send`], [`Decision::Wait`] or [`Decision::Stop`] with a named reason.

mod settings;

pub use settings::{RecoverySettings, SettingsError, StepSettings};

use crate::model::{Channel, CheckoutRecord, CheckoutStatus, ContactState, MessageRecord};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What to do with a checkout now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Send this step now.
    Send {
        step: u32,
        channel: Channel,
        template: String,
    },
    /// Check again at `until`.
    Wait {
        until: DateTime<Utc>,
        step: u32,
        reason: WaitReason,
    },
    /// The sequence is over for this checkout.
    Stop { reason: StopReason },
}

/// Why a check waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The step's delay since the last activity has not passed yet.
    NotYetDue,
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
    SequenceComplete,
    Expired,
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
            Self::SequenceComplete => "sequence_complete",
            Self::Expired => "expired",
        }
    }
}

/// The messages already claimed for a checkout, whatever became of them.
pub fn already_claimed(history: &[MessageRecord], step: u32) -> bool {
    history.iter().any(|m| m.step == step)
}

/// Decides what to do with `record` at `now`.
///
/// Guarantees (property-tested): never `Send` unless the checkout is open, has an email, is not
/// suppressed, and the step has not been claimed before; never `Send` before the step's delay
/// since the last activity has passed.
pub fn decide(
    record: &CheckoutRecord,
    history: &[MessageRecord],
    contact: &ContactState,
    settings: &RecoverySettings,
    now: DateTime<Utc>,
) -> Decision {
    let stop = |reason| Decision::Stop { reason };
    match record.status {
        CheckoutStatus::Converted => return stop(StopReason::Converted),
        CheckoutStatus::Completed => return stop(StopReason::Completed),
        CheckoutStatus::Deleted => return stop(StopReason::Deleted),
        CheckoutStatus::Open => {}
    }
    if record.snapshot.contact.email.is_none() {
        return stop(StopReason::NoContact);
    }
    if record.snapshot.line_items.is_empty() {
        return stop(StopReason::EmptyCart);
    }
    if contact.email_suppressed.is_some() {
        return stop(StopReason::Unsubscribed);
    }
    if now - record.snapshot.created_at > settings.max_sequence_age() {
        return stop(StopReason::Expired);
    }
    let Some((index, step)) = settings
        .enabled_steps()
        .find(|(index, _)| !already_claimed(history, *index))
    else {
        return stop(StopReason::SequenceComplete);
    };
    let due = record.last_activity_at + step.delay();
    if now < due {
        return Decision::Wait {
            until: due,
            step: index,
            reason: WaitReason::NotYetDue,
        };
    }
    Decision::Send {
        step: index,
        channel: Channel::Email,
        template: step.template.clone(),
    }
}

#[cfg(test)]
mod tests;
