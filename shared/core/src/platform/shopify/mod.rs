//! Shopify webhooks: HMAC-SHA256 verification over the raw body (base64, constant time, current
//! and previous secret) and parsing of the REST-shaped payloads of the checkouts, carts and orders
//! topics into [`PlatformEvent`]s.
//!
//! Shopify's documentation: "Verify webhooks" (the `X-Shopify-Hmac-Sha256` header is the base64
//! HMAC-SHA256 of the raw body keyed with the app's client secret) and the REST resources
//! AbandonedCheckout, Order and Cart whose JSON is the webhook body.

use super::{ConsentChange, CustomerRef, DeliveryError, PlatformEvent, VerifiedDelivery};
use crate::model::{
    CartSnapshot, CartToken, CheckoutSnapshot, CheckoutStage, CheckoutToken, ConsentEvidence, Contact, Currency,
    Device, Email, LineItem, ModelError, Money, OrderId, OrderSnapshot, PhoneE164, Region, ShopDomain, WebhookId,
    WrittenPhone,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::borrow::Cow;

mod tape;

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Header names, compared case-insensitively.
pub mod headers {
    pub const TOPIC: &str = "x-shopify-topic";
    pub const HMAC: &str = "x-shopify-hmac-sha256";
    pub const SHOP_DOMAIN: &str = "x-shopify-shop-domain";
    pub const WEBHOOK_ID: &str = "x-shopify-webhook-id";
    pub const API_VERSION: &str = "x-shopify-api-version";
}

/// The app's client secrets: the current one and, during rotation, the previous one.
#[derive(Clone)]
pub struct WebhookSecrets {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecrets(<redacted>)")
    }
}

impl WebhookSecrets {
    /// The current secret and, optionally, the one it replaces. An empty previous secret counts as none.
    pub fn new(current: impl Into<Vec<u8>>, previous: Option<Vec<u8>>) -> Self {
        Self { current: current.into(), previous: previous.filter(|p| !p.is_empty()) }
    }

    /// True when `header_b64` is the HMAC of `body` under the current or the previous secret.
    /// The comparison is constant-time ([`Mac::verify_slice`]).
    pub fn verify(&self, body: &[u8], header_b64: &str) -> bool {
        let Ok(expected) = BASE64.decode(header_b64.trim()) else {
            return false;
        };
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .any(|secret| mac(secret, body).verify_slice(&expected).is_ok())
    }

    /// Signs `body` the way Shopify does (for the demo store and tests).
    pub fn sign(&self, body: &[u8]) -> String {
        sign_webhook(&self.current, body)
    }
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac
}

/// The base64 HMAC-SHA256 of `body` under `secret`, as Shopify puts in `X-Shopify-Hmac-Sha256`.
pub fn sign_webhook(secret: &[u8], body: &[u8]) -> String {
    BASE64.encode(mac(secret, body).finalize().into_bytes())
}

/// Verifies and parses one delivery. `header` looks a header up by its lower-case name.
///
/// The order matters: size, then signature (nothing about the request is trusted before it),
/// then required headers, then the payload.
pub fn verify_and_parse<'a>(
    secrets: &WebhookSecrets,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
) -> Result<VerifiedDelivery, DeliveryError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(DeliveryError::TooLarge { limit: MAX_BODY_BYTES });
    }
    let signature = header(headers::HMAC).ok_or(DeliveryError::BadSignature)?;
    if !secrets.verify(body, signature) {
        return Err(DeliveryError::BadSignature);
    }
    let required =
        |name: &'static str| header(name).filter(|v| !v.trim().is_empty()).ok_or(DeliveryError::MissingHeader(name));
    let topic = required(headers::TOPIC)?.trim().to_ascii_lowercase();
    let shop = ShopDomain::parse(required(headers::SHOP_DOMAIN)?)
        .map_err(|e| DeliveryError::InvalidHeader { name: headers::SHOP_DOMAIN, reason: e.to_string() })?;
    let webhook_id = WebhookId::new(required(headers::WEBHOOK_ID)?.trim())
        .map_err(|e| DeliveryError::InvalidHeader { name: headers::WEBHOOK_ID, reason: e.to_string() })?;
    if COMPLIANCE_TOPICS.contains(&topic.as_str()) {
        ensure_body_names_the_shop(&shop, body)?;
    }
    let event = parse_event(&topic, body)?;
    Ok(VerifiedDelivery { shop, webhook_id, topic, event })
}

