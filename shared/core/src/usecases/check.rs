//! Run a scheduled check: reload the checkout, decide, and send at most once per step.

use super::discounts::code_for_step;
use super::{
    PERSONAL_DATA_TTL, Ports, UseCaseError, arm, count, publish, settings_of, shop_display_name, update_checkout,
};
use crate::links::{RESTORE_LINK_LIFETIME, short_code};
use crate::model::{
    ArmedCheck, Channel, CheckoutRecord, ConsentEvidence, ContactKey, ContactState, MessageRecord, SmsThreadKey,
};
use crate::ports::{
    Carts, CheckInput, Checkouts, ClaimOutcome, Clock, Contacts, Conversations, DiscountApi, DomainEvent, EmailSender,
    EventBus, MessageLog, Messenger, OutgoingEmail, OutgoingPush, OutgoingSms, PortError, PushSender, Scheduler, Shops,
    ShortLinks, SmsSender, Store, Vault,
};
use crate::render::{EmailInput, render_email, render_short};
use crate::rules::{DELIVERABLE_CHANNELS, Decision, Incentive, RecoverySettings, StopReason, WaitReason, decide_with};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a check needs: every storage role, the scheduler, every channel, events, and the vault
/// and the platform for discount codes.
pub trait CheckPorts:
    Ports<Store: Store, Scheduler: Scheduler, Messenger: Messenger, Events: EventBus, Vault: Vault, Platform: DiscountApi>
{
}
impl<P> CheckPorts for P where
    P: Ports<
            Store: Store,
            Scheduler: Scheduler,
            Messenger: Messenger,
            Events: EventBus,
            Vault: Vault,
            Platform: DiscountApi,
        >
{
}

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

/// How long a check waits while the shop's email is paused, before it looks again.
const PAUSE_RECHECK: chrono::Duration = chrono::Duration::hours(1);

