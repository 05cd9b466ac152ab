//! The `delivery-events` function, subscribed to two SNS topics:
//! - the SES configuration set's event topic: each message is one SES event
//!   ([`record_ses_event`]: bounces, complaints, deliveries, opens, clicks, sender health);
//! - the two-way SMS topic: each message is one shopper reply ([`record_sms_reply`]: STOP, HELP,
//!   anything else stored with its cart).
//!
//! A record is routed by its topic (the one whose name ends in `-sms-inbound` carries replies). Any
//! malformed record fails the invocation, so SNS retries and finally moves it to the dead-letter
//! queue: nothing is lost and nothing loops forever.

use reclaim_core::ports::Shops;
use reclaim_core::usecases::UseCaseError;
use reclaim_core::usecases::delivery::{
    DeliveryOutcome, InboundSms, ReplyOutcome, SesEvent, SmsReplyPorts, record_ses_event, record_sms_reply,
};
use serde::Serialize;

/// The suffix of the two-way SMS topic's name (see `template.yaml`).
pub const SMS_INBOUND_TOPIC_SUFFIX: &str = "-sms-inbound";

/// What one record did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RecordOutcome {
    Email(DeliveryOutcome),
    Sms(ReplyOutcome),
}

/// What delivery events need: contacts, the shop's state and stats for SES events; the thread,
/// settings and SMS for replies.
pub trait DeliveryEventPorts: SmsReplyPorts<Store: Shops> {}
impl<P: SmsReplyPorts<Store: Shops>> DeliveryEventPorts for P {}

/// Handles one SNS event (`Records[].Sns`).
pub async fn handle<P: DeliveryEventPorts>(
    ports: &P,
    event: &serde_json::Value,
) -> Result<Vec<RecordOutcome>, UseCaseError> {
    let records =
        event["Records"].as_array().ok_or_else(|| UseCaseError::BadRequest("SNS event without Records".into()))?;
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        let sns = &record["Sns"];
        let message =
            sns["Message"].as_str().ok_or_else(|| UseCaseError::BadRequest("SNS record without a message".into()))?;
        let topic = sns["TopicArn"].as_str().unwrap_or_default();
        outcomes.push(if topic.ends_with(SMS_INBOUND_TOPIC_SUFFIX) {
            RecordOutcome::Sms(record_sms_reply(ports, InboundSms::from_json(message)?).await?)
        } else {
            let notification_id = sns["MessageId"].as_str().unwrap_or_default();
            RecordOutcome::Email(record_ses_event(ports, SesEvent::from_json(notification_id, message)?).await?)
        });
    }
    Ok(outcomes)
}
