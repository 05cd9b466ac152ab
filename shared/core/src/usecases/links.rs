//! Follow a restore link (record the click, send the shopper back to their own checkout on the
//! shop's domain) and unsubscribe (RFC 8058 one-click).

use super::{Ports, UseCaseError, count, publish};
use crate::links::LinkKind;
use crate::model::{CheckoutSnapshot, ShopDomain, Suppression, SuppressionReason};
use crate::ports::{Clock, DomainEvent, Store};
use url::Url;

/// Where a restore link sends the shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    pub location: String,
}

/// Verifies a restore token, records the first click and returns where to redirect.
pub async fn follow_restore_link<P: Ports>(ports: &P, token: &str) -> Result<LinkTarget, UseCaseError> {
    let now = ports.clock().now();
    let claims = ports.config().links.verify(token, LinkKind::Restore, now)?;
    let record = ports.store().load_checkout(&claims.shop, &claims.checkout).await?.ok_or(UseCaseError::NotFound)?;
    if ports.store().record_click(&claims.shop, &claims.checkout, claims.step, now).await? {
        count(ports, &claims.shop, &claims.checkout, &[(format!("clicks.step{}", claims.step), 1)]).await?;
        let event = DomainEvent::RestoreLinkClicked {
            shop: claims.shop.clone(),
            checkout: claims.checkout.clone(),
            step: claims.step,
        };
        publish(ports, event).await;
    }
    Ok(LinkTarget { location: restore_location(&claims.shop, &record.snapshot) })
}

/// The URL that restores a checkout, always on the shop's own domain: the platform's restore URL
/// when it is an https URL on the shop's domain, otherwise a cart permalink built from the items.
pub fn restore_location(shop: &ShopDomain, checkout: &CheckoutSnapshot) -> String {
    let on_shop = checkout
        .restore_url
        .as_deref()
        .and_then(|raw| Url::parse(raw).ok())
        .filter(|url| url.scheme() == "https" && url.host_str() == Some(shop.as_str()) && url.port().is_none());
    if let Some(url) = on_shop {
        return url.to_string();
    }
    let items: Vec<String> =
        checkout.line_items.iter().filter_map(|l| l.variant_id.map(|v| format!("{v}:{}", l.quantity))).collect();
    if items.is_empty() { format!("https://{shop}/cart") } else { format!("https://{shop}/cart/{}", items.join(",")) }
}

/// Checks an unsubscribe token without acting on it (for the confirmation page).
pub fn verify_unsubscribe<P: Ports>(ports: &P, token: &str) -> Result<ShopDomain, UseCaseError> {
    let claims = ports.config().links.verify(token, LinkKind::Unsubscribe, ports.clock().now())?;
    Ok(claims.shop)
}

/// Suppresses email to the token's contact at the token's shop, at once.
pub async fn unsubscribe<P: Ports>(ports: &P, token: &str) -> Result<ShopDomain, UseCaseError> {
    let now = ports.clock().now();
    let claims = ports.config().links.verify(token, LinkKind::Unsubscribe, now)?;
    let contact = claims.contact.ok_or(crate::links::LinkError::Invalid)?;
    ports
        .store()
        .suppress_email(&claims.shop, &contact, &Suppression { reason: SuppressionReason::Unsubscribed, at: now })
        .await?;
    count(ports, &claims.shop, &claims.checkout, &[("unsubscribes".to_owned(), 1)]).await?;
    publish(ports, DomainEvent::ContactUnsubscribed { shop: claims.shop.clone() }).await;
    tracing::info!(shop = %claims.shop, "contact unsubscribed");
    Ok(claims.shop)
}
