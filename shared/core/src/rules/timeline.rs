//! The timeline of decisions a checkout would go through if nobody bought: what the admin
//! preview shows and what `reclaim simulate` counts. It replays [`decide_with`] from the moment
//! the cart went quiet, feeding each send back into the history.

use super::{Decision, RecoverySettings, decide_with, recipient_timezone};
use crate::model::{Channel, CheckoutRecord, ContactState, MessageRecord};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One decision on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// When the decision is taken (UTC).
    pub at: DateTime<Utc>,
    /// The same instant in the recipient's time zone.
    pub local_time: String,
    pub decision: Decision,
}

/// The most decisions one timeline holds (a safety net; real sequences end far sooner).
const MAX_ENTRIES: usize = 64;

/// Replays the sequence for `record` from its last activity.
pub fn timeline(
    record: &CheckoutRecord,
    contact: &ContactState,
    settings: &RecoverySettings,
    deliverable: &[Channel],
) -> Vec<TimelineEntry> {
    let zone = recipient_timezone(record, settings);
    let mut contact = contact.clone();
    let mut history: Vec<MessageRecord> = Vec::new();
    let mut now = record.last_activity_at;
    let mut entries = Vec::new();
    while entries.len() < MAX_ENTRIES {
        let decision = decide_with(record, &history, &contact, settings, now, deliverable);
        let next = match &decision {
            Decision::Send { step, channel, incentive, .. } => {
                history.push(MessageRecord {
                    sent_at: Some(now),
                    incentive_percent: incentive.map(|i| i.percent),
                    ..MessageRecord::claimed(*step, *channel, now)
                });
                contact.record_send(now, incentive.is_some());
                Some(now)
            }
            Decision::Wait { until, .. } => Some(*until),
            Decision::Stop { .. } => None,
        };
        entries.push(TimelineEntry { at: now, local_time: now.with_timezone(&zone).to_rfc3339(), decision });
        match next {
            Some(at) => now = at,
            None => break,
        }
    }
    entries
}
