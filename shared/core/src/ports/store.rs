//! Storage roles, grouped by who calls them. Each use case names only the roles it uses;
//! [`Store`] is their union, implemented for every type that plays all of them (the DynamoDB
//! adapter, and the in-memory adapter in `crate::testing`).
//!
//! Conventions every adapter honours (the contract suite in `crate::testing::contract` checks
//! them against both adapters):
//! - conditional writes are atomic: a lost race is [`Conflict`](super::PortError::Conflict) or a `false`/`None`
//!   answer, never a silent overwrite;
//! - versions start at 1 on the first write and grow by one per write;
//! - every key is scoped by shop: nothing one shop writes is visible to another;
//! - `expires_at` is chosen by the caller (the use case, from its clock), never by the adapter;
//!   an expired item may still be read until the table's TTL sweeps it, so readers that care
//!   check expiry themselves (signed tokens carry their own `exp`).

use super::PortResult;
use crate::model::{
    Capture, CartSnapshot, CartToken, CheckoutRecord, CheckoutToken, ContactKey, ContactState, DiscountRecord, Ending,
    InboundReply, MessageRecord, ShopDomain, ShopState, SmsThread, SmsThreadKey, StoredToken, WebhookId,
};
use crate::rules::RecoverySettings;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

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

/// Where a webhook delivery stands when an attempt begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryClaim {
    /// This attempt processes it: the delivery is new, or an earlier attempt's lease ran out
    /// (it crashed or timed out before finishing).
    Started,
    /// Another attempt holds a live lease: answer so that the platform retries later.
    InProgress,
    /// Processed already: a true duplicate.
    Done,
}