/// The mandatory compliance topics, whose body names the shop again.
const COMPLIANCE_TOPICS: [&str; 3] = ["customers/data_request", "customers/redact", "shop/redact"];

/// A compliance webhook acts on the shop in its header only when its body's `shop_domain` names
/// the same shop: a mismatch is refused, and nothing of either shop is touched.
fn ensure_body_names_the_shop(shop: &ShopDomain, body: &[u8]) -> Result<(), DeliveryError> {
    #[derive(Deserialize)]
    struct NamedShop {
        shop_domain: Option<String>,
    }
    let named: NamedShop = serde_json::from_slice(body).map_err(|e| DeliveryError::MalformedPayload(e.to_string()))?;
    match named.shop_domain.as_deref().map(ShopDomain::parse) {
        Some(Ok(named)) if &named == shop => Ok(()),
        _ => Err(DeliveryError::InvalidHeader {
            name: headers::SHOP_DOMAIN,
            reason: "does not match the body's shop_domain".into(),
        }),
    }
}

/// Parses the body of a topic into an event. Unknown topics are [`PlatformEvent::Ignored`], but
/// their body must still be JSON.
pub fn parse_event(topic: &str, body: &[u8]) -> Result<PlatformEvent, DeliveryError> {
    let malformed = |e: &dyn std::fmt::Display| DeliveryError::MalformedPayload(e.to_string());
    // JSON is UTF-8 (RFC 8259); serde_json does not check the strings it skips, simd-json
    // (checkouts, the hot path) checks everything itself.
    if !topic.starts_with("checkouts/c") && !topic.starts_with("checkouts/u") {
        std::str::from_utf8(body).map_err(|_| malformed(&"the body is not UTF-8"))?;
    }
    match topic {
        "checkouts/create" | "checkouts/update" => {
            let snapshot =
                tape::with_tape(body, |value| RawCheckout::from_tape(value)?.normalise().map_err(|e| e.to_string()))
                    .map_err(DeliveryError::MalformedPayload)?;
            Ok(PlatformEvent::CheckoutUpserted(snapshot))
        }
        "checkouts/delete" => {
            let raw: RawDeleted = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            let token = raw.token.ok_or_else(|| malformed(&"checkouts/delete without token"))?;
            Ok(PlatformEvent::CheckoutDeleted(CheckoutToken::new(token).map_err(|e| malformed(&e))?))
        }
        "carts/create" | "carts/update" => {
            let raw: RawCart = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            Ok(PlatformEvent::CartUpserted(raw.normalise().map_err(|e| malformed(&e))?))
        }
        "customers/create" | "customers/update" => {
            let raw: RawCustomerRecord = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            Ok(PlatformEvent::ConsentChanged(raw.normalise()))
        }
        "app/uninstalled" => {
            // The shop's record: a JSON object, whatever it holds.
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body).map_err(|e| malformed(&e))?;
            Ok(PlatformEvent::AppUninstalled)
        }
        "shop/redact" => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| malformed(&e))?;
            Ok(PlatformEvent::ShopRedact)
        }
        "customers/redact" => {
            let raw: RawPrivacyRequest = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            Ok(PlatformEvent::CustomerRedact(raw.customer.normalise()))
        }
        "customers/data_request" => {
            let raw: RawPrivacyRequest = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            let request_id = raw.data_request.and_then(|r| r.id).unwrap_or_default();
            Ok(PlatformEvent::CustomerDataRequest { customer: raw.customer.normalise(), request_id })
        }
        "orders/create" | "orders/paid" => {
            let raw: RawOrder = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
            Ok(PlatformEvent::OrderPlaced(raw.normalise().map_err(|e| malformed(&e))?))
        }
        other => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| malformed(&e))?;
            Ok(PlatformEvent::Ignored { topic: other.to_owned() })
        }
    }
}

/// A phone number in E.164, using the address's country when the number has no `+`.
/// Unparseable or invalid numbers are dropped rather than guessed.
pub fn normalise_phone(raw: &str, country_code: Option<&str>) -> Option<PhoneE164> {
    PhoneE164::parse(raw, country_code).ok()
}

/// The email address in a platform's field; what is not one address is dropped (a webhook that
/// carries junk in an address field still stores the cart, without that address).
pub fn normalise_email(raw: Option<String>) -> Option<Email> {
    normalise_email_str(raw.as_deref())
}

