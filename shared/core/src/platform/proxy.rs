//! Shopify app proxy requests: the storefront reaches Reclaim through `https://{shop}/apps/…`, and
//! Shopify forwards the request with `shop`, `path_prefix`, `timestamp`, `logged_in_customer_id`
//! and `signature` added to the query. The signature is the hex HMAC-SHA256 of the other
//! parameters, sorted by key, each as `key=value` (repeated keys' values joined by commas, values
//! not URL-encoded), concatenated without separators.
//!
//! Shopify's documentation: "Authenticate app proxies" (calculate a digital signature).

use crate::model::ShopDomain;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

/// How far a proxy request's timestamp may be from now.
pub const MAX_SKEW_SECONDS: i64 = 90;

/// Why a proxy request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("missing or invalid proxy signature")]
    BadSignature,
    #[error("proxy request timestamp is stale")]
    Stale,
    #[error("proxy request without a valid shop")]
    BadShop,
}

/// The message Shopify signs for these query pairs (without `signature`).
pub fn signed_message(pairs: &[(String, String)]) -> String {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, value) in pairs {
        if key != "signature" {
            grouped.entry(key.as_str()).or_default().push(value.as_str());
        }
    }
    grouped.iter().map(|(key, values)| format!("{key}={}", values.join(","))).collect()
}

fn mac(secret: &[u8], message: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    mac
}

/// The signature Shopify would add to these pairs.
pub fn sign(secret: &[u8], pairs: &[(String, String)]) -> String {
    hex::encode(mac(secret, &signed_message(pairs)).finalize().into_bytes())
}

/// Verifies a proxied request's query (decoded pairs, in any order) and returns its shop.
pub fn verify(secret: &[u8], pairs: &[(String, String)], now: DateTime<Utc>) -> Result<ShopDomain, ProxyError> {
    let signature = pairs.iter().find(|(k, _)| k == "signature").map(|(_, v)| v).ok_or(ProxyError::BadSignature)?;
    let expected = hex::decode(signature).map_err(|_| ProxyError::BadSignature)?;
    mac(secret, &signed_message(pairs)).verify_slice(&expected).map_err(|_| ProxyError::BadSignature)?;
    let timestamp: i64 =
        pairs.iter().find(|(k, _)| k == "timestamp").and_then(|(_, v)| v.parse().ok()).ok_or(ProxyError::Stale)?;
    if (now.timestamp() - timestamp).abs() > MAX_SKEW_SECONDS {
        return Err(ProxyError::Stale);
    }
    let shop = pairs.iter().find(|(k, _)| k == "shop").map(|(_, v)| v).ok_or(ProxyError::BadShop)?;
    ShopDomain::parse(shop).map_err(|_| ProxyError::BadShop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_message_sorts_joins_repeats_and_has_no_separators() {
        let query = pairs(&[
            ("shop", "s.myshopify.com"),
            ("extra", "1"),
            ("extra", "2"),
            ("path_prefix", "/apps/x"),
            ("logged_in_customer_id", ""),
        ]);
        assert_eq!(signed_message(&query), "extra=1,2logged_in_customer_id=path_prefix=/apps/xshop=s.myshopify.com");
    }

    #[test]
    fn signed_requests_verify_and_forged_or_stale_ones_do_not() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap();
        let mut query = pairs(&[
            ("shop", "s.myshopify.com"),
            ("path_prefix", "/apps/reclaim"),
            ("timestamp", &now.timestamp().to_string()),
        ]);
        let signature = sign(b"hush", &query);
        query.push(("signature".into(), signature.clone()));
        assert_eq!(verify(b"hush", &query, now).unwrap().as_str(), "s.myshopify.com");
        assert_eq!(verify(b"other", &query, now), Err(ProxyError::BadSignature));
        assert_eq!(verify(b"hush", &query, now + chrono::Duration::seconds(91)), Err(ProxyError::Stale));
        let mut tampered = query.clone();
        tampered[0].1 = "evil.myshopify.com".into();
        assert_eq!(verify(b"hush", &tampered, now), Err(ProxyError::BadSignature));
        assert_eq!(verify(b"hush", &query[..3], now), Err(ProxyError::BadSignature), "unsigned");
    }
}
