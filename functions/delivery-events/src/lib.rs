//! The `delivery-events` function: subscribed to the SNS topic of the SES configuration set. Each
//! record's message is one SES event ([`record_ses_event`]). Any malformed record fails the
//! invocation, so SNS retries and finally moves it to the dead-letter queue: nothing is lost and
//! nothing loops forever.

use reclaim_core::usecases::delivery::{DeliveryOutcome, record_ses_event};
use reclaim_core::usecases::{Ports, UseCaseError};

/// Handles one SNS event (`Records[].Sns.Message`).
pub async fn handle<P: Ports>(ports: &P, event: &serde_json::Value) -> Result<Vec<DeliveryOutcome>, UseCaseError> {
    let records =
        event["Records"].as_array().ok_or_else(|| UseCaseError::BadRequest("SNS event without Records".into()))?;
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        let message = record["Sns"]["Message"]
            .as_str()
            .ok_or_else(|| UseCaseError::BadRequest("SNS record without a message".into()))?;
        outcomes.push(record_ses_event(ports, message).await?);
    }
    Ok(outcomes)
}
