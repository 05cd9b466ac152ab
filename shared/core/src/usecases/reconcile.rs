//! Reconcile: the sweep under the schedules. Every armed check has a schedule, and a schedule
//! fires within a minute of its time; a checkout whose armed check is overdue by more than
//! [`RECONCILE_GRACE`] lost its schedule somewhere (a schedule deleted or never created, an
//! invocation that failed every retry, an operator who purged a queue). Each such checkout is
//! re-armed for now with a new generation, so that a late firing of the old schedule is
//! superseded; one that is no longer open but still armed is disarmed. The sweep reads the
//! sparse `by_due` index over [`RECONCILE_LOOKBACK`], so its cost follows what is overdue, not
//! the size of the table.

use super::{Ports, UseCaseError, arm, count, disarm, update_checkout};
use crate::model::{ArmedCheck, CheckoutStatus};
use crate::ports::{Checkouts, Clock, Scheduler, Stats};
use serde::Serialize;

/// How late a check may be before the sweep takes its schedule for lost.
pub const RECONCILE_GRACE: chrono::Duration = chrono::Duration::minutes(15);

/// How far back the sweep looks for overdue checks (it runs every 15 minutes; two days cover
/// a long outage of the sweep itself).
pub const RECONCILE_LOOKBACK: chrono::Duration = chrono::Duration::days(2);

/// What the reconcile function needs: checkouts and stats, and the scheduler.
pub trait ReconcilePorts: Ports<Store: Checkouts + Stats, Scheduler: Scheduler> {}
impl<P: Ports<Store: Checkouts + Stats, Scheduler: Scheduler>> ReconcilePorts for P {}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Overdue armed checks found.
    pub overdue: u32,
    /// Open checkouts armed again for now.
    pub rearmed: u32,
    /// Closed checkouts that were still armed: disarmed.
    pub disarmed: u32,
}

/// Runs one sweep at the clock's now.
pub async fn reconcile<P: ReconcilePorts>(ports: &P) -> Result<ReconcileReport, UseCaseError> {
    let now = ports.clock().now();
    let mut report = ReconcileReport::default();
    let overdue = ports.store().checkouts_due_between(now - RECONCILE_LOOKBACK, now - RECONCILE_GRACE).await?;
    for (shop, token) in overdue {
        let Some(record) = ports.store().load_checkout(&shop, &token).await? else { continue };
        let Some(lost) = record.armed.clone().filter(|armed| armed.at < now - RECONCILE_GRACE) else { continue };
        report.overdue += 1;
        let still_lost = |current: &Option<ArmedCheck>| current.as_ref() == Some(&lost);
        if record.status != CheckoutStatus::Open {
            update_checkout(ports, &shop, &token, |mut current| {
                still_lost(&current.armed).then(|| {
                    current.armed = None;
                    current
                })
            })
            .await?;
            disarm(ports, &record).await?;
            report.disarmed += 1;
            count(ports, &shop, &token, &[("reconcile.disarmed".to_owned(), 1)]).await?;
            continue;
        }
        let fresh = arm(ports, &record, lost.step, lost.generation + 1, now).await?;
        let mut applied = false;
        update_checkout(ports, &shop, &token, |mut current| {
            applied = still_lost(&current.armed);
            applied.then(|| {
                current.armed = Some(fresh.clone());
                current
            })
        })
        .await?;
        if !applied {
            // The checkout moved on meanwhile (a webhook, a check): its own schedule stands.
            let moved_on = crate::model::CheckoutRecord { armed: Some(fresh), ..record };
            disarm(ports, &moved_on).await?;
            continue;
        }
        disarm(ports, &record).await?;
        tracing::warn!(%shop, step = lost.step, due = %lost.at, "overdue check re-armed");
        report.rearmed += 1;
        count(ports, &shop, &token, &[("reconcile.rearmed".to_owned(), 1)]).await?;
    }
    Ok(report)
}
