//! Checkouts, carts and orders as the platform reports them, and the record Reclaim keeps
//! about a checkout (status, armed check, conversion, holdout), with captures and discounts.

use super::{CartToken, CheckoutToken, Contact, ContactKey, Email, Money, OrderId, ShopDomain};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

impl CheckoutSnapshot {
    /// Of two snapshots of one checkout stamped the same second (the platform's `updated_at`
    /// has no finer grain, so arrival order cannot tell which is newer), the one both arrival
    /// orders agree on: the further-along snapshot is the base (completed, a later stage, more
    /// contact, more lines, a larger total, then a hash of its content), and what it lacks
    /// (addresses, name, locale, region, links) is filled from the other. The merge is
    /// commutative, so two workers receiving the pair in either order store the same state.
    pub fn merge_same_second(&self, other: &Self) -> Self {
        let (base, filler) = if self.progress_rank() >= other.progress_rank() { (self, other) } else { (other, self) };
        let mut merged = base.clone();
        let contact = &mut merged.contact;
        if contact.email.is_none() && filler.contact.email.is_some() {
            contact.email = filler.contact.email.clone();
            contact.accepts_email_marketing = filler.contact.accepts_email_marketing;
        }
        if contact.phone.is_none() && filler.contact.phone.is_some() {
            contact.phone = filler.contact.phone.clone();
            contact.accepts_sms_marketing = filler.contact.accepts_sms_marketing;
        }
        contact.first_name = contact.first_name.take().or_else(|| filler.contact.first_name.clone());
        merged.locale = merged.locale.take().or_else(|| filler.locale.clone());
        merged.region.country_code = merged.region.country_code.take().or_else(|| filler.region.country_code.clone());
        merged.region.province_code =
            merged.region.province_code.take().or_else(|| filler.region.province_code.clone());
        merged.restore_url = merged.restore_url.take().or_else(|| filler.restore_url.clone());
        merged.cart_token = merged.cart_token.take().or_else(|| filler.cart_token.clone());
        merged.completed_at = merged.completed_at.or(filler.completed_at);
        merged.device = merged.device.or(filler.device);
        merged.customer_orders = merged.customer_orders.or(filler.customer_orders);
        merged
    }

    /// How far along a snapshot is, ending in a hash of its content so that the order is total.
    fn progress_rank(&self) -> (bool, u8, bool, bool, usize, i64, u64) {
        let stage = match self.stage {
            CheckoutStage::Contact => 0,
            CheckoutStage::Shipping => 1,
            CheckoutStage::Payment => 2,
        };
        let content = serde_json::to_vec(self).unwrap_or_default();
        (
            self.completed_at.is_some(),
            stage,
            self.contact.email.is_some(),
            self.contact.phone.is_some(),
            self.line_items.len(),
            self.total.minor,
            xxhash_rust::xxh3::xxh3_64(&content),
        )
    }
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

/// How a checkout ended before Reclaim saw it: what a tombstone remembers, so that the
/// checkout, when it comes, is stored ended and never reminded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ended_by", rename_all = "snake_case")]
pub enum Ending {
    /// An order (`orders/create`, `orders/paid`) that overtook its checkout.
    Order(Conversion),
    /// A `checkouts/delete` that overtook its `checkouts/create`.
    Deleted { at: DateTime<Utc> },
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
        contact
            .email
            .as_deref()
            .or(contact.phone_e164().map(|p| p.as_str()))
            .map(|address| ContactKey::for_email(&self.shop, address))
    }

