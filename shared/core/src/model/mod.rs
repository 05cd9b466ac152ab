//! The domain model: validated identifiers, money in integer minor units, and the snapshots and
//! records that the use cases read and write. Parsing into these types is where bad input stops.

mod address;

pub use address::{AddressError, Email, PhoneE164};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a value could not become one of the model's validated types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("shop domain must be a *.myshopify.com host, got {0:?}")]
    ShopDomain(String),
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is not a valid amount: {value:?}")]
    Amount { field: &'static str, value: String },
    #[error("currency must be a three-letter ISO 4217 code, got {0:?}")]
    Currency(String),
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Wraps a non-empty identifier.
            pub fn new(value: impl Into<String>) -> Result<Self, ModelError> {
                let value = value.into();
                if value.trim().is_empty() {
                    return Err(ModelError::Empty { field: $field });
                }
                Ok(Self(value))
            }
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = ModelError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// The token that identifies a checkout within a shop (Shopify's `token`).
    CheckoutToken,
    "checkout token"
);
string_id!(
    /// The token that identifies a cart within a shop; a checkout carries its cart's token.
    CartToken,
    "cart token"
);
string_id!(
    /// A platform's delivery id for one webhook (`X-Shopify-Webhook-Id`), the dedupe key.
    WebhookId,
    "webhook id"
);
string_id!(
    /// A platform's order id.
    OrderId,
    "order id"
);

/// A shop's permanent domain (`example.myshopify.com`), the tenant key. It only ever comes from a
/// verified source: a signed webhook's header, a signed link or a verified session token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShopDomain(String);

impl ShopDomain {
    /// Accepts `name.myshopify.com` where the name is lowercase letters, digits and hyphens.
    pub fn parse(value: &str) -> Result<Self, ModelError> {
        let value = value.trim().to_ascii_lowercase();
        let name = value.strip_suffix(".myshopify.com").ok_or_else(|| ModelError::ShopDomain(value.clone()))?;
        let valid = !name.is_empty()
            && name.len() <= 60
            && !name.starts_with('-')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid { Ok(Self(value)) } else { Err(ModelError::ShopDomain(value)) }
    }
    /// The domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for ShopDomain {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<ShopDomain> for String {
    fn from(value: ShopDomain) -> Self {
        value.0
    }
}
impl fmt::Display for ShopDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 4217 currency code: three upper-case ASCII letters, kept inline (no allocation: every
/// line item of every checkout carries one).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl std::fmt::Debug for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl Currency {
    /// Accepts three ASCII letters, in any case.
    pub fn parse(value: &str) -> Result<Self, ModelError> {
        match value.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()]))
            }
            _ => Err(ModelError::Currency(value.to_owned())),
        }
    }
    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("three ASCII letters")
    }
    /// How many minor units the currency has (ISO 4217 exponent).
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
            | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}
impl TryFrom<String> for Currency {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

/// An amount of money: integer minor units (cents) and the currency. Never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// Parses a decimal string such as `"379.69"` into minor units of `currency`, exactly.
    pub fn parse(field: &'static str, value: &str, currency: &Currency) -> Result<Self, ModelError> {
        let bad = || ModelError::Amount { field, value: value.to_owned() };
        let exponent = currency.exponent() as usize;
        let (negative, digits) = match value.trim().strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value.trim()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // Extra fractional digits must be zeros: "10.500" is fine for USD, "10.505" is not.
        let (kept, dropped) = fraction.split_at(fraction.len().min(exponent));
        if !dropped.bytes().all(|b| b == b'0') {
            return Err(bad());
        }
        let mut digits = whole.bytes().chain(kept.bytes()).chain(std::iter::repeat_n(b'0', exponent - kept.len()));
        let minor = digits
            .try_fold(0_i64, |acc, digit| acc.checked_mul(10)?.checked_add(i64::from(digit - b'0')))
            .ok_or_else(bad)?;
        Ok(Self { minor: if negative { -minor } else { minor }, currency: currency.clone() })
    }

    /// Formats the amount for people, e.g. `USD 379.69`.
    pub fn display(&self) -> String {
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return format!("{} {}", self.currency.as_str(), self.minor);
        }
        let scale = 10_i64.pow(exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!(
            "{} {sign}{}.{:0width$}",
            self.currency.as_str(),
            abs / scale as u64,
            abs % scale as u64,
            width = exponent as usize
        )
    }
}

