//! The `recovery-check` function: the target of every EventBridge Scheduler schedule. Its input
//! is the schedule's JSON ([`CheckInput`]); it runs [`run_check`]. Errors are returned so that
//! Lambda retries the invocation twice and then records it in the failed-invocations queue (for
//! `reclaim redrive`); a send is never repeated because the claim is written first.

use reclaim_core::ports::CheckInput;
use reclaim_core::usecases::{CheckOutcome, CheckPorts, UseCaseError, run_check};

/// Handles one fired schedule.
pub async fn handle<P: CheckPorts>(ports: &P, input: &CheckInput) -> Result<CheckOutcome, UseCaseError> {
    run_check(ports, input).await
}
