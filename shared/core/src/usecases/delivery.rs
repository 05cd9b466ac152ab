//! Delivery events: what SES reports about sent email (through the configuration set's SNS topic)
//! and what shoppers text back (the two-way SMS topic). A permanent bounce or a complaint stops all
//! email to that address at that shop at once and may pause the shop's email for sender health;
//! the rest feed the counters. STOP and HELP are answered as carriers require.
//!
//! SES's documentation: "Contents of event data that Amazon SES publishes to Amazon SNS"
//! (`eventType`, `mail.tags`, `bounce.bounceType`, `bounce.bouncedRecipients[].emailAddress`,
//! `complaint.complainedRecipients[].emailAddress`).

use super::{DELIVERY_DEDUPE_TTL, PERSONAL_DATA_TTL, Ports, UseCaseError, count_by, settings_of, shop_display_name};
use crate::model::{
    Channel, ContactKey, InboundReply, PhoneE164, SenderPause, ShopDomain, SmsThreadKey, Suppression,
    SuppressionReason, WebhookId,
};
use crate::platform::shopify::normalise_phone;
use crate::ports::{
    Checkouts, Clock, Contacts, Conversations, Deliveries, OutgoingSms, SettingsStore, Shops, SmsSender, Stats,
};
use crate::rules::health;
use serde::Deserialize;
use std::collections::HashMap;

/// What handling a shopper's text needs: dedupe, the thread, contacts, settings, stats, and SMS
/// for the confirmation.
pub trait SmsReplyPorts:
    Ports<Store: Deliveries + Conversations + Contacts + SettingsStore + Stats + Checkouts, Messenger: SmsSender>
{
}
impl<P> SmsReplyPorts for P where
    P: Ports<Store: Deliveries + Conversations + Contacts + SettingsStore + Stats + Checkouts, Messenger: SmsSender>
{
}

/// One SES event (bounce, complaint, delivery, open, click), parsed at the edge from the JSON of an
/// SNS notification's `Message`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesEvent {
    /// The SNS notification's `MessageId`: the same on every redelivery of this event.
    #[serde(skip)]
    notification_id: String,
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
    /// The same notification again (SNS redelivers): nothing counted twice.
    Duplicate,
}

/// The shop an email was sent for: the `shop` tag that `recovery-check` sets (dots as `_`).
fn shop_of(mail: &SesMail) -> Option<ShopDomain> {
    let tag = mail.tags.get("shop")?.first()?;
    ShopDomain::parse(&tag.replace('_', ".")).ok()
}

impl SesEvent {
    /// Parses the JSON of an SNS notification's `Message`, with the notification's `MessageId`.
    /// Malformed input is an error, so the notification is retried and then dead-lettered, never
    /// silently dropped.
    pub fn from_json(notification_id: &str, message: &str) -> Result<Self, UseCaseError> {
        if notification_id.trim().is_empty() {
            return Err(UseCaseError::BadRequest("SES event: the SNS notification has no MessageId".into()));
        }
        let event: Self =
            serde_json::from_str(message).map_err(|e| UseCaseError::BadRequest(format!("SES event: {e}")))?;
        Ok(Self { notification_id: notification_id.to_owned(), ..event })
    }
}

/// Records one SES event: permanent bounces and complaints suppress the address, everything is
/// counted, and the counts may pause the shop's email. An event SNS delivers again is recognised
/// by its notification id before anything is counted: redeliveries alone never pause a shop.
pub async fn record_ses_event<P: Ports<Store: Contacts + Shops + Stats + Deliveries>>(
    ports: &P,
    event: SesEvent,
) -> Result<DeliveryOutcome, UseCaseError> {
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
    // Only a well-formed event of a kind Reclaim counts is remembered, and before anything is
    // counted.
    let seen = WebhookId::new(format!("ses-{}", event.notification_id))
        .map_err(|e| UseCaseError::BadRequest(format!("SES event: {e}")))?;
    let now = ports.clock().now();
    if !ports.store().claim_delivery(&shop, &seen, now + DELIVERY_DEDUPE_TTL).await? {
        return Ok(DeliveryOutcome::Duplicate);
    }
    for address in &suppress {
        let key = ContactKey::for_email(&shop, address);
        let suppression = Suppression { reason, at: now };
        ports
            .store()
            .update_contact(&shop, &key, ports.clock().now() + super::CONTACT_TTL, |state| {
                state.suppress(Channel::Email, &suppression)
            })
            .await?;
    }
    let shard_key = event.mail.destination.first().map(String::as_str).unwrap_or(counter);
    count_by(ports, &shop, shard_key, &[(counter.to_owned(), 1)]).await?;
    tracing::info!(%shop, counter, suppressed = suppress.len(), "delivery event recorded");
    if !suppress.is_empty() {
        check_sender_health(ports, &shop).await?;
    }
    Ok(if suppress.is_empty() {
        DeliveryOutcome::Counted
    } else {
        DeliveryOutcome::Suppressed { addresses: suppress.len() }
    })
}