/// One line of a cart or checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub title: String,
    pub variant_title: Option<String>,
    pub variant_id: Option<u64>,
    pub product_id: Option<u64>,
    pub quantity: u32,
    pub unit_price: Money,
    pub image_url: Option<String>,
}

/// How to reach a shopper, as far as the checkout tells.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    pub email: Option<Email>,
    pub phone: Option<PhoneE164>,
    pub first_name: Option<String>,
    pub accepts_email_marketing: bool,
    pub accepts_sms_marketing: bool,
}

impl Contact {
    /// A stable, non-reversible key for this contact within a shop (used in keys and logs instead
    /// of the address itself). `None` when there is no email.
    pub fn email_key(&self, shop: &ShopDomain) -> Option<ContactKey> {
        self.email.as_deref().map(|email| ContactKey::for_email(shop, email))
    }
    /// The key of this contact's phone number within a shop, when there is one.
    pub fn phone_key(&self, shop: &ShopDomain) -> Option<ContactKey> {
        self.phone.as_deref().map(|phone| ContactKey::for_phone(shop, phone))
    }
}

/// A hash of a shop and a contact address: how contacts are keyed and logged, never the raw address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContactKey(String);

impl ContactKey {
    /// The key of an email address at a shop (case-insensitive).
    pub fn for_email(shop: &ShopDomain, email: &str) -> Self {
        let digest = Sha256::digest(format!("{}\n{}", shop.as_str(), email.trim().to_lowercase()));
        Self(hex::encode(&digest[..16]))
    }
    /// The key of a phone number (E.164) at a shop: where SMS consent and STOP are kept.
    pub fn for_phone(shop: &ShopDomain, e164: &str) -> Self {
        Self::for_email(shop, e164)
    }
    /// Rebuilds a key from its stored text.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the shopper is, for time zones and conditions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Region {
    pub country_code: Option<String>,
    pub province_code: Option<String>,
}

/// How far a shopper got in the checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStage {
    /// Contact details only.
    #[default]
    Contact,
    /// A shipping address was entered.
    Shipping,
    /// A shipping method was chosen: only payment was left.
    Payment,
}

/// The kind of device a checkout came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Mobile,
    Desktop,
}

/// A checkout as the platform last described it, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSnapshot {
    pub token: CheckoutToken,
    pub cart_token: Option<CartToken>,
    pub contact: Contact,
    pub locale: Option<String>,
    pub region: Region,
    pub line_items: Vec<LineItem>,
    pub subtotal: Money,
    pub total: Money,
    /// Where the shopper resumes this checkout (Shopify's `abandoned_checkout_url`).
    pub restore_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub stage: CheckoutStage,
    #[serde(default)]
    pub device: Option<Device>,
    /// Discount codes the shopper applied.
    #[serde(default)]
    pub discount_codes: Vec<String>,
    /// How many orders the customer placed before, when the platform says.
    #[serde(default)]
    pub customer_orders: Option<u32>,
}

/// A storefront cart (no contact of its own; it links to a checkout by its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartSnapshot {
    pub token: CartToken,
    pub line_items: Vec<LineItem>,
    pub updated_at: DateTime<Utc>,
}

/// An order, as much of it as recovery needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSnapshot {
    pub id: OrderId,
    pub checkout_token: Option<CheckoutToken>,
    pub cart_token: Option<CartToken>,
    pub email: Option<Email>,
    pub total: Money,
    pub created_at: DateTime<Utc>,
}

/// Where a checkout's recovery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStatus {
    /// Not bought yet: recovery may go on.
    Open,
    /// The platform reports the checkout completed.
    Completed,
    /// An order was matched to it.
    Converted,
    /// The platform deleted it.
    Deleted,
}

impl CheckoutStatus {
    /// The name stored and shown for this status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
            Self::Converted => "converted",
            Self::Deleted => "deleted",
        }
    }
}

/// The check that is currently scheduled for a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmedCheck {
    pub step: u32,
    /// Bumped each time the same step is re-armed, so that every schedule has its own name.
    pub generation: u32,
    pub at: DateTime<Utc>,
}

/// How an order ended a checkout's recovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    pub order_id: OrderId,
    pub at: DateTime<Utc>,
    pub total: Money,
    /// A message was sent inside the attribution window before the order.
    pub recovered: bool,
}