/// Runs the check described by a schedule's input.
pub async fn run_check<P: CheckPorts>(ports: &P, input: &CheckInput) -> Result<CheckOutcome, UseCaseError> {
    let store = ports.store();
    let Some(record) = store.load_checkout(&input.shop, &input.checkout).await? else {
        return Ok(CheckOutcome::Superseded);
    };
    let is_current = record.armed.as_ref().is_some_and(|a| a.step == input.step && a.generation == input.generation);
    if !is_current {
        return Ok(CheckOutcome::Superseded);
    }
    if store.shop_state(&input.shop).await?.uninstalled_at.is_some() {
        finish(ports, input, false).await?;
        return Ok(CheckOutcome::Stopped { reason: StopReason::Uninstalled });
    }
    let settings = settings_of(ports, &input.shop).await?;
    let contact = contact_of(ports, &record).await?;
    let history = store.messages(&input.shop, &input.checkout).await?;
    let now = ports.clock().now();
    let outcome = match decide_on_available_channels(ports, &record, &history, &contact, &settings, now).await? {
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
            let outcome = send(ports, &record, &contact, &settings, &plan, now).await?;
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

/// What the checkout's contact asked for: the email's state, with the SMS consent and suppression
/// kept under the phone number laid over it.
pub(super) async fn contact_of<P: Ports<Store: Contacts>>(
    ports: &P,
    record: &CheckoutRecord,
) -> Result<ContactState, PortError> {
    let store = ports.store();
    let primary = match record.contact_key() {
        Some(key) => store.contact(&record.shop, &key).await?,
        None => ContactState::default(),
    };
    match record.snapshot.contact.phone_key(&record.shop) {
        Some(phone) if Some(&phone) != record.contact_key().as_ref() => {
            Ok(primary.with_phone_state(store.contact(&record.shop, &phone).await?))
        }
        _ => Ok(primary),
    }
}

/// [`decide_with`] on the channels available now. Email is out while the shop's sender health has
/// paused it; SMS is out once the month's budget is spent; either way the step falls back to the
/// next channel. When only paused email could reach the shopper, the check waits for the
/// merchant's acknowledgement instead of ending the sequence.
async fn decide_on_available_channels<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    history: &[crate::model::MessageRecord],
    contact: &ContactState,
    settings: &RecoverySettings,
    now: DateTime<Utc>,
) -> Result<Decision, UseCaseError> {
    let shop = &record.shop;
    let email_paused = ports.store().shop_state(shop).await?.email_pause.is_some();
    let mut unavailable: Vec<Channel> = Vec::new();
    let mut paused_step = None;
    loop {
        let deliverable: Vec<Channel> =
            DELIVERABLE_CHANNELS.iter().copied().filter(|c| !unavailable.contains(c)).collect();
        let decision = decide_with(record, history, contact, settings, now, &deliverable);
        match (&decision, paused_step) {
            (Decision::Send { step, channel: Channel::Email, .. }, _) if email_paused => {
                paused_step = Some(*step);
                unavailable.push(Channel::Email);
            }
            (Decision::Send { channel: Channel::Sms, .. }, _) => {
                let month = now.format("%Y-%m").to_string();
                if ports.store().reserve_sms(shop, &month, settings.sms.monthly_budget).await? {
                    return Ok(decision);
                }
                count(ports, shop, &record.snapshot.token, &[("sms.budget_exhausted".to_owned(), 1)]).await?;
                unavailable.push(Channel::Sms);
            }
            (Decision::Stop { .. }, Some(step)) => {
                return Ok(Decision::Wait { until: now + PAUSE_RECHECK, step, reason: WaitReason::SenderPaused });
            }
            _ => return Ok(decision),
        }
    }
}

/// Arms the step after `step`, if there is one; the next check decides whether it is due.
async fn arm_next<P: CheckPorts>(
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
async fn send<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    contact: &ContactState,
    settings: &RecoverySettings,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<CheckOutcome, UseCaseError> {
    let store = ports.store();
    let (shop, checkout, step) = (&record.shop, &record.snapshot.token, plan.step);
    let mut message =
        MessageRecord { variant: Some(plan.variant.clone()), ..MessageRecord::claimed(step, plan.channel, now) };
    let expires_at = now + PERSONAL_DATA_TTL;
    match store.claim_message(shop, checkout, &message, expires_at).await? {
        ClaimOutcome::Claimed => {}
        ClaimOutcome::AlreadyClaimed => return Ok(CheckOutcome::AlreadySent { step }),
        ClaimOutcome::CheckoutClosed => return Ok(CheckOutcome::Stopped { reason: StopReason::Converted }),
    }
    let Some(contact_key) = record.contact_key() else {
        return Ok(CheckOutcome::Stopped { reason: StopReason::NoContact });
    };
    // A granted incentive travels as a single-use code; without one the step goes without it.
    if let Some(incentive) = plan.incentive {
        message.discount_code = code_for_step(ports, record, step, incentive, settings, now).await?;
        message.incentive_percent = message.discount_code.as_ref().map(|_| incentive.percent);
    }
    if plan.channel == Channel::Sms {
        message.sms_consent = sms_consent_evidence(ports, record, contact).await?;
    }
    let outbound = Outbound { ports, record, plan, now, discount: message.discount_code.as_deref() };
    let result = match plan.channel {
        Channel::Email => outbound.email(&contact_key).await?,
        Channel::Sms => outbound.sms(settings).await?,
        Channel::Push => outbound.push(contact, &contact_key).await?,
    };
    match result {
        Ok(provider_id) => {
            message.sent_at = Some(ports.clock().now());
            message.provider_id = Some(provider_id);
        }
        // At most once: a failed send is recorded, never retried into a possible duplicate.
        Err(reason) => message.failure = Some(reason),
    }
    store.update_message(shop, checkout, &message, expires_at).await?;
    let mut counters = Vec::new();
    if message.failure.is_none() {
        let with_incentive = message.discount_code.is_some();
        store
            .update_contact(shop, &contact_key, |state| {
                state.record_send(now, with_incentive);
                true
            })
            .await?;
        counters.push((format!("sent.step{step}.{}", plan.channel.as_str()), 1));
        counters.push((format!("sent.step{step}.variant.{}", plan.variant), 1));
        counters.push((format!("{}.sent", plan.channel.as_str()), 1));
        if with_incentive {
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

/// One claimed message on its way out. Each channel renders and sends; the provider's refusal is
/// an inner `Err` to record on the message, an outer error fails the check.
struct Outbound<'a, P> {
    ports: &'a P,
    record: &'a CheckoutRecord,
    plan: &'a Plan,
    now: DateTime<Utc>,
    /// The step's discount code, applied by the restore link.
    discount: Option<&'a str>,
}

type SendResult = Result<Result<String, String>, UseCaseError>;

impl<P: CheckPorts> Outbound<'_, P> {
    fn base_url(&self) -> &str {
        self.ports.config().public_base_url.trim_end_matches('/')
    }

    /// The signed restore token of this step (with its discount code, if any).
    fn restore_token(&self) -> String {
        let (shop, checkout) = (&self.record.shop, &self.record.snapshot.token);
        self.ports.config().links.restore_with_discount(shop, checkout, self.plan.step, self.discount, self.now)
    }

    /// The percentage of the step's incentive.
    fn record_incentive(&self) -> Option<u8> {
        self.plan.incentive.map(|i| i.percent)
    }

    async fn email(&self, contact_key: &ContactKey) -> SendResult {
        let record = self.record;
        let Some(to) = record.snapshot.contact.email.clone() else {
            return Ok(Err("no email address".into()));
        };
        let (shop, checkout, step) = (&record.shop, &record.snapshot.token, self.plan.step);
        let config = self.ports.config();
        let base = self.base_url();
        let restore_url = format!("{base}/r/{}", self.restore_token());
        let unsubscribe_url =
            format!("{base}/u/{}", config.links.unsubscribe(shop, checkout, step, contact_key, self.now));
        let rendered = render_email(&EmailInput {
            template: &self.plan.template,
            shop_name: &shop_display_name(shop.as_str()),
            checkout: &record.snapshot,
            restore_url: &restore_url,
            unsubscribe_url: &unsubscribe_url,
            discount: self.discount.zip(self.record_incentive()),
        })?;
        let email = OutgoingEmail {
            from: config.sender.clone(),
            to,
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            unsubscribe_url,
            tags: vec![("shop".into(), shop.as_str().replace('.', "_")), ("step".into(), step.to_string())],
            attachment: None,
        };
        Ok(provider_outcome(self.ports.messenger().send_email(&email).await))
    }

    /// A short text with a short restore link, from the shop's origination identity, marked
    /// promotional; remembers the conversation so that a reply finds this cart.
    async fn sms(&self, settings: &RecoverySettings) -> SendResult {
        let record = self.record;
        let Some(to) = record.snapshot.contact.phone.clone() else {
            return Ok(Err("no phone number".into()));
        };
        let store = self.ports.store();
        let token = self.restore_token();
        let code = short_code(&token);
        let expires_at = self.now + RESTORE_LINK_LIFETIME;
        store.save_short_link(&record.shop, &record.snapshot.token, &code, &token, expires_at).await?;
        let link = format!("{}/s/{code}", self.base_url());
        let body = render_short(Channel::Sms, &self.plan.template, &shop_display_name(record.shop.as_str()), &link)?;
        let origination = settings.sms.origination_identity.clone();
        let thread = SmsThreadKey::new(origination.as_deref(), &to);
        store.save_sms_thread(&thread, &record.shop, &record.snapshot.token, self.now + PERSONAL_DATA_TTL).await?;
        let sms = OutgoingSms { to, body, origination, promotional: true };
        Ok(provider_outcome(self.ports.messenger().send_sms(&sms).await))
    }

    /// A notification with a deep link to every registered device; endpoints the push service
    /// reports disabled are deleted and forgotten.
    async fn push(&self, contact: &ContactState, contact_key: &ContactKey) -> SendResult {
        let record = self.record;
        let shop_name = shop_display_name(record.shop.as_str());
        let body = render_short(Channel::Push, &self.plan.template, &shop_name, "")?;
        let deep_link = format!("{}/r/{}", self.base_url(), self.restore_token());
        let messenger = self.ports.messenger();
        let mut delivered = None;
        let mut gone = Vec::new();
        for device in &contact.push_endpoints {
            let push = OutgoingPush {
                endpoint: device.arn.clone(),
                platform: device.platform,
                title: shop_name.clone(),
                body: body.clone(),
                deep_link: deep_link.clone(),
            };
            match messenger.send_push(&push).await {
                Ok(id) => delivered = delivered.or(Some(id)),
                Err(PortError::Gone(_)) => gone.push(device.arn.clone()),
                Err(error) => tracing::warn!(%error, "push to one device failed"),
            }
        }
        if !gone.is_empty() {
            for arn in &gone {
                messenger.delete_device(arn).await?;
            }
            self.ports
                .store()
                .update_contact(&record.shop, contact_key, |state| {
                    let before = state.push_endpoints.len();
                    state.push_endpoints.retain(|d| !gone.contains(&d.arn));
                    state.push_endpoints.len() != before
                })
                .await?;
            let removed = [("push.endpoints_removed".to_owned(), gone.len() as i64)];
            count(self.ports, &record.shop, &record.snapshot.token, &removed).await?;
        }
        Ok(delivered.ok_or_else(|| "no enabled device".to_owned()))
    }
}

/// The consent an SMS goes out under, kept on the message: a storefront capture of this number,
/// else the customer record's consent, else the checkout's own `buyer_accepts_sms_marketing`.
async fn sms_consent_evidence<P: Ports<Store: Carts>>(
    ports: &P,
    record: &CheckoutRecord,
    contact: &ContactState,
) -> Result<Option<ConsentEvidence>, PortError> {
    let snapshot = &record.snapshot;
    if let Some(cart) = &snapshot.cart_token
        && let Some(capture) = ports.store().load_capture(&record.shop, cart).await?
        && capture.phone.is_some()
        && capture.phone == snapshot.contact.phone
    {
        return Ok(Some(capture.consent));
    }
    if let Some(evidence) = &contact.sms_consent {
        return Ok(Some(evidence.clone()));
    }
    Ok(snapshot.contact.accepts_sms_marketing.then(|| ConsentEvidence {
        source: "checkout".into(),
        at: snapshot.updated_at,
        text: "buyer_accepts_sms_marketing: the shopper ticked the SMS marketing box at checkout".into(),
        page: None,
    }))
}

/// A provider's answer as what to record on the message.
fn provider_outcome(result: Result<String, PortError>) -> Result<String, String> {
    result.map_err(|error| match error {
        PortError::Rejected(reason) | PortError::Unavailable(reason) | PortError::Gone(reason) => reason,
        PortError::Conflict => "conflict".into(),
    })
}

/// Clears what is armed at the end of a sequence, and marks a holdout. Returns whether the
/// checkout was newly marked as holdout (so it is counted once).
async fn finish<P: CheckPorts>(ports: &P, input: &CheckInput, holdout: bool) -> Result<bool, PortError> {
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
async fn set_armed<P: CheckPorts>(ports: &P, input: &CheckInput, armed: Option<ArmedCheck>) -> Result<(), PortError> {
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
