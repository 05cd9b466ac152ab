//! Run a scheduled check: reload the checkout, decide, and send at most once per step.

use super::{Ports, UseCaseError, arm, count, publish, settings_of, update_checkout};
use crate::model::{ArmedCheck, Channel, CheckoutRecord, ContactState, MessageRecord};
use crate::ports::{
    CheckInput, ClaimOutcome, Clock, DomainEvent, Mailer, OutgoingEmail, PortError, Store,
};
use crate::render::{EmailInput, render_email};
use crate::rules::{Decision, StopReason, WaitReason, decide};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a check did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckOutcome {
    /// A message went out (or was claimed and failed at the provider, see `failure`).
    Sent {
        step: u32,
        provider_id: Option<String>,
        failure: Option<String>,
    },
    /// Another check already claimed this step.
    AlreadySent { step: u32 },
    /// Re-armed for later.
    Rearmed {
        step: u32,
        at: DateTime<Utc>,
        reason: WaitReason,
    },
    /// The sequence ended.
    Stopped { reason: StopReason },
    /// The schedule is not the one currently armed for the checkout (superseded), or the
    /// checkout is gone: nothing to do.
    Superseded,
}

/// Runs the check described by a schedule's input.
pub async fn run_check<P: Ports>(
    ports: &P,
    input: &CheckInput,
) -> Result<CheckOutcome, UseCaseError> {
    let store = ports.store();
    let Some(record) = store.load_checkout(&input.shop, &input.checkout).await? else {
        return Ok(CheckOutcome::Superseded);
    };
    let is_current = record
        .armed
        .as_ref()
        .is_some_and(|a| a.step == input.step && a.generation == input.generation);
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
            set_armed(ports, input, None).await?;
            CheckOutcome::Stopped { reason }
        }
        Decision::Wait {
            until,
            step,
            reason,
        } => {
            let generation = if step == input.step {
                input.generation + 1
            } else {
                0
            };
            let armed = arm(ports, &record, step, generation, until).await?;
            set_armed(ports, input, Some(armed)).await?;
            CheckOutcome::Rearmed {
                step,
                at: until,
                reason,
            }
        }
        Decision::Send {
            step,
            channel,
            template,
        } => {
            let outcome = send(ports, &record, step, channel, &template, now).await?;
            if history.is_empty() && matches!(outcome, CheckOutcome::Sent { .. }) {
                count(
                    ports,
                    &input.shop,
                    &input.checkout,
                    &[("abandoned".to_owned(), 1)],
                )
                .await?;
            }
            // Arm whatever comes next; the next check decides whether it is due.
            let next = settings.enabled_steps().find(|(index, _)| *index > step);
            let armed = match next {
                Some((next_step, next_settings)) => Some(
                    arm(
                        ports,
                        &record,
                        next_step,
                        0,
                        record.last_activity_at + next_settings.delay(),
                    )
                    .await?,
                ),
                None => None,
            };
            set_armed(ports, input, armed).await?;
            outcome
        }
    };
    tracing::info!(shop = %input.shop, step = input.step, outcome = ?outcome, "check ran");
    Ok(outcome)
}

/// Claims the step, then sends. The claim is written before the provider is called, and only
/// while the checkout is still open, so a step goes out at most once and never after an order.
async fn send<P: Ports>(
    ports: &P,
    record: &CheckoutRecord,
    step: u32,
    channel: Channel,
    template: &str,
    now: DateTime<Utc>,
) -> Result<CheckOutcome, UseCaseError> {
    let store = ports.store();
    let (shop, checkout) = (&record.shop, &record.snapshot.token);
    let mut message = MessageRecord {
        step,
        channel,
        claimed_at: now,
        sent_at: None,
        provider_id: None,
        failure: None,
        clicked_at: None,
    };
    match store.claim_message(shop, checkout, &message).await? {
        ClaimOutcome::Claimed => {}
        ClaimOutcome::AlreadyClaimed => return Ok(CheckOutcome::AlreadySent { step }),
        ClaimOutcome::CheckoutClosed => {
            return Ok(CheckOutcome::Stopped {
                reason: StopReason::Converted,
            });
        }
    }
    let (Some(to), Some(contact_key)) =
        (record.snapshot.contact.email.clone(), record.contact_key())
    else {
        return Ok(CheckOutcome::Stopped {
            reason: StopReason::NoContact,
        });
    };
    let config = ports.config();
    let base = config.public_base_url.trim_end_matches('/');
    let restore_url = format!(
        "{base}/r/{}",
        config.links.restore(shop, checkout, step, now)
    );
    let unsubscribe_url = format!(
        "{base}/u/{}",
        config
            .links
            .unsubscribe(shop, checkout, step, &contact_key, now)
    );
    let shop_name = shop_display_name(shop.as_str());
    let rendered = render_email(&EmailInput {
        template,
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
        tags: vec![
            ("shop".into(), shop.as_str().replace('.', "_")),
            ("step".into(), step.to_string()),
        ],
    };
    match ports.mailer().send(&email).await {
        Ok(provider_id) => {
            message.sent_at = Some(ports.clock().now());
            message.provider_id = Some(provider_id);
        }
        // At most once: a failed send is recorded, never retried into a possible duplicate.
        Err(PortError::Rejected(reason) | PortError::Unavailable(reason)) => {
            message.failure = Some(reason)
        }
        Err(PortError::Conflict) => message.failure = Some("conflict".into()),
    }
    store.update_message(shop, checkout, &message).await?;
    let counter = if message.failure.is_none() {
        format!("sent.step{step}.{}", channel.as_str())
    } else {
        format!("failed.step{step}")
    };
    count(ports, shop, checkout, &[(counter, 1)]).await?;
    if message.failure.is_none() {
        publish(
            ports,
            DomainEvent::RecoveryMessageSent {
                shop: shop.clone(),
                checkout: checkout.clone(),
                step,
                channel,
            },
        )
        .await;
    }
    Ok(CheckOutcome::Sent {
        step,
        provider_id: message.provider_id,
        failure: message.failure,
    })
}

/// Records which check is armed now, unless the record moved on meanwhile.
async fn set_armed<P: Ports>(
    ports: &P,
    input: &CheckInput,
    armed: Option<ArmedCheck>,
) -> Result<(), PortError> {
    update_checkout(ports, &input.shop, &input.checkout, |mut record| {
        let still_ours = record
            .armed
            .as_ref()
            .is_some_and(|a| a.step == input.step && a.generation == input.generation);
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
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
