//! What Reclaim keeps about a shop's operation: installation, sender health, uninstall, the
//! sealed access token.

use super::Email;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// The SMS origination identities (numbers, sender ids) the operator allowed this shop to
    /// send from (`reclaim originations`); the account's default needs none.
    #[serde(default)]
    pub allowed_originations: std::collections::BTreeSet<String>,
    /// Which push-registration key is current: revoking the key (the merchant's rotation, an
    /// uninstall) moves it on, and the old key signs nothing any more.
    #[serde(default)]
    pub push_key_generation: u32,
    /// Since when the shop's refresh token no longer works (revoked, expired): the merchant has
    /// to open the app again. Incentives go without a code meanwhile.
    #[serde(default)]
    pub needs_reauthorisation: Option<DateTime<Utc>>,
    /// When the merchant last sent themselves a test email (onboarding).
    #[serde(default)]
    pub test_email_sent_at: Option<DateTime<Utc>>,
    /// When the storefront script last asked for its settings through the app proxy: the app
    /// embed is on in the live theme (onboarding). Refreshed at most daily.
    #[serde(default)]
    pub storefront_seen_at: Option<DateTime<Utc>>,
}

/// A shop's offline access, sealed: the access token and, for an expiring one, its refresh
/// token and both expiries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    pub access: SealedSecret,
    #[serde(default)]
    pub access_expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub refresh: Option<SealedSecret>,
    #[serde(default)]
    pub refresh_expires_at: Option<DateTime<Utc>>,
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
