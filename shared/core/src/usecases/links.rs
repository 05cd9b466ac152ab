//! Follow a restore link (record the click, send the shopper back to their own checkout on the
//! shop's domain), follow an SMS short link, and unsubscribe (RFC 8058 one-click for email, or
//! every channel at once).

use super::{Ports, UseCaseError, count, publish};
use crate::links::LinkKind;
use crate::model::{Channel, CheckoutSnapshot, ShopDomain, Suppression, SuppressionReason};
use crate::ports::{Checkouts, Clock, Contacts, DomainEvent, EventBus, MessageLog, ShortLinks, Stats};
use url::Url;

/// What following a link needs: the checkout, its messages, short links, contacts, stats and
/// events.
pub trait LinkPorts: Ports<Store: Checkouts + MessageLog + ShortLinks + Contacts + Stats, Events: EventBus> {}
impl<P: Ports<Store: Checkouts + MessageLog + ShortLinks + Contacts + Stats, Events: EventBus>> LinkPorts for P {}

/// Where a restore link sends the shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    pub location: String,
}

/// Verifies a restore token, records the first click and returns where to redirect.
pub async fn follow_restore_link<P: LinkPorts>(ports: &P, token: &str) -> Result<LinkTarget, UseCaseError> {
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
    let location = restore_location(&claims.shop, &record.snapshot);
    Ok(LinkTarget {
        location: match &claims.discount {
            Some(code) => with_discount(&claims.shop, code, &location),
            None => location,
        },
    })
}

/// Shopify's discount link: `/discount/{code}` applies the code and redirects to a path on the
/// same shop (only a path, so the redirect cannot leave the shop).
fn with_discount(shop: &ShopDomain, code: &str, location: &str) -> String {
    let path = Url::parse(location).map(|url| url[url::Position::BeforePath..].to_owned()).unwrap_or("/cart".into());
    let code: String = url::form_urlencoded::byte_serialize(code.as_bytes()).collect();
    let redirect: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("https://{shop}/discount/{code}?redirect={redirect}")
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

/// What an unsubscribe stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeScope {
    /// Reminder email (the RFC 8058 one-click default).
    Email,
    /// Every message from this shop: email, SMS to the checkout's number, and push.
    All,
}

/// Suppresses the token's contact at the token's shop, at once.
pub async fn unsubscribe<P: LinkPorts>(
    ports: &P,
    token: &str,
    scope: UnsubscribeScope,
) -> Result<ShopDomain, UseCaseError> {
    let now = ports.clock().now();
    let claims = ports.config().links.verify(token, LinkKind::Unsubscribe, now)?;
    let contact = claims.contact.ok_or(crate::links::LinkError::Invalid)?;
    let store = ports.store();
    let suppression = Suppression { reason: SuppressionReason::Unsubscribed, at: now };
    let channels: &[Channel] = match scope {
        UnsubscribeScope::Email => &[Channel::Email],
        UnsubscribeScope::All => &[Channel::Email, Channel::Sms, Channel::Push],
    };
    store
        .update_contact(&claims.shop, &contact, ports.clock().now() + super::CONTACT_TTL, |state| {
            channels.iter().fold(false, |changed, channel| state.suppress(*channel, &suppression) | changed)
        })
        .await?;
    if scope == UnsubscribeScope::All {
        // SMS consent and STOP live under the phone number: suppress it there too.
        let checkout = store.load_checkout(&claims.shop, &claims.checkout).await?;
        if let Some(phone) = checkout.and_then(|record| record.snapshot.contact.phone_key(&claims.shop)) {
            store
                .update_contact(&claims.shop, &phone, ports.clock().now() + super::CONTACT_TTL, |state| {
                    state.suppress(Channel::Sms, &suppression)
                })
                .await?;
        }
    }
    let counter = match scope {
        UnsubscribeScope::Email => "unsubscribes",
        UnsubscribeScope::All => "unsubscribes.all",
    };
    count(ports, &claims.shop, &claims.checkout, &[(counter.to_owned(), 1)]).await?;
    publish(ports, DomainEvent::ContactUnsubscribed { shop: claims.shop.clone() }).await;
    tracing::info!(shop = %claims.shop, ?scope, "contact unsubscribed");
    Ok(claims.shop)
}

/// Follows a short link (`/s/{code}`, sent in SMS): the signed token behind the code is verified
/// like any restore link.
pub async fn follow_short_link<P: LinkPorts>(ports: &P, code: &str) -> Result<LinkTarget, UseCaseError> {
    let valid = code.len() == 10 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(UseCaseError::NotFound);
    }
    let token = ports.store().load_short_link(code).await?.ok_or(UseCaseError::NotFound)?;
    follow_restore_link(ports, &token).await
}
