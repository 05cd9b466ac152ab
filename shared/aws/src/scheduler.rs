//! [`Scheduler`] on EventBridge Scheduler: one one-time `at(...)` schedule per check, deleted by
//! the service after it fires, with a dead-letter queue for failed invocations.

use crate::error::unavailable;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use reclaim_core::ports::{PortError, PortResult, ScheduledCheck, Scheduler};

/// Where schedules go and what they invoke.
#[derive(Debug, Clone)]
pub struct SchedulerTarget {
    pub group: String,
    pub role_arn: String,
    pub function_arn: String,
    pub dead_letter_arn: Option<String>,
}

/// EventBridge Scheduler adapter.
#[derive(Debug, Clone)]
pub struct AwsScheduler {
    client: Client,
    target: SchedulerTarget,
}

impl AwsScheduler {
    pub fn new(client: Client, target: SchedulerTarget) -> Self {
        Self { client, target }
    }

    /// The schedule group this adapter writes to.
    pub fn group(&self) -> &str {
        &self.target.group
    }

    /// The underlying client (the local scheduler pump lists and deletes with it).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The `at(...)` expression for a time (UTC, second precision).
pub fn at_expression(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

impl Scheduler for AwsScheduler {
    async fn arm(&self, check: &ScheduledCheck) -> PortResult<()> {
        let input = serde_json::to_string(&check.input).map_err(|e| PortError::Rejected(e.to_string()))?;
        let target = Target::builder()
            .arn(&self.target.function_arn)
            .role_arn(&self.target.role_arn)
            .input(input)
            .retry_policy(RetryPolicy::builder().maximum_retry_attempts(3).maximum_event_age_in_seconds(3600).build())
            .set_dead_letter_config(
                self.target.dead_letter_arn.as_ref().map(|arn| DeadLetterConfig::builder().arn(arn).build()),
            )
            .build()
            .map_err(|e| PortError::Rejected(e.to_string()))?;
        let result = self
            .client
            .create_schedule()
            .name(&check.name)
            .group_name(&self.target.group)
            .schedule_expression(at_expression(check.at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Off)
                    .build()
                    .map_err(|e| PortError::Rejected(e.to_string()))?,
            )
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Same name, same check: arming is idempotent.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(()),
            Err(e) => Err(unavailable("CreateSchedule", e)),
        }
    }

    async fn cancel(&self, name: &str) -> PortResult<()> {
        match self.client.delete_schedule().name(name).group_name(&self.target.group).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(unavailable("DeleteSchedule", e)),
        }
    }
}
