//! `reclaim redrive`: re-submits the invocations that failed every retry.
//!
//! `recovery-check`, `delivery-events` and `reconcile` are invoked asynchronously (by EventBridge
//! Scheduler, SNS and an EventBridge rule). Lambda retries a function error twice; then, instead
//! of dropping the event, it sends an *invocation record* to the functions' on-failure
//! destination, the `FailedInvocationsQueue` in `template.yaml`, whose alarm tells the operator.
//! The record's shape is the one documented in "Capturing records of Lambda asynchronous
//! invocations" (AWS Lambda developer guide): `requestContext.functionArn`, `.condition`,
//! `.approximateInvokeCount`, the original `requestPayload`, and the `responsePayload` error.
//!
//! Redrive reads the queue and hands each record's payload back to its function: on AWS through
//! Lambda's `Invoke` (asynchronous, so the function's retries and destination apply again), in
//! the local stack to the handlers in this process. A record is deleted from the queue only once
//! it was re-submitted; one that cannot be read or re-submitted stays, and is reported.
//! Re-submitting is safe: every function is idempotent (a check re-reads the checkout and its
//! claims; a delivery event is deduplicated by its message id).

use crate::stack::LocalServices;
use anyhow::{Context, bail};
use reclaim_core::ports::CheckInput;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lambda's record of an asynchronous invocation that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationRecord {
    pub version: String,
    pub timestamp: String,
    pub request_context: RequestContext,
    /// The event the function was invoked with.
    pub request_payload: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_context: Option<serde_json::Value>,
    /// The function's error (`errorMessage`, `errorType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_payload: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    pub request_id: String,
    /// `arn:aws:lambda:{region}:{account}:function:{name}:{qualifier}`.
    pub function_arn: String,
    /// `RetriesExhausted` or `EventAgeExceeded`.
    pub condition: String,
    pub approximate_invoke_count: u32,
}

impl InvocationRecord {
    /// The record Lambda writes for `payload` after `invocations` failed attempts of `function_arn`.
    pub fn retries_exhausted(
        function_arn: &str,
        payload: serde_json::Value,
        invocations: u32,
        error: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            version: "1.0".into(),
            timestamp: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            request_context: RequestContext {
                request_id: format!("local-{}", fastrand::u64(..)),
                function_arn: format!("{function_arn}:$LATEST"),
                condition: "RetriesExhausted".into(),
                approximate_invoke_count: invocations,
            },
            request_payload: payload,
            response_context: Some(
                serde_json::json!({"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}),
            ),
            response_payload: Some(serde_json::json!({"errorMessage": error, "errorType": "UseCaseError"})),
        }
    }

    /// The function's name, from its ARN (without the version or alias).
    pub fn function_name(&self) -> &str {
        let arn = &self.request_context.function_arn;
        let after = arn.split_once(":function:").map_or(arn.as_str(), |(_, rest)| rest);
        after.split(':').next().unwrap_or(after)
    }

    /// The function's ARN without its qualifier.
    pub fn unqualified_arn(&self) -> String {
        let arn = &self.request_context.function_arn;
        match arn.split_once(":function:") {
            Some((prefix, _)) => format!("{prefix}:function:{}", self.function_name()),
            None => arn.clone(),
        }
    }
}

/// The on-failure destination: an SQS queue of invocation records.
#[derive(Debug, Clone)]
pub struct FailedInvocations {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl FailedInvocations {
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { sqs, queue_url: queue_url.into() }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends a record to the queue (what Lambda does after the last retry).
    pub async fn record(&self, record: &InvocationRecord) -> anyhow::Result<()> {
        let body = serde_json::to_string(record)?;
        self.sqs.send_message().queue_url(&self.queue_url).message_body(body).send().await.context("SendMessage")?;
        Ok(())
    }

