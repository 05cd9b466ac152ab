//! Run a scheduled check: reload the checkout, decide, and send at most once per step.

use super::{Ports, UseCaseError, arm, count, publish, settings_of, update_checkout};
use crate::model::{ArmedCheck, Channel, CheckoutRecord, ContactState, MessageRecord};
use crate::ports::{CheckInput, ClaimOutcome, Clock, DomainEvent, Mailer, OutgoingEmail, PortError, Store};
use crate::render::{EmailInput, render_email};
use crate::rules::{Decision, Incentive, RecoverySettings, StopReason, WaitReason, decide};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a check did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckOutcome {
    /// A message went out (or was claimed and failed at the provider, see `failure`).
    Sent { step: u32, provider_id: Option<String>, failure: Option<String> },
    /// Another check already claimed this step.
    AlreadySent { step: u32 },
    /// Re-armed for later.
    Rearmed { step: u32, at: DateTime<Utc>, reason: WaitReason },
    /// The sequence ended.
    Stopped { reason: StopReason },
    /// The schedule is not the one currently armed for the checkout (superseded), or the
    /// checkout is gone: nothing to do.
    Superseded,
}

/// What [`decide`] chose to send.
struct Plan {
    step: u32,
    channel: Channel,
    template: String,
    variant: String,
    incentive: Option<Incentive>,
}

/// Runs the check described by a schedule's input.
pub async fn run_check<P: Ports>(ports: &P, input: &CheckInput) -> Result<CheckOutcome, UseCaseError> {
    let store = ports.store();
    let Some(record) = store.load_checkout(&input.shop, &input.checkout).await? else {
        return Ok(CheckOutcome::Superseded);
    };
    let is_current = record.armed.as_ref().is_some_and(|a| a.step == input.step && a.generation == input.generation);
    if !is_current {
        return Ok(CheckOutcome::Superseded);
    }
    let settings = settings_of(ports, &input.shop).await?;
    let contact = match record.contact_key() {
        Some(key) => store.contact(&input.shop, &key).await?,
        None => ContactState::default(),
    };
    let history = store.messages(&input.shop, &input.checkout).await?;
    let now = ports.clock().now();
    let outcome = match decide(&record, &history, &contact, &settings, now) {
        Decision::Stop { reason } => {
            let newly_held_out = finish(ports, input, reason == StopReason::Holdout).await?;
            if newly_held_out {
                let counters = [("abandoned".to_owned(), 1), ("holdout".to_owned(), 1)];
                count(ports, &input.shop, &input.checkout, &counters).await?;
            }
            CheckOutcome::Stopped { reason }
        }
        Decision::Wait { until, step, reason } => {
            let generation = if step == input.step { input.generation + 1 } else { 0 };
            let armed = arm(ports, &record, step, generation, until).await?;
            set_armed(ports, input, Some(armed)).await?;
            CheckOutcome::Rearmed { step, at: until, reason }
        }
        Decision::Send { step, channel, template, variant, incentive } => {
            let plan = Plan { step, channel, template, variant, incentive };
            let outcome = send(ports, &record, &plan, now).await?;
            if history.is_empty() && matches!(outcome, CheckOutcome::Sent { .. }) {
                count(ports, &input.shop, &input.checkout, &[("abandoned".to_owned(), 1)]).await?;
            }
            set_armed(ports, input, arm_next(ports, &record, &settings, step).await?).await?;
            outcome
        }
    };
    tracing::info!(shop = %input.shop, step = input.step, outcome = ?outcome, "check ran");
    Ok(outcome)
}

/// Arms the step after `step`, if there is one; the next check decides whether it is due.
async fn arm_next<P: Ports>(
    ports: &P,
    record: &CheckoutRecord,
    settings: &RecoverySettings,
    step: u32,
) -> Result<Option<ArmedCheck>, PortError> {
    match settings.enabled_steps().find(|(index, _)| *index > step) {
        Some((next, next_settings)) => {
            Ok(Some(arm(ports, record, next, 0, record.last_activity_at + next_settings.delay()).await?))
        }
        None => Ok(None),
    }
}