/// Everything Reclaim keeps about one checkout (the `CHK#…/STATE` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRecord {
    pub shop: ShopDomain,
    pub snapshot: CheckoutSnapshot,
    pub status: CheckoutStatus,
    pub armed: Option<ArmedCheck>,
    /// The last time the shopper did anything with this checkout or its cart.
    pub last_activity_at: DateTime<Utc>,
    pub conversion: Option<Conversion>,
    /// The checkout fell in the holdout group: it gets no message and is the baseline.
    #[serde(default)]
    pub holdout: bool,
    /// Optimistic-concurrency version: every write requires the version it read.
    pub version: u64,
}

impl CheckoutRecord {
    /// A new record for a checkout seen for the first time.
    pub fn new(shop: ShopDomain, snapshot: CheckoutSnapshot) -> Self {
        let status = if snapshot.completed_at.is_some() { CheckoutStatus::Completed } else { CheckoutStatus::Open };
        Self {
            shop,
            last_activity_at: snapshot.updated_at,
            snapshot,
            status,
            armed: None,
            conversion: None,
            holdout: false,
            version: 0,
        }
    }

    /// The key of the shopper at this shop: their email, else their phone number.
    pub fn contact_key(&self) -> Option<ContactKey> {
        let contact = &self.snapshot.contact;
        contact.email.as_deref().or(contact.phone.as_deref()).map(|address| ContactKey::for_email(&self.shop, address))
    }

    /// Whether recovery could reach anyone about this checkout.
    pub fn is_recoverable(&self) -> bool {
        let contact = &self.snapshot.contact;
        let reachable = contact.email.is_some() || (contact.phone.is_some() && contact.accepts_sms_marketing);
        self.status == CheckoutStatus::Open && reachable && !self.snapshot.line_items.is_empty()
    }
}

/// A contact left on the storefront for a cart, with the evidence of the consent given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    pub email: Option<Email>,
    pub phone: Option<PhoneE164>,
    pub consent: ConsentEvidence,
}

/// What a shopper agreed to, where and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvidence {
    /// Where the consent was given, e.g. `storefront_exit_intent`.
    pub source: String,
    pub at: DateTime<Utc>,
    /// The text shown next to the checkbox.
    pub text: String,
    /// The storefront page it was given on.
    pub page: Option<String>,
}

/// A discount code created for one checkout's step (the `CHK#…/DISCOUNT#{step}` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountRecord {
    pub step: u32,
    pub code: String,
    pub percent: u8,
    pub ends_at: DateTime<Utc>,
    /// `None` while being created; the platform's id once it exists.
    pub platform_id: Option<String>,
}

/// One recovery message, claimed before it is sent (the `CHK#…/MSG#{step}` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub step: u32,
    pub channel: Channel,
    pub claimed_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub provider_id: Option<String>,
    pub failure: Option<String>,
    pub clicked_at: Option<DateTime<Utc>>,
    /// The A/B variant sent.
    #[serde(default)]
    pub variant: Option<String>,
    /// The discount granted with this message, in percent.
    #[serde(default)]
    pub incentive_percent: Option<u8>,
    /// The single-use code that carries the discount.
    #[serde(default)]
    pub discount_code: Option<String>,
    /// For an SMS: the consent it was sent under (where, when, what the shopper agreed to).
    #[serde(default)]
    pub sms_consent: Option<ConsentEvidence>,
}

impl MessageRecord {
    /// A message just claimed for `step` on `channel` at `at`: not sent yet, nothing else known.
    pub fn claimed(step: u32, channel: Channel, at: DateTime<Utc>) -> Self {
        Self {
            step,
            channel,
            claimed_at: at,
            sent_at: None,
            provider_id: None,
            failure: None,
            clicked_at: None,
            variant: None,
            incentive_percent: None,
            discount_code: None,
            sms_consent: None,
        }
    }
}

/// A channel a message can go out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Push,
}

impl Channel {
    /// The name used in stats and stored records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
        }
    }
}

