//! Platforms whose webhooks Reclaim understands. Each platform module verifies a delivery's
//! signature over the raw body and parses the payload into one [`PlatformEvent`], the only shape
//! the use cases see.

pub mod oauth;
pub mod proxy;
pub mod shopify;

use crate::model::{CartSnapshot, CheckoutSnapshot, CheckoutToken, OrderSnapshot, ShopDomain, WebhookId};

/// What a webhook told us, normalised. Short-lived (one per delivery), so the size difference
/// between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformEvent {
    /// A checkout was created or changed.
    CheckoutUpserted(CheckoutSnapshot),
    /// A checkout was deleted.
    CheckoutDeleted(CheckoutToken),
    /// A storefront cart was created or changed.
    CartUpserted(CartSnapshot),
    /// An order was placed (or paid).
    OrderPlaced(OrderSnapshot),
    /// A customer record changed: what it says about SMS marketing consent.
    ConsentChanged(ConsentChange),
    /// The shop uninstalled the app (`app/uninstalled`).
    AppUninstalled,
    /// Delete everything held for the shop (`shop/redact`, 48 hours after an uninstall).
    ShopRedact,
    /// Delete everything held on a customer (`customers/redact`).
    CustomerRedact(CustomerRef),
    /// Send the shop everything held on a customer (`customers/data_request`).
    CustomerDataRequest { customer: CustomerRef, request_id: String },
    /// A topic Reclaim does not act on.
    Ignored { topic: String },
}

/// Who a privacy request is about: any of the customer's id, email and phone.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CustomerRef {
    pub id: Option<String>,
    pub email: Option<crate::model::Email>,
    /// When it could be read.
    pub phone: Option<crate::model::PhoneE164>,
}

/// A customer's marketing consent as the platform now states it (`customers/create|update`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    /// The customer's email, and its marketing consent when the payload states one.
    pub email: Option<crate::model::Email>,
    pub email_consent: Option<crate::model::MarketingConsent>,
    /// The customer's number (nothing to record for SMS without one).
    pub phone: Option<crate::model::PhoneE164>,
    pub sms_consent: Option<crate::model::MarketingConsent>,
    /// The SMS consent's evidence when the customer is subscribed; `None` when they are not.
    pub evidence: Option<crate::model::ConsentEvidence>,
}

/// A verified, parsed delivery: who sent it, its dedupe id, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDelivery {
    pub shop: ShopDomain,
    pub webhook_id: WebhookId,
    pub topic: String,
    pub event: PlatformEvent,
}

/// Why a delivery was refused. Each maps to one HTTP status in [`crate::web`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("missing or invalid signature")]
    BadSignature,
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("invalid header {name}: {reason}")]
    InvalidHeader { name: &'static str, reason: String },
    #[error("malformed payload: {0}")]
    MalformedPayload(String),
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("unknown platform {0:?}")]
    UnknownPlatform(String),
}
