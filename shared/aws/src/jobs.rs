//! [`JobQueue`] on SQS: each job is one message (its JSON), handed to the `jobs` function by the
//! queue's event source; a failed run is delivered again, then dead-lettered.

use crate::error::unavailable;
use reclaim_core::ports::{Job, JobQueue, PortError, PortResult};

/// The jobs queue.
#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsJobQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    /// The SQS client (the local stack drains the queue with it).
    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, job: &Job) -> PortResult<()> {
        let body = serde_json::to_string(job).map_err(|e| PortError::Rejected(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("SendMessage", e))
    }
}
