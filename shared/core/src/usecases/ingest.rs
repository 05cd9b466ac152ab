//! Ingest a webhook: verify, dedupe, parse, persist, and arm or cancel the checkout's check.

use super::privacy;
use super::{
    DELIVERY_DEDUPE_TTL, PERSONAL_DATA_TTL, Ports, UseCaseError, arm, disarm, record_order, settings_of,
    update_checkout,
};
use crate::model::{
    CartSnapshot, CheckoutRecord, CheckoutSnapshot, CheckoutStatus, CheckoutToken, ContactKey, ShopDomain,
};
use crate::platform::{DeliveryError, PlatformEvent, SmsConsentChange, shopify};
use crate::ports::{Clock, PortError, Store};
use serde::Serialize;

/// What became of a delivery (the 200 response body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum IngestOutcome {
    /// Acted on.
    Accepted,
    /// Seen before: nothing done.
    Duplicate,
    /// Older than what is stored: nothing changed.
    Stale,
    /// A topic Reclaim does not act on.
    Ignored,
}

/// Handles one webhook delivery for `platform`. `header` looks up a header by lower-case name.
pub async fn ingest_webhook<'a, P: Ports>(
    ports: &P,
    platform: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
) -> Result<IngestOutcome, UseCaseError> {
    if platform != "shopify" {
        return Err(DeliveryError::UnknownPlatform(platform.to_owned()).into());
    }
    let delivery = shopify::verify_and_parse(&ports.config().webhook_secrets, header, body)?;
    if let PlatformEvent::Ignored { topic } = &delivery.event {
        tracing::info!(shop = %delivery.shop, topic, "ignoring webhook topic");
        return Ok(IngestOutcome::Ignored);
    }
    let store = ports.store();
    let now = ports.clock().now();
    if !store.claim_delivery(&delivery.shop, &delivery.webhook_id, now + DELIVERY_DEDUPE_TTL).await? {
        tracing::info!(shop = %delivery.shop, topic = delivery.topic, "duplicate webhook delivery");
        return Ok(IngestOutcome::Duplicate);
    }
    let result = apply(ports, &delivery.shop, delivery.event).await;
    if result.is_err() {
        // Let the platform's retry be processed instead of being dropped as a duplicate.
        if let Err(error) = store.release_delivery(&delivery.shop, &delivery.webhook_id).await {
            tracing::warn!(%error, "could not release delivery id after a failure");
        }
    }
    let outcome = result?;
    tracing::info!(shop = %delivery.shop, topic = delivery.topic, outcome = ?outcome, "webhook processed");
    Ok(outcome)
}

async fn apply<P: Ports>(ports: &P, shop: &ShopDomain, event: PlatformEvent) -> Result<IngestOutcome, UseCaseError> {
    match event {
        PlatformEvent::CheckoutUpserted(mut snapshot) => {
            super::storefront::apply_capture(ports, shop, &mut snapshot).await?;
            let cart_recovery = super::storefront::cart_recovery_token(&snapshot);
            let outcome = upsert_checkout(ports, shop, snapshot).await?;
            // The cart now has a real checkout: its cart-only recovery (if any) ends, so the
            // shopper gets one sequence, not two.
            if let Some(token) = cart_recovery {
                delete_checkout(ports, shop, &token).await?;
            }
            Ok(outcome)
        }
        PlatformEvent::CheckoutDeleted(token) => delete_checkout(ports, shop, &token).await,
        PlatformEvent::CartUpserted(cart) => upsert_cart(ports, shop, cart).await,
        PlatformEvent::OrderPlaced(order) => {
            record_order(ports, shop, &order).await?;
            Ok(IngestOutcome::Accepted)
        }
        PlatformEvent::SmsConsentChanged(change) => record_sms_consent(ports, shop, change).await,
        PlatformEvent::AppUninstalled => {
            privacy::uninstall(ports, shop).await?;
            Ok(IngestOutcome::Accepted)
        }
        PlatformEvent::ShopRedact => {
            privacy::redact_shop(ports, shop).await?;
            Ok(IngestOutcome::Accepted)
        }
        PlatformEvent::CustomerRedact(customer) => {
            privacy::redact_customer(ports, shop, &customer).await?;
            Ok(IngestOutcome::Accepted)
        }
        PlatformEvent::CustomerDataRequest { customer, request_id } => {
            privacy::send_customer_export(ports, shop, &customer, &request_id).await?;
            Ok(IngestOutcome::Accepted)
        }
        PlatformEvent::Ignored { .. } => Ok(IngestOutcome::Ignored),
    }
}