/// Pauses the shop's email when its complaint or bounce rate over the last
/// [`health::HEALTH_WINDOW_DAYS`] days crosses the threshold. Only the merchant resumes it.
async fn check_sender_health<P: Ports<Store: Shops + Stats>>(ports: &P, shop: &ShopDomain) -> Result<(), UseCaseError> {
    let today = ports.clock().now().date_naive();
    let stats =
        ports.store().stats(shop, today - chrono::Duration::days(health::HEALTH_WINDOW_DAYS - 1), today).await?;
    let figure = |name: &str| stats.get(name).copied().unwrap_or(0);
    let (sends, bounces, complaints) =
        (figure("email.sent"), figure("email.bounces.permanent"), figure("email.complaints"));
    let Some(reason) = health::pause_reason(sends, bounces, complaints) else {
        return Ok(());
    };
    let pause = SenderPause { at: ports.clock().now(), reason: reason.to_owned(), sends, bounces, complaints };
    let mut paused_now = false;
    ports
        .store()
        .update_shop_state(shop, |state| {
            paused_now = state.email_pause.is_none();
            if paused_now {
                state.email_pause = Some(pause.clone());
            }
            paused_now
        })
        .await?;
    if paused_now {
        count_by(ports, shop, reason, &[("email.paused".to_owned(), 1)]).await?;
        tracing::warn!(%shop, reason, sends, bounces, complaints, "email paused for sender health");
    }
    Ok(())
}

/// An inbound SMS as SNS two-way messaging publishes it (End User Messaging SMS / Pinpoint:
/// `originationNumber` is the shopper, `destinationNumber` the number they replied to).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InboundSmsBody {
    origination_number: String,
    destination_number: String,
    message_body: String,
    inbound_message_id: String,
}

/// A shopper's text, parsed at the edge: who sent it (a valid number), to which of our numbers,
/// what it says and the provider's id.
#[derive(Debug, Clone)]
pub struct InboundSms {
    shopper: PhoneE164,
    destination_number: String,
    message_body: String,
    inbound_message_id: String,
}

impl InboundSms {
    /// Parses the JSON of an SNS notification's `Message`; malformed input is an error (retried,
    /// then dead-lettered).
    pub fn from_json(message: &str) -> Result<Self, UseCaseError> {
        let body: InboundSmsBody =
            serde_json::from_str(message).map_err(|e| UseCaseError::BadRequest(format!("inbound SMS: {e}")))?;
        let shopper = normalise_phone(&body.origination_number, None)
            .ok_or_else(|| UseCaseError::BadRequest("inbound SMS: originationNumber is not a phone number".into()))?;
        Ok(Self {
            shopper,
            destination_number: body.destination_number,
            message_body: body.message_body,
            inbound_message_id: body.inbound_message_id,
        })
    }
}

/// What an SMS reply did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyOutcome {
    /// SMS suppressed and one confirmation sent.
    Stopped,
    /// The HELP answer was sent.
    Helped,
    /// Stored with its cart.
    Stored,
    /// Seen before (SNS redelivery): nothing done.
    Duplicate,
    /// No conversation of Reclaim's with this number.
    Ignored,
}

/// How long after a shop's last text a STOP on a shared number still reaches that shop.
pub const SHARED_NUMBER_STOP_WINDOW: chrono::Duration = chrono::Duration::days(30);

