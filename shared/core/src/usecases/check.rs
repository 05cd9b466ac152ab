//! Run a scheduled check: reload the checkout, decide, and send at most once per step.
//!
//! A step's message is claimed (`pending`) before anything else, then prepared (discount code,
//! short link, rendering), then handed to the provider once, with the SDK's own retries off.
//! The provider's answer settles it: `sent`; `released` for a definite failure that may pass
//! (tried again through the schedule after [`retry_backoff`], up to [`MAX_SEND_ATTEMPTS`]);
//! `failed` when refused or out of attempts; `uncertain` when the request left and no answer
//! came, or when a check stopped between claim and answer ([`PENDING_LEASE`]). Only a
//! `released` step is ever claimed again.

use super::discounts::code_for_step;
use super::{
    PERSONAL_DATA_TTL, Ports, UseCaseError, arm, count, publish, settings_of, shop_display_name, update_checkout,
};
use crate::links::{RESTORE_LINK_LIFETIME, short_code};
use crate::model::{
    ArmedCheck, Channel, CheckoutRecord, ConsentEvidence, ContactKey, ContactState, DeliveryState, MessageRecord,
    SmsThread, SmsThreadKey,
};
use crate::ports::{
    Carts, CheckInput, Checkouts, ClaimOutcome, Clock, Contacts, Conversations, DiscountApi, DomainEvent, EmailSender,
    EventBus, MessageLog, Messenger, OutgoingEmail, OutgoingPush, OutgoingSms, PlatformAuth, PortError, PushSender,
    Quota, Quotas, Scheduler, Shops, ShortLinks, SmsSender, Store, Vault,
};
use crate::render::{EmailInput, MessageInput, render_email, render_push, render_sms};
use crate::rules::{DELIVERABLE_CHANNELS, Decision, Incentive, RecoverySettings, StopReason, WaitReason, decide_with};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a check needs: every storage role, the scheduler, every channel, events, and the vault
/// and the platform for discount codes.
pub trait CheckPorts:
    Ports<
        Store: Store,
        Scheduler: Scheduler,
        Messenger: Messenger,
        Events: EventBus,
        Vault: Vault,
        Platform: DiscountApi + PlatformAuth,
    >
{
}
impl<P> CheckPorts for P where
    P: Ports<
            Store: Store,
            Scheduler: Scheduler,
            Messenger: Messenger,
            Events: EventBus,
            Vault: Vault,
            Platform: DiscountApi + PlatformAuth,
        >
{
}

