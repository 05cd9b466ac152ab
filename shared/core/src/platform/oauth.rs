//! Shopify's OAuth authorization code grant, the parts that are pure: the authorize URL, the
//! signed `state` cookie, and the callback's query HMAC.
//!
//! Shopify's documentation ("Authorization code grant"): the callback query carries `code`,
//! `hmac`, `host`, `shop`, `state` and `timestamp`. The HMAC is hex HMAC-SHA256 under the app's
//! client secret of the other parameters (`hmac` and `signature` left out), sorted by key, each
//! `key=value` form-encoded (spaces as `%20`) and joined by `&`. The timestamp must be recent
//! ([`CALLBACK_WINDOW`]) and `state` must be the nonce this app set for that browser, compared in
//! constant time.

use crate::model::ShopDomain;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How old a callback's timestamp may be.
pub const CALLBACK_WINDOW: Duration = Duration::seconds(90);
/// The cookie that carries the signed state through the merchant's browser.
pub const STATE_COOKIE: &str = "reclaim_oauth_state";
/// How long the state cookie lives.
pub const STATE_COOKIE_MAX_AGE: i64 = 600;

/// Why an install callback was refused. Each is a clear page; nothing is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("the shop must be a *.myshopify.com domain")]
    BadShop,
    #[error("the request's signature (hmac) is missing or wrong")]
    BadHmac,
    #[error("the request is too old (more than 90 seconds); start the installation again")]
    Stale,
    #[error("the installation was not started from this browser (state mismatch); start it again")]
    BadState,
    #[error("the request has no {0}")]
    Missing(&'static str),
    #[error("this authorization code was already used; start the installation again")]
    CodeReused,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length")
}

/// Form-encodes a value the way Shopify signs it: `application/x-www-form-urlencoded`, but spaces
/// as `%20` (a literal `+` is `%2B`, so the replacement is unambiguous).
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

/// The message Shopify signs for a query: every pair but `hmac` and `signature`, sorted by key.
pub fn signed_message(pairs: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "hmac" && k != "signature").collect();
    kept.sort();
    kept.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// A raw query string as (key, value) pairs, decoded.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The hex HMAC of a query (what Shopify puts in `hmac`).