/// Handles a shopper's SMS reply (the JSON of an SNS notification's `Message`). A number may be
/// shared by several shops, so the reply is read against every shop that texted the shopper
/// from it: STOP and its variants suppress SMS to that number at every shop that texted it in
/// the last 30 days and send one confirmation naming them; HELP answers for the shop that texted
/// last (program, message frequency, rates notice, support contact); anything else is stored with
/// that shop's cart. Malformed input is an error (retried, then dead-lettered).
pub async fn record_sms_reply<P: SmsReplyPorts>(ports: &P, inbound: InboundSms) -> Result<ReplyOutcome, UseCaseError> {
    let shopper = inbound.shopper.clone();
    let store = ports.store();
    let mut threads = store.sms_threads(&SmsThreadKey::new(Some(&inbound.destination_number), &shopper)).await?;
    if threads.is_empty() {
        threads = store.sms_threads(&SmsThreadKey::new(None, &shopper)).await?;
    }
    let now = ports.clock().now();
    threads.retain(|thread| now - thread.texted_at <= SHARED_NUMBER_STOP_WINDOW);
    let Some(latest) = threads.first().cloned() else {
        tracing::info!("SMS reply outside any conversation");
        return Ok(ReplyOutcome::Ignored);
    };
    let (shop, checkout) = (latest.shop.clone(), latest.checkout.clone());
    let reply = classify_sms_reply(&inbound.message_body);
    if reply == SmsReply::Stop {
        // The opt-out first, at every shop: it is idempotent, and if it fails the redelivery does
        // it again. The dedupe claim follows it, so a failed write never turns the STOP into a
        // "duplicate".
        let suppression = Suppression { reason: SuppressionReason::StopReply, at: now };
        for thread in &threads {
            let key = ContactKey::for_phone(&thread.shop, &shopper);
            store
                .update_contact(&thread.shop, &key, ports.clock().now() + super::CONTACT_TTL, |state| {
                    state.suppress(Channel::Sms, &suppression)
                })
                .await?;
        }
    }
    let id = WebhookId::new(format!("sms-{}", inbound.inbound_message_id))
        .map_err(|e| UseCaseError::BadRequest(format!("inbound SMS: {e}")))?;
    if !store.claim_delivery(&shop, &id, now + DELIVERY_DEDUPE_TTL).await? {
        return Ok(ReplyOutcome::Duplicate);
    }
    let settings = settings_of(ports, &shop).await?;
    let program = settings.sms.program_name.clone().unwrap_or_else(|| shop_display_name(shop.as_str()));
    let reply_from = Some(inbound.destination_number.clone());
    let (outcome, answer, counter) = match reply {
        SmsReply::Stop => {
            let mut programs = Vec::new();
            for thread in &threads {
                let settings = settings_of(ports, &thread.shop).await?;
                let name = settings.sms.program_name.clone().unwrap_or_else(|| shop_display_name(thread.shop.as_str()));
                if !programs.contains(&name) {
                    programs.push(name);
                }
                if thread.shop != shop {
                    count_by(ports, &thread.shop, thread.checkout.as_str(), &[("sms.stops".to_owned(), 1)]).await?;
                }
            }
            let text = format!(
                "You are unsubscribed from {} and will get no more messages from {}. Reply HELP for help.",
                programs.join(", "),
                if programs.len() > 1 { "them" } else { "it" }
            );
            (ReplyOutcome::Stopped, Some(text), "sms.stops")
        }
        SmsReply::Help => {
            let steps = settings.enabled_steps().filter(|(_, s)| s.channels.contains(&Channel::Sms)).count().max(1);
            let support = settings.sms.support_contact.clone().unwrap_or_else(|| format!("https://{shop}"));
            let text = format!(
                "{program} cart reminders: up to {steps} msgs per abandoned cart. Msg & data rates may apply. \
                 Reply STOP to opt out. Help: {support}"
            );
            (ReplyOutcome::Helped, Some(text), "sms.help")
        }
        SmsReply::Other => {
            let reply = InboundReply {
                id: inbound.inbound_message_id.clone(),
                at: now,
                channel: Channel::Sms,
                body: inbound.message_body,
            };
            store.save_reply(&shop, &checkout, &reply, reply.at + PERSONAL_DATA_TTL).await?;
            (ReplyOutcome::Stored, None, "sms.replies")
        }
    };
    if let Some(body) = answer {
        // A compliance answer: transactional, no marketing, no link.
        let sms = OutgoingSms { to: shopper, body, origination: reply_from, promotional: false };
        ports.messenger().send_sms(&sms).await?;
    }
    count_by(ports, &shop, checkout.as_str(), &[(counter.to_owned(), 1)]).await?;
    tracing::info!(%shop, ?outcome, "SMS reply handled");
    Ok(outcome)
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
    // As carriers read keywords: case, spacing and punctuation do not matter ("Stop all",
    // "stop.", "STOP ALL", "opt-out"); anything more is a message, not a keyword.
    let word: String = text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "REVOKE" | "OPTOUT" | "ARRET" | "ARRÊT" => {
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
            "Stop all",
            "STOP ALL",
            "stop.",
            "Stop!",
            "opt-out",
            "Arrêt",
        ] {
            assert_eq!(classify_sms_reply(stop), SmsReply::Stop, "{stop:?}");
        }
        assert_eq!(classify_sms_reply(" help "), SmsReply::Help);
        for other in ["stop it please", "Is shipping free?", "", "STOPP"] {
            assert_eq!(classify_sms_reply(other), SmsReply::Other, "{other:?}");
        }
    }
}
