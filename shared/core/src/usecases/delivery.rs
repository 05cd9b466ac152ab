//! Delivery events: what SES reports about sent email (through the configuration set's SNS topic)
//! and what shoppers text back. A permanent bounce or a complaint stops all email to that address
//! at that shop at once; the rest feed the counters.
//!
//! SES's documentation: "Contents of event data that Amazon SES publishes to Amazon SNS"
//! (`eventType`, `mail.tags`, `bounce.bounceType`, `bounce.bouncedRecipients[].emailAddress`,
//! `complaint.complainedRecipients[].emailAddress`).

use super::{Ports, UseCaseError, count_by};
use crate::model::{ContactKey, ShopDomain, Suppression, SuppressionReason};
use crate::ports::{Clock, Store};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesEvent {
    event_type: String,
    mail: SesMail,
    #[serde(default)]
    bounce: Option<SesBounce>,
    #[serde(default)]
    complaint: Option<SesComplaint>,
}

#[derive(Deserialize)]
struct SesMail {
    #[serde(default)]
    tags: HashMap<String, Vec<String>>,
    #[serde(default)]
    destination: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesBounce {
    bounce_type: String,
    #[serde(default)]
    bounced_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesComplaint {
    #[serde(default)]
    complained_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: String,
}

/// What an event did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Addresses suppressed (permanent bounce or complaint).
    Suppressed { addresses: usize },
    /// Counted only.
    Counted,
    /// Not one of Reclaim's messages (no shop tag) or a type Reclaim does not track.
    Ignored,
}

/// The shop an email was sent for: the `shop` tag that `recovery-check` sets (dots as `_`).
fn shop_of(mail: &SesMail) -> Option<ShopDomain> {
    let tag = mail.tags.get("shop")?.first()?;
    ShopDomain::parse(&tag.replace('_', ".")).ok()
}

/// Records one SES event (the JSON of an SNS notification's `Message`). Malformed input is an
/// error, so the notification is retried and then dead-lettered, never silently dropped.
pub async fn record_ses_event<P: Ports>(ports: &P, message: &str) -> Result<DeliveryOutcome, UseCaseError> {
    let event: SesEvent =
        serde_json::from_str(message).map_err(|e| UseCaseError::BadRequest(format!("SES event: {e}")))?;
    let Some(shop) = shop_of(&event.mail) else {
        return Ok(DeliveryOutcome::Ignored);
    };
    let (counter, suppress, reason) = match (event.event_type.as_str(), &event.bounce, &event.complaint) {
        ("Bounce", Some(bounce), _) if bounce.bounce_type == "Permanent" => (
            "email.bounces.permanent",
            bounce.bounced_recipients.iter().map(|r| r.email_address.clone()).collect(),
            SuppressionReason::Bounced,
        ),
        ("Bounce", Some(_), _) => ("email.bounces.transient", Vec::new(), SuppressionReason::Bounced),
        ("Complaint", _, Some(complaint)) => (
            "email.complaints",
            complaint.complained_recipients.iter().map(|r| r.email_address.clone()).collect(),
            SuppressionReason::Complained,
        ),
        ("Delivery", ..) => ("email.delivered", Vec::new(), SuppressionReason::Bounced),
        ("Open", ..) => ("email.opens", Vec::new(), SuppressionReason::Bounced),
        ("Click", ..) => ("email.clicks", Vec::new(), SuppressionReason::Bounced),
        ("Bounce" | "Complaint", ..) => {
            return Err(UseCaseError::BadRequest("SES event: missing bounce or complaint".into()));
        }
        _ => return Ok(DeliveryOutcome::Ignored),
    };
    let now = ports.clock().now();
    for address in &suppress {
        let key = ContactKey::for_email(&shop, address);
        ports.store().suppress_email(&shop, &key, &Suppression { reason, at: now }).await?;
    }
    let shard_key = event.mail.destination.first().map(String::as_str).unwrap_or(counter);
    count_by(ports, &shop, shard_key, &[(counter.to_owned(), 1)]).await?;
    tracing::info!(%shop, counter, suppressed = suppress.len(), "delivery event recorded");
    Ok(if suppress.is_empty() {
        DeliveryOutcome::Counted
    } else {
        DeliveryOutcome::Suppressed { addresses: suppress.len() }
    })
}

/// What a shopper's text reply asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsReply {
    Stop,
    Help,
    Other,
}

/// Classifies an SMS reply: the carriers' opt-out and help keywords, in any case, with spaces.
pub fn classify_sms_reply(text: &str) -> SmsReply {
    let word = text.trim().to_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "REVOKE" | "OPT OUT" | "OPTOUT" | "ARRET" => {
            SmsReply::Stop
        }
        "HELP" => SmsReply::Help,
        _ => SmsReply::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_keywords_in_every_form() {
        for stop in [
            "STOP",
            "stop",
            " Stop ",
            "STOPALL",
            "unsubscribe",
            "Cancel",
            "END",
            "quit",
            "REVOKE",
            "opt out",
            "OPTOUT",
            "arret",
        ] {
            assert_eq!(classify_sms_reply(stop), SmsReply::Stop, "{stop:?}");
        }
        assert_eq!(classify_sms_reply(" help "), SmsReply::Help);
        for other in ["stop it please", "Is shipping free?", "", "STOPP"] {
            assert_eq!(classify_sms_reply(other), SmsReply::Other, "{other:?}");
        }
    }
}
