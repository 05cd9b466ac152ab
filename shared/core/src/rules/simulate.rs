//! What-if over historical checkouts: replay each one's [`timeline`] under some settings and add
//! up what would have happened. Pure and mergeable, so callers can split the work across threads.

use super::timeline::timeline;
use super::{Decision, RecoverySettings};
use crate::model::{Channel, CheckoutRecord, ContactState};
use serde::Serialize;
use std::collections::BTreeMap;

/// The totals of a simulation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub checkouts: u64,
    /// Messages by `step{n}.{channel}`.
    pub sends: BTreeMap<String, u64>,
    /// Waits by reason (`not_yet_due`, `quiet_hours`, `frequency_cap`).
    pub holds: BTreeMap<String, u64>,
    /// Sequences' ends by reason (`holdout`, `no_consent`, `sequence_complete`, …).
    pub stops: BTreeMap<String, u64>,
    pub holdout: u64,
    /// Messages that carried an incentive.
    pub incentives: u64,
    /// What the incentives would cost if every one were redeemed on the whole cart, in minor
    /// units per currency.
    pub incentive_cost: BTreeMap<String, i64>,
}

impl Tally {
    /// Adds one checkout's timeline under `settings`.
    pub fn add(&mut self, record: &CheckoutRecord, settings: &RecoverySettings, deliverable: &[Channel]) {
        self.checkouts += 1;
        for entry in timeline(record, &ContactState::default(), settings, deliverable) {
            match entry.decision {
                Decision::Send { step, channel, incentive, .. } => {
                    *self.sends.entry(format!("step{step}.{}", channel.as_str())).or_default() += 1;
                    if let Some(incentive) = incentive {
                        self.incentives += 1;
                        let cost = record.snapshot.total.minor * i64::from(incentive.percent) / 100;
                        *self.incentive_cost.entry(record.snapshot.total.currency.as_str().to_owned()).or_default() +=
                            cost;
                    }
                }
                Decision::Wait { reason, .. } => *self.holds.entry(reason.as_str().to_owned()).or_default() += 1,
                Decision::Stop { reason } => {
                    if reason == super::StopReason::Holdout {
                        self.holdout += 1;
                    }
                    *self.stops.entry(reason.as_str().to_owned()).or_default() += 1;
                }
            }
        }
    }

    /// Adds another tally into this one.
    pub fn merge(&mut self, other: Tally) {
        self.checkouts += other.checkouts;
        self.holdout += other.holdout;
        self.incentives += other.incentives;
        for (target, source) in
            [(&mut self.sends, other.sends), (&mut self.holds, other.holds), (&mut self.stops, other.stops)]
        {
            for (key, value) in source {
                *target.entry(key).or_default() += value;
            }
        }
        for (currency, cost) in other.incentive_cost {
            *self.incentive_cost.entry(currency).or_default() += cost;
        }
    }
}
