//! Record an order: find its checkout (checkout token, then cart token, then contact), mark it
//! converted, cancel what is armed, and attribute the revenue when a message came first.

use super::{DELIVERY_DEDUPE_TTL, Ports, UseCaseError, count, disarm, publish, settings_of, update_checkout};
use crate::model::{CheckoutRecord, CheckoutStatus, ContactKey, Conversion, Ending, OrderSnapshot, ShopDomain};
use crate::ports::{
    Checkouts, Clock, DomainEvent, EventBus, MessageLog, Scheduler, SettingsStore, Stats, Tombstone, Tombstones,
};
use chrono::SubsecRound;
use serde::Serialize;

/// What recording an order needs: checkouts, their messages, settings, stats, the scheduler and
/// events.
pub trait OrderPorts:
    Ports<Store: Checkouts + MessageLog + SettingsStore + Stats + Tombstones, Scheduler: Scheduler, Events: EventBus>
{
}
impl<P> OrderPorts for P where
    P: Ports<
            Store: Checkouts + MessageLog + SettingsStore + Stats + Tombstones,
            Scheduler: Scheduler,
            Events: EventBus,
        >
{
}

/// What an order did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "order", rename_all = "snake_case")]
pub enum OrderOutcome {
    /// Matched and converted; `recovered` when a message was sent inside the attribution window.
    Converted { recovered: bool },
    /// The checkout was converted before (e.g. `orders/paid` after `orders/create`).
    AlreadyConverted,
    /// No checkout of ours matches.
    Unmatched,
}

/// Finds the checkout an order came from.
async fn find_checkout<P: OrderPorts>(
    ports: &P,
    shop: &ShopDomain,
    order: &OrderSnapshot,
) -> Result<Option<CheckoutRecord>, UseCaseError> {
    let store = ports.store();
    if let Some(token) = &order.checkout_token
        && let Some(record) = store.load_checkout(shop, token).await?
    {
        return Ok(Some(record));
    }
    if let Some(cart) = &order.cart_token
        && let Some(record) = store.find_checkout_by_cart(shop, cart).await?
    {
        return Ok(Some(record));
    }
    if let Some(email) = &order.email {
        return Ok(store.find_open_checkout_by_contact(shop, &ContactKey::for_email(shop, email)).await?);
    }
    Ok(None)
}

/// Records an order.
pub async fn record_order<P: OrderPorts>(
    ports: &P,
    shop: &ShopDomain,
    order: &OrderSnapshot,
) -> Result<OrderOutcome, UseCaseError> {
    let Some(found) = find_checkout(ports, shop, order).await? else {
        // The order may have overtaken its checkout (webhooks arrive in any order): remember it
        // under the checkout and cart tokens, so that the checkout is stored converted when it
        // comes, and never reminded.
        let conversion = Conversion {
            order_id: order.id.clone(),
            at: order.created_at,
            total: order.total.clone(),
            recovered: false,
        };
        let expires_at = ports.clock().now() + DELIVERY_DEDUPE_TTL;
        let targets = order.checkout_token.clone().map(Tombstone::Checkout).into_iter();
        for target in targets.chain(order.cart_token.clone().map(Tombstone::Cart)) {
            ports.store().leave_tombstone(shop, &target, &Ending::Order(conversion.clone()), expires_at).await?;
        }
        tracing::info!(%shop, "order matches no checkout (yet)");
        return Ok(OrderOutcome::Unmatched);
    };
    let token = found.snapshot.token.clone();
    let history = ports.store().messages(shop, &token).await?;
    let window = settings_of(ports, shop).await?.attribution_window();
    // Platforms stamp orders to the second: compare at that precision.
    let recovered = history
        .iter()
        .filter_map(|m| m.sent_at.map(|sent| sent.trunc_subsecs(0)))
        .any(|sent| sent <= order.created_at && order.created_at - sent <= window);
    let mut before = None;
    update_checkout(ports, shop, &token, |mut record| {
        if record.conversion.is_some() {
            return None;
        }
        before = Some(record.clone());
        record.status = CheckoutStatus::Converted;
        record.armed = None;
        record.conversion = Some(Conversion {
            order_id: order.id.clone(),
            at: order.created_at,
            total: order.total.clone(),
            recovered,
        });
        Some(record)
    })
    .await?;
    let Some(before) = before else {
        return Ok(OrderOutcome::AlreadyConverted);
    };
    disarm(ports, &before).await?;
    let mut counters = vec![("converted".to_owned(), 1)];
    if before.holdout {
        // The baseline: what the holdout group bought without any message.
        counters.push(("holdout.converted".to_owned(), 1));
        counters.push((format!("holdout.revenue.{}", order.total.currency.as_str()), order.total.minor));
    } else if history.iter().any(|m| m.state.holds_step()) {
        // The reminded group (counted in `abandoned` when its first step settled): what it bought.
        counters.push(("treated.converted".to_owned(), 1));
        counters.push((format!("treated.revenue.{}", order.total.currency.as_str()), order.total.minor));
    }
    if recovered {
        counters.push(("recovered.orders".to_owned(), 1));
        counters.push((format!("recovered.revenue.{}", order.total.currency.as_str()), order.total.minor));
    }
    count(ports, shop, &token, &counters).await?;
    publish(
        ports,
        DomainEvent::CheckoutConverted { shop: shop.clone(), checkout: token, recovered, revenue: order.total.clone() },
    )
    .await;
    tracing::info!(%shop, recovered, "order recorded");
    Ok(OrderOutcome::Converted { recovered })
}