/// [`normalise_email`] of borrowed text.
fn normalise_email_str(raw: Option<&str>) -> Option<Email> {
    raw.and_then(|text| Email::parse(text).ok())
}

#[derive(Debug, thiserror::Error)]
enum NormaliseError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{0}")]
    Missing(&'static str),
}

#[derive(Deserialize)]
struct RawDeleted {
    #[serde(default, deserialize_with = "string_or_number")]
    token: Option<String>,
}

// The raw shapes borrow their text from the body where they can (`Cow`): most of it is never
// kept, and what is kept is copied once, into the model.

#[derive(Deserialize)]
struct RawAddress<'a> {
    #[serde(borrow)]
    first_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    phone: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    province_code: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawCustomer<'a> {
    #[serde(borrow)]
    first_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    email: Option<Cow<'a, str>>,
    #[serde(borrow)]
    phone: Option<Cow<'a, str>>,
    orders_count: Option<u32>,
}

#[derive(Deserialize)]
struct RawDiscountCode {
    code: String,
}

#[derive(Deserialize)]
struct RawClientDetails<'a> {
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
}

/// Mobile or desktop, from a user agent.
/// The currency the shopper pays in: the presentment currency, else the shop's.
fn shoppers_currency(presentment: Option<&str>, shop: Option<&str>) -> Result<Currency, NormaliseError> {
    Ok(Currency::parse(presentment.or(shop).ok_or(NormaliseError::Missing("currency"))?)?)
}

fn device_of(user_agent: &str) -> Device {
    let mobile = ["Mobile", "Android", "iPhone", "iPad"].iter().any(|m| user_agent.contains(m));
    if mobile { Device::Mobile } else { Device::Desktop }
}

#[derive(Deserialize)]
struct RawLineItem<'a> {
    #[serde(borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    presentment_title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    variant_title: Option<Cow<'a, str>>,
    variant_id: Option<u64>,
    product_id: Option<u64>,
    quantity: u32,
    #[serde(borrow)]
    price: Cow<'a, str>,
    image_url: Option<String>,
    #[serde(default)]
    image: Option<RawImage>,
}

/// A line item's `image`: a URL, or an object with `src` (both shapes occur). Read directly
/// rather than as an untagged enum, which would buffer every image first.
enum RawImage {
    Url(String),
    Object { src: Option<String> },
}

impl<'de> Deserialize<'de> for RawImage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ImageVisitor;
        impl<'de> serde::de::Visitor<'de> for ImageVisitor {
            type Value = RawImage;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an image URL or an object with src")
            }
            fn visit_str<E: serde::de::Error>(self, url: &str) -> Result<RawImage, E> {
                Ok(RawImage::Url(url.to_owned()))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<RawImage, M::Error> {
                let mut src = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "src" {
                        src = map.next_value::<Option<String>>()?;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(RawImage::Object { src })
            }
        }
        deserializer.deserialize_any(ImageVisitor)
    }
}

/// Bounds on what a webhook may make Reclaim store. Text beyond them is cut (a real cart with an
/// absurdly long title is still recovered); URLs beyond them are dropped (a cart permalink or no
/// image replaces them); lines beyond [`MAX_LINE_ITEMS`] are not kept (the total still counts
/// them). Together they keep every item far inside DynamoDB's 400 KB, so no input can turn a
/// delivery into a 503 that Shopify would retry for ever.
pub mod bounds {
    /// Product and variant titles.
    pub const TITLE: usize = 255;
    /// A shopper's first name.
    pub const NAME: usize = 100;
    /// A locale (`en`, `pt-BR`; BCP 47 tags are short).
    pub const LOCALE: usize = 35;
    /// Country and province codes.
    pub const REGION_CODE: usize = 8;
    /// Image and restore URLs.
    pub const URL: usize = 2048;
    /// Discount codes, each.
    pub const DISCOUNT_CODE: usize = 255;
    /// Discount codes on one checkout.
    pub const DISCOUNT_CODES: usize = 25;
    /// Line items kept of one cart.
    pub const MAX_LINE_ITEMS: usize = 100;
}

/// `text` cut to at most `max` characters (at a character boundary).
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        // No more bytes than `max`, so no more characters.
        return text.to_owned();
    }
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

/// A URL kept only when it fits.
fn bounded_url(url: Option<String>) -> Option<String> {
    url.filter(|u| u.len() <= bounds::URL && !u.chars().any(char::is_control))
}