/// What a contact has asked for at a shop, and what it was sent (the `CONTACT#…/STATE` item).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactState {
    pub email_suppressed: Option<Suppression>,
    #[serde(default)]
    pub sms_suppressed: Option<Suppression>,
    /// When recent messages went to this contact, on any channel, newest last (for the cap).
    #[serde(default)]
    pub recent_sends: Vec<DateTime<Utc>>,
    /// When this contact was last offered an incentive.
    #[serde(default)]
    pub last_incentive_at: Option<DateTime<Utc>>,
    /// SMS marketing consent given outside a checkout (`customers/update`), with its evidence.
    #[serde(default)]
    pub sms_consent: Option<ConsentEvidence>,
    /// Push was switched off ("stop all messages").
    #[serde(default)]
    pub push_suppressed: Option<Suppression>,
    /// Devices registered for push by the merchant's app.
    #[serde(default)]
    pub push_endpoints: Vec<PushEndpoint>,
}

/// A device registered for push: the SNS platform endpoint that reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushEndpoint {
    pub arn: String,
    pub platform: PushPlatform,
    pub registered_at: DateTime<Utc>,
}

/// The push services a device can be registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushPlatform {
    /// Apple Push Notification service.
    Apns,
    /// Firebase Cloud Messaging (SNS calls it GCM).
    Fcm,
}

impl ContactState {
    /// How many sends are kept for the frequency cap.
    pub const RECENT_SENDS_KEPT: usize = 20;

    /// Whether a channel is suppressed for this contact.
    pub fn is_suppressed(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email_suppressed.is_some(),
            Channel::Sms => self.sms_suppressed.is_some(),
            Channel::Push => self.push_suppressed.is_some(),
        }
    }

    /// Suppresses a channel (keeping the first reason); `false` when it was suppressed already.
    pub fn suppress(&mut self, channel: Channel, suppression: &Suppression) -> bool {
        let slot = match channel {
            Channel::Email => &mut self.email_suppressed,
            Channel::Sms => &mut self.sms_suppressed,
            Channel::Push => &mut self.push_suppressed,
        };
        let fresh = slot.is_none();
        if fresh {
            *slot = Some(suppression.clone());
        }
        fresh
    }

    /// The state of a checkout's contact: this (the email's state) with what is kept under the
    /// phone number (SMS suppression and consent) laid over it.
    pub fn with_phone_state(mut self, phone: ContactState) -> Self {
        self.sms_suppressed = self.sms_suppressed.or(phone.sms_suppressed);
        self.sms_consent = self.sms_consent.or(phone.sms_consent);
        self
    }

    /// Records a send (keeping the last [`Self::RECENT_SENDS_KEPT`]).
    pub fn record_send(&mut self, at: DateTime<Utc>, with_incentive: bool) {
        self.recent_sends.push(at);
        let excess = self.recent_sends.len().saturating_sub(Self::RECENT_SENDS_KEPT);
        self.recent_sends.drain(..excess);
        if with_incentive {
            self.last_incentive_at = Some(at);
        }
    }
}

/// Why and when a contact stopped receiving a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub reason: SuppressionReason,
    pub at: DateTime<Utc>,
}

/// The reasons a contact is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    Unsubscribed,
    Bounced,
    Complained,
    /// An SMS reply such as STOP.
    StopReply,
}

/// Which conversation an SMS belongs to: a hash of the number Reclaim texted from and the
/// shopper's number (no raw number is stored in the key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsThreadKey(String);

impl SmsThreadKey {
    /// The thread between an origination identity (`None`: the account default) and a shopper.
    pub fn new(origination: Option<&str>, shopper_e164: &str) -> Self {
        let digest = Sha256::digest(format!("{}\n{}", origination.unwrap_or("default"), shopper_e164));
        Self(hex::encode(&digest[..16]))
    }
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What Reclaim keeps about a shop's operation (the `SHOP#…/STATE` item).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShopState {
    /// Email is paused for sender health until the merchant acknowledges.
    #[serde(default)]
    pub email_pause: Option<SenderPause>,
    /// The app's current installation, if the shop installed it.
    #[serde(default)]
    pub installation: Option<Installation>,
    /// When the shop uninstalled the app (cleared by a new install): nothing is sent meanwhile.
    #[serde(default)]
    pub uninstalled_at: Option<DateTime<Utc>>,
}

/// An installation of the app on a shop (the access token itself is kept apart, sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installation {
    pub installed_at: DateTime<Utc>,
    /// The access scopes the shop granted.
    pub scopes: Vec<String>,
    /// Where the shop wants notices such as customer data exports.
    pub contact_email: Option<Email>,
}