/// Claims the step, then sends. The claim is written before the provider is called, and only
/// while the checkout is still open, so a step goes out at most once and never after an order.
async fn send<P: Ports>(
    ports: &P,
    record: &CheckoutRecord,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<CheckOutcome, UseCaseError> {
    let store = ports.store();
    let (shop, checkout, step) = (&record.shop, &record.snapshot.token, plan.step);
    let mut message = MessageRecord {
        step,
        channel: plan.channel,
        claimed_at: now,
        sent_at: None,
        provider_id: None,
        failure: None,
        clicked_at: None,
        variant: Some(plan.variant.clone()),
        incentive_percent: plan.incentive.map(|i| i.percent),
    };
    match store.claim_message(shop, checkout, &message).await? {
        ClaimOutcome::Claimed => {}
        ClaimOutcome::AlreadyClaimed => return Ok(CheckOutcome::AlreadySent { step }),
        ClaimOutcome::CheckoutClosed => return Ok(CheckOutcome::Stopped { reason: StopReason::Converted }),
    }
    let Some(contact_key) = record.contact_key() else {
        return Ok(CheckOutcome::Stopped { reason: StopReason::NoContact });
    };
    let result = match plan.channel {
        Channel::Email => send_email(ports, record, plan, &contact_key, now).await?,
        other => Err(format!("{} is not deliverable in this version", other.as_str())),
    };
    match result {
        Ok(provider_id) => {
            message.sent_at = Some(ports.clock().now());
            message.provider_id = Some(provider_id);
        }
        // At most once: a failed send is recorded, never retried into a possible duplicate.
        Err(reason) => message.failure = Some(reason),
    }
    store.update_message(shop, checkout, &message).await?;
    let mut counters = Vec::new();
    if message.failure.is_none() {
        store.record_contact_send(shop, &contact_key, now, plan.incentive.is_some()).await?;
        counters.push((format!("sent.step{step}.{}", plan.channel.as_str()), 1));
        counters.push((format!("sent.step{step}.variant.{}", plan.variant), 1));
        if plan.incentive.is_some() {
            counters.push((format!("incentive.step{step}"), 1));
        }
        let event = DomainEvent::RecoveryMessageSent {
            shop: shop.clone(),
            checkout: checkout.clone(),
            step,
            channel: plan.channel,
        };
        publish(ports, event).await;
    } else {
        counters.push((format!("failed.step{step}"), 1));
    }
    count(ports, shop, checkout, &counters).await?;
    Ok(CheckOutcome::Sent { step, provider_id: message.provider_id, failure: message.failure })
}

/// Renders and sends the recovery email; the provider's refusal is an `Err` to record.
async fn send_email<P: Ports>(
    ports: &P,
    record: &CheckoutRecord,
    plan: &Plan,
    contact_key: &crate::model::ContactKey,
    now: DateTime<Utc>,
) -> Result<Result<String, String>, UseCaseError> {
    let Some(to) = record.snapshot.contact.email.clone() else {
        return Ok(Err("no email address".into()));
    };
    let (shop, checkout, step) = (&record.shop, &record.snapshot.token, plan.step);
    let config = ports.config();
    let base = config.public_base_url.trim_end_matches('/');
    let restore_url = format!("{base}/r/{}", config.links.restore(shop, checkout, step, now));
    let unsubscribe_url = format!("{base}/u/{}", config.links.unsubscribe(shop, checkout, step, contact_key, now));
    let shop_name = shop_display_name(shop.as_str());
    let rendered = render_email(&EmailInput {
        template: &plan.template,
        shop_name: &shop_name,
        checkout: &record.snapshot,
        restore_url: &restore_url,
        unsubscribe_url: &unsubscribe_url,
    })?;
    let email = OutgoingEmail {
        from: config.sender.clone(),
        to,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        unsubscribe_url,
        tags: vec![("shop".into(), shop.as_str().replace('.', "_")), ("step".into(), step.to_string())],
    };
    Ok(match ports.mailer().send(&email).await {
        Ok(id) => Ok(id),
        Err(PortError::Rejected(reason) | PortError::Unavailable(reason)) => Err(reason),
        Err(PortError::Conflict) => Err("conflict".into()),
    })
}

/// Clears what is armed at the end of a sequence, and marks a holdout. Returns whether the
/// checkout was newly marked as holdout (so it is counted once).
async fn finish<P: Ports>(ports: &P, input: &CheckInput, holdout: bool) -> Result<bool, PortError> {
    let mut newly = false;
    update_checkout(ports, &input.shop, &input.checkout, |mut record| {
        let still_ours =
            record.armed.as_ref().is_some_and(|a| a.step == input.step && a.generation == input.generation);
        still_ours.then(|| {
            newly = holdout && !record.holdout;
            record.holdout |= holdout;
            record.armed = None;
            record
        })
    })
    .await?;
    Ok(newly)
}

/// Records which check is armed now, unless the record moved on meanwhile.
async fn set_armed<P: Ports>(ports: &P, input: &CheckInput, armed: Option<ArmedCheck>) -> Result<(), PortError> {
    update_checkout(ports, &input.shop, &input.checkout, |mut record| {
        let still_ours =
            record.armed.as_ref().is_some_and(|a| a.step == input.step && a.generation == input.generation);
        still_ours.then(|| {
            record.armed = armed.clone();
            record
        })
    })
    .await?;
    Ok(())
}

/// "demo-store.myshopify.com" -> "Demo Store".
fn shop_display_name(domain: &str) -> String {
    domain
        .trim_end_matches(".myshopify.com")
        .split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
