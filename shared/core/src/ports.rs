//! Ports: what the use cases need from the outside world, as traits. `reclaim-aws` implements
//! them on DynamoDB, EventBridge Scheduler and SES; unit tests implement them in memory.
//!
//! Every method returns a `Send` future so that the use cases run on any multi-threaded executor.

use crate::model::{
    Capture, CartSnapshot, CartToken, CheckoutRecord, CheckoutToken, ContactKey, ContactState, DiscountRecord,
    InboundReply, MessageRecord, Money, PushPlatform, SealedSecret, ShopDomain, ShopState, SmsThreadKey, WebhookId,
};
use crate::rules::RecoverySettings;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

/// A failure of an adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// A conditional write lost a race: someone else changed the item first.
    #[error("concurrent modification")]
    Conflict,
    /// The provider refused this particular request (for example an address it will not send to).
    #[error("rejected by provider: {0}")]
    Rejected(String),
    /// The dependency failed or could not be reached.
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    /// The address no longer exists (a disabled push endpoint): forget it.
    #[error("address gone: {0}")]
    Gone(String),
}

/// Result of an adapter call.
pub type PortResult<T> = Result<T, PortError>;

/// How claiming a message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This caller owns the send.
    Claimed,
    /// The step was claimed before: never send it again.
    AlreadyClaimed,
    /// The checkout is no longer open (an order landed in between): do not send.
    CheckoutClosed,
}

