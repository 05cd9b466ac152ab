//! Identifiers as types that cannot be wrong: the shop's domain, checkout, cart, order and webhook ids,
//! and the hashed keys of contacts and SMS threads (keys and logs never hold an address).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a value could not become one of the model's validated types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The refused text is kept for the log (`Debug`), never shown in a message: an error
    /// answer does not echo what an attacker sent.
    #[error("shop domain must be a *.myshopify.com host")]
    ShopDomain(String),
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is not a valid amount: {value:?}")]
    Amount { field: &'static str, value: String },
    #[error("currency must be a three-letter ISO 4217 code, got {0:?}")]
    Currency(String),
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must not contain control characters")]
    ControlCharacters { field: &'static str },
}

/// The longest identifier accepted (checkout, cart and webhook ids are far shorter; keys built
/// from them stay well inside DynamoDB's key limits).
pub const MAX_ID_LENGTH: usize = 255;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Wraps a non-empty identifier of at most [`MAX_ID_LENGTH`] characters, without
            /// control characters.
            pub fn new(value: impl Into<String>) -> Result<Self, ModelError> {
                let value = value.into();
                if value.trim().is_empty() {
                    return Err(ModelError::Empty { field: $field });
                }
                if value.chars().count() > MAX_ID_LENGTH {
                    return Err(ModelError::TooLong { field: $field, max: MAX_ID_LENGTH });
                }
                if value.chars().any(char::is_control) {
                    return Err(ModelError::ControlCharacters { field: $field });
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
