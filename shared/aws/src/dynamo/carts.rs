//! [`Carts`]: the newest cart snapshot (a conditional put on `updated_ms`) and its storefront
//! capture, which is also in the contact index so that a privacy request finds it.

use super::{DynamoStore, expiring, json, keys, n, new_item, s};
use chrono::{DateTime, Utc};
use reclaim_core::model::{Capture, CartSnapshot, CartToken, ContactKey, ShopDomain};
use reclaim_core::ports::{Carts, DataOwner, PortResult};

impl Carts for DynamoStore {
    async fn save_cart(&self, shop: &ShopDomain, cart: &CartSnapshot, expires_at: DateTime<Utc>) -> PortResult<bool> {
        let owner = DataOwner::Cart(cart.token.clone()).tag();
        let mut item = expiring(new_item(&keys::cart(shop, &cart.token), shop, &owner), expires_at);
        item.insert("updated_ms".into(), n(cart.updated_at.timestamp_millis()));
        item.insert("record".into(), json(cart)?);
        let newer = (":new", n(cart.updated_at.timestamp_millis()));
        self.put_if(item, "attribute_not_exists(pk) OR updated_ms < :new", Some(newer)).await
    }

    async fn load_cart(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<CartSnapshot>> {
        self.get_json(&keys::cart(shop, cart), "record").await
    }

    async fn save_capture(
        &self,
        shop: &ShopDomain,
        cart: &CartToken,
        capture: &Capture,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = DataOwner::Cart(cart.clone()).tag();
        let mut item = expiring(new_item(&keys::capture(shop, cart), shop, &owner), expires_at);
        item.insert("capture".into(), json(capture)?);
        if let Some(address) = capture.email.as_deref().or(capture.phone.as_deref()) {
            let contact = ContactKey::for_email(shop, address);
            item.insert("contact_key".into(), s(keys::contact_partition(shop, &contact)));
            item.insert("activity".into(), s(capture.consent.at.to_rfc3339()));
        }
        self.put(item).await
    }

    async fn load_capture(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<Capture>> {
        self.get_json(&keys::capture(shop, cart), "capture").await
    }
}