/// What a check did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckOutcome {
    /// The provider accepted the step's message.
    Sent { step: u32, provider_id: String },
    /// A definite failure that may pass (throttling, an outage): the step was released and the
    /// check re-armed for `at`.
    Retrying { step: u32, attempt: u32, at: DateTime<Utc> },
    /// The step will not go out: refused, or every attempt failed. The sequence moves on.
    Failed { step: u32, reason: String },
    /// The request left and no answer came: the step may have gone out and is never sent again.
    Uncertain { step: u32 },
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
    // Any check of the checkout settles what a crashed one left pending, even a superseded check
    // of a checkout that has since converted (a redriven invocation, a late retry).
    let now = ports.clock().now();
    let history =
        settle_abandoned_claims(ports, &record, store.messages(&input.shop, &input.checkout).await?, now).await?;
    let is_current = record.armed.as_ref().is_some_and(|a| a.step == input.step && a.generation == input.generation);
    // A claim too young to settle is visited again once its lease has run out, whatever this
    // check does next: an order or a delete may leave nothing else to visit the checkout.
    revisit_young_claims(ports, &record, input, &history).await?;
    if !is_current {
        return Ok(CheckOutcome::Superseded);
    }
    if store.shop_state(&input.shop).await?.uninstalled_at.is_some() {
        finish(ports, input, false).await?;
        return Ok(CheckOutcome::Stopped { reason: StopReason::Uninstalled });
    }
    let settings = settings_of(ports, &input.shop).await?;
    let contact = contact_of(ports, &record).await?;
    let decision = decide_on_available_channels(ports, &record, &history, &contact, &settings, now).await?;
    let outcome = match within_daily_cap(ports, &record, decision, now).await? {
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
            let outcome = send(ports, &record, &history, &contact, &settings, &plan, now).await?;
            let settled = matches!(
                outcome,
                CheckOutcome::Sent { .. } | CheckOutcome::Failed { .. } | CheckOutcome::Uncertain { .. }
            );
            if settled && !history.iter().any(|m| m.state.holds_step()) {
                count(ports, &input.shop, &input.checkout, &[("abandoned".to_owned(), 1)]).await?;
            }
            let next = match &outcome {
                CheckOutcome::Retrying { at, .. } => {
                    let generation = if step == input.step { input.generation + 1 } else { 0 };
                    Some(arm(ports, &record, step, generation, *at).await?)
                }
                _ => arm_next(ports, &record, &settings, step).await?,
            };
            set_armed(ports, input, next).await?;
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
    let shop_state = ports.store().shop_state(shop).await?;
    let email_paused = shop_state.email_pause.is_some();
    // SMS only from an identity the operator allowed this shop, within the operator's ceiling.
    let origination_allowed =
        settings.sms.origination_identity.as_ref().is_none_or(|id| shop_state.allowed_originations.contains(id));
    let sms_budget = ports
        .config()
        .sms_budget_ceiling
        .map_or(settings.sms.monthly_budget, |ceiling| ceiling.min(settings.sms.monthly_budget));
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
            (Decision::Send { channel: Channel::Sms, .. }, _) if !origination_allowed => {
                count(ports, shop, &record.snapshot.token, &[("sms.origination_not_allowed".to_owned(), 1)]).await?;
                unavailable.push(Channel::Sms);
            }
            (Decision::Send { channel: Channel::Sms, .. }, _) => {
                let month = Quota::SmsMonth(now.format("%Y-%m").to_string());
                if ports.store().reserve(shop, &month, sms_budget, now + QUOTA_KEPT).await? {
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

/// How long a quota's count is kept (a year of monthly SMS budgets and daily caps to look back on).
const QUOTA_KEPT: chrono::Duration = chrono::Duration::days(400);

/// A send that would go past the operator's per-shop daily cap waits for the next UTC day
/// instead (counted as `cap.daily_reached`): one shop cannot spend the account's whole quota.
async fn within_daily_cap<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<Decision, UseCaseError> {
    let (Decision::Send { step, .. }, Some(cap)) = (&decision, ports.config().shop_daily_send_cap) else {
        return Ok(decision);
    };
    let today = Quota::SendsDay(now.date_naive());
    if ports.store().reserve(&record.shop, &today, cap, now + QUOTA_KEPT).await? {
        return Ok(decision);
    }
    count(ports, &record.shop, &record.snapshot.token, &[("cap.daily_reached".to_owned(), 1)]).await?;
    let tomorrow = (now.date_naive() + chrono::Days::new(1)).and_time(chrono::NaiveTime::MIN).and_utc();
    Ok(Decision::Wait { until: tomorrow, step: *step, reason: WaitReason::DailyCap })
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

/// How many times a step is tried before a definite failure is recorded as `failed`.
pub const MAX_SEND_ATTEMPTS: u32 = 5;

/// How long a claim may stay `pending` before it is taken for a check that stopped between its
/// claim and the provider's answer (longer than any check runs). It is then `uncertain`.
pub const PENDING_LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// The wait after failed attempt `attempt` (1-based) before the next: 1, 4, 16 and 64 minutes.
pub fn retry_backoff(attempt: u32) -> chrono::Duration {
    chrono::Duration::minutes(4_i64.pow(attempt.saturating_sub(1).min(4)))
}

/// What came of handing a message to its provider.
enum Handover {
    /// Accepted, with the provider's id.
    Accepted(String),
    /// Definitely not sent, for a reason that may pass (throttling, a 5xx, our own storage or
    /// the platform's discount API before the provider was called).
    NotSent(String),
    /// Definitely not sent, and trying again will not help (no address, refused by the provider).
    Refused(String),
    /// The request left and no answer came: it may have been sent.
    Unknown(String),
}

impl From<PortError> for Handover {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(reason) => Self::NotSent(reason),
            PortError::Conflict => Self::NotSent("conflict".into()),
            PortError::Rejected(reason) | PortError::Gone(reason) => Self::Refused(reason),
            PortError::Ambiguous(reason) => Self::Unknown(reason),
        }
    }
}

/// Claims the step (while the checkout is still open), prepares everything (discount code,
/// short link, rendering), hands the message to the provider, and records what came of it.
///
/// A step goes out at most once and never after an order: a definite failure before the
/// provider accepted releases the step for a later attempt, an unknown outcome never does.
async fn send<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    history: &[MessageRecord],
    contact: &ContactState,
    settings: &RecoverySettings,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<CheckOutcome, UseCaseError> {
    let store = ports.store();
    let (shop, checkout, step) = (&record.shop, &record.snapshot.token, plan.step);
    let Some(contact_key) = record.contact_key() else {
        return Ok(CheckOutcome::Stopped { reason: StopReason::NoContact });
    };
    let attempt = history.iter().find(|m| m.step == step).map_or(1, |released| released.attempt + 1);
    let mut message = MessageRecord {
        variant: Some(plan.variant.clone()),
        attempt,
        owner: ports.clock().unique_id(),
        ..MessageRecord::claimed(step, plan.channel, now)
    };
    match store.claim_message(shop, checkout, &message, message_expiry(&message)).await? {
        ClaimOutcome::Claimed => {}
        ClaimOutcome::AlreadyClaimed => return Ok(CheckOutcome::AlreadySent { step }),
        ClaimOutcome::CheckoutClosed => return Ok(CheckOutcome::Stopped { reason: StopReason::Converted }),
    }
    let handover = match prepare(ports, record, contact, settings, plan, &mut message, now).await {
        Ok(Ok(outgoing)) => deliver(ports, record, &contact_key, outgoing).await,
        Ok(Err(refusal)) => Handover::Refused(refusal),
        Err(UseCaseError::Port(error)) => Handover::from(error),
        Err(other) => Handover::NotSent(other.to_string()),
    };
    settle(ports, record, &contact_key, plan, message, handover).await
}

/// A message ready for its provider.
enum Outgoing {
    Email(OutgoingEmail),
    Sms(OutgoingSms),
    /// One notification per registered device.
    Push(Vec<OutgoingPush>),
}

/// Everything that can fail before the provider is called: the discount code, the SMS consent,
/// the short link and thread, the rendering. The inner `Err` is a refusal that no retry cures.
async fn prepare<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    contact: &ContactState,
    settings: &RecoverySettings,
    plan: &Plan,
    message: &mut MessageRecord,
    now: DateTime<Utc>,
) -> Result<Result<Outgoing, String>, UseCaseError> {
    let step = plan.step;
    // A granted incentive travels as a single-use code; on the last attempt a code the platform
    // cannot create now no longer holds the step back.
    if let Some(incentive) = plan.incentive {
        let last_attempt = message.attempt >= MAX_SEND_ATTEMPTS;
        message.discount_code = code_for_step(ports, record, step, incentive, settings, now, last_attempt).await?;
        message.incentive_percent = message.discount_code.as_ref().map(|_| incentive.percent);
    }
    if plan.channel == Channel::Sms {
        message.sms_consent = sms_consent_evidence(ports, record, contact).await?;
    }
    let outbound = Outbound { ports, record, plan, settings, now, discount: message.discount_code.as_deref() };
    match plan.channel {
        Channel::Email => outbound.email().await,
        Channel::Sms => outbound.sms().await,
        Channel::Push => outbound.push(contact),
    }
}

/// Hands the message to its provider. Push goes to every device: one acceptance is enough;
/// devices the push service reports gone are deleted and forgotten.
async fn deliver<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    contact_key: &ContactKey,
    outgoing: Outgoing,
) -> Handover {
    let messenger = ports.messenger();
    let devices = match outgoing {
        Outgoing::Email(email) => {
            return messenger.send_email(&email).await.map_or_else(Handover::from, Handover::Accepted);
        }
        Outgoing::Sms(sms) => return messenger.send_sms(&sms).await.map_or_else(Handover::from, Handover::Accepted),
        Outgoing::Push(devices) => devices,
    };
    let mut outcomes = Vec::new();
    let mut gone = Vec::new();
    for push in &devices {
        match messenger.send_push(push).await {
            Ok(id) => outcomes.push(Handover::Accepted(id)),
            Err(PortError::Gone(_)) => gone.push(push.endpoint.clone()),
            Err(error) => {
                tracing::warn!(%error, "push to one device failed");
                outcomes.push(Handover::from(error));
            }
        }
    }
    if !gone.is_empty()
        && let Err(error) = forget_devices(ports, record, contact_key, &gone).await
    {
        tracing::warn!(%error, "could not forget disabled push endpoints; the next send finds them again");
    }
    // One acceptance is a send; else an unknown outcome must not be retried; else a passing failure is.
    let accepted = outcomes.iter().position(|o| matches!(o, Handover::Accepted(_)));
    let unknown = outcomes.iter().position(|o| matches!(o, Handover::Unknown(_)));
    let passing = outcomes.iter().position(|o| matches!(o, Handover::NotSent(_)));
    match accepted.or(unknown).or(passing) {
        Some(index) => outcomes.swap_remove(index),
        None => Handover::Refused("no enabled device".into()),
    }
}

