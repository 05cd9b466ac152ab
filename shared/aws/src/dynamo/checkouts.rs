//! [`Checkouts`]: the versioned checkout record, with the attributes its indexes read
//! (`cart_key`, `contact_key`, `activity`) and its conditions read (`version`, `status`).

use super::{
    CART_INDEX, CONTACT_INDEX, DUE_INDEX, DynamoStore, Item, expiring, from_json, keys, n, new_item, s, version_of,
};
use crate::error::unavailable;
use chrono::{DateTime, Utc};
use reclaim_core::model::{CartToken, CheckoutRecord, CheckoutStatus, CheckoutToken, ContactKey, ShopDomain};
use reclaim_core::ports::{Checkouts, DataOwner, PortResult};

/// The `STATE` item of a checkout, at the version this write will make.
fn checkout_item(record: &CheckoutRecord, expires_at: DateTime<Utc>) -> PortResult<Item> {
    let (shop, token) = (&record.shop, &record.snapshot.token);
    let owner = DataOwner::Checkout(token.clone()).tag();
    let mut item = expiring(new_item(&keys::checkout(shop, token), shop, &owner), expires_at);
    item.insert("version".into(), n(record.version + 1));
    item.insert("status".into(), s(record.status.as_str()));
    item.insert("record".into(), super::json(record)?);
    item.insert("activity".into(), s(record.last_activity_at.to_rfc3339()));
    if let Some(cart) = &record.snapshot.cart_token {
        item.insert("cart_key".into(), s(keys::cart_partition(shop, cart)));
    }
    if let Some(contact) = record.contact_key() {
        item.insert("contact_key".into(), s(keys::contact_partition(shop, &contact)));
    }
    // The sparse `by_due` index: only armed checkouts carry it.
    if let Some(armed) = &record.armed {
        item.insert("due_bucket".into(), s(keys::due_bucket(armed.at.date_naive(), keys::due_shard(shop, token))));
        item.insert("due_at".into(), s(keys::due_at(armed.at)));
    }
    Ok(item)
}

/// A record as read, with the stored version.
fn record_of(item: &Item) -> PortResult<CheckoutRecord> {
    let mut record: CheckoutRecord = from_json(item, "record")?;
    record.version = version_of(item);
    Ok(record)
}

impl DynamoStore {
    /// The most recently active checkout under an index key (open ones only, if asked).
    async fn newest_by_index(
        &self,
        index: &str,
        attribute: &str,
        value: String,
        open_only: bool,
    ) -> PortResult<Option<CheckoutRecord>> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", attribute)
            .expression_attribute_values(":k", s(value))
            .scan_index_forward(false);
        if open_only {
            query = query
                .filter_expression("#status = :open")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":open", s(CheckoutStatus::Open.as_str()));
        }
        let out = query.send().await.map_err(|e| unavailable("Query", e))?;
        out.items().first().map(record_of).transpose()
    }
}

impl Checkouts for DynamoStore {
    async fn load_checkout(&self, shop: &ShopDomain, token: &CheckoutToken) -> PortResult<Option<CheckoutRecord>> {
        self.get(&keys::checkout(shop, token)).await?.as_ref().map(record_of).transpose()
    }

    async fn save_checkout(&self, record: &CheckoutRecord, expires_at: DateTime<Utc>) -> PortResult<()> {
        self.put_versioned(checkout_item(record, expires_at)?, record.version).await
    }

    async fn find_checkout_by_cart(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<CheckoutRecord>> {
        self.newest_by_index(CART_INDEX, "cart_key", keys::cart_partition(shop, cart), false).await
    }

    async fn find_open_checkout_by_contact(
        &self,
        shop: &ShopDomain,
        contact: &ContactKey,
    ) -> PortResult<Option<CheckoutRecord>> {
        self.newest_by_index(CONTACT_INDEX, "contact_key", keys::contact_partition(shop, contact), true).await
    }

    async fn checkouts_due_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<(ShopDomain, CheckoutToken)>> {
        let mut due = Vec::new();
        let mut day = from.date_naive();
        while day <= to.date_naive() {
            for shard in 0..keys::DUE_SHARDS {
                let mut start = None;
                loop {
                    let out = self
                        .client
                        .query()
                        .table_name(&self.table)
                        .index_name(DUE_INDEX)
                        .key_condition_expression("due_bucket = :bucket AND due_at BETWEEN :from AND :to")
                        .expression_attribute_values(":bucket", s(keys::due_bucket(day, shard)))
                        .expression_attribute_values(":from", s(keys::due_at(from)))
                        .expression_attribute_values(":to", s(keys::due_at(to - chrono::Duration::milliseconds(1))))
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .map_err(|e| unavailable("Query", e))?;
                    for item in out.items() {
                        let pk = item.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
                        if let Some(found) = keys::parse_checkout_partition(pk) {
                            due.push(found);
                        }
                    }
                    start = out.last_evaluated_key;
                    if start.is_none() {
                        break;
                    }
                }
            }
            day = day.succ_opt().expect("a day after");
        }
        Ok(due)
    }

    async fn recent_checkouts(
        &self,
        shop: &ShopDomain,
        since: DateTime<Utc>,
        limit: usize,
    ) -> PortResult<Vec<CheckoutRecord>> {
        let prefix = format!("CHK#{shop}#");
        let mut found = Vec::new();
        for key in self.shop_keys(shop, None, usize::MAX).await? {
            if key.sk != keys::STATE || !key.pk.starts_with(&prefix) {
                continue;
            }
            if let Some(item) = self.get(&key).await? {
                let record = record_of(&item)?;
                if record.snapshot.created_at >= since {
                    found.push(record);
                    if found.len() >= limit {
                        break;
                    }
                }
            }
        }
        Ok(found)
    }

    async fn armed_checkouts(&self, shop: &ShopDomain) -> PortResult<Vec<CheckoutRecord>> {
        let prefix = format!("CHK#{shop}#");
        let mut armed = Vec::new();
        for key in self.shop_keys(shop, None, usize::MAX).await? {
            if key.sk != keys::STATE || !key.pk.starts_with(&prefix) {
                continue;
            }
            if let Some(item) = self.get(&key).await? {
                let record = record_of(&item)?;
                if record.armed.is_some() {
                    armed.push(record);
                }
            }
        }
        Ok(armed)
    }
}