impl RawLineItem<'_> {
    fn normalise(self, currency: &Currency) -> Result<LineItem, ModelError> {
        let image_url = bounded_url(self.image_url.or(match self.image {
            Some(RawImage::Url(url)) => Some(url),
            Some(RawImage::Object { src }) => src,
            None => None,
        }));
        Ok(LineItem {
            title: self.title.or(self.presentment_title).map_or_else(|| "Item".to_owned(), |t| cut(&t, bounds::TITLE)),
            variant_title: self.variant_title.filter(|v| !v.is_empty()).map(|v| cut(&v, bounds::TITLE)),
            variant_id: self.variant_id,
            product_id: self.product_id,
            quantity: self.quantity,
            unit_price: Money::parse("line_items[].price", &self.price, currency)?,
            image_url,
        })
    }
}

#[derive(Deserialize)]
struct RawCheckout<'a> {
    #[serde(deserialize_with = "required_string_or_number")]
    token: String,
    #[serde(default, deserialize_with = "string_or_number")]
    cart_token: Option<String>,
    #[serde(borrow)]
    email: Option<Cow<'a, str>>,
    #[serde(borrow)]
    phone: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sms_marketing_phone: Option<Cow<'a, str>>,
    #[serde(default)]
    buyer_accepts_marketing: bool,
    #[serde(default)]
    buyer_accepts_sms_marketing: bool,
    #[serde(borrow)]
    customer_locale: Option<Cow<'a, str>>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    #[serde(borrow)]
    presentment_currency: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    line_items: Vec<RawLineItem<'a>>,
    #[serde(borrow)]
    subtotal_price: Option<Cow<'a, str>>,
    #[serde(borrow)]
    total_price: Option<Cow<'a, str>>,
    abandoned_checkout_url: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    #[serde(borrow)]
    shipping_address: Option<RawAddress<'a>>,
    #[serde(borrow)]
    billing_address: Option<RawAddress<'a>>,
    #[serde(borrow)]
    customer: Option<RawCustomer<'a>>,
    #[serde(default)]
    shipping_lines: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    discount_codes: Vec<RawDiscountCode>,
    #[serde(borrow)]
    client_details: Option<RawClientDetails<'a>>,
}

impl RawCheckout<'_> {
    fn normalise(self) -> Result<CheckoutSnapshot, NormaliseError> {
        let currency = shoppers_currency(self.presentment_currency.as_deref(), self.currency.as_deref())?;
        let address = self.shipping_address.as_ref().or(self.billing_address.as_ref());
        let code = |code: Option<&str>| code.filter(|c| c.len() <= bounds::REGION_CODE).map(str::to_owned);
        let region = Region {
            country_code: code(address.and_then(|a| a.country_code.as_deref())),
            province_code: code(address.and_then(|a| a.province_code.as_deref())),
        };
        let customer = self.customer.as_ref();
        let email = normalise_email_str(self.email.as_deref().or_else(|| customer.and_then(|c| c.email.as_deref())));
        // Kept as written: validated only when an SMS step, a key or a time zone needs it.
        let phone = WrittenPhone::written(
            [
                self.sms_marketing_phone.as_deref(),
                self.phone.as_deref(),
                customer.and_then(|c| c.phone.as_deref()),
                address.and_then(|a| a.phone.as_deref()),
            ]
            .into_iter()
            .flatten(),
            region.country_code.as_deref(),
        );
        let first_name = customer
            .and_then(|c| c.first_name.as_deref())
            .or_else(|| address.and_then(|a| a.first_name.as_deref()))
            .filter(|n| !n.trim().is_empty())
            .map(|n| cut(n, bounds::NAME));
        let mut line_items =
            self.line_items.into_iter().map(|l| l.normalise(&currency)).collect::<Result<Vec<_>, _>>()?;
        let total = match &self.total_price {
            Some(total) => Money::parse("total_price", total, &currency)?,
            None => line_items
                .iter()
                .map(|l| l.unit_price.times(l.quantity))
                .collect::<Option<Vec<_>>>()
                .and_then(|lines| Money::sum(currency, lines))
                .ok_or(NormaliseError::Missing("a total that fits: the line totals overflow"))?,
        };
        let subtotal = match &self.subtotal_price {
            Some(subtotal) => Money::parse("subtotal_price", subtotal, &currency)?,
            None => total.clone(),
        };
        line_items.truncate(bounds::MAX_LINE_ITEMS);
        let stage = match (self.shipping_address.is_some(), self.shipping_lines.is_empty()) {
            (true, false) => CheckoutStage::Payment,
            (true, true) => CheckoutStage::Shipping,
            _ => CheckoutStage::Contact,
        };
        let customer_orders = customer.and_then(|c| c.orders_count);
        Ok(CheckoutSnapshot {
            token: CheckoutToken::new(self.token)?,
            cart_token: self.cart_token.map(CartToken::new).transpose()?,
            contact: Contact {
                email,
                phone,
                first_name,
                accepts_email_marketing: self.buyer_accepts_marketing,
                accepts_sms_marketing: self.buyer_accepts_sms_marketing,
            },
            locale: self.customer_locale.filter(|l| !l.is_empty() && l.len() <= bounds::LOCALE).map(Cow::into_owned),
            region,
            line_items,
            subtotal,
            total,
            restore_url: bounded_url(self.abandoned_checkout_url),
            updated_at: self.updated_at.unwrap_or(self.created_at),
            created_at: self.created_at,
            completed_at: self.completed_at,
            stage,
            device: self.client_details.and_then(|d| d.user_agent).map(|ua| device_of(&ua)),
            discount_codes: self
                .discount_codes
                .into_iter()
                .take(bounds::DISCOUNT_CODES)
                .map(|d| cut(&d.code, bounds::DISCOUNT_CODE))
                .collect(),
            customer_orders,
        })
    }
}