/// Deletes disabled push endpoints and removes them from the contact.
async fn forget_devices<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    contact_key: &ContactKey,
    gone: &[String],
) -> Result<(), PortError> {
    for arn in gone {
        ports.messenger().delete_device(arn).await?;
    }
    ports
        .store()
        .update_contact(&record.shop, contact_key, ports.clock().now() + super::CONTACT_TTL, |state| {
            let before = state.push_endpoints.len();
            state.push_endpoints.retain(|d| !gone.contains(&d.arn));
            state.push_endpoints.len() != before
        })
        .await?;
    let removed = [("push.endpoints_removed".to_owned(), gone.len() as i64)];
    count(ports, &record.shop, &record.snapshot.token, &removed).await
}

/// Until when a message item is kept.
fn message_expiry(message: &MessageRecord) -> DateTime<Utc> {
    message.claimed_at + PERSONAL_DATA_TTL
}

/// Records what came of a claimed message, counts it, and says what the check did.
async fn settle<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    contact_key: &ContactKey,
    plan: &Plan,
    mut message: MessageRecord,
    handover: Handover,
) -> Result<CheckOutcome, UseCaseError> {
    let (shop, checkout, step) = (&record.shop, &record.snapshot.token, plan.step);
    let now = ports.clock().now();
    let outcome = match handover {
        Handover::Accepted(provider_id) => {
            message.state = DeliveryState::Sent;
            message.sent_at = Some(now);
            message.provider_id = Some(provider_id.clone());
            message.failure = None;
            CheckOutcome::Sent { step, provider_id }
        }
        Handover::NotSent(reason) if message.attempt < MAX_SEND_ATTEMPTS => {
            let at = now + retry_backoff(message.attempt);
            message.state = DeliveryState::Released;
            message.retry_at = Some(at);
            message.failure = Some(reason);
            CheckOutcome::Retrying { step, attempt: message.attempt, at }
        }
        Handover::NotSent(reason) | Handover::Refused(reason) => {
            message.state = DeliveryState::Failed;
            message.failure = Some(reason.clone());
            CheckOutcome::Failed { step, reason }
        }
        Handover::Unknown(reason) => {
            message.state = DeliveryState::Uncertain;
            message.failure = Some(reason);
            CheckOutcome::Uncertain { step }
        }
    };
    ports.store().update_message(shop, checkout, &message, message_expiry(&message)).await?;
    let mut counters = vec![(format!("{}.step{step}", message.state.as_str()), 1)];
    if message.state == DeliveryState::Sent {
        let with_incentive = message.discount_code.is_some();
        ports
            .store()
            .update_contact(shop, contact_key, ports.clock().now() + super::CONTACT_TTL, |state| {
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
    }
    count(ports, shop, checkout, &counters).await?;
    Ok(outcome)
}

/// Takes the claims that stayed `pending` past [`PENDING_LEASE`] for what they are: a check that
/// stopped between its claim and the provider's answer. They become `uncertain` (counted), and
/// the sequence moves on without sending that step again.
async fn settle_abandoned_claims<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    mut history: Vec<MessageRecord>,
    now: DateTime<Utc>,
) -> Result<Vec<MessageRecord>, PortError> {
    let (shop, checkout) = (&record.shop, &record.snapshot.token);
    for message in history.iter_mut() {
        if message.state == DeliveryState::Pending && now - message.claimed_at > PENDING_LEASE {
            message.state = DeliveryState::Uncertain;
            message.failure = Some("the check stopped before the provider answered".into());
            ports.store().update_message(shop, checkout, message, message_expiry(message)).await?;
            count(ports, shop, checkout, &[(format!("uncertain.step{}", message.step), 1)]).await?;
        }
    }
    Ok(history)
}

/// A claim still too young to settle (another check's, in flight or crashed) is visited once its
/// lease has run out, by a check of this input: if that input is no longer current then, the
/// visit settles the claim and does nothing else.
async fn revisit_young_claims<P: CheckPorts>(
    ports: &P,
    record: &CheckoutRecord,
    input: &CheckInput,
    history: &[MessageRecord],
) -> Result<(), PortError> {
    let youngest_pending = history.iter().filter(|m| m.state == DeliveryState::Pending).map(|m| m.claimed_at).max();
    if let Some(claimed_at) = youngest_pending {
        let at = claimed_at + PENDING_LEASE + chrono::Duration::minutes(1);
        arm(ports, record, input.step, input.generation, at).await?;
    }
    Ok(())
}

/// One claimed message being prepared: each channel renders what its provider takes.
struct Outbound<'a, P> {
    ports: &'a P,
    record: &'a CheckoutRecord,
    plan: &'a Plan,
    settings: &'a RecoverySettings,
    now: DateTime<Utc>,
    /// The step's discount code, applied by the restore link.
    discount: Option<&'a str>,
}

