//! The scheduler pump: moto stores EventBridge Scheduler schedules but never fires them, so the
//! local stack lists them, and for each one that is due deletes it (as `ActionAfterCompletion:
//! DELETE` would) and runs `recovery-check` with its input, exactly as the target would be invoked.
//!
//! Scheduler invokes Lambda asynchronously, and so does the pump: a check that fails is tried
//! again on the next round, [`ASYNC_RETRIES`] times as Lambda would, and after the last failure
//! its invocation record goes to the on-failure destination (the failed-invocations queue, which
//! `reclaim redrive` drains). Every failure is reported in the round's `failed` list: the demo
//! logs it, the test harness fails the test unless the test expects failures.

use crate::redrive::{FailedInvocations, InvocationRecord};
use crate::stack::{CHECK_FUNCTION_ARN, LocalServices};
use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use reclaim_core::ports::{CheckInput, Clock, ScheduledCheck, Scheduler};
use reclaim_core::usecases::CheckOutcome;
use std::sync::Arc;

/// A schedule that fired, and what the check did.
#[derive(Debug, Clone)]
pub struct Fired {
    pub input: CheckInput,
    pub outcome: CheckOutcome,
}

/// A check that returned an error: armed again for the next round, or, after its last retry,
/// recorded in the failed-invocations queue (`exhausted`).
#[derive(Debug, Clone)]
pub struct FailedCheck {
    pub input: CheckInput,
    pub error: String,
    pub exhausted: bool,
}

/// How many times Lambda retries an asynchronous invocation whose function failed (its default,
/// and `MaximumRetryAttempts` in `template.yaml`).
pub const ASYNC_RETRIES: u32 = 2;

/// The retries a fired schedule already stands for (`…-r2`: two).
fn retries_in(name: &str) -> u32 {
    name.rsplit_once("-r").and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
}

/// The schedule name of the next retry of `name`.
fn retry_name(name: &str, retries: u32) -> String {
    let base = if retries_in(name) > 0 { name.rsplit_once("-r").map_or(name, |(base, _)| base) } else { name };
    format!("{base}-r{retries}")
}

/// What one round of the pump did.
#[derive(Debug, Clone, Default)]
pub struct Round {
    pub fired: Vec<Fired>,
    pub failed: Vec<FailedCheck>,
}

impl Round {
    /// Nothing was due.
    pub fn is_empty(&self) -> bool {
        self.fired.is_empty() && self.failed.is_empty()
    }
}

/// Parses `at(2026-01-01T10:00:00)`.
pub fn parse_at(expression: &str) -> Option<DateTime<Utc>> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S").ok().map(|t| t.and_utc())
}

/// How many checks the pump runs at once (Lambda runs them concurrently too).
const CONCURRENT_CHECKS: usize = 4;

/// Runs what the jobs queue holds, as its SQS event source hands it to the `jobs` function: a
/// job that fails stays queued for the next round; a job's continuation is run in the same call.
/// Returns how many job runs there were.
pub async fn drain_jobs(services: &LocalServices) -> anyhow::Result<usize> {
    let (sqs, url) = (services.jobs.client(), services.jobs.queue_url());
    let mut runs = 0;
    // Bounded: a job that keeps failing waits for the next round instead of spinning here.
    for _ in 0..1000 {
        let batch = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .send()
            .await
            .context("ReceiveMessage")?;
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(runs);
        }
        for message in messages {
            let event = serde_json::json!({ "Records": [{ "body": message.body().unwrap_or_default() }] });
            match reclaim_jobs::handle(services, &event).await {
                Ok(_) => {
                    runs += 1;
                    let handle = message.receipt_handle().unwrap_or_default();
                    sqs.delete_message().queue_url(url).receipt_handle(handle).send().await.context("DeleteMessage")?;
                }
                Err(error) => tracing::warn!(%error, "job failed; SQS delivers it again"),
            }
        }
    }
    Ok(runs)
}