/// Keeps a customer's SMS consent (with its evidence) under their number, or withdraws it.
async fn record_sms_consent<P: Ports>(
    ports: &P,
    shop: &ShopDomain,
    change: SmsConsentChange,
) -> Result<IngestOutcome, UseCaseError> {
    let Some(phone) = change.phone else {
        return Ok(IngestOutcome::Ignored);
    };
    let key = ContactKey::for_phone(shop, &phone);
    ports
        .store()
        .update_contact(shop, &key, |state| {
            let changed = state.sms_consent != change.evidence;
            state.sms_consent = change.evidence.clone();
            changed
        })
        .await?;
    Ok(IngestOutcome::Accepted)
}

/// Stores a newer snapshot and arms the first check once. Older snapshots change nothing.
pub(super) async fn upsert_checkout<P: Ports>(
    ports: &P,
    shop: &ShopDomain,
    snapshot: CheckoutSnapshot,
) -> Result<IngestOutcome, UseCaseError> {
    let store = ports.store();
    for _ in 0..super::MAX_ATTEMPTS {
        let stored = store.load_checkout(shop, &snapshot.token).await?;
        let mut record = match stored {
            Some(stored) if stored.snapshot.updated_at >= snapshot.updated_at => {
                return Ok(IngestOutcome::Stale);
            }
            Some(stored) => CheckoutRecord {
                last_activity_at: stored.last_activity_at.max(snapshot.updated_at),
                status: match (stored.status, snapshot.completed_at) {
                    (CheckoutStatus::Open, Some(_)) => CheckoutStatus::Completed,
                    (status, _) => status,
                },
                snapshot: snapshot.clone(),
                ..stored
            },
            None => CheckoutRecord::new(shop.clone(), snapshot.clone()),
        };
        if record.is_recoverable() && record.armed.is_none() && record.conversion.is_none() {
            let settings = settings_of(ports, shop).await?;
            if let Some((step, first)) = settings.enabled_steps().next() {
                // Arm once: the check itself re-arms when it finds newer activity.
                record.armed = Some(arm(ports, &record, step, 0, record.last_activity_at + first.delay()).await?);
            }
        }
        if record.status != CheckoutStatus::Open {
            disarm(ports, &record).await?;
            record.armed = None;
        }
        match store.save_checkout(&record).await {
            Ok(()) => return Ok(IngestOutcome::Accepted),
            Err(PortError::Conflict) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(PortError::Conflict.into())
}

async fn delete_checkout<P: Ports>(
    ports: &P,
    shop: &ShopDomain,
    token: &CheckoutToken,
) -> Result<IngestOutcome, UseCaseError> {
    let updated = update_checkout(ports, shop, token, |mut record| {
        (record.status == CheckoutStatus::Open).then(|| {
            record.status = CheckoutStatus::Deleted;
            record
        })
    })
    .await?;
    if let Some(record) = updated {
        disarm(ports, &record).await?;
    }
    Ok(IngestOutcome::Accepted)
}

/// Stores the cart and counts it as activity on its checkout, which pushes the next message back.
async fn upsert_cart<P: Ports>(
    ports: &P,
    shop: &ShopDomain,
    cart: CartSnapshot,
) -> Result<IngestOutcome, UseCaseError> {
    let now = ports.clock().now();
    if !ports.store().save_cart(shop, &cart, now + PERSONAL_DATA_TTL).await? {
        return Ok(IngestOutcome::Stale);
    }
    if let Some(checkout) = ports.store().find_checkout_by_cart(shop, &cart.token).await? {
        update_checkout(ports, shop, &checkout.snapshot.token, |mut record| {
            (cart.updated_at > record.last_activity_at).then(|| {
                record.last_activity_at = cart.updated_at;
                record
            })
        })
        .await?;
    } else if let Some(capture) = ports.store().load_capture(shop, &cart.token).await? {
        // A cart with no checkout, whose shopper left a contact on the storefront.
        super::storefront::recover_cart(ports, shop, &cart, &capture).await?;
    }
    Ok(IngestOutcome::Accepted)
}