#[derive(Deserialize)]
struct RawCart<'a> {
    #[serde(default, deserialize_with = "string_or_number")]
    token: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    id: Option<String>,
    #[serde(default, borrow)]
    line_items: Vec<RawLineItem<'a>>,
    currency: Option<String>,
    updated_at: DateTime<Utc>,
}

impl RawCart<'_> {
    fn normalise(self) -> Result<CartSnapshot, NormaliseError> {
        let currency = Currency::parse(self.currency.as_deref().unwrap_or("USD"))?;
        Ok(CartSnapshot {
            token: CartToken::new(self.token.or(self.id).ok_or(NormaliseError::Missing("cart token"))?)?,
            line_items: self
                .line_items
                .into_iter()
                .take(bounds::MAX_LINE_ITEMS)
                .map(|l| l.normalise(&currency))
                .collect::<Result<_, _>>()?,
            updated_at: self.updated_at,
        })
    }
}

/// A mandatory compliance webhook's body (`customers/redact`, `customers/data_request`).
#[derive(Deserialize)]
struct RawPrivacyRequest {
    customer: RawPrivacyCustomer,
    #[serde(default)]
    data_request: Option<RawDataRequest>,
}

#[derive(Deserialize)]
struct RawPrivacyCustomer {
    #[serde(default, deserialize_with = "string_or_number")]
    id: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
struct RawDataRequest {
    #[serde(default, deserialize_with = "string_or_number")]
    id: Option<String>,
}

impl RawPrivacyCustomer {
    fn normalise(self) -> CustomerRef {
        CustomerRef {
            id: self.id,
            email: normalise_email(self.email),
            phone: self.phone.as_deref().and_then(|p| normalise_phone(p, None)),
        }
    }
}

/// A `customers/*` payload, as far as marketing consent goes.
#[derive(Deserialize)]
struct RawCustomerRecord {
    email: Option<String>,
    #[serde(default)]
    email_marketing_consent: Option<RawSmsConsent>,
    phone: Option<String>,
    #[serde(default)]
    sms_marketing_consent: Option<RawSmsConsent>,
    #[serde(default)]
    default_address: Option<RawCountry>,
}

#[derive(Deserialize)]
struct RawCountry {
    country_code: Option<String>,
}

/// Shopify's `sms_marketing_consent` (and `email_marketing_consent`, which has no
/// `consent_collected_from`): `state` (`subscribed`, `not_subscribed`, `unsubscribed`,
/// `redacted`, `pending`), `opt_in_level`, `consent_updated_at`, `consent_collected_from`.
#[derive(Deserialize)]
struct RawSmsConsent {
    state: Option<String>,
    opt_in_level: Option<String>,
    consent_updated_at: Option<DateTime<Utc>>,
    consent_collected_from: Option<String>,
}

impl RawSmsConsent {
    fn marketing_consent(&self) -> crate::model::MarketingConsent {
        crate::model::MarketingConsent {
            subscribed: self.state.as_deref() == Some("subscribed"),
            withdrawn: self.state.as_deref() == Some("unsubscribed"),
            updated_at: self.consent_updated_at,
        }
    }
}

impl RawCustomerRecord {
    fn normalise(self) -> ConsentChange {
        let country = self.default_address.and_then(|a| a.country_code);
        let phone = self.phone.as_deref().and_then(|p| normalise_phone(p, country.as_deref()));
        let email = normalise_email(self.email);
        let email_consent = self.email_marketing_consent.as_ref().map(RawSmsConsent::marketing_consent);
        let sms_consent = self.sms_marketing_consent.as_ref().map(RawSmsConsent::marketing_consent);
        let consent = self.sms_marketing_consent;
        let subscribed = consent.as_ref().is_some_and(|c| c.state.as_deref() == Some("subscribed"));
        let evidence = consent.filter(|_| subscribed).and_then(|c| {
            Some(ConsentEvidence {
                source: format!(
                    "customers/update:{}",
                    c.consent_collected_from.as_deref().unwrap_or("unknown").to_ascii_lowercase()
                ),
                at: c.consent_updated_at?,
                text: format!("sms_marketing_consent {}", c.opt_in_level.as_deref().unwrap_or("unknown")),
                page: None,
            })
        });
        ConsentChange { email, email_consent, phone, sms_consent, evidence }
    }
}

#[derive(Deserialize)]
struct RawOrder<'a> {
    #[serde(deserialize_with = "required_string_or_number")]
    id: String,
    #[serde(default, deserialize_with = "string_or_number")]
    checkout_token: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    cart_token: Option<String>,
    email: Option<String>,
    contact_email: Option<String>,
    currency: Option<String>,
    presentment_currency: Option<String>,
    total_price: String,
    created_at: DateTime<Utc>,
    #[serde(borrow)]
    customer: Option<RawCustomer<'a>>,
}

