//! Signed push-device registrations. A merchant's mobile app (through the merchant's backend)
//! registers a shopper's device token with `POST /push/devices`, signed like a Shopify webhook:
//! `X-Reclaim-Shop` names the shop and `X-Reclaim-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw
//! body under that shop's registration key.
//!
//! A shop's key is derived from the app secret and the shop, so it signs for that shop only; the
//! merchant reads it from the admin API (`GET /admin/push-key`). The body's `timestamp` must be
//! within [`REGISTRATION_WINDOW`] of now, so a captured request cannot be replayed later.

use crate::model::{PushPlatform, ShopDomain};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How far a registration's timestamp may be from now.
pub const REGISTRATION_WINDOW: Duration = Duration::minutes(5);

/// The header that names the shop.
pub const SHOP_HEADER: &str = "x-reclaim-shop";
/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-reclaim-hmac-sha256";

/// What a registration says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRegistration {
    /// The shopper's email at the shop: push reaches the carts of this contact.
    pub customer_email: String,
    pub platform: PushPlatform,
    /// The APNs or FCM device token.
    pub device_token: String,
    /// Unix seconds when the request was made.
    pub timestamp: i64,
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("missing or invalid signature")]
    BadSignature,
    #[error("the request is too old or from the future")]
    Stale,
    #[error("malformed registration: {0}")]
    Malformed(String),
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

/// The registration key of a shop (hex): HMAC-SHA256 of the shop and the key's generation under
/// the app secret. A new generation revokes every key before it.
pub fn registration_key(app_secret: &[u8], shop: &ShopDomain, generation: u32) -> String {
    let mut mac = mac(app_secret);
    mac.update(b"reclaim push registration\n");
    mac.update(shop.as_str().as_bytes());
    mac.update(format!("\n{generation}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signature of a body under a registration key.
pub fn sign_registration(key: &str, body: &[u8]) -> String {
    let mut mac = mac(key.as_bytes());
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

/// Checks the signature (in constant time) and the timestamp, then parses the body.
pub fn verify_registration(
    app_secret: &[u8],
    (shop, generation): (&ShopDomain, u32),
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<DeviceRegistration, RegistrationError> {
    let signature = signature.and_then(|s| BASE64.decode(s.trim()).ok()).ok_or(RegistrationError::BadSignature)?;
    let mut mac = mac(registration_key(app_secret, shop, generation).as_bytes());
    mac.update(body);
    mac.verify_slice(&signature).map_err(|_| RegistrationError::BadSignature)?;
    let registration: DeviceRegistration =
        serde_json::from_slice(body).map_err(|e| RegistrationError::Malformed(e.to_string()))?;
    let at = DateTime::from_timestamp(registration.timestamp, 0).ok_or(RegistrationError::Stale)?;
    if (now - at).abs() > REGISTRATION_WINDOW {
        return Err(RegistrationError::Stale);
    }
    if registration.device_token.trim().is_empty() || registration.device_token.len() > 4096 {
        return Err(RegistrationError::Malformed("device_token must be 1 to 4096 characters".into()));
    }
    Ok(registration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(name: &str) -> ShopDomain {
        ShopDomain::parse(&format!("{name}.myshopify.com")).unwrap()
    }

    fn body(at: DateTime<Utc>) -> Vec<u8> {
        serde_json::to_vec(&DeviceRegistration {
            customer_email: "ada@example.com".into(),
            platform: PushPlatform::Apns,
            device_token: "a1b2".into(),
            timestamp: at.timestamp(),
        })
        .unwrap()
    }

    #[test]
    fn signed_registration_verifies_only_for_its_shop_and_in_time() {
        let now = Utc::now();
        let key = registration_key(b"secret", &shop("a"), 0);
        let body = body(now);
        let signature = sign_registration(&key, &body);
        assert!(verify_registration(b"secret", (&shop("a"), 0), Some(&signature), &body, now).is_ok());
        let refused = |shop_name: &str, signature: Option<&str>, at: DateTime<Utc>| {
            verify_registration(b"secret", (&shop(shop_name), 0), signature, &body, at).unwrap_err()
        };
        assert_eq!(refused("b", Some(&signature), now), RegistrationError::BadSignature);
        assert_eq!(refused("a", None, now), RegistrationError::BadSignature);
        assert_eq!(refused("a", Some("bm90IGl0"), now), RegistrationError::BadSignature);
        assert_eq!(refused("a", Some(&signature), now + Duration::minutes(6)), RegistrationError::Stale);
        assert_ne!(registration_key(b"secret", &shop("a"), 0), registration_key(b"other", &shop("a"), 0));
    }
}