/// Fires every schedule of the group that is due at the services' clock. Returns what fired and
/// what failed; what failed for the last time goes to `on_failure`.
pub async fn pump_once(services: &Arc<LocalServices>, on_failure: &FailedInvocations) -> anyhow::Result<Round> {
    drain_jobs(services).await?;
    let scheduler = services.scheduler.client();
    let group = services.scheduler.group();
    let now = services.clock.now();
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page =
            scheduler.list_schedules().group_name(group).set_next_token(token).send().await.context("ListSchedules")?;
        names.extend(page.schedules().iter().filter_map(|s| s.name().map(str::to_owned)));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let mut due = Vec::new();
    for name in names {
        let schedule = match scheduler.get_schedule().name(&name).group_name(group).send().await {
            Ok(schedule) => schedule,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => continue,
            Err(e) => return Err(anyhow::Error::new(e).context("GetSchedule")),
        };
        let Some(at) = schedule.schedule_expression().and_then(parse_at) else { continue };
        if at > now {
            continue;
        }
        let input: CheckInput =
            serde_json::from_str(schedule.target().map(|t| t.input().unwrap_or_default()).unwrap_or_default())
                .with_context(|| format!("schedule {name} has no valid input"))?;
        // Delete first, so that two pumps never fire the same schedule.
        match scheduler.delete_schedule().name(&name).group_name(group).send().await {
            Ok(_) => due.push((name, input)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => continue,
            Err(e) => return Err(anyhow::Error::new(e).context("DeleteSchedule")),
        }
    }
    let mut round = Round::default();
    for batch in due.chunks(CONCURRENT_CHECKS) {
        let mut running = tokio::task::JoinSet::new();
        for (name, input) in batch.iter().cloned() {
            let services = services.clone();
            running.spawn(async move {
                match reclaim_recovery_check::handle(services.as_ref(), &input).await {
                    Ok(outcome) => Ok(Fired { input, outcome }),
                    Err(error) => {
                        let at = services.clock.now();
                        Err((ScheduledCheck { name, at, input }, anyhow::Error::new(error)))
                    }
                }
            });
        }
        while let Some(result) = running.join_next().await {
            match result? {
                Ok(done) => round.fired.push(done),
                // Lambda retries the failed invocation; after the last retry its record goes to
                // the on-failure destination.
                Err((check, error)) => {
                    let error = format!("{error:#}");
                    let retries = retries_in(&check.name);
                    let exhausted = retries >= ASYNC_RETRIES;
                    if exhausted {
                        tracing::warn!(error, schedule = %check.name, "check failed its last retry: to the failed-invocations queue");
                        let payload = serde_json::to_value(&check.input)?;
                        let record = InvocationRecord::retries_exhausted(
                            CHECK_FUNCTION_ARN,
                            payload,
                            retries + 1,
                            &error,
                            check.at,
                        );
                        on_failure.record(&record).await.context("recording a failed invocation")?;
                    } else {
                        tracing::warn!(error, schedule = %check.name, "check failed; retrying");
                        let retry = ScheduledCheck { name: retry_name(&check.name, retries + 1), ..check.clone() };
                        services.scheduler.arm(&retry).await.context("re-arming a failed check")?;
                    }
                    round.failed.push(FailedCheck { input: check.input, error, exhausted });
                }
            }
        }
    }
    Ok(round)
}

/// Runs [`pump_once`] every `interval` until the task is dropped.
pub fn spawn(
    services: Arc<LocalServices>,
    on_failure: FailedInvocations,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = pump_once(&services, &on_failure).await {
                tracing::warn!(error = format!("{error:#}"), "scheduler pump");
            }
            tokio::time::sleep(interval).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_expressions_parse() {
        assert_eq!(parse_at("at(2026-01-02T03:04:05)").unwrap().to_rfc3339(), "2026-01-02T03:04:05+00:00");
        assert!(parse_at("rate(5 minutes)").is_none());
    }

    #[test]
    fn retries_are_counted_in_the_schedule_name() {
        let base = "rc-0123456789abcdef0123456789abcdef01234567";
        assert_eq!(retries_in(base), 0);
        assert_eq!(retry_name(base, 1), format!("{base}-r1"));
        assert_eq!(retries_in(&retry_name(base, 1)), 1);
        assert_eq!(retry_name(&retry_name(base, 1), 2), format!("{base}-r2"));
    }
}
