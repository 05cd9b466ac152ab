//! [`Tombstones`]: orders and deletes that arrived before their checkout, under the checkout's or the cart's
//! partition (so they are erased with it), kept until their expiry.

use super::{DynamoStore, expiring, json, keys, new_item};
use chrono::{DateTime, Utc};
use reclaim_core::model::{Ending, ShopDomain};
use reclaim_core::ports::{DataOwner, PortResult, Tombstone, Tombstones};

/// The key of a tombstone and the owner it is erased with.
fn key_and_owner(shop: &ShopDomain, target: &Tombstone) -> (keys::Key, String) {
    match target {
        Tombstone::Checkout(token) => (keys::checkout_tombstone(shop, token), DataOwner::Checkout(token.clone()).tag()),
        Tombstone::Cart(cart) => (keys::cart_tombstone(shop, cart), DataOwner::Cart(cart.clone()).tag()),
    }
}

impl Tombstones for DynamoStore {
    async fn leave_tombstone(
        &self,
        shop: &ShopDomain,
        target: &Tombstone,
        ending: &Ending,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let (key, owner) = key_and_owner(shop, target);
        let mut item = expiring(new_item(&key, shop, &owner), expires_at);
        item.insert("ending".into(), json(ending)?);
        self.put(item).await
    }

    async fn tombstone(&self, shop: &ShopDomain, target: &Tombstone) -> PortResult<Option<Ending>> {
        self.get_json(&key_and_owner(shop, target).0, "ending").await
    }
}