/// Persistence for checkouts, carts, messages, contacts, settings, dedupe and stats.
pub trait Store: Send + Sync {
    /// Records a webhook delivery id; `false` when it was seen before.
    fn claim_delivery(
        &self,
        shop: &ShopDomain,
        id: &WebhookId,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<bool>> + Send;
    /// Forgets a delivery id so that the platform's retry is processed (after a failure).
    fn release_delivery(&self, shop: &ShopDomain, id: &WebhookId) -> impl Future<Output = PortResult<()>> + Send;
    /// Reads a checkout with a strongly consistent read.
    fn load_checkout(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
    ) -> impl Future<Output = PortResult<Option<CheckoutRecord>>> + Send;
    /// Writes a checkout if its stored version is still `record.version` (0: not stored yet);
    /// the stored version becomes `record.version + 1`. [`PortError::Conflict`] otherwise.
    fn save_checkout(&self, record: &CheckoutRecord) -> impl Future<Output = PortResult<()>> + Send;
    /// Finds the checkout of a cart.
    fn find_checkout_by_cart(
        &self,
        shop: &ShopDomain,
        cart: &CartToken,
    ) -> impl Future<Output = PortResult<Option<CheckoutRecord>>> + Send;
    /// Finds the most recently active open checkout of a contact.
    fn find_open_checkout_by_contact(
        &self,
        shop: &ShopDomain,
        contact: &ContactKey,
    ) -> impl Future<Output = PortResult<Option<CheckoutRecord>>> + Send;
    /// Stores a cart unless a newer one is stored; `false` when the stored one was newer.
    fn save_cart(
        &self,
        shop: &ShopDomain,
        cart: &CartSnapshot,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<bool>> + Send;
    /// A stored cart.
    fn load_cart(
        &self,
        shop: &ShopDomain,
        cart: &CartToken,
    ) -> impl Future<Output = PortResult<Option<CartSnapshot>>> + Send;
    /// Stores a storefront capture for a cart.
    fn save_capture(
        &self,
        shop: &ShopDomain,
        cart: &CartToken,
        capture: &Capture,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// The storefront capture of a cart, if any.
    fn load_capture(
        &self,
        shop: &ShopDomain,
        cart: &CartToken,
    ) -> impl Future<Output = PortResult<Option<Capture>>> + Send;
    /// All messages claimed for a checkout.
    fn messages(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
    ) -> impl Future<Output = PortResult<Vec<MessageRecord>>> + Send;
    /// Claims a step's message, only if it was never claimed and the checkout is still open.
    fn claim_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
    ) -> impl Future<Output = PortResult<ClaimOutcome>> + Send;
    /// Records what became of a claimed message.
    fn update_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Records the first click on a step's message; `false` when it was clicked before or never sent.
    fn record_click(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        step: u32,
        at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<bool>> + Send;
    /// What a contact asked for at a shop.
    fn contact(&self, shop: &ShopDomain, key: &ContactKey) -> impl Future<Output = PortResult<ContactState>> + Send;
    /// Read-modify-write of a contact's state at a shop, retried when another writer got there
    /// first; `change` returns whether it changed anything (nothing is written otherwise).
    fn update_contact<F>(
        &self,
        shop: &ShopDomain,
        key: &ContactKey,
        change: F,
    ) -> impl Future<Output = PortResult<()>> + Send
    where
        F: FnMut(&mut ContactState) -> bool + Send;
    /// The shop's operational state (sender health).
    fn shop_state(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<ShopState>> + Send;
    /// Read-modify-write of the shop's operational state; `change` returns whether it changed anything.
    fn update_shop_state<F>(&self, shop: &ShopDomain, change: F) -> impl Future<Output = PortResult<()>> + Send
    where
        F: FnMut(&mut ShopState) -> bool + Send;
    /// Takes one SMS from a shop's budget for a month (`2026-06`), atomically; `false` when the
    /// budget is spent (nothing taken).
    fn reserve_sms(&self, shop: &ShopDomain, month: &str, budget: u32)
    -> impl Future<Output = PortResult<bool>> + Send;
    /// Stores where a short link code leads (a signed restore token for `checkout`).
    fn save_short_link(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        code: &str,
        token: &str,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// The signed token behind a short link code.
    fn load_short_link(&self, code: &str) -> impl Future<Output = PortResult<Option<String>>> + Send;
    /// Remembers which shop and checkout last texted a number from an origination identity, so
    /// that a reply finds its cart.
    fn save_sms_thread(
        &self,
        thread: &SmsThreadKey,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// The shop and checkout of an SMS conversation.
    fn load_sms_thread(
        &self,
        thread: &SmsThreadKey,
    ) -> impl Future<Output = PortResult<Option<(ShopDomain, CheckoutToken)>>> + Send;
    /// Stores a shopper's reply with its checkout.
    fn save_reply(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        reply: &InboundReply,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Records the discount of a checkout's step unless one is recorded; returns the one that
    /// was there before (then nothing is written).
    fn claim_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
    ) -> impl Future<Output = PortResult<Option<DiscountRecord>>> + Send;
    /// Overwrites the discount record of a checkout's step (once the platform created it).
    fn save_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Stores the shop's sealed access token (replacing any).
    fn save_token(&self, shop: &ShopDomain, token: &SealedSecret) -> impl Future<Output = PortResult<()>> + Send;
    /// The shop's sealed access token.
    fn load_token(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<Option<SealedSecret>>> + Send;
    /// Destroys the shop's access token.
    fn delete_token(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<()>> + Send;
    /// Every checkout of a shop that still has a check armed.
    fn armed_checkouts(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<Vec<CheckoutRecord>>> + Send;
    /// What is held about the given contacts at a shop: their checkouts and storefront captures
    /// (found through the contact index) and the contacts themselves.
    fn customer_data(
        &self,
        shop: &ShopDomain,
        contacts: &[ContactKey],
    ) -> impl Future<Output = PortResult<Vec<DataOwner>>> + Send;
    /// Deletes every item that belongs to `owner` at a shop; returns how many.
    fn forget(&self, shop: &ShopDomain, owner: &DataOwner) -> impl Future<Output = PortResult<usize>> + Send;
    /// Deletes every item of a shop; returns how many.
    fn forget_shop(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<usize>> + Send;
    /// The replies stored for a checkout, oldest first.
    fn replies(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
    ) -> impl Future<Output = PortResult<Vec<InboundReply>>> + Send;
    /// A shop's settings and their version, if it saved any.
    fn load_settings(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<Option<VersionedSettings>>> + Send;
    /// Saves a shop's (validated) settings if the stored version is still `expected_version`
    /// (0: none saved yet); returns the new version, or [`PortError::Conflict`].
    fn save_settings(
        &self,
        shop: &ShopDomain,
        settings: &RecoverySettings,
        expected_version: u64,
    ) -> impl Future<Output = PortResult<u64>> + Send;
    /// Adds to a shop's daily counters.
    fn add_to_stats(
        &self,
        shop: &ShopDomain,
        day: NaiveDate,
        shard: u8,
        counters: &[(String, i64)],
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// A shop's counters summed over the days `from..=to`.
    fn stats(
        &self,
        shop: &ShopDomain,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = PortResult<BTreeMap<String, i64>>> + Send;
}

/// What a group of stored items belongs to: the unit that privacy requests delete and export.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum DataOwner {
    /// A checkout and everything under it (messages, replies, discounts, short links, threads).
    Checkout(CheckoutToken),
    /// A cart and its storefront capture.
    Cart(CartToken),
    /// A contact's state (suppression, consent, sends, devices).
    Contact(ContactKey),
}

impl DataOwner {
    /// The `owner` attribute of the owner's items.
    pub fn tag(&self) -> String {
        match self {
            Self::Checkout(token) => format!("CHK#{token}"),
            Self::Cart(token) => format!("CART#{token}"),
            Self::Contact(key) => format!("CONTACT#{}", key.as_str()),
        }
    }
}

/// Settings as stored, with their optimistic-concurrency version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionedSettings {
    pub version: u64,
    pub settings: RecoverySettings,
}

/// The input a scheduled check carries to `recovery-check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInput {
    pub shop: ShopDomain,
    pub checkout: CheckoutToken,
    pub step: u32,
    pub generation: u32,
}

/// A one-time check to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledCheck {
    /// Deterministic: the same (shop, checkout, step, generation) always gives the same name.
    pub name: String,
    pub at: DateTime<Utc>,
    pub input: CheckInput,
}

/// One-time schedules that fire `recovery-check`.
pub trait Scheduler: Send + Sync {
    /// Creates the schedule; an existing schedule of the same name counts as success.
    fn arm(&self, check: &ScheduledCheck) -> impl Future<Output = PortResult<()>> + Send;
    /// Deletes the schedule; a missing one counts as success.
    fn cancel(&self, name: &str) -> impl Future<Output = PortResult<()>> + Send;
}

/// An email ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// RFC 8058 one-click unsubscribe URL, sent as `List-Unsubscribe` with `List-Unsubscribe-Post`
    /// (empty for mail to merchants, which is not marketing).
    pub unsubscribe_url: String,
    /// Tags for delivery events (shop, step), never personal data.
    pub tags: Vec<(String, String)>,
    /// A file to attach: its name and JSON content (customer data exports).
    pub attachment: Option<(String, Vec<u8>)>,
}

/// A text message ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// The recipient in E.164.
    pub to: String,
    pub body: String,
    /// The shop's origination identity; the account default when `None`.
    pub origination: Option<String>,
    /// Marketing (promotional) rather than transactional.
    pub promotional: bool,
}

/// A push notification ready to go to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingPush {
    /// The device's endpoint.
    pub endpoint: String,
    pub platform: PushPlatform,
    pub title: String,
    pub body: String,
    /// Opened when the shopper taps the notification.
    pub deep_link: String,
}

/// Sends messages on every channel and keeps the push registry; returns provider message ids.
pub trait Messenger: Send + Sync {
    /// Sends an email.
    fn send_email(&self, email: &OutgoingEmail) -> impl Future<Output = PortResult<String>> + Send;
    /// Sends an SMS.
    fn send_sms(&self, sms: &OutgoingSms) -> impl Future<Output = PortResult<String>> + Send;
    /// Sends a push notification; [`PortError::Gone`] when the device's endpoint is disabled.
    fn send_push(&self, push: &OutgoingPush) -> impl Future<Output = PortResult<String>> + Send;
    /// Registers a device token with a push service; returns the endpoint.
    fn register_device(
        &self,
        platform: PushPlatform,
        device_token: &str,
    ) -> impl Future<Output = PortResult<String>> + Send;
    /// Deletes a device's endpoint (a missing one counts as success).
    fn delete_device(&self, endpoint: &str) -> impl Future<Output = PortResult<()>> + Send;
}

/// Seals secrets with envelope encryption (a key service wraps a fresh data key per secret).
pub trait Vault: Send + Sync {
    fn seal(&self, secret: &str) -> impl Future<Output = PortResult<SealedSecret>> + Send;
    fn open(&self, sealed: &SealedSecret) -> impl Future<Output = PortResult<String>> + Send;
}

/// An offline access token and the scopes it carries.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub access_token: String,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for AccessGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessGrant").field("access_token", &"<redacted>").field("scopes", &self.scopes).finish()
    }
}

/// What the platform says about a shop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShopProfile {
    pub name: Option<String>,
    pub contact_email: Option<String>,
}

/// A single-use percentage discount code to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountRequest {
    pub code: String,
    pub title: String,
    pub percent: u8,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The order must reach this subtotal.
    pub minimum_subtotal: Option<Money>,
    pub combines_with_order_discounts: bool,
    pub combines_with_product_discounts: bool,
    pub combines_with_shipping_discounts: bool,
}

/// How creating a discount code ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountOutcome {
    /// Created; the platform's id.
    Created(String),
    /// A code of that name exists already (created before a crash): use it.
    AlreadyExists,
    /// The platform refused it (`userErrors`).
    Refused(String),
}

/// The commerce platform's APIs (Shopify: OAuth token endpoint and the GraphQL Admin API).
pub trait PlatformApi: Send + Sync {
    /// Exchanges an authorization code for an offline access token.
    fn exchange_code(&self, shop: &ShopDomain, code: &str) -> impl Future<Output = PortResult<AccessGrant>> + Send;
    /// Exchanges an embedded app's session token for an offline access token.
    fn exchange_session_token(
        &self,
        shop: &ShopDomain,
        session_token: &str,
    ) -> impl Future<Output = PortResult<AccessGrant>> + Send;
    /// The shop's name and contact email.
    fn shop_profile(
        &self,
        shop: &ShopDomain,
        access_token: &str,
    ) -> impl Future<Output = PortResult<ShopProfile>> + Send;
    /// Creates a discount code (throttling and transient failures retried within bounds).
    fn create_discount(
        &self,
        shop: &ShopDomain,
        access_token: &str,
        discount: &DiscountRequest,
    ) -> impl Future<Output = PortResult<DiscountOutcome>> + Send;
}

/// Something that happened, published for other systems (analytics, the merchant's own
/// automations). Carries ids and amounts, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A recovery message went out.
    RecoveryMessageSent { shop: ShopDomain, checkout: CheckoutToken, step: u32, channel: crate::model::Channel },
    /// A shopper followed a restore link for the first time.
    RestoreLinkClicked { shop: ShopDomain, checkout: CheckoutToken, step: u32 },
    /// An order matched a checkout; `recovered` when a message came first inside the window.
    CheckoutConverted { shop: ShopDomain, checkout: CheckoutToken, recovered: bool, revenue: crate::model::Money },
    /// A contact stopped email from a shop.
    ContactUnsubscribed { shop: ShopDomain },
}

impl DomainEvent {
    /// The event's name, used as the EventBridge detail type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RecoveryMessageSent { .. } => "RecoveryMessageSent",
            Self::RestoreLinkClicked { .. } => "RestoreLinkClicked",
            Self::CheckoutConverted { .. } => "CheckoutConverted",
            Self::ContactUnsubscribed { .. } => "ContactUnsubscribed",
        }
    }
}

/// Publishes domain events.
pub trait EventBus: Send + Sync {
    fn publish(&self, event: &DomainEvent) -> impl Future<Output = PortResult<()>> + Send;
}

/// The time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}
