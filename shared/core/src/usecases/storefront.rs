//! The storefront widget's server side, reached through the Shopify app proxy: its settings, and
//! a consented contact capture that makes a cart (or its checkout) recoverable.

use super::{PERSONAL_DATA_TTL, Ports, UseCaseError, settings_of};
use crate::model::{
    Capture, CartSnapshot, CartToken, CheckoutSnapshot, CheckoutToken, ConsentEvidence, Contact, Money, Region,
    ShopDomain,
};
use crate::platform::proxy;
use crate::platform::shopify::{normalise_email, normalise_phone};
use crate::ports::{Clock, Store};
use crate::rules::StorefrontSettings;
use serde::Deserialize;

/// Verifies the app proxy's signature over the query and returns the shop.
pub fn authenticate_proxy<P: Ports>(ports: &P, query: &[(String, String)]) -> Result<ShopDomain, UseCaseError> {
    let secret = &ports.config().shopify_api_secret;
    proxy::verify(secret, query, ports.clock().now())
        .map_err(|_| UseCaseError::Session(crate::session::SessionError::Invalid))
}

/// What the widget needs to know (no secrets, nothing personal).
pub async fn widget_settings<P: Ports>(ports: &P, shop: &ShopDomain) -> Result<StorefrontSettings, UseCaseError> {
    Ok(settings_of(ports, shop).await?.storefront)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaptureRequest {
    cart_token: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    /// The shopper ticked the consent box.
    consent: bool,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

/// Stores a consented email or phone for a cart and, when the cart is known, starts its recovery.
/// Without consent, or without a valid address, nothing is stored.
pub async fn capture<P: Ports>(ports: &P, shop: &ShopDomain, body: &[u8]) -> Result<(), UseCaseError> {
    let request: CaptureRequest = serde_json::from_slice(body).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
    if !request.consent {
        return Err(UseCaseError::BadRequest("consent: the shopper must tick the consent box".into()));
    }
    let cart = CartToken::new(request.cart_token).map_err(|e| UseCaseError::BadRequest(format!("cart_token: {e}")))?;
    let email = normalise_email(request.email.filter(|e| !e.trim().is_empty()));
    let phone = request.phone.as_deref().filter(|p| !p.trim().is_empty()).and_then(|p| normalise_phone(p, None));
    if email.is_none() && phone.is_none() {
        return Err(UseCaseError::BadRequest(
            "email or phone: give a valid email, or a phone number with its country code".into(),
        ));
    }
    let settings = settings_of(ports, shop).await?;
    let now = ports.clock().now();
    let capture = Capture {
        email,
        phone,
        consent: ConsentEvidence {
            source: request.source.unwrap_or_else(|| "storefront".into()).chars().take(40).collect(),
            at: now,
            text: settings.storefront.consent_text,
            page: request.page.map(|p| p.chars().take(200).collect()),
        },
    };
    let store = ports.store();
    store.save_capture(shop, &cart, &capture, now + PERSONAL_DATA_TTL).await?;
    if let Some(stored) = store.load_cart(shop, &cart).await? {
        recover_cart(ports, shop, &stored, &capture).await?;
    }
    tracing::info!(%shop, "storefront capture stored");
    Ok(())
}

/// Fills a checkout's missing contact from its cart's capture.
pub(super) async fn apply_capture<P: Ports>(
    ports: &P,
    shop: &ShopDomain,
    snapshot: &mut CheckoutSnapshot,
) -> Result<(), UseCaseError> {
    let Some(cart) = &snapshot.cart_token else { return Ok(()) };
    if snapshot.contact.email.is_some() {
        return Ok(());
    }
    if let Some(capture) = ports.store().load_capture(shop, cart).await? {
        let contact = &mut snapshot.contact;
        contact.email = capture.email.clone();
        contact.accepts_email_marketing |= capture.email.is_some();
        if contact.phone.is_none() || capture.phone.is_some() {
            contact.phone = capture.phone.clone().or(contact.phone.take());
            contact.accepts_sms_marketing |= capture.phone.is_some();
        }
    }
    Ok(())
}

/// The token of the cart-only recovery record of a real checkout's cart (`cart-{cart token}`), if
/// the checkout has a cart and is not itself such a record.
pub(super) fn cart_recovery_token(checkout: &CheckoutSnapshot) -> Option<CheckoutToken> {
    let token = CheckoutToken::new(format!("cart-{}", checkout.cart_token.as_ref()?)).ok()?;
    (token != checkout.token).then_some(token)
}

/// Recovers a cart that has no checkout: a checkout record of its own (`cart-{token}`), whose
/// restore link is the cart permalink on the shop's domain.
pub(super) async fn recover_cart<P: Ports>(
    ports: &P,
    shop: &ShopDomain,
    cart: &CartSnapshot,
    capture: &Capture,
) -> Result<(), UseCaseError> {
    let Some(first) = cart.line_items.first() else { return Ok(()) };
    let currency = first.unit_price.currency.clone();
    let total =
        Money { minor: cart.line_items.iter().map(|l| l.unit_price.minor * i64::from(l.quantity)).sum(), currency };
    let snapshot = CheckoutSnapshot {
        token: CheckoutToken::new(format!("cart-{}", cart.token))
            .map_err(|e| UseCaseError::BadRequest(e.to_string()))?,
        cart_token: Some(cart.token.clone()),
        contact: Contact {
            email: capture.email.clone(),
            phone: capture.phone.clone(),
            first_name: None,
            accepts_email_marketing: capture.email.is_some(),
            accepts_sms_marketing: capture.phone.is_some(),
        },
        locale: None,
        region: Region::default(),
        line_items: cart.line_items.clone(),
        subtotal: total.clone(),
        total,
        restore_url: None,
        created_at: cart.updated_at,
        updated_at: cart.updated_at,
        completed_at: None,
        stage: Default::default(),
        device: None,
        discount_codes: Vec::new(),
        customer_orders: None,
    };
    super::ingest::upsert_checkout(ports, shop, snapshot).await?;
    Ok(())
}