type Prepared = Result<Result<Outgoing, String>, UseCaseError>;

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

    /// What this step's message is rendered from (`shop_name` is the shop's display name).
    fn message<'m>(&'m self, shop_name: &'m str) -> MessageInput<'m> {
        MessageInput {
            template: &self.plan.template,
            copy: self.settings.steps.get(self.plan.step as usize).map(|step| &step.copy),
            shop_name,
            checkout: &self.record.snapshot,
            discount: self.discount.zip(self.record_incentive()),
        }
    }

    /// The email, from the operator's sender, replying to the shop's own contact address.
    async fn email(&self) -> Prepared {
        let record = self.record;
        let Some(to) = record.snapshot.contact.email.clone() else {
            return Ok(Err("no email address".into()));
        };
        let Some(contact_key) = record.contact_key() else {
            return Ok(Err("no contact".into()));
        };
        let (shop, checkout, step) = (&record.shop, &record.snapshot.token, self.plan.step);
        let config = self.ports.config();
        let base = self.base_url();
        let restore_url = format!("{base}/r/{}", self.restore_token());
        let unsubscribe_url =
            format!("{base}/u/{}", config.links.unsubscribe(shop, checkout, step, &contact_key, self.now));
        let shop_name = shop_display_name(shop.as_str());
        let rendered = render_email(&EmailInput {
            message: self.message(&shop_name),
            restore_url: &restore_url,
            unsubscribe_url: &unsubscribe_url,
        })?;
        Ok(Ok(Outgoing::Email(OutgoingEmail {
            from: config.sender.clone(),
            to,
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            unsubscribe_url,
            tags: vec![("shop".into(), shop.as_str().replace('.', "_")), ("step".into(), step.to_string())],
            attachment: None,
            reply_to: self.ports.store().shop_state(shop).await?.installation.and_then(|i| i.contact_email),
        })))
    }

    /// A short text with a short restore link, from the shop's origination identity, marked
    /// promotional; remembers the conversation so that a reply finds this cart.
    async fn sms(&self) -> Prepared {
        let record = self.record;
        let Some(to) = record.snapshot.contact.phone_e164().cloned() else {
            return Ok(Err("no phone number".into()));
        };
        let store = self.ports.store();
        let token = self.restore_token();
        let code = short_code(&token);
        let expires_at = self.now + RESTORE_LINK_LIFETIME;
        store.save_short_link(&record.shop, &record.snapshot.token, &code, &token, expires_at).await?;
        let link = format!("{}/s/{code}", self.base_url());
        let body = render_sms(&self.message(&shop_display_name(record.shop.as_str())), &link)?;
        let origination = self.settings.sms.origination_identity.clone();
        let thread = SmsThreadKey::new(origination.as_deref(), &to);
        let conversation =
            SmsThread { shop: record.shop.clone(), checkout: record.snapshot.token.clone(), texted_at: self.now };
        store.save_sms_thread(&thread, &conversation, self.now + PERSONAL_DATA_TTL).await?;
        Ok(Ok(Outgoing::Sms(OutgoingSms { to, body, origination, promotional: true })))
    }

    /// A notification with a deep link, for every registered device.
    fn push(&self, contact: &ContactState) -> Prepared {
        if contact.push_endpoints.is_empty() {
            return Ok(Err("no enabled device".into()));
        }
        let shop_name = shop_display_name(self.record.shop.as_str());
        let push = render_push(&self.message(&shop_name))?;
        let deep_link = format!("{}/r/{}", self.base_url(), self.restore_token());
        let devices = contact
            .push_endpoints
            .iter()
            .map(|device| OutgoingPush {
                endpoint: device.arn.clone(),
                platform: device.platform,
                title: push.title.clone(),
                body: push.body.clone(),
                deep_link: deep_link.clone(),
            })
            .collect();
        Ok(Ok(Outgoing::Push(devices)))
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
        && capture.phone.as_ref() == snapshot.contact.phone_e164()
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
