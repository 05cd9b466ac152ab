//! [`Deliveries`]: dedupe items, claimed with a conditional put.

use super::{DynamoStore, SHOP_OWNER, expiring, keys, new_item};
use chrono::{DateTime, Utc};
use reclaim_core::model::{ShopDomain, WebhookId};
use reclaim_core::ports::{Deliveries, PortResult};

impl Deliveries for DynamoStore {
    async fn claim_delivery(&self, shop: &ShopDomain, id: &WebhookId, expires_at: DateTime<Utc>) -> PortResult<bool> {
        let item = expiring(new_item(&keys::delivery(shop, id), shop, SHOP_OWNER), expires_at);
        self.put_if(item, "attribute_not_exists(pk)", None).await
    }

    async fn release_delivery(&self, shop: &ShopDomain, id: &WebhookId) -> PortResult<()> {
        self.delete(&keys::delivery(shop, id)).await
    }
}
