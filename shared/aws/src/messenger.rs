//! The messaging roles on AWS: email through SES v2 ([`SesMailer`]), SMS through SNS
//! ([`SnsSms`]), mobile push through SNS ([`SnsPush`]); [`AwsMessenger`] is all three, for the
//! functions that use every channel. A function that never texts builds only [`SesMailer`].
//!
//! SMS are published to the phone number with `AWS.SNS.SMS.SMSType` (`Promotional` for recovery,
//! `Transactional` for STOP/HELP answers) and the shop's origination identity (an E.164 number as
//! `AWS.MM.SMS.OriginationNumber`, anything else as `AWS.SNS.SMS.SenderID`). Push goes to the
//! device's platform endpoint as a per-platform JSON message carrying the deep link; SNS's
//! `EndpointDisabled` becomes [`PortError::Gone`] so that the caller forgets the device.

use crate::error::{provider_failure, unavailable};
use crate::ses::SesMailer;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;
use reclaim_core::model::PushPlatform;
use reclaim_core::ports::{
    EmailSender, OutgoingEmail, OutgoingPush, OutgoingSms, PortError, PortResult, PushSender, SenderIdentity,
    SenderStatus, SmsSender,
};
use serde_json::json;

/// The SNS platform applications devices are registered with (absent: that platform is off).
#[derive(Debug, Clone, Default)]
pub struct PushApplications {
    pub apns: Option<String>,
    pub fcm: Option<String>,
}

/// SMS through SNS.
#[derive(Debug, Clone)]
pub struct SnsSms {
    sns: Client,
}

impl SnsSms {
    pub fn new(sns: Client) -> Self {
        Self { sns }
    }
}

/// Mobile push through SNS platform endpoints.
#[derive(Debug, Clone)]
pub struct SnsPush {
    sns: Client,
    applications: PushApplications,
}

impl SnsPush {
    pub fn new(sns: Client, applications: PushApplications) -> Self {
        Self { sns, applications }
    }
}

/// Every channel: SES for email, SNS for SMS and push.
#[derive(Debug, Clone)]
pub struct AwsMessenger {
    mail: SesMailer,
    sms: SnsSms,
    push: SnsPush,
}

impl AwsMessenger {
    pub fn new(mail: SesMailer, sns: Client, push: PushApplications) -> Self {
        Self { mail, sms: SnsSms::new(sns.clone()), push: SnsPush::new(sns, push) }
    }
}

impl EmailSender for AwsMessenger {
    async fn send_email(&self, email: &OutgoingEmail) -> PortResult<String> {
        self.mail.send_email(email).await
    }
}

impl SenderIdentity for AwsMessenger {
    async fn sender_status(&self, domain: &str) -> PortResult<SenderStatus> {
        self.mail.sender_status(domain).await
    }
}

impl SmsSender for AwsMessenger {
    async fn send_sms(&self, sms: &OutgoingSms) -> PortResult<String> {
        self.sms.send_sms(sms).await
    }
}

impl PushSender for AwsMessenger {
    async fn send_push(&self, push: &OutgoingPush) -> PortResult<String> {
        self.push.send_push(push).await
    }
    async fn register_device(&self, platform: PushPlatform, device_token: &str) -> PortResult<String> {
        self.push.register_device(platform, device_token).await
    }
    async fn delete_device(&self, endpoint: &str) -> PortResult<()> {
        self.push.delete_device(endpoint).await
    }
}

fn string_attribute(value: &str) -> PortResult<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| PortError::Rejected(e.to_string()))
}

/// The per-platform message SNS delivers: an alert with a title and body, and the deep link.
pub fn push_payload(push: &OutgoingPush) -> String {
    let apns = json!({ "aps": { "alert": { "title": push.title, "body": push.body } }, "url": push.deep_link });
    let fcm = json!({
        "notification": { "title": push.title, "body": push.body },
        "data": { "url": push.deep_link }
    });
    json!({
        "default": push.body,
        "APNS": apns.to_string(),
        "APNS_SANDBOX": apns.to_string(),
        "GCM": fcm.to_string(),
    })
    .to_string()
}

impl SmsSender for SnsSms {
    async fn send_sms(&self, sms: &OutgoingSms) -> PortResult<String> {
        let kind = if sms.promotional { "Promotional" } else { "Transactional" };
        let mut publish = self
            .sns
            .publish()
            .phone_number(sms.to.as_str())
            .message(&sms.body)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute(kind)?);
        if let Some(origination) = &sms.origination {
            let attribute =
                if origination.starts_with('+') { "AWS.MM.SMS.OriginationNumber" } else { "AWS.SNS.SMS.SenderID" };
            publish = publish.message_attributes(attribute, string_attribute(origination)?);
        }
        publish.send().await.map(|out| out.message_id.unwrap_or_default()).map_err(|e| provider_failure("Publish", e))
    }
}

impl PushSender for SnsPush {
    async fn send_push(&self, push: &OutgoingPush) -> PortResult<String> {
        let result = self
            .sns
            .publish()
            .target_arn(&push.endpoint)
            .message_structure("json")
            .message(push_payload(push))
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_endpoint_disabled_exception()) => {
                Err(PortError::Gone("push endpoint disabled".into()))
            }
            Err(e) => Err(provider_failure("Publish", e)),
        }
    }

    async fn register_device(&self, platform: PushPlatform, device_token: &str) -> PortResult<String> {
        let application = match platform {
            PushPlatform::Apns => self.applications.apns.as_deref(),
            PushPlatform::Fcm => self.applications.fcm.as_deref(),
        }
        .ok_or_else(|| PortError::Rejected(format!("push for {platform:?} is not configured")))?;
        let out = self
            .sns
            .create_platform_endpoint()
            .platform_application_arn(application)
            .token(device_token)
            .send()
            .await
            .map_err(|e| unavailable("CreatePlatformEndpoint", e))?;
        out.endpoint_arn.ok_or_else(|| PortError::Unavailable("CreatePlatformEndpoint returned no ARN".into()))
    }

    async fn delete_device(&self, endpoint: &str) -> PortResult<()> {
        self.sns
            .delete_endpoint()
            .endpoint_arn(endpoint)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("DeleteEndpoint", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_payload_carries_the_deep_link_for_every_platform() {
        let push = OutgoingPush {
            endpoint: "arn".into(),
            platform: PushPlatform::Apns,
            title: "Demo Store".into(),
            body: "Your cart is waiting".into(),
            deep_link: "https://r.test/r/abc".into(),
        };
        let payload: serde_json::Value = serde_json::from_str(&push_payload(&push)).unwrap();
        for platform in ["APNS", "APNS_SANDBOX", "GCM"] {
            let inner = payload[platform].as_str().unwrap();
            assert!(inner.contains("https://r.test/r/abc") && inner.contains("Your cart is waiting"), "{platform}");
        }
        assert_eq!(payload["default"], "Your cart is waiting");
    }
}
