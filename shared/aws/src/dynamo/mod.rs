//! Every storage role on one DynamoDB table, one file per role. Keys are in [`keys`] (and in
//! the key table of `docs/architecture.md`, which a test keeps in step):
//!
//! | pk | sk | item |
//! | --- | --- | --- |
//! | `CHK#{shop}#{checkout}` | `STATE` | the checkout record, versioned; GSI keys for cart and contact |
//! | `CHK#{shop}#{checkout}` | `MSG#{step}` | a message claim and what became of it |
//! | `CART#{shop}#{cart}` | `STATE` | the latest cart snapshot |
//! | `CHK#{shop}#{checkout}` | `REPLY#{at}#{id}` | a shopper's SMS reply about this cart |
//! | `CONTACT#{shop}#{hash}` | `STATE` | suppression, consent, sends and push devices of a contact |
//! | `DELIVERY#{shop}#{id}` | `-` | webhook and inbound-SMS dedupe, TTL'd |
//! | `SHOP#{shop}` | `SETTINGS` / `STATE` / `STATS#{day}#{shard}` / `SMSBUDGET#{month}` | settings; sender health; daily counters; SMS used this month |
//! | `CHK#{shop}#{checkout}` | `DISCOUNT#{step}` | the single-use discount code of a step |
//! | `SHOP#{shop}` | `TOKEN` | the offline access token, sealed (envelope encryption) |
//! | `LINK#{code}` | `-` | the signed restore token behind an SMS short link, TTL'd |
//! | `SMSTHREAD#{hash}` | `SHOP#{shop}` | each shop's conversation on a thread, TTL'd |
//!
//! Every item carries `shop` and `owner` (`CHK#…`, `CART#…`, `CONTACT#…` or `SHOP`) for the
//! keys-only `by_shop` index: uninstalls and privacy requests find a shop's or a customer's items
//! there, whatever their key pattern.
//!
//! The checkout is the partition, so a big shop spreads over many partitions. Records are stored
//! as one JSON attribute beside the few attributes that conditions and indexes need. Every
//! expiry (`expires_at`, the table's TTL attribute) is chosen by the use case that writes.

mod carts;
mod checkouts;
mod contacts;
mod conversations;
mod deliveries;
mod erasure;
pub mod keys;
mod messages;
mod quotas;
mod shops;
mod stats;
mod tombstones;

use crate::error::unavailable;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use keys::Key;
use reclaim_core::model::ShopDomain;
use reclaim_core::ports::{PortError, PortResult};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Index of checkouts by cart token.
pub(crate) const CART_INDEX: &str = "by_cart";
/// Index of checkouts by contact, newest activity first.
pub(crate) const CONTACT_INDEX: &str = "by_contact";
/// Index of every item by shop and owner.
pub(crate) const SHOP_INDEX: &str = "by_shop";
/// Armed checkouts by the day and shard of their due time (sparse): the reconcile sweep.
pub(crate) const DUE_INDEX: &str = "by_due";

type Item = HashMap<String, AttributeValue>;

/// DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// How often a read-modify-write of a document is tried before it reports a conflict.
const DOCUMENT_ATTEMPTS: u32 = 10;

/// The `owner` attribute of shop-wide items (settings, state, stats, dedupe, token).
const SHOP_OWNER: &str = "SHOP";