/// A secret sealed with envelope encryption: a fresh data key (itself encrypted by the key
/// service) encrypts the secret with AES-256-GCM. Only ciphertext is ever stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    /// The key service's key that wraps the data key.
    pub key_id: String,
    /// The data key, encrypted by the key service (base64).
    pub wrapped_key: String,
    /// The AES-GCM nonce (base64).
    pub nonce: String,
    /// The secret, encrypted (base64).
    pub ciphertext: String,
}

/// Why a shop's email paused itself, with the figures that tripped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderPause {
    pub at: DateTime<Utc>,
    /// `complaint_rate` or `bounce_rate`.
    pub reason: String,
    pub sends: i64,
    pub bounces: i64,
    pub complaints: i64,
}

/// A shopper's SMS reply that was not a keyword, kept with its cart for the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundReply {
    /// The provider's id of the inbound message.
    pub id: String,
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub body: String,
}

/// A small open checkout for tests: one line of two mugs at USD 19.99, an email, an address in
/// New York, created and last active at `at`.
#[cfg(any(test, feature = "testing"))]
pub fn sample_snapshot(at: DateTime<Utc>) -> CheckoutSnapshot {
    let usd = Currency::parse("USD").unwrap();
    CheckoutSnapshot {
        token: CheckoutToken::new("chk").unwrap(),
        cart_token: Some(CartToken::new("cart").unwrap()),
        contact: Contact {
            email: Email::parse("ada@example.com").ok(),
            phone: PhoneE164::parse("+12125550142", None).ok(),
            first_name: Some("Ada".into()),
            accepts_email_marketing: true,
            accepts_sms_marketing: false,
        },
        locale: Some("en".into()),
        region: Region { country_code: Some("US".into()), province_code: Some("NY".into()) },
        line_items: vec![LineItem {
            title: "Mug".into(),
            variant_title: Some("Large".into()),
            variant_id: Some(1),
            product_id: Some(2),
            quantity: 2,
            unit_price: Money { minor: 1999, currency: usd.clone() },
            image_url: Some("https://cdn.example.com/mug.png".into()),
        }],
        subtotal: Money { minor: 3998, currency: usd.clone() },
        total: Money { minor: 3998, currency: usd },
        restore_url: None,
        created_at: at,
        updated_at: at,
        completed_at: None,
        stage: CheckoutStage::Shipping,
        device: None,
        discount_codes: Vec::new(),
        customer_orders: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    #[test]
    fn money_parses_exactly() {
        let cases = [("379.69", 37969), ("0.5", 50), ("12", 1200), ("10.500", 1050), ("-3.20", -320)];
        for (text, minor) in cases {
            assert_eq!(Money::parse("total", text, &usd()).unwrap().minor, minor, "{text}");
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse("total", "1200", &jpy).unwrap().minor, 1200);
        assert_eq!(Money::parse("total", "12", &jpy).unwrap().display(), "JPY 12");
    }

    #[test]
    fn money_refuses_garbage() {
        for text in ["", "abc", "1.2.3", "10.505", "1e3", ".5", " "] {
            assert!(Money::parse("total", text, &usd()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn money_displays_minor_units() {
        assert_eq!(Money::parse("t", "379.69", &usd()).unwrap().display(), "USD 379.69");
        assert_eq!(Money::parse("t", "0.05", &usd()).unwrap().display(), "USD 0.05");
    }

    #[test]
    fn shop_domain_only_myshopify() {
        assert!(ShopDomain::parse("Demo-Store.myshopify.com").is_ok());
        for bad in ["evil.com", "myshopify.com", ".myshopify.com", "a.b.myshopify.com", "x.myshopify.com.evil.com"] {
            assert!(ShopDomain::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contact_key_is_case_insensitive_and_per_shop() {
        let a = ShopDomain::parse("a.myshopify.com").unwrap();
        let b = ShopDomain::parse("b.myshopify.com").unwrap();
        assert_eq!(ContactKey::for_email(&a, "Bob@X.com"), ContactKey::for_email(&a, "bob@x.com"));
        assert_ne!(ContactKey::for_email(&a, "bob@x.com"), ContactKey::for_email(&b, "bob@x.com"));
        assert!(!ContactKey::for_email(&a, "bob@x.com").as_str().contains('@'));
    }
}
