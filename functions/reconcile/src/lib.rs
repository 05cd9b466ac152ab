//! The `reconcile` function: the target of an EventBridge rate rule (every 15 minutes). Its
//! event carries nothing it needs; it runs [`reconcile`] at the clock's now. An error is
//! returned so that Lambda retries, and after the last retry records it in the
//! failed-invocations queue; the next sweep covers the same ground anyway.

use reclaim_core::usecases::UseCaseError;
use reclaim_core::usecases::reconcile::{ReconcilePorts, ReconcileReport, reconcile};

/// Runs one sweep.
pub async fn handle<P: ReconcilePorts>(ports: &P) -> Result<ReconcileReport, UseCaseError> {
    let report = reconcile(ports).await?;
    tracing::info!(?report, "reconcile sweep");
    Ok(report)
}
