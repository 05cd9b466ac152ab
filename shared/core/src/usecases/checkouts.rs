//! Checkouts and carts: storing newer snapshots, arming and disarming the checkout's check,
//! storefront captures and the cart-only recovery they start. `ingest` (webhooks) and
//! `storefront` (the app proxy) both call into this module; it calls neither.

use super::{
    IngestOutcome, PERSONAL_DATA_TTL, Ports, UseCaseError, arm, checkout_expiry, disarm, settings_of, update_checkout,
};
use crate::model::{
    Capture, CartSnapshot, CartToken, Channel, CheckoutRecord, CheckoutSnapshot, CheckoutStatus, CheckoutToken,
    Contact, Ending, Money, Region, ShopDomain, Suppression, SuppressionReason,
};
use crate::ports::{Carts, Checkouts, Clock, Contacts, PortError, Scheduler, SettingsStore, Tombstone, Tombstones};

/// The storage roles the checkout use cases need.
pub trait CheckoutPorts:
    Ports<Store: Checkouts + Carts + Contacts + SettingsStore + Tombstones, Scheduler: Scheduler>
{
}
impl<P: Ports<Store: Checkouts + Carts + Contacts + SettingsStore + Tombstones, Scheduler: Scheduler>> CheckoutPorts
    for P
{
}

/// The order or delete that overtook this checkout, remembered under its token or its cart's.
async fn ending_that_came_first<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    snapshot: &CheckoutSnapshot,
) -> Result<Option<Ending>, PortError> {
    let store = ports.store();
    if let Some(conversion) = store.tombstone(shop, &Tombstone::Checkout(snapshot.token.clone())).await? {
        return Ok(Some(conversion));
    }
    match &snapshot.cart_token {
        Some(cart) => store.tombstone(shop, &Tombstone::Cart(cart.clone())).await,
        None => Ok(None),
    }
}

/// Stores a newer snapshot and arms the first check once. Older snapshots change nothing.
pub(crate) async fn upsert_checkout<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    snapshot: CheckoutSnapshot,
) -> Result<IngestOutcome, UseCaseError> {
    let store = ports.store();
    for _ in 0..super::MAX_ATTEMPTS {
        let stored = store.load_checkout(shop, &snapshot.token).await?;
        // Two snapshots of the same second are merged by content, in either order alike.
        let snapshot = match &stored {
            Some(stored) if stored.snapshot.updated_at == snapshot.updated_at => {
                let merged = stored.snapshot.merge_same_second(&snapshot);
                if merged == stored.snapshot {
                    return Ok(IngestOutcome::Stale);
                }
                merged
            }
            _ => snapshot.clone(),
        };
        let withdrawn = stored.as_ref().map(|stored| withdrawals(&stored.snapshot, &snapshot)).unwrap_or_default();
        let mut record = match stored {
            Some(stored) if stored.snapshot.updated_at > snapshot.updated_at => {
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
            None => {
                let mut record = CheckoutRecord::new(shop.clone(), snapshot.clone());
                // An order or a delete that arrived first ends this checkout before it starts.
                match ending_that_came_first(ports, shop, &snapshot).await? {
                    Some(Ending::Order(conversion)) => {
                        record.status = CheckoutStatus::Converted;
                        record.conversion = Some(conversion);
                    }
                    Some(Ending::Deleted { .. }) => record.status = CheckoutStatus::Deleted,
                    None => {}
                }
                record
            }
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
        match store.save_checkout(&record, checkout_expiry(&record, ports.clock().now())).await {
            Ok(()) => {
                honour_withdrawals(ports, &record, &withdrawn).await?;
                return Ok(IngestOutcome::Accepted);
            }
            Err(PortError::Conflict) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(PortError::Conflict.into())
}

/// The channels whose marketing consent a newer snapshot of the same checkout withdrew: the box
/// that said `true` now says `false`, for the same address.
fn withdrawals(before: &CheckoutSnapshot, after: &CheckoutSnapshot) -> Vec<Channel> {
    let (was, now) = (&before.contact, &after.contact);
    let mut channels = Vec::new();
    if was.accepts_email_marketing && !now.accepts_email_marketing && now.email.is_some() && was.email == now.email {
        channels.push(Channel::Email);
    }
    if was.accepts_sms_marketing && !now.accepts_sms_marketing && now.phone_e164().is_some() && was.phone == now.phone {
        channels.push(Channel::Sms);
    }
    channels
}

/// Suppresses each withdrawn channel for the contact at once (`consent_withdrawn`), unless the
/// platform said something newer about the contact's consent since.
async fn honour_withdrawals<P: CheckoutPorts>(
    ports: &P,
    record: &CheckoutRecord,
    channels: &[Channel],
) -> Result<(), PortError> {
    let at = record.snapshot.updated_at;
    for channel in channels {
        let key = match channel {
            Channel::Sms => record.snapshot.contact.phone_key(&record.shop),
            _ => record.contact_key(),
        };
        let Some(key) = key else { continue };
        let suppression = Suppression { reason: SuppressionReason::ConsentWithdrawn, at };
        ports
            .store()
            .update_contact(&record.shop, &key, ports.clock().now() + super::CONTACT_TTL, |state| {
                state.consent_updated_at.is_none_or(|newer| newer <= at) && state.suppress(*channel, &suppression)
            })
            .await?;
    }
    Ok(())
}

/// Marks an open checkout deleted and disarms it; `None` when no such checkout is stored.
async fn end_checkout<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    token: &CheckoutToken,
) -> Result<Option<CheckoutRecord>, PortError> {
    let updated = update_checkout(ports, shop, token, |mut record| {
        (record.status == CheckoutStatus::Open).then(|| {
            record.status = CheckoutStatus::Deleted;
            record
        })
    })
    .await?;
    if let Some(record) = &updated {
        disarm(ports, record).await?;
    }
    Ok(updated)
}

/// Ends the cart-only recovery of a cart that now has a real checkout (if there is one), so
/// that the shopper gets one sequence, not two.
pub(crate) async fn retire_cart_recovery<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    token: &CheckoutToken,
) -> Result<(), PortError> {
    end_checkout(ports, shop, token).await.map(|_| ())
}

/// `checkouts/delete`: the checkout ends; a delete that overtook its checkout is remembered.
pub(crate) async fn delete_checkout<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    token: &CheckoutToken,
) -> Result<IngestOutcome, UseCaseError> {
    match end_checkout(ports, shop, token).await? {
        Some(_) => {}
        // The delete overtook its checkout: remember it, so that the checkout is stored deleted.
        None => {
            let now = ports.clock().now();
            let ending = Ending::Deleted { at: now };
            let target = Tombstone::Checkout(token.clone());
            ports.store().leave_tombstone(shop, &target, &ending, now + super::DELIVERY_DEDUPE_TTL).await?;
        }
    }
    Ok(IngestOutcome::Accepted)
}

/// Stores the cart and counts it as activity on its checkout, which pushes the next message back.
pub(crate) async fn upsert_cart<P: CheckoutPorts>(
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
        recover_cart(ports, shop, &cart, &capture).await?;
    }
    Ok(IngestOutcome::Accepted)
}

