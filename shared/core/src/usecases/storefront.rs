//! The storefront widget's server side, reached through the Shopify app proxy: its settings, and
//! a consented contact capture that makes a cart (or its checkout) recoverable.

use super::checkouts::{CheckoutPorts, store_capture};
use super::{Ports, UseCaseError, settings_of};
use crate::model::{Capture, CartToken, ConsentEvidence, Email, PhoneE164, ShopDomain};
use crate::platform::proxy;
use crate::platform::shopify::{normalise_email, normalise_phone};
use crate::ports::{Clock, SettingsStore};
use crate::rules::StorefrontSettings;
use serde::Deserialize;

/// Verifies the app proxy's signature over the query and returns the shop.
pub fn authenticate_proxy<P: Ports>(ports: &P, query: &[(String, String)]) -> Result<ShopDomain, UseCaseError> {
    let secret = &ports.config().shopify_api_secret;
    proxy::verify(secret, query, ports.clock().now())
        .map_err(|_| UseCaseError::Session(crate::session::SessionError::Invalid))
}

/// What the widget needs to know (no secrets, nothing personal).
pub async fn widget_settings<P: Ports<Store: SettingsStore>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<StorefrontSettings, UseCaseError> {
    Ok(settings_of(ports, shop).await?.storefront)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaptureBody {
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

/// A consented contact capture, parsed at the edge: a cart token, at least one valid address,
/// the consent box ticked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureRequest {
    pub cart: CartToken,
    pub email: Option<Email>,
    pub phone: Option<PhoneE164>,
    /// Where on the storefront (exit intent, idle help), at most 40 characters.
    pub source: String,
    /// The page it happened on, at most 200 characters.
    pub page: Option<String>,
}

impl CaptureRequest {
    /// Parses the widget's JSON body; every refusal says which field is wrong.
    pub fn from_json(body: &[u8]) -> Result<Self, UseCaseError> {
        let body: CaptureBody = serde_json::from_slice(body).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
        if !body.consent {
            return Err(UseCaseError::BadRequest("consent: the shopper must tick the consent box".into()));
        }
        let cart = CartToken::new(body.cart_token).map_err(|e| UseCaseError::BadRequest(format!("cart_token: {e}")))?;
        let email = normalise_email(body.email.filter(|e| !e.trim().is_empty()));
        let phone = body.phone.as_deref().filter(|p| !p.trim().is_empty()).and_then(|p| normalise_phone(p, None));
        if email.is_none() && phone.is_none() {
            return Err(UseCaseError::BadRequest(
                "email or phone: give a valid email, or a phone number with its country code".into(),
            ));
        }
        Ok(Self {
            cart,
            email,
            phone,
            source: body.source.unwrap_or_else(|| "storefront".into()).chars().take(40).collect(),
            page: body.page.map(|p| p.chars().take(200).collect()),
        })
    }
}

/// Stores a consented email or phone for a cart, with the consent text the shop showed, and,
/// when the cart is known, starts its recovery.
pub async fn capture<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    request: CaptureRequest,
) -> Result<(), UseCaseError> {
    let settings = settings_of(ports, shop).await?;
    let capture = Capture {
        email: request.email,
        phone: request.phone,
        consent: ConsentEvidence {
            source: request.source,
            at: ports.clock().now(),
            text: settings.storefront.consent_text,
            page: request.page,
        },
    };
    store_capture(ports, shop, &request.cart, &capture).await?;
    tracing::info!(%shop, "storefront capture stored");
    Ok(())
}