    /// Whether recovery could reach anyone about this checkout.
    pub fn is_recoverable(&self) -> bool {
        let contact = &self.snapshot.contact;
        let reachable = contact.email.is_some() || (contact.accepts_sms_marketing && contact.phone_e164().is_some());
        self.status == CheckoutStatus::Open && reachable && !self.snapshot.line_items.is_empty()
    }
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

impl CheckoutSnapshot {
    /// The cart a merchant's test email shows: one linen throw at 89.00 in the shop's first
    /// currency, for the merchant themself (never a shopper's data).
    pub fn example_for_merchant(to: Email, currency: super::Currency, at: DateTime<Utc>) -> Self {
        let price = Money { minor: 8900, currency };
        CheckoutSnapshot {
            token: CheckoutToken::new("example").expect("a valid token"),
            cart_token: None,
            contact: Contact {
                email: Some(to),
                phone: None,
                first_name: None,
                accepts_email_marketing: true,
                accepts_sms_marketing: false,
            },
            locale: None,
            region: Region::default(),
            line_items: vec![LineItem {
                title: "Linen Throw Blanket".into(),
                variant_title: Some("Oat".into()),
                variant_id: None,
                product_id: None,
                quantity: 1,
                unit_price: price.clone(),
                image_url: None,
            }],
            subtotal: price.clone(),
            total: price,
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
}

/// A small open checkout for tests: one line of two mugs at USD 19.99, an email, an address in
/// New York, created and last active at `at`.
#[cfg(any(test, feature = "testing"))]
pub fn sample_snapshot(at: DateTime<Utc>) -> CheckoutSnapshot {
    let usd = super::Currency::parse("USD").unwrap();
    CheckoutSnapshot {
        token: CheckoutToken::new("chk").unwrap(),
        cart_token: Some(CartToken::new("cart").unwrap()),
        contact: Contact {
            email: Email::parse("ada@example.com").ok(),
            phone: super::PhoneE164::parse("+12125550142", None).ok().map(Into::into),
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
mod merge_tests {
    use super::*;
    use proptest::prelude::*;

    fn variant(seed: (bool, bool, bool, u8, usize, bool, bool)) -> CheckoutSnapshot {
        let (email, phone, completed, stage, lines, name, region) = seed;
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 6, 1, 12, 0, 0).unwrap();
        let mut snapshot = sample_snapshot(at);
        if !email {
            snapshot.contact.email = None;
        }
        if !phone {
            snapshot.contact.phone = None;
        }
        snapshot.completed_at = completed.then_some(at);
        snapshot.stage =
            [CheckoutStage::Contact, CheckoutStage::Shipping, CheckoutStage::Payment][usize::from(stage % 3)];
        let line = snapshot.line_items[0].clone();
        snapshot.line_items = vec![line; lines];
        snapshot.contact.first_name = name.then(|| "Ada".to_owned());
        snapshot.region.country_code = region.then(|| "US".to_owned());
        snapshot
    }

    proptest! {
        #[test]
        fn same_second_merges_agree_whatever_the_arrival_order(
            a in any::<(bool, bool, bool, u8, usize, bool, bool)>().prop_map(|(e, p, c, s, l, n, r)| (e, p, c, s, l % 4, n, r)),
            b in any::<(bool, bool, bool, u8, usize, bool, bool)>().prop_map(|(e, p, c, s, l, n, r)| (e, p, c, s, l % 4, n, r)),
        ) {
            let (a, b) = (variant(a), variant(b));
            let merged = a.merge_same_second(&b);
            prop_assert_eq!(&merged, &b.merge_same_second(&a), "commutative");
            prop_assert_eq!(&a.merge_same_second(&a), &a, "idempotent");
            // Nothing either snapshot knew is lost.
            prop_assert_eq!(merged.contact.email.is_some(), a.contact.email.is_some() || b.contact.email.is_some());
            prop_assert_eq!(merged.contact.phone.is_some(), a.contact.phone.is_some() || b.contact.phone.is_some());
            prop_assert_eq!(merged.completed_at.is_some(), a.completed_at.is_some() || b.completed_at.is_some());
            prop_assert_eq!(merged.region.country_code.is_some(), a.region.country_code.is_some() || b.region.country_code.is_some());
        }
    }
}