/// The key attributes of an item.
fn key_item(key: &Key) -> Item {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

/// A new item at `key` with the `shop` and `owner` attributes that put it in the `by_shop`
/// index, where privacy requests and uninstalls find everything of a shop, or of one checkout,
/// cart or contact.
fn new_item(key: &Key, shop: &ShopDomain, owner: &str) -> Item {
    let mut item = key_item(key);
    item.insert("shop".into(), s(shop.as_str()));
    item.insert("owner".into(), s(owner));
    item.insert(SHOP_SHARD.into(), s(keys::shop_shard(shop, owner, key)));
    item
}

/// The `by_shop` index's partition attribute (see [`keys::shop_shard`]).
pub(crate) const SHOP_SHARD: &str = "shop_shard";

/// Gives an item updated in place (an `UpdateItem` that may create it) its shop, owner and
/// `by_shop` shard: names and values for the [`OWNERSHIP_SET`] clause.
fn with_ownership(
    update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    shop: &ShopDomain,
    owner: &str,
    key: &Key,
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    update
        .set_key(Some(key_item(key)))
        .expression_attribute_names("#shop", "shop")
        .expression_attribute_names("#owner", "owner")
        .expression_attribute_names("#shop_shard", SHOP_SHARD)
        .expression_attribute_values(":shop", s(shop.as_str()))
        .expression_attribute_values(":owner", s(owner))
        .expression_attribute_values(":shop_shard", s(keys::shop_shard(shop, owner, key)))
}

/// The `SET` clause that [`with_ownership`] fills in.
const OWNERSHIP_SET: &str = "#shop = :shop, #owner = :owner, #shop_shard = :shop_shard";

/// Sets the TTL attribute.
fn expiring(mut item: Item, expires_at: DateTime<Utc>) -> Item {
    item.insert("expires_at".into(), n(expires_at.timestamp()));
    item
}

fn json<T: Serialize>(value: &T) -> PortResult<AttributeValue> {
    serde_json::to_string(value).map(s).map_err(|e| PortError::Rejected(e.to_string()))
}

fn from_json<T: DeserializeOwned>(item: &Item, attribute: &str) -> PortResult<T> {
    let text = item
        .get(attribute)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| PortError::Unavailable(format!("item without {attribute}")))?;
    serde_json::from_str(text).map_err(|e| PortError::Unavailable(format!("unreadable {attribute}: {e}")))
}

fn version_of(item: &Item) -> u64 {
    item.get("version").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some("ConditionalCheckFailedException")
}