pub fn sign_query(secret: &[u8], pairs: &[(String, String)]) -> String {
    let mut mac = mac(secret);
    mac.update(signed_message(pairs).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Where the install starts: Shopify's consent screen for `shop`.
pub fn authorize_url(shop: &ShopDomain, api_key: &str, scopes: &[String], redirect_uri: &str, state: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", api_key)
        .append_pair("scope", &scopes.join(","))
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .finish();
    format!("https://{shop}/admin/oauth/authorize?{query}")
}

fn state_signature(secret: &[u8], shop: &ShopDomain, state: &str) -> Hmac<Sha256> {
    let mut mac = mac(secret);
    mac.update(b"reclaim oauth state\n");
    mac.update(shop.as_str().as_bytes());
    mac.update(b"\n");
    mac.update(state.as_bytes());
    mac
}

/// The `Set-Cookie` value that keeps `state` for `shop`: signed, HttpOnly, Secure, ten minutes.
pub fn state_cookie(secret: &[u8], shop: &ShopDomain, state: &str) -> String {
    let signature = hex::encode(state_signature(secret, shop, state).finalize().into_bytes());
    format!(
        "{STATE_COOKIE}={state}.{signature}; Max-Age={STATE_COOKIE_MAX_AGE}; Path=/auth; HttpOnly; Secure; SameSite=Lax"
    )
}

/// The `Set-Cookie` value that clears the state cookie.
pub fn clear_state_cookie() -> String {
    format!("{STATE_COOKIE}=; Max-Age=0; Path=/auth; HttpOnly; Secure; SameSite=Lax")
}

/// A verified callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub shop: ShopDomain,
    pub code: String,
    pub host: Option<String>,
}

/// Verifies a callback: shop domain, query HMAC (constant time), timestamp, and the state against
/// the signed cookie (constant time). `cookie_header` is the request's `Cookie` header.
pub fn verify_callback(
    secret: &[u8],
    pairs: &[(String, String)],
    cookie_header: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Callback, OAuthError> {
    let get = |name: &'static str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let shop = ShopDomain::parse(get("shop").ok_or(OAuthError::Missing("shop"))?).map_err(|_| OAuthError::BadShop)?;
    let hmac = get("hmac").and_then(|h| hex::decode(h).ok()).ok_or(OAuthError::BadHmac)?;
    let mut expected = mac(secret);
    expected.update(signed_message(pairs).as_bytes());
    expected.verify_slice(&hmac).map_err(|_| OAuthError::BadHmac)?;
    let timestamp = get("timestamp").and_then(|t| t.parse::<i64>().ok()).ok_or(OAuthError::Missing("timestamp"))?;
    let at = DateTime::from_timestamp(timestamp, 0).ok_or(OAuthError::Stale)?;
    if (now - at).abs() > CALLBACK_WINDOW {
        return Err(OAuthError::Stale);
    }
    let state = get("state").ok_or(OAuthError::Missing("state"))?;
    let cookie = cookie_header
        .into_iter()
        .flat_map(|header| header.split(';'))
        .find_map(|c| c.trim().strip_prefix(STATE_COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .ok_or(OAuthError::BadState)?;
    // The cookie is `{state}.{signature}`, the signature binding its state to this shop. Checking
    // that signature over the query's state proves both that the cookie is ours and that the two
    // states are equal, in constant time.
    let (_, signature) = cookie.rsplit_once('.').ok_or(OAuthError::BadState)?;
    let signature = hex::decode(signature).map_err(|_| OAuthError::BadState)?;
    state_signature(secret, &shop, state).verify_slice(&signature).map_err(|_| OAuthError::BadState)?;
    let code = get("code").filter(|c| !c.is_empty()).ok_or(OAuthError::Missing("code"))?.to_owned();
    Ok(Callback { shop, code, host: get("host").map(str::to_owned) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"hush";

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn signed(now: DateTime<Utc>, state: &str) -> Vec<(String, String)> {
        let mut query = pairs(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"),
            ("shop", "demo.myshopify.com"),
            ("state", state),
            ("timestamp", &now.timestamp().to_string()),
        ]);
        let hmac = sign_query(SECRET, &query);
        query.push(("hmac".into(), hmac));
        query
    }

    #[test]
    fn the_message_is_sorted_form_encoded_with_percent_twenty() {
        let query = pairs(&[("b", "x y"), ("a", "1&2=3+4"), ("hmac", "ignored"), ("signature", "ignored")]);
        assert_eq!(signed_message(&query), "a=1%262%3D3%2B4&b=x%20y");
    }

    #[test]
    fn a_genuine_callback_passes_and_each_tampering_fails() {
        let now = Utc::now();
        let shop = ShopDomain::parse("demo.myshopify.com").unwrap();
        let cookie = state_cookie(SECRET, &shop, "nonce-1");
        let header = cookie.split(';').next().unwrap().to_owned();
        let ok = verify_callback(SECRET, &signed(now, "nonce-1"), Some(&header), now).unwrap();
        assert_eq!((ok.shop, ok.code.as_str()), (shop.clone(), "0907a61c0c8d55e99db179b68161bc00"));

        let mut tampered = signed(now, "nonce-1");
        tampered[0].1.push('x');
        assert_eq!(verify_callback(SECRET, &tampered, Some(&header), now), Err(OAuthError::BadHmac));
        let later = now + Duration::seconds(91);
        assert_eq!(verify_callback(SECRET, &signed(now, "nonce-1"), Some(&header), later), Err(OAuthError::Stale));
        assert_eq!(verify_callback(SECRET, &signed(now, "nonce-2"), Some(&header), now), Err(OAuthError::BadState));
        assert_eq!(verify_callback(SECRET, &signed(now, "nonce-1"), None, now), Err(OAuthError::BadState));
        let mut evil = signed(now, "nonce-1");
        evil[2].1 = "demo.myshopify.com.evil.com".into();
        assert_eq!(verify_callback(SECRET, &evil, Some(&header), now), Err(OAuthError::BadShop));
        let other_shop = state_cookie(SECRET, &ShopDomain::parse("other.myshopify.com").unwrap(), "nonce-1");
        let other = other_shop.split(';').next().unwrap();
        assert_eq!(verify_callback(SECRET, &signed(now, "nonce-1"), Some(other), now), Err(OAuthError::BadState));
    }

    #[test]
    fn the_authorize_url_is_on_the_shop() {
        let shop = ShopDomain::parse("demo.myshopify.com").unwrap();
        let url = authorize_url(
            &shop,
            "key",
            &["read_orders".into(), "write_discounts".into()],
            "https://r.test/auth/callback",
            "s1",
        );
        assert!(
            url.starts_with(
                "https://demo.myshopify.com/admin/oauth/authorize?client_id=key&scope=read_orders%2Cwrite_discounts"
            ),
            "{url}"
        );
        assert!(url.contains("redirect_uri=https%3A%2F%2Fr.test%2Fauth%2Fcallback") && url.ends_with("state=s1"));
    }
}