impl RawOrder<'_> {
    fn normalise(self) -> Result<OrderSnapshot, NormaliseError> {
        let currency = shoppers_currency(self.presentment_currency.as_deref(), self.currency.as_deref())?;
        Ok(OrderSnapshot {
            id: OrderId::new(self.id)?,
            checkout_token: self.checkout_token.map(CheckoutToken::new).transpose()?,
            cart_token: self.cart_token.map(CartToken::new).transpose()?,
            email: normalise_email(
                self.email.or(self.contact_email).or_else(|| self.customer.and_then(|c| c.email.map(Cow::into_owned))),
            ),
            total: Money::parse("total_price", &self.total_price, &currency)?,
            created_at: self.created_at,
        })
    }
}

/// Shopify sends some ids as numbers and some as strings; accept both, and treat "" as absent.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then(|| v.to_owned()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    d.deserialize_option(Visitor)
}

fn required_string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    string_or_number(d)?.ok_or_else(|| serde::de::Error::custom("missing identifier"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test_secret_key";

    #[test]
    fn shopify_published_vector_verifies() {
        // Shopify's own test vector from @shopify/shopify-api's webhook validation tests.
        let secrets = WebhookSecrets::new(SECRET, None);
        assert!(secrets.verify(br#"{"foo": "bar"}"#, "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="));
        assert_eq!(secrets.sign(br#"{"foo": "bar"}"#), "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=");
        assert!(!secrets.verify(br#"{"foo": "bar"} "#, "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="));
    }

    #[test]
    fn previous_secret_is_accepted_during_rotation() {
        let body = br#"{"a":1}"#;
        let old = sign_webhook(b"old", body);
        assert!(WebhookSecrets::new(&b"new"[..], Some(b"old".to_vec())).verify(body, &old));
        assert!(!WebhookSecrets::new(&b"new"[..], None).verify(body, &old));
        assert!(!WebhookSecrets::new(&b"new"[..], Some(Vec::new())).verify(body, ""));
    }

    #[test]
    fn garbage_signatures_are_refused() {
        let secrets = WebhookSecrets::new(SECRET, None);
        for header in ["", "not base64!", "AAAA", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g"] {
            assert!(!secrets.verify(b"{}", header), "{header:?}");
        }
    }

    #[test]
    fn a_checkouts_phone_is_the_first_valid_number_it_gave_in_its_addresss_country() {
        let body = serde_json::json!({
            "token": "t1", "currency": "USD", "created_at": "2026-11-20T10:00:00Z",
            "phone": "call me", "sms_marketing_phone": "",
            "customer": {"phone": "030 901820"},
            "shipping_address": {"phone": "+1 (212) 555-0142", "country_code": "DE"},
        });
        let PlatformEvent::CheckoutUpserted(snapshot) =
            parse_event("checkouts/update", body.to_string().as_bytes()).unwrap()
        else {
            panic!("a checkout")
        };
        assert_eq!(snapshot.contact.phone_e164().map(|p| p.as_str()), Some("+4930901820"));
        let none_valid = serde_json::json!({
            "token": "t2", "currency": "USD", "created_at": "2026-11-20T10:00:00Z", "phone": "12",
        });
        let PlatformEvent::CheckoutUpserted(snapshot) =
            parse_event("checkouts/update", none_valid.to_string().as_bytes()).unwrap()
        else {
            panic!("a checkout")
        };
        assert!(snapshot.contact.phone.is_some() && snapshot.contact.phone_e164().is_none());
        assert!(snapshot.contact.phone_key(&ShopDomain::parse("a.myshopify.com").unwrap()).is_none());
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(normalise_phone("+1(502)-459-2181", Some("US")).as_deref(), Some("+15024592181"));
        assert_eq!(normalise_phone("030 901820", Some("DE")).as_deref(), Some("+4930901820"));
        assert_eq!(normalise_phone("not a phone", Some("US")), None);
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(normalise_email(Some(" Bob@Example.COM ".into())).as_deref(), Some("bob@example.com"));
        assert_eq!(normalise_email(Some("nobody".into())), None);
        assert_eq!(normalise_email(Some("@x.com".into())), None);
    }

    #[test]
    fn oversized_text_is_cut_oversized_urls_dropped_and_lines_bounded() {
        let long = "é".repeat(5000);
        let lines: Vec<serde_json::Value> = (0..300)
            .map(|i| {
                serde_json::json!({"title": long, "variant_title": long, "variant_id": i, "quantity": 1,
                    "price": "1.00", "image_url": format!("https://cdn.example/{}", "x".repeat(5000))})
            })
            .collect();
        let body = serde_json::json!({
            "token": "chk-huge", "email": "a@example.com", "currency": "USD", "created_at": "2026-06-01T10:00:00Z",
            "customer": {"first_name": long}, "customer_locale": long,
            "abandoned_checkout_url": format!("https://a.myshopify.com/{}", "r".repeat(5000)),
            "discount_codes": (0..100).map(|_| serde_json::json!({"code": long})).collect::<Vec<_>>(),
            "line_items": lines,
        });
        let PlatformEvent::CheckoutUpserted(snapshot) =
            parse_event("checkouts/create", body.to_string().as_bytes()).unwrap()
        else {
            panic!("a checkout")
        };
        assert_eq!(snapshot.line_items.len(), bounds::MAX_LINE_ITEMS);
        assert_eq!(snapshot.total.minor, 300 * 100, "the total still counts every line");
        let line = &snapshot.line_items[0];
        assert_eq!((line.title.chars().count(), line.image_url.as_ref()), (bounds::TITLE, None));
        assert_eq!(snapshot.contact.first_name.unwrap().chars().count(), bounds::NAME);
        assert_eq!((snapshot.locale, snapshot.restore_url), (None, None));
        assert_eq!(snapshot.discount_codes.len(), bounds::DISCOUNT_CODES);
        assert!(serde_json::to_vec(&snapshot.line_items).unwrap().len() < 150_000, "far inside an item's 400 KB");
        let id = |token: String| {
            let body = serde_json::json!({"token": token, "currency": "USD", "created_at": "2026-06-01T10:00:00Z"});
            parse_event("checkouts/create", body.to_string().as_bytes()).map(|_| ())
        };
        assert!(
            matches!(id("t".repeat(256)), Err(DeliveryError::MalformedPayload(m)) if m.contains("longer than 255"))
        );
        assert!(matches!(id("bad\u{0}token".into()), Err(DeliveryError::MalformedPayload(_))));
        assert!(id("t".repeat(255)).is_ok());
    }

    #[test]
    fn unknown_topic_is_ignored_but_must_be_json() {
        assert_eq!(
            parse_event("products/update", b"{}").unwrap(),
            PlatformEvent::Ignored { topic: "products/update".into() }
        );
        assert!(parse_event("products/update", b"{").is_err());
    }
}