/// Dedupe of deliveries that may arrive more than once: webhooks (as leases), inbound SMS and
/// OAuth codes (claimed once).
pub trait Deliveries: Send + Sync {
    /// Begins processing a webhook delivery for `owner` (a unique id of this attempt): a lease
    /// until `lease_until`, the record kept until `keep_until`. A lease that names `owner` is
    /// this attempt's own (an earlier write whose answer was lost): `Started`.
    fn begin_delivery(
        &self,
        shop: &ShopDomain,
        id: &WebhookId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<DeliveryClaim>> + Send;
    /// Marks a delivery processed: later attempts are duplicates.
    fn finish_delivery(
        &self,
        shop: &ShopDomain,
        id: &WebhookId,
        keep_until: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Records a delivery id until `expires_at`; `false` when it was seen before.
    fn claim_delivery(
        &self,
        shop: &ShopDomain,
        id: &WebhookId,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<bool>> + Send;
    /// Forgets a delivery id so that the platform's retry is processed at once (after a failure).
    fn release_delivery(&self, shop: &ShopDomain, id: &WebhookId) -> impl Future<Output = PortResult<()>> + Send;
}

/// Checkout records: the state a recovery sequence runs on.
pub trait Checkouts: Send + Sync {
    /// Reads a checkout with a strongly consistent read.
    fn load_checkout(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
    ) -> impl Future<Output = PortResult<Option<CheckoutRecord>>> + Send;
    /// Writes a checkout until `expires_at` if its stored version is still `record.version`
    /// (0: not stored yet); the stored version becomes `record.version + 1`.
    /// [`Conflict`](super::PortError::Conflict) otherwise.
    fn save_checkout(
        &self,
        record: &CheckoutRecord,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Finds the checkout of a cart (the most recently active one).
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
    /// Up to `limit` checkouts of a shop created at or after `since` (the what-if's sample).
    fn recent_checkouts(
        &self,
        shop: &ShopDomain,
        since: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = PortResult<Vec<CheckoutRecord>>> + Send;
    /// Every checkout of a shop that still has a check armed.
    fn armed_checkouts(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<Vec<CheckoutRecord>>> + Send;
    /// The checkouts, of every shop, whose armed check fell due in `[from, to)`: where the
    /// schedules should have fired (an operator's sweep, never a shop's request).
    fn checkouts_due_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<Vec<(ShopDomain, CheckoutToken)>>> + Send;
}

/// What an order that arrived before its checkout (or cart) is remembered under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tombstone {
    Checkout(CheckoutToken),
    Cart(CartToken),
}

/// Orders and deletes that arrived first: the checkout that comes after one is stored ended
/// (converted or deleted) and never reminded.
pub trait Tombstones: Send + Sync {
    /// Remembers how a checkout or cart that is not known yet ended, until `expires_at`.
    fn leave_tombstone(
        &self,
        shop: &ShopDomain,
        target: &Tombstone,
        ending: &Ending,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// The ending remembered for a checkout or cart, if any.
    fn tombstone(
        &self,
        shop: &ShopDomain,
        target: &Tombstone,
    ) -> impl Future<Output = PortResult<Option<Ending>>> + Send;
}

/// Carts and the contacts the storefront captured for them.
pub trait Carts: Send + Sync {
    /// Stores a cart until `expires_at` unless a newer one is stored; `false` when the stored one
    /// was newer (or as new).
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
    /// Stores a storefront capture for a cart until `expires_at` (replacing any).
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
}

/// The messages of a checkout: one claim per step, what became of it, its first click.
pub trait MessageLog: Send + Sync {
    /// All messages claimed for a checkout, in step order.
    fn messages(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
    ) -> impl Future<Output = PortResult<Vec<MessageRecord>>> + Send;
    /// Claims a step's message until `expires_at`, only if it was never claimed and the checkout
    /// is still open.
    fn claim_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<ClaimOutcome>> + Send;
    /// Records what became of a claimed message.
    fn update_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Records the first click on a step's message; `false` when it was clicked before or never sent.
    fn record_click(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        step: u32,
        at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<bool>> + Send;
}

/// Single-use discount codes, one per checkout and step.
pub trait DiscountLedger: Send + Sync {
    /// Records the discount of a checkout's step until `expires_at` unless one is recorded;
    /// returns the one that was there before (then nothing is written).
    fn claim_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<Option<DiscountRecord>>> + Send;
    /// Overwrites the discount record of a checkout's step (once the platform created it).
    fn save_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
}

/// Short codes for links in text messages.
pub trait ShortLinks: Send + Sync {
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
}

/// What a contact (an email address or a phone number) asked for at a shop.
pub trait Contacts: Send + Sync {
    /// A contact's state at a shop (the default when nothing is stored).
    fn contact(&self, shop: &ShopDomain, key: &ContactKey) -> impl Future<Output = PortResult<ContactState>> + Send;
    /// Read-modify-write of a contact's state at a shop, retried when another writer got there
    /// first; `change` returns whether it changed anything (nothing is written otherwise). What
    /// is written is kept until `expires_at`.
    fn update_contact<F>(
        &self,
        shop: &ShopDomain,
        key: &ContactKey,
        expires_at: DateTime<Utc>,
        change: F,
    ) -> impl Future<Output = PortResult<()>> + Send
    where
        F: FnMut(&mut ContactState) -> bool + Send;
}

/// A shop's operational state: installation, sender health, uninstall.
pub trait Shops: Send + Sync {
    /// The shop's operational state (the default when nothing is stored).
    fn shop_state(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<ShopState>> + Send;
    /// Read-modify-write of the shop's operational state; `change` returns whether it changed anything.
    fn update_shop_state<F>(&self, shop: &ShopDomain, change: F) -> impl Future<Output = PortResult<()>> + Send
    where
        F: FnMut(&mut ShopState) -> bool + Send;
}

/// A shop's sealed access token.
pub trait Tokens: Send + Sync {
    /// Stores the shop's sealed tokens (replacing any).
    fn save_token(&self, shop: &ShopDomain, token: &StoredToken) -> impl Future<Output = PortResult<()>> + Send;
    /// The shop's sealed tokens.
    fn load_token(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<Option<StoredToken>>> + Send;
    /// Destroys the shop's access token.
    fn delete_token(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<()>> + Send;
}

/// A shop's recovery settings, versioned for optimistic concurrency.
pub trait SettingsStore: Send + Sync {
    /// A shop's settings and their version, if it saved any.
    fn load_settings(&self, shop: &ShopDomain) -> impl Future<Output = PortResult<Option<VersionedSettings>>> + Send;
    /// Saves a shop's settings if the stored version is still `expected_version` (0: none saved
    /// yet); returns the new version, or [`Conflict`](super::PortError::Conflict).
    fn save_settings(
        &self,
        shop: &ShopDomain,
        settings: &RecoverySettings,
        expected_version: u64,
    ) -> impl Future<Output = PortResult<u64>> + Send;
}

/// A counted allowance of a shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quota {
    /// Text messages in a month (`2026-06`): the shop's SMS budget.
    SmsMonth(String),
    /// Recovery messages on a day (UTC): the operator's per-shop daily cap.
    SendsDay(chrono::NaiveDate),
    /// Storefront captures in a minute (`2026-06-01T10:05`): the capture rate limit.
    CapturesMinute(String),
}

/// Allowances taken one at a time, atomically, never beyond their limit.
pub trait Quotas: Send + Sync {
    /// Takes one unit of a shop's quota, kept until `expires_at`; `false` when `limit` units are
    /// taken already (nothing is taken then).
    fn reserve(
        &self,
        shop: &ShopDomain,
        quota: &Quota,
        limit: u32,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<bool>> + Send;
}

/// Conversations: which cart a text thread is about, and the shopper's replies.
pub trait Conversations: Send + Sync {
    /// Remembers, per shop, which checkout the shop last texted a number about from an
    /// origination identity (so that a reply finds its cart, and a STOP every shop), until
    /// `expires_at`.
    fn save_sms_thread(
        &self,
        thread: &SmsThreadKey,
        conversation: &SmsThread,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Every shop's conversation on a thread, the most recently texted first.
    fn sms_threads(&self, thread: &SmsThreadKey) -> impl Future<Output = PortResult<Vec<SmsThread>>> + Send;
    /// Stores a shopper's reply with its checkout until `expires_at`.
    fn save_reply(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        reply: &InboundReply,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// The replies stored for a checkout, oldest first.
    fn replies(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
    ) -> impl Future<Output = PortResult<Vec<InboundReply>>> + Send;
}

/// Daily counters per shop.
pub trait Stats: Send + Sync {
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

/// Finding and deleting what is held about a customer or a shop (privacy requests, uninstall).
pub trait Erasure: Send + Sync {
    /// What is held about the given contacts at a shop: their checkouts and storefront captures
    /// (found through the contact index).
    fn customer_data(
        &self,
        shop: &ShopDomain,
        contacts: &[ContactKey],
    ) -> impl Future<Output = PortResult<Vec<DataOwner>>> + Send;
    /// Deletes every item that belongs to `owner` at a shop; returns how many.
    fn forget(&self, shop: &ShopDomain, owner: &DataOwner) -> impl Future<Output = PortResult<usize>> + Send;
    /// Deletes up to `limit` items of a shop (one resumable batch of a `shop/redact`).
    fn forget_shop(&self, shop: &ShopDomain, limit: usize) -> impl Future<Output = PortResult<Erased>> + Send;
    /// Up to `limit` contacts of a shop that still have push devices registered.
    fn contacts_with_devices(
        &self,
        shop: &ShopDomain,
        limit: usize,
    ) -> impl Future<Output = PortResult<Vec<ContactKey>>> + Send;
}

/// What one batch of an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub deleted: usize,
    /// Whether items may remain (the batch was full): run another.
    pub more: bool,
}

/// Every storage role: what a function that does a bit of everything (or a test) holds.
pub trait Store:
    Deliveries
    + Checkouts
    + Tombstones
    + Carts
    + MessageLog
    + DiscountLedger
    + ShortLinks
    + Contacts
    + Shops
    + Tokens
    + SettingsStore
    + Conversations
    + Quotas
    + Stats
    + Erasure
{
}

impl<T> Store for T where
    T: Deliveries
        + Checkouts
        + Tombstones
        + Carts
        + MessageLog
        + DiscountLedger
        + ShortLinks
        + Contacts
        + Shops
        + Tokens
        + SettingsStore
        + Conversations
        + Quotas
        + Stats
        + Erasure
{
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
