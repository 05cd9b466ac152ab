//! The `jobs` function, fed by the jobs queue (SQS, one message per invocation): each message
//! is a [`Job`] (`shop/redact`, `customers/redact`, `customers/data_request`, the schedules of an
//! uninstalled shop), run one bounded batch at a time by [`run_job`], which queues the rest of
//! the job again. An error is returned so that SQS delivers the message again, and after five
//! attempts moves it to the jobs dead-letter queue (alarmed).

use reclaim_core::ports::Job;
use reclaim_core::usecases::UseCaseError;
use reclaim_core::usecases::privacy::{JobPorts, JobRun, run_job};

/// Runs the jobs of one SQS event (`Records[].body`).
pub async fn handle<P: JobPorts>(ports: &P, event: &serde_json::Value) -> Result<Vec<JobRun>, UseCaseError> {
    let records =
        event["Records"].as_array().ok_or_else(|| UseCaseError::BadRequest("SQS event without Records".into()))?;
    let mut runs = Vec::with_capacity(records.len());
    for record in records {
        let job: Job = serde_json::from_str(record["body"].as_str().unwrap_or_default())
            .map_err(|e| UseCaseError::BadRequest(format!("not a job: {e}")))?;
        runs.push(run_job(ports, &job).await?);
    }
    Ok(runs)
}
