//! [`Deliveries`]: dedupe items, claimed with a conditional put.

use super::{DynamoStore, SHOP_OWNER, expiring, keys, n, new_item, s};
use crate::error::unavailable;
use chrono::{DateTime, Utc};
use reclaim_core::model::{ShopDomain, WebhookId};
use reclaim_core::ports::{Deliveries, DeliveryClaim, PortResult};

/// The `state` of a webhook delivery's lease.
const PROCESSING: &str = "processing";
const DONE: &str = "done";

impl Deliveries for DynamoStore {
    async fn begin_delivery(
        &self,
        shop: &ShopDomain,
        id: &WebhookId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> PortResult<DeliveryClaim> {
        let key = keys::delivery(shop, id);
        let mut item = expiring(new_item(&key, shop, SHOP_OWNER), keep_until);
        item.insert("state".into(), s(PROCESSING));
        item.insert("lease_until".into(), n(lease_until.timestamp_millis()));
        item.insert("lease_owner".into(), s(owner));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :processing AND (lease_until < :now OR lease_owner = :owner))",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":processing", s(PROCESSING))
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":now", n(now.timestamp_millis()));
        match put.send().await {
            Ok(_) => Ok(DeliveryClaim::Started),
            Err(e) if e.as_service_error().is_some_and(super::is_condition_failure) => {
                // An item claimed once (no state) or finished counts as done.
                let stored = self.get(&key).await?;
                let state = stored.as_ref().and_then(|item| item.get("state")).and_then(|v| v.as_s().ok());
                Ok(if state.is_some_and(|state| state == PROCESSING) {
                    DeliveryClaim::InProgress
                } else {
                    DeliveryClaim::Done
                })
            }
            Err(e) => Err(unavailable("PutItem", e)),
        }
    }

    async fn finish_delivery(&self, shop: &ShopDomain, id: &WebhookId, keep_until: DateTime<Utc>) -> PortResult<()> {
        // Only an existing lease is finished: a delivery whose items were erased meanwhile (the
        // shop/redact that deleted its own lease) is not written back.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(super::key_item(&keys::delivery(shop, id))))
            .update_expression("SET #state = :done, expires_at = :keep")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":keep", n(keep_until.timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(super::is_condition_failure) => Ok(()),
            Err(e) => Err(unavailable("UpdateItem", e)),
        }
    }

    async fn claim_delivery(&self, shop: &ShopDomain, id: &WebhookId, expires_at: DateTime<Utc>) -> PortResult<bool> {
        let item = expiring(new_item(&keys::delivery(shop, id), shop, SHOP_OWNER), expires_at);
        self.put_if(item, "attribute_not_exists(pk)", None).await
    }

    async fn release_delivery(&self, shop: &ShopDomain, id: &WebhookId) -> PortResult<()> {
        self.delete(&keys::delivery(shop, id)).await
    }
}
