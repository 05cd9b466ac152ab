//! The storefront widget's server side, reached through the Shopify app proxy: its settings, and
//! a consented contact capture that makes a cart (or its checkout) recoverable.

use super::checkouts::{CheckoutPorts, store_capture};
use super::{Ports, UseCaseError, settings_of};
use crate::model::{Capture, CartToken, ConsentEvidence, Email, PhoneE164, ShopDomain};
use crate::platform::proxy;
use crate::ports::{Carts, Checkouts, Clock, Quota, Quotas, SettingsStore, Shops};
use crate::rules::StorefrontSettings;
use serde::Deserialize;

/// Verifies the app proxy's signature over the query and returns the shop.
pub fn authenticate_proxy<P: Ports>(ports: &P, query: &[(String, String)]) -> Result<ShopDomain, UseCaseError> {
    let secret = &ports.config().shopify_api_secret;
    proxy::verify(secret, query, ports.clock().now())
        .map_err(|_| UseCaseError::Session(crate::session::SessionError::Invalid))
}

/// How often the storefront's visit is written down: the onboarding checklist only needs to know
/// that the app embed is live, not every page view.
const STOREFRONT_SEEN_EVERY: chrono::Duration = chrono::Duration::days(1);

/// What the widget needs to know (no secrets, nothing personal). The script asks on every page,
/// so this is also how Reclaim learns that the app embed is on in the live theme.
pub async fn widget_settings<P: Ports<Store: SettingsStore + Shops>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<StorefrontSettings, UseCaseError> {
    // Best effort: the widget never fails because its visit could not be written down.
    let now = ports.clock().now();
    let written = async {
        let seen = ports.store().shop_state(shop).await?.storefront_seen_at;
        if seen.is_none_or(|at| now - at >= STOREFRONT_SEEN_EVERY) {
            ports
                .store()
                .update_shop_state(shop, |state| {
                    let stale = state.storefront_seen_at.is_none_or(|at| now - at >= STOREFRONT_SEEN_EVERY);
                    state.storefront_seen_at = Some(now);
                    stale
                })
                .await?;
        }
        Ok::<(), crate::ports::PortError>(())
    };
    if let Err(error) = written.await {
        tracing::warn!(%shop, %error, "the storefront's visit was not written down");
    }
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
        // What is given must be one valid address: nothing is dropped silently, and nothing that
        // is not an address (control characters, angle brackets, a list) reaches a mail header.
        let email = match body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(text) => Some(Email::parse(text).map_err(|e| {
                UseCaseError::BadRequest(format!("email: not one valid address ({e}); give just the address"))
            })?),
            None => None,
        };
        let phone = match body.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(text) => Some(PhoneE164::parse(text, None).map_err(|_| {
                UseCaseError::BadRequest(
                    "phone: not a valid number; give it with its country code, e.g. +1 212 555 0142".into(),
                )
            })?),
            None => None,
        };
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

/// How many storefront captures one shop accepts per minute: a bound on what a script posting
/// to the public app proxy can make Reclaim store and send.
pub const CAPTURES_PER_MINUTE: u32 = 120;

/// What a capture did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureOutcome {
    Captured,
    /// The same contact for the same cart again: nothing changed.
    AlreadyCaptured,
}

/// Stores a consented email or phone for a cart, with the consent evidence recorded here (the
/// shop's own consent text, the time, where), and starts the cart's recovery.
///
/// Refused: beyond [`CAPTURES_PER_MINUTE`] for the shop (429); a cart Reclaim has not seen for
/// this shop, by its cart webhook or a checkout (409 `cart_not_seen`: the widget tries again once,
/// the webhook being seconds behind); a cart that already has another contact (409
/// `cart_has_contact`: one contact per cart).
pub async fn capture<P: StorefrontCapturePorts>(
    ports: &P,
    shop: &ShopDomain,
    request: CaptureRequest,
) -> Result<CaptureOutcome, UseCaseError> {
    let store = ports.store();
    let now = ports.clock().now();
    let minute = Quota::CapturesMinute(now.format("%Y-%m-%dT%H:%M").to_string());
    if !store.reserve(shop, &minute, CAPTURES_PER_MINUTE, now + chrono::Duration::hours(1)).await? {
        return Err(UseCaseError::TooManyRequests);
    }
    let seen = store.load_cart(shop, &request.cart).await?.is_some()
        || store.find_checkout_by_cart(shop, &request.cart).await?.is_some();
    if !seen {
        return Err(UseCaseError::CartNotSeen);
    }
    if let Some(existing) = store.load_capture(shop, &request.cart).await? {
        return if existing.email == request.email && existing.phone == request.phone {
            Ok(CaptureOutcome::AlreadyCaptured)
        } else {
            Err(UseCaseError::CartHasContact)
        };
    }
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
    Ok(CaptureOutcome::Captured)
}

/// What a capture needs: checkouts and carts (with their captures), settings, and the quota.
pub trait StorefrontCapturePorts: CheckoutPorts<Store: Quotas> {}
impl<P: CheckoutPorts<Store: Quotas>> StorefrontCapturePorts for P {}