    /// How many records wait in the queue (visible or in flight).
    pub async fn depth(&self) -> anyhow::Result<u64> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .context("GetQueueAttributes")?;
        let attributes = out.attributes.unwrap_or_default();
        let count = |name| attributes.get(&name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok(count(QueueAttributeName::ApproximateNumberOfMessages)
            + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }
}

/// Hands a failed invocation's payload back to its function.
pub trait Resubmit: Sync {
    fn resubmit(&self, record: &InvocationRecord) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// On AWS: an asynchronous `Invoke` of the record's function with its original payload.
#[derive(Debug, Clone)]
pub struct LambdaInvoke(pub aws_sdk_lambda::Client);

impl Resubmit for LambdaInvoke {
    async fn resubmit(&self, record: &InvocationRecord) -> anyhow::Result<()> {
        let payload = serde_json::to_vec(&record.request_payload)?;
        self.0
            .invoke()
            .function_name(record.unqualified_arn())
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await
            .context("Invoke")?;
        Ok(())
    }
}

/// In the local stack: the functions' handlers in this process, on the local services.
#[derive(Clone)]
pub struct LocalHandlers(pub Arc<LocalServices>);

impl Resubmit for LocalHandlers {
    async fn resubmit(&self, record: &InvocationRecord) -> anyhow::Result<()> {
        let name = record.function_name();
        if name.ends_with("recovery-check") {
            let input: CheckInput =
                serde_json::from_value(record.request_payload.clone()).context("a check's payload")?;
            let outcome = reclaim_recovery_check::handle(self.0.as_ref(), &input).await?;
            tracing::info!(?outcome, "redriven check ran");
        } else if name.ends_with("-jobs") || name == "jobs" {
            reclaim_jobs::handle(self.0.as_ref(), &record.request_payload).await?;
        } else if name.ends_with("reconcile") {
            reclaim_reconcile::handle(self.0.as_ref()).await?;
        } else if name.ends_with("delivery-events") {
            reclaim_delivery_events::handle(self.0.as_ref(), &record.request_payload).await?;
        } else {
            bail!("no local handler for function {name}");
        }
        Ok(())
    }
}

/// What a redrive did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RedriveReport {
    /// Re-submitted and deleted from the queue, per function.
    pub resubmitted: BTreeMap<String, u32>,
    /// Left in the queue: unreadable records and failed re-submissions, with why.
    pub left: Vec<String>,
}

impl RedriveReport {
    pub fn total(&self) -> u32 {
        self.resubmitted.values().sum()
    }
}

/// Re-submits up to `limit` records from the queue. Each record is received once per run
/// (a visibility timeout longer than the run keeps a failed one from coming back in it).
pub async fn redrive(queue: &FailedInvocations, target: &impl Resubmit, limit: u32) -> anyhow::Result<RedriveReport> {
    let mut report = RedriveReport::default();
    let mut seen = 0;
    while seen < limit {
        let batch = queue
            .sqs
            .receive_message()
            .queue_url(&queue.queue_url)
            .max_number_of_messages(10.min(limit - seen) as i32)
            .visibility_timeout(300)
            .wait_time_seconds(0)
            .send()
            .await
            .context("ReceiveMessage")?;
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            seen += 1;
            let id = message.message_id.clone().unwrap_or_default();
            let record = match serde_json::from_str::<InvocationRecord>(message.body().unwrap_or_default()) {
                Ok(record) => record,
                Err(error) => {
                    report.left.push(format!("{id}: not an invocation record ({error})"));
                    continue;
                }
            };
            match target.resubmit(&record).await {
                Ok(()) => {
                    let handle = message.receipt_handle().unwrap_or_default();
                    queue
                        .sqs
                        .delete_message()
                        .queue_url(&queue.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .context("DeleteMessage")?;
                    *report.resubmitted.entry(record.function_name().to_owned()).or_default() += 1;
                }
                Err(error) => report.left.push(format!("{id} ({}): {error:#}", record.function_name())),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_its_function_and_keeps_the_payload() {
        let documented = serde_json::json!({
            "version": "1.0",
            "timestamp": "2026-11-14T18:16:05.568Z",
            "requestContext": {
                "requestId": "e4b46cbf-0000-4000-8880-a18cdf61200e",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:reclaim-recovery-check:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3
            },
            "requestPayload": {"shop": "a.myshopify.com", "checkout": "c1", "step": 0, "generation": 0},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "dependency unavailable", "errorType": "UseCaseError"}
        });
        let record: InvocationRecord = serde_json::from_value(documented.clone()).unwrap();
        assert_eq!(record.function_name(), "reclaim-recovery-check");
        assert_eq!(record.unqualified_arn(), "arn:aws:lambda:us-east-1:123456789012:function:reclaim-recovery-check");
        assert_eq!(record.request_context.approximate_invoke_count, 3);
        assert_eq!(serde_json::to_value(&record).unwrap(), documented, "read and written back unchanged");
        let built = InvocationRecord::retries_exhausted(
            "arn:aws:lambda:us-east-1:123456789012:function:reclaim-recovery-check",
            record.request_payload.clone(),
            3,
            "dependency unavailable",
            chrono::Utc::now(),
        );
        assert_eq!(built.function_name(), "reclaim-recovery-check");
        assert_eq!(built.request_context.condition, "RetriesExhausted");
    }
}