/// Fills a checkout's missing contact from its cart's capture.
pub(crate) async fn apply_capture<P: CheckoutPorts>(
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
            contact.phone = capture.phone.clone().map(Into::into).or(contact.phone.take());
            contact.accepts_sms_marketing |= capture.phone.is_some();
        }
    }
    Ok(())
}

/// The token of the cart-only recovery record of a real checkout's cart (`cart-{cart token}`), if
/// the checkout has a cart and is not itself such a record.
pub(crate) fn cart_recovery_token(checkout: &CheckoutSnapshot) -> Option<CheckoutToken> {
    let token = CheckoutToken::new(format!("cart-{}", checkout.cart_token.as_ref()?)).ok()?;
    (token != checkout.token).then_some(token)
}

/// Recovers a cart that has no checkout: a checkout record of its own (`cart-{token}`), whose
/// restore link is the cart permalink on the shop's domain.
pub(crate) async fn recover_cart<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    cart: &CartSnapshot,
    capture: &Capture,
) -> Result<(), UseCaseError> {
    let Some(first) = cart.line_items.first() else { return Ok(()) };
    let lines = cart.line_items.iter().map(|l| l.unit_price.times(l.quantity)).collect::<Option<Vec<_>>>();
    let total = lines
        .and_then(|lines| Money::sum(first.unit_price.currency, lines))
        .ok_or_else(|| UseCaseError::BadRequest("cart: the line totals overflow".into()))?;
    let snapshot = CheckoutSnapshot {
        token: CheckoutToken::new(format!("cart-{}", cart.token))
            .map_err(|e| UseCaseError::BadRequest(e.to_string()))?,
        cart_token: Some(cart.token.clone()),
        contact: Contact {
            email: capture.email.clone(),
            phone: capture.phone.clone().map(Into::into),
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
    upsert_checkout(ports, shop, snapshot).await?;
    Ok(())
}

/// Stores a consented contact for a cart and, when the cart is known, starts its recovery.
pub(crate) async fn store_capture<P: CheckoutPorts>(
    ports: &P,
    shop: &ShopDomain,
    cart: &CartToken,
    capture: &Capture,
) -> Result<(), UseCaseError> {
    let store = ports.store();
    store.save_capture(shop, cart, capture, ports.clock().now() + PERSONAL_DATA_TTL).await?;
    if let Some(stored) = store.load_cart(shop, cart).await? {
        recover_cart(ports, shop, &stored, capture).await?;
    }
    Ok(())
}
