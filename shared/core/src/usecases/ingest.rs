//! Ingest a webhook: verify, dedupe, and dispatch the event to the use case that owns it.

use super::checkouts::{
    CheckoutPorts, apply_capture, cart_recovery_token, delete_checkout, retire_cart_recovery, upsert_cart,
    upsert_checkout,
};
use super::{Config, DELIVERY_DEDUPE_TTL, DELIVERY_LEASE, IngestOutcome, Ports, UseCaseError, privacy, record_order};
use crate::model::{Channel, ContactKey, MarketingConsent, ShopDomain};
use crate::platform::{ConsentChange, DeliveryError, PlatformEvent, VerifiedDelivery, shopify};
use crate::ports::{Clock, Contacts, Deliveries, DeliveryClaim, EventBus, Job, JobQueue, Store};

/// What handling a webhook needs: every storage role, the scheduler, events, the job queue
/// (privacy requests and uninstalls run later, in batches) and the clock. No messaging, vault or
/// platform API.
pub trait IngestPorts: CheckoutPorts<Store: Store, Events: EventBus, Jobs: JobQueue> {}
impl<P: CheckoutPorts<Store: Store, Events: EventBus, Jobs: JobQueue>> IngestPorts for P {}

/// Queues a job and answers the delivery.
async fn enqueue<P: IngestPorts>(ports: &P, job: Job) -> Result<IngestOutcome, UseCaseError> {
    ports.jobs().enqueue(&job).await?;
    Ok(IngestOutcome::Accepted)
}

/// Parses a delivery at the edge: the platform's name, its headers (looked up by lower-case
/// name) and the raw body, verified against the deployment's webhook secrets.
pub fn verify_webhook<'a>(
    config: &Config,
    platform: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
) -> Result<VerifiedDelivery, UseCaseError> {
    if platform != "shopify" {
        return Err(DeliveryError::UnknownPlatform(platform.to_owned()).into());
    }
    Ok(shopify::verify_and_parse(&config.webhook_secrets, header, body)?)
}

/// Handles one verified webhook delivery: dedupe, then the event's use case.
pub async fn ingest_webhook<P: IngestPorts>(
    ports: &P,
    delivery: VerifiedDelivery,
) -> Result<IngestOutcome, UseCaseError> {
    if let PlatformEvent::Ignored { topic } = &delivery.event {
        tracing::info!(shop = %delivery.shop, topic, "ignoring webhook topic");
        return Ok(IngestOutcome::Ignored);
    }
    let store = ports.store();
    let now = ports.clock().now();
    let (shop, id) = (&delivery.shop, &delivery.webhook_id);
    // A lease, not a mark: an attempt that crashes or times out holds the delivery only until
    // the lease runs out, so the platform's retry is then processed.
    let owner = ports.clock().unique_id();
    match store.begin_delivery(shop, id, &owner, now, now + DELIVERY_LEASE, now + DELIVERY_DEDUPE_TTL).await? {
        DeliveryClaim::Started => {}
        DeliveryClaim::Done => {
            tracing::info!(%shop, topic = delivery.topic, "duplicate webhook delivery");
            return Ok(IngestOutcome::Duplicate);
        }
        DeliveryClaim::InProgress => return Err(UseCaseError::DeliveryInProgress),
    }
    let result = apply(ports, shop, delivery.event).await;
    match &result {
        Ok(_) => store.finish_delivery(shop, id, now + DELIVERY_DEDUPE_TTL).await?,
        // Let the platform's retry be processed at once instead of waiting for the lease.
        Err(_) => {
            if let Err(error) = store.release_delivery(shop, id).await {
                tracing::warn!(%error, "could not release delivery id after a failure");
            }
        }
    }
    let outcome = result?;
    tracing::info!(shop = %delivery.shop, topic = delivery.topic, outcome = ?outcome, "webhook processed");
    Ok(outcome)
}

async fn apply<P: IngestPorts>(
    ports: &P,
    shop: &ShopDomain,
    event: PlatformEvent,
) -> Result<IngestOutcome, UseCaseError> {
    match event {
        PlatformEvent::CheckoutUpserted(mut snapshot) => {
            apply_capture(ports, shop, &mut snapshot).await?;
            let cart_recovery = cart_recovery_token(&snapshot);
            let outcome = upsert_checkout(ports, shop, snapshot).await?;
            // The cart now has a real checkout: its cart-only recovery (if any) ends, so the
            // shopper gets one sequence, not two.
            if let Some(token) = cart_recovery {
                retire_cart_recovery(ports, shop, &token).await?;
            }
            Ok(outcome)
        }
        PlatformEvent::CheckoutDeleted(token) => delete_checkout(ports, shop, &token).await,
        PlatformEvent::CartUpserted(cart) => upsert_cart(ports, shop, cart).await,
        PlatformEvent::OrderPlaced(order) => {
            record_order(ports, shop, &order).await?;
            Ok(IngestOutcome::Accepted)
        }
        PlatformEvent::ConsentChanged(change) => record_consent(ports, shop, change).await,
        PlatformEvent::AppUninstalled => {
            privacy::uninstall(ports, shop).await?;
            Ok(IngestOutcome::Accepted)
        }
        // Off the request path: queued, then run in resumable batches by the jobs function.
        PlatformEvent::ShopRedact => enqueue(ports, Job::RedactShop { shop: shop.clone() }).await,
        PlatformEvent::CustomerRedact(customer) => {
            enqueue(ports, Job::RedactCustomer { shop: shop.clone(), customer }).await
        }
        PlatformEvent::CustomerDataRequest { customer, request_id } => {
            enqueue(ports, Job::ExportCustomer { shop: shop.clone(), customer, request_id }).await
        }
        PlatformEvent::Ignored { .. } => Ok(IngestOutcome::Ignored),
    }
}

/// Applies a customer's marketing consent as the platform states it: SMS consent (with its
/// evidence) under their number, email consent under their address. A withdrawal suppresses that
/// channel at once, whatever a checkout said; an older statement never undoes a newer one.
async fn record_consent<P: Ports<Store: Contacts>>(
    ports: &P,
    shop: &ShopDomain,
    change: ConsentChange,
) -> Result<IngestOutcome, UseCaseError> {
    let now = ports.clock().now();
    let mut acted = false;
    if let Some(phone) = &change.phone {
        let consent = change.sms_consent.clone().unwrap_or(MarketingConsent {
            subscribed: change.evidence.is_some(),
            withdrawn: false,
            updated_at: None,
        });
        let key = ContactKey::for_phone(shop, phone);
        ports
            .store()
            .update_contact(shop, &key, ports.clock().now() + super::CONTACT_TTL, |state| {
                state.apply_marketing_consent(Channel::Sms, &consent, change.evidence.clone(), now)
            })
            .await?;
        acted = true;
    }
    if let (Some(email), Some(consent)) = (&change.email, &change.email_consent) {
        let key = ContactKey::for_email(shop, email);
        ports
            .store()
            .update_contact(shop, &key, ports.clock().now() + super::CONTACT_TTL, |state| {
                state.apply_marketing_consent(Channel::Email, consent, None, now)
            })
            .await?;
        acted = true;
    }
    Ok(if acted { IngestOutcome::Accepted } else { IngestOutcome::Ignored })
}
