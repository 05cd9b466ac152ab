//! Signed, expiring links. A restore link names one shop, checkout and step; an unsubscribe link
//! names one shop and contact. Both are HS256 JWTs signed with the link secret, so a link cannot
//! be forged, altered or moved to another shop, and each expires.

use crate::model::{CheckoutToken, ContactKey, ShopDomain};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// How long a restore link works after it is sent.
pub const RESTORE_LINK_LIFETIME: Duration = Duration::days(30);
/// How long an unsubscribe link works after it is sent (the law expects them to keep working).
pub const UNSUBSCRIBE_LINK_LIFETIME: Duration = Duration::days(365);

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkKind {
    #[serde(rename = "r")]
    Restore,
    #[serde(rename = "u")]
    Unsubscribe,
}

/// What a link says, once its signature and expiry are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    #[serde(rename = "k")]
    pub kind: LinkKind,
    #[serde(rename = "s")]
    pub shop: ShopDomain,
    #[serde(rename = "c")]
    pub checkout: CheckoutToken,
    #[serde(rename = "n")]
    pub step: u32,
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactKey>,
    /// A discount code the restore link applies.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<String>,
    pub exp: i64,
}

/// Why a link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link is not valid")]
    Invalid,
    #[error("the link has expired")]
    Expired,
    #[error("the link is for something else")]
    WrongKind,
}

/// The code of a short link (`/s/{code}`) for a signed token: ten URL-safe characters of the
/// token's SHA-256, so it cannot be guessed without the token. The token behind it is still
/// verified when the link is followed.
pub fn short_code(token: &str) -> String {
    use base64::Engine;
    let digest = sha2::Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)[..10].to_owned()
}

/// Signs and checks links with one secret.
#[derive(Clone)]
pub struct LinkSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The secret before the last rotation: links already sent still verify with it.
    previous: Option<DecodingKey>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(<redacted>)")
    }
}

impl LinkSigner {
    /// A signer for `secret` (at least 32 bytes is recommended).
    pub fn new(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), previous: None }
    }

    /// During a rotation: signs with `current`, and still accepts links signed with `previous`
    /// (those sent before the rotation, until they expire).
    pub fn rotating(current: &[u8], previous: Option<&[u8]>) -> Self {
        Self { previous: previous.map(DecodingKey::from_secret), ..Self::new(current) }
    }

    /// A restore link token for a checkout's step, valid from `now` for [`RESTORE_LINK_LIFETIME`].
    pub fn restore(&self, shop: &ShopDomain, checkout: &CheckoutToken, step: u32, now: DateTime<Utc>) -> String {
        self.restore_with_discount(shop, checkout, step, None, now)
    }

    /// A restore link token that also applies a discount code.
    pub fn restore_with_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        step: u32,
        discount: Option<&str>,
        now: DateTime<Utc>,
    ) -> String {
        self.sign(&LinkClaims {
            kind: LinkKind::Restore,
            shop: shop.clone(),
            checkout: checkout.clone(),
            step,
            contact: None,
            discount: discount.map(str::to_owned),
            exp: (now + RESTORE_LINK_LIFETIME).timestamp(),
        })
    }

    /// An unsubscribe link token for a contact at a shop.
    pub fn unsubscribe(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        step: u32,
        contact: &ContactKey,
        now: DateTime<Utc>,
    ) -> String {
        self.sign(&LinkClaims {
            kind: LinkKind::Unsubscribe,
            shop: shop.clone(),
            checkout: checkout.clone(),
            step,
            contact: Some(contact.clone()),
            discount: None,
            exp: (now + UNSUBSCRIBE_LINK_LIFETIME).timestamp(),
        })
    }

    /// Signs arbitrary claims (tests use it to make expired links).
    pub fn sign(&self, claims: &LinkClaims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("link claims always serialise")
    }

    /// Checks a token's signature, kind and expiry at `now`.
    pub fn verify(&self, token: &str, kind: LinkKind, now: DateTime<Utc>) -> Result<LinkClaims, LinkError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the injected clock below, not the system clock.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp".to_owned()].into();
        let decode = |key: &DecodingKey| jsonwebtoken::decode::<LinkClaims>(token, key, &validation);
        let claims = decode(&self.decoding)
            .or_else(|error| self.previous.as_ref().map_or(Err(error), decode))
            .map_err(|_| LinkError::Invalid)?
            .claims;
        if claims.kind != kind {
            return Err(LinkError::WrongKind);
        }
        if now.timestamp() >= claims.exp {
            return Err(LinkError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
    }

    fn ids() -> (ShopDomain, CheckoutToken) {
        (ShopDomain::parse("s.myshopify.com").unwrap(), CheckoutToken::new("abc").unwrap())
    }

    #[test]
    fn after_a_rotation_links_sent_before_still_verify_and_new_ones_use_the_new_secret() {
        let (old, new) =
            (b"old-secret-old-secret-old-secret".as_slice(), b"new-secret-new-secret-new-secret".as_slice());
        let (shop, checkout) = ids();
        let sent_before = LinkSigner::new(old).restore(&shop, &checkout, 0, now());
        let rotating = LinkSigner::rotating(new, Some(old));
        assert!(rotating.verify(&sent_before, LinkKind::Restore, now()).is_ok(), "the previous secret still verifies");
        let sent_after = rotating.restore(&shop, &checkout, 0, now());
        assert!(LinkSigner::new(new).verify(&sent_after, LinkKind::Restore, now()).is_ok(), "signed with the new one");
        assert!(LinkSigner::new(old).verify(&sent_after, LinkKind::Restore, now()).is_err());
        let stranger = LinkSigner::new(b"stranger-stranger-stranger-xxxxx").restore(&shop, &checkout, 0, now());
        assert_eq!(rotating.verify(&stranger, LinkKind::Restore, now()), Err(LinkError::Invalid));
        // Once the rotation ends, the old links stop verifying.
        assert!(LinkSigner::new(new).verify(&sent_before, LinkKind::Restore, now()).is_err());
    }

    #[test]
    fn restore_link_round_trips() {
        let signer = LinkSigner::new(b"0123456789abcdef0123456789abcdef");
        let (shop, checkout) = ids();
        let token = signer.restore(&shop, &checkout, 1, now());
        let claims = signer.verify(&token, LinkKind::Restore, now()).unwrap();
        assert_eq!((claims.shop, claims.checkout, claims.step), (shop, checkout, 1));
    }

    #[test]
    fn tampered_expired_foreign_and_wrong_kind_links_fail() {
        let signer = LinkSigner::new(b"0123456789abcdef0123456789abcdef");
        let (shop, checkout) = ids();
        let token = signer.restore(&shop, &checkout, 0, now());
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(signer.verify(&tampered, LinkKind::Restore, now()), Err(LinkError::Invalid));
        assert_eq!(signer.verify(&token, LinkKind::Restore, now() + RESTORE_LINK_LIFETIME), Err(LinkError::Expired));
        assert_eq!(signer.verify(&token, LinkKind::Unsubscribe, now()), Err(LinkError::WrongKind));
        let other = LinkSigner::new(b"another secret, another deployment");
        assert_eq!(other.verify(&token, LinkKind::Restore, now()), Err(LinkError::Invalid));
        assert_eq!(signer.verify("garbage", LinkKind::Restore, now()), Err(LinkError::Invalid));
    }
}