impl DynamoStore {
    /// Index of checkouts by cart token (key `cart_key`, sort `activity`).
    pub const CART_INDEX: &'static str = CART_INDEX;
    /// Index of checkouts by contact (key `contact_key`, sort `activity`).
    pub const CONTACT_INDEX: &'static str = CONTACT_INDEX;
    /// Index of every item by shop (key `shop`, sort `owner`; keys only).
    pub const SHOP_INDEX: &'static str = SHOP_INDEX;
    pub const DUE_INDEX: &'static str = DUE_INDEX;

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Reads an item with a strongly consistent read.
    async fn get(&self, key: &Key) -> PortResult<Option<Item>> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| unavailable("GetItem", e))
    }

    /// Reads the JSON attribute `attribute` of an item, if the item exists.
    async fn get_json<T: DeserializeOwned>(&self, key: &Key, attribute: &str) -> PortResult<Option<T>> {
        self.get(key).await?.map(|item| from_json(&item, attribute)).transpose()
    }

    /// Writes an item unconditionally.
    async fn put(&self, item: Item) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("PutItem", e))
    }

    /// Writes an item if `condition` holds; `false` when it did not (nothing written).
    async fn put_if(&self, item: Item, condition: &str, value: Option<(&str, AttributeValue)>) -> PortResult<bool> {
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item)).condition_expression(condition);
        let put = match value {
            Some((name, value)) => put.expression_attribute_values(name, value),
            None => put,
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(unavailable("PutItem", e)),
        }
    }

    /// Writes an item only if its stored `version` is `expected` (0: only if absent).
    async fn put_versioned(&self, item: Item, expected: u64) -> PortResult<()> {
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let put = if expected == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#version = :version")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":version", n(expected))
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Err(PortError::Conflict),
            Err(e) => Err(unavailable("PutItem", e)),
        }
    }

    /// Deletes one item (a missing one is fine).
    async fn delete(&self, key: &Key) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("DeleteItem", e))
    }

    /// Read-modify-write of a versioned JSON document in attribute `state` (a default one when the
    /// item is absent), retried after a short random pause when another writer got there first
    /// (so that a crowd of writers spreads out instead of colliding again). `change` returns
    /// whether it changed anything; nothing is written otherwise.
    async fn update_document<T, F>(
        &self,
        key: &Key,
        (shop, owner): (&ShopDomain, &str),
        expires_at: Option<DateTime<Utc>>,
        mut change: F,
    ) -> PortResult<()>
    where
        T: Default + Serialize + DeserializeOwned,
        F: FnMut(&mut T) -> bool,
    {
        for attempt in 0..DOCUMENT_ATTEMPTS {
            if attempt > 0 {
                let pause = fastrand::u64(1..=10 * u64::from(attempt));
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            let stored = self.get(key).await?;
            let version = stored.as_ref().map_or(0, version_of);
            let mut document: T = match &stored {
                Some(item) => from_json(item, "state")?,
                None => T::default(),
            };
            if !change(&mut document) {
                return Ok(());
            }
            let mut item = new_item(key, shop, owner);
            if let Some(expires_at) = expires_at {
                item = expiring(item, expires_at);
            }
            item.insert("state".into(), json(&document)?);
            item.insert("version".into(), n(version + 1));
            match self.put_versioned(item, version).await {
                Err(PortError::Conflict) => continue,
                other => return other,
            }
        }
        Err(PortError::Conflict)
    }

    /// Reads a JSON document in attribute `state`, or the default.
    async fn document<T: Default + DeserializeOwned>(&self, key: &Key) -> PortResult<T> {
        Ok(self.get_json(key, "state").await?.unwrap_or_default())
    }

    /// Writes a pointer item (`target` attribute) with a TTL.
    async fn put_pointer(
        &self,
        key: &Key,
        target: String,
        (shop, owner): (&ShopDomain, &str),
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let mut item = expiring(new_item(key, shop, owner), expires_at);
        item.insert("target".into(), s(target));
        self.put(item).await
    }

    /// Reads a pointer item's target. TTL deletion is lazy, so a pointer may outlive its TTL
    /// briefly; what it points to carries its own expiry (a signed token's `exp`).
    async fn pointer(&self, key: &Key) -> PortResult<Option<String>> {
        let item = self.get(key).await?;
        Ok(item.and_then(|item| item.get("target").and_then(|v| v.as_s().ok()).cloned()))
    }

    /// Every item a query finds, page after page.
    async fn query_all(&self, query: QueryFluentBuilder) -> PortResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let page =
                query.clone().set_exclusive_start_key(start_key).send().await.map_err(|e| unavailable("Query", e))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) => start_key = Some(key),
                None => return Ok(items),
            }
        }
    }

    /// The JSON attribute of a partition's items whose sort key starts with `prefix` (a
    /// checkout's messages or replies), in sort-key order, read consistently.
    async fn children<T: DeserializeOwned>(
        &self,
        partition: String,
        prefix: &str,
        attribute: &str,
    ) -> PortResult<Vec<T>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(&partition))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        self.query_all(query).await?.iter().map(|item| from_json(item, attribute)).collect()
    }

    /// The keys of a shop's items in the `by_shop` index, all of them (every shard) or one
    /// owner's (its shard only), at most `limit` (pages stop being read once it is reached).
    async fn shop_keys(&self, shop: &ShopDomain, owner: Option<&str>, limit: usize) -> PortResult<Vec<Key>> {
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(SHOP_INDEX)
            .expression_attribute_names("#shard", SHOP_SHARD);
        // One owner's items share a shard; the shop's own are spread over all of them.
        let shards: Vec<String> = match owner {
            Some(owner) if owner != SHOP_OWNER => vec![keys::owner_shard(shop, owner)],
            _ => keys::shop_shards(shop).collect(),
        };
        let mut items = Vec::new();
        for shard in shards {
            let query = match owner {
                Some(owner) => base
                    .clone()
                    .key_condition_expression("#shard = :shard AND #owner = :owner")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":owner", s(owner)),
                None => base.clone().key_condition_expression("#shard = :shard"),
            };
            let query = query.expression_attribute_values(":shard", s(shard));
            let mut start_key = None;
            loop {
                let page = query
                    .clone()
                    .set_exclusive_start_key(start_key)
                    .send()
                    .await
                    .map_err(|e| unavailable("Query", e))?;
                items.extend(page.items.unwrap_or_default());
                start_key = page.last_evaluated_key;
                if start_key.is_none() || items.len() >= limit {
                    break;
                }
            }
            if items.len() >= limit {
                items.truncate(limit);
                break;
            }
        }
        Ok(items
            .iter()
            .filter_map(|item| match (item.get("pk"), item.get("sk")) {
                (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
                    Some(Key { pk: pk.clone(), sk: sk.clone() })
                }
                _ => None,
            })
            .collect())
    }

    /// Deletes items by key, 25 to a batch, retrying what DynamoDB leaves unprocessed.
    async fn delete_keys(&self, keys: &[Key]) -> PortResult<usize> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder().set_key(Some(key_item(key))).build();
                    delete.map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PortError::Rejected(e.to_string()))?;
            for _ in 0..5 {
                if requests.is_empty() {
                    break;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| unavailable("BatchWriteItem", e))?;
                requests = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
            }
            if !requests.is_empty() {
                return Err(PortError::Unavailable("BatchWriteItem left items unprocessed".into()));
            }
        }
        Ok(keys.len())
    }
}
