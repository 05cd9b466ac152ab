//! [`Store`] on one DynamoDB table. Keys (see `docs/architecture.md`):
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
//! | `SMSTHREAD#{hash}` | `-` | the checkout an SMS conversation is about, TTL'd |
//!
//! Every item carries `shop` and `owner` (`CHK#…`, `CART#…`, `CONTACT#…` or `SHOP`) for the
//! keys-only `by_shop` index: uninstalls and privacy requests find a shop's or a customer's items
//! there, whatever their key pattern.
//!
//! The checkout is the partition, so a big shop spreads over many partitions. Records are stored
//! as one JSON attribute beside the few attributes that conditions and indexes need.

use crate::error::unavailable;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, NaiveDate, Utc};
use reclaim_core::model::{
    Capture, CartSnapshot, CartToken, CheckoutRecord, CheckoutStatus, CheckoutToken, ContactKey, ContactState,
    DiscountRecord, InboundReply, MessageRecord, SealedSecret, ShopDomain, ShopState, SmsThreadKey, WebhookId,
};
use reclaim_core::ports::{ClaimOutcome, DataOwner, PortError, PortResult, Store, VersionedSettings};
use reclaim_core::rules::RecoverySettings;
use reclaim_core::usecases::PERSONAL_DATA_TTL;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};

/// Index of checkouts by cart token.
pub(crate) const CART_INDEX: &str = "by_cart";
/// Index of checkouts by contact, newest activity first.
pub(crate) const CONTACT_INDEX: &str = "by_contact";
/// Index of every item by shop and owner.
pub(crate) const SHOP_INDEX: &str = "by_shop";

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

fn checkout_pk(shop: &ShopDomain, token: &CheckoutToken) -> String {
    format!("CHK#{shop}#{token}")
}

fn message_sk(step: u32) -> String {
    format!("MSG#{step:03}")
}

fn discount_sk(step: u32) -> String {
    format!("DISCOUNT#{step:03}")
}

fn contact_pk(shop: &ShopDomain, key: &ContactKey) -> String {
    format!("CONTACT#{shop}#{}", key.as_str())
}

/// The `owner` attribute of shop-wide items (settings, state, stats, dedupe, token).
const SHOP_OWNER: &str = "SHOP";

fn checkout_owner(token: &CheckoutToken) -> String {
    DataOwner::Checkout(token.clone()).tag()
}

fn cart_owner(cart: &CartToken) -> String {
    DataOwner::Cart(cart.clone()).tag()
}

/// Adds the `shop` and `owner` attributes that put an item in the `by_shop` index, where privacy
/// requests and uninstalls find everything of a shop, or of one checkout, cart or contact.
fn owned(mut item: Item, shop: &ShopDomain, owner: &str) -> Item {
    item.insert("shop".into(), s(shop.as_str()));
    item.insert("owner".into(), s(owner));
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

    fn key(pk: String, sk: &str) -> Item {
        HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
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

    /// Read-modify-write of a versioned JSON document in attribute `state` (a default one when the
    /// item is absent), retried when another writer got there first. `change` returns whether it
    /// changed anything; nothing is written otherwise.
    async fn update_document<T, F>(
        &self,
        pk: String,
        sk: &str,
        (shop, owner): (&ShopDomain, &str),
        mut change: F,
    ) -> PortResult<()>
    where
        T: Default + Serialize + DeserializeOwned,
        F: FnMut(&mut T) -> bool,
    {
        for _ in 0..5 {
            let stored = self.get(pk.clone(), sk).await?;
            let version = stored.as_ref().map_or(0, version_of);
            let mut document: T = match &stored {
                Some(item) => from_json(item, "state")?,
                None => T::default(),
            };
            if !change(&mut document) {
                return Ok(());
            }
            let mut item = owned(Self::key(pk.clone(), sk), shop, owner);
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
    async fn document<T: Default + DeserializeOwned>(&self, pk: String, sk: &str) -> PortResult<T> {
        match self.get(pk, sk).await? {
            Some(item) => from_json(&item, "state"),
            None => Ok(T::default()),
        }
    }

    /// Writes a pointer item (`target` attribute) with a TTL.
    async fn put_pointer(
        &self,
        pk: String,
        target: String,
        (shop, owner): (&ShopDomain, &str),
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let mut item = owned(Self::key(pk, "-"), shop, owner);
        item.insert("target".into(), s(target));
        item.insert("expires_at".into(), n(expires_at.timestamp()));
        self.put(item).await
    }

    /// Reads a pointer item's target. TTL deletion is lazy, so a pointer may outlive its TTL
    /// briefly; what it points to carries its own expiry (a signed token's `exp`).
    async fn pointer(&self, pk: String) -> PortResult<Option<String>> {
        let item = self.get(pk, "-").await?;
        Ok(item.and_then(|item| item.get("target").and_then(|v| v.as_s().ok()).cloned()))
    }

    /// The JSON attribute of a checkout's items whose sort key starts with `prefix` (messages,
    /// replies), in sort-key order, read consistently.
    async fn checkout_children<T: DeserializeOwned>(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        prefix: &str,
        attribute: &str,
    ) -> PortResult<Vec<T>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(checkout_pk(shop, token)))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("Query", e))?;
        out.items().iter().map(|item| from_json(item, attribute)).collect()
    }

    /// The keys (`pk`, `sk`) of a shop's items in the `by_shop` index, all of them or one owner's.
    async fn shop_keys(&self, shop: &ShopDomain, owner: Option<&str>) -> PortResult<Vec<(String, String)>> {
        let mut keys = Vec::new();
        let mut start_key = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(SHOP_INDEX)
                .expression_attribute_names("#shop", "shop")
                .expression_attribute_values(":shop", s(shop.as_str()))
                .set_exclusive_start_key(start_key);
            query = match owner {
                Some(owner) => query
                    .key_condition_expression("#shop = :shop AND #owner = :owner")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":owner", s(owner)),
                None => query.key_condition_expression("#shop = :shop"),
            };
            let out = query.send().await.map_err(|e| unavailable("Query", e))?;
            for item in out.items() {
                if let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) = (item.get("pk"), item.get("sk")) {
                    keys.push((pk.clone(), sk.clone()));
                }
            }
            match out.last_evaluated_key {
                Some(key) => start_key = Some(key),
                None => return Ok(keys),
            }
        }
    }

    /// Deletes items by key, 25 to a batch, retrying what DynamoDB leaves unprocessed.
    async fn delete_keys(&self, keys: &[(String, String)]) -> PortResult<usize> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|(pk, sk)| {
                    let delete = DeleteRequest::builder().set_key(Some(Self::key(pk.clone(), sk))).build();
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

    /// The `DISCOUNT#{step}` item of a discount code.
    fn discount_item(shop: &ShopDomain, checkout: &CheckoutToken, discount: &DiscountRecord) -> PortResult<Item> {
        let key = Self::key(checkout_pk(shop, checkout), &discount_sk(discount.step));
        let mut item = owned(key, shop, &checkout_owner(checkout));
        item.insert("discount".into(), json(discount)?);
        item.insert("expires_at".into(), n((discount.ends_at + PERSONAL_DATA_TTL).timestamp()));
        Ok(item)
    }

    /// The `MSG#{step}` item of a message.
    fn message_item(shop: &ShopDomain, token: &CheckoutToken, message: &MessageRecord) -> PortResult<Item> {
        let mut item =
            owned(Self::key(checkout_pk(shop, token), &message_sk(message.step)), shop, &checkout_owner(token));
        item.insert("message".into(), json(message)?);
        item.insert("expires_at".into(), n((message.claimed_at + PERSONAL_DATA_TTL).timestamp()));
        Ok(item)
    }

    async fn get(&self, pk: String, sk: &str) -> PortResult<Option<Item>> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| unavailable("GetItem", e))
    }

    fn checkout_item(record: &CheckoutRecord) -> PortResult<Item> {
        let shop = &record.shop;
        let token = &record.snapshot.token;
        let mut item = owned(Self::key(checkout_pk(shop, token), "STATE"), shop, &checkout_owner(token));
        item.insert("version".into(), n(record.version + 1));
        item.insert("status".into(), s(record.status.as_str()));
        item.insert("record".into(), json(record)?);
        item.insert("activity".into(), s(record.last_activity_at.to_rfc3339()));
        item.insert("expires_at".into(), n((record.last_activity_at.max(Utc::now()) + PERSONAL_DATA_TTL).timestamp()));
        if let Some(cart) = &record.snapshot.cart_token {
            item.insert("cart_key".into(), s(format!("CART#{shop}#{cart}")));
        }
        if let Some(contact) = record.contact_key() {
            item.insert("contact_key".into(), s(contact_pk(shop, &contact)));
        }
        Ok(item)
    }

    async fn query_index(
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
        out.items().first().map(|item| from_json(item, "record")).transpose()
    }
}

impl Store for DynamoStore {
    async fn claim_delivery(&self, shop: &ShopDomain, id: &WebhookId, expires_at: DateTime<Utc>) -> PortResult<bool> {
        let mut item = owned(Self::key(format!("DELIVERY#{shop}#{id}"), "-"), shop, SHOP_OWNER);
        item.insert("expires_at".into(), n(expires_at.timestamp()));
        self.put_if(item, "attribute_not_exists(pk)", None).await
    }

    async fn release_delivery(&self, shop: &ShopDomain, id: &WebhookId) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(format!("DELIVERY#{shop}#{id}"), "-")))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("DeleteItem", e))
    }

    async fn load_checkout(&self, shop: &ShopDomain, token: &CheckoutToken) -> PortResult<Option<CheckoutRecord>> {
        let Some(item) = self.get(checkout_pk(shop, token), "STATE").await? else {
            return Ok(None);
        };
        let mut record: CheckoutRecord = from_json(&item, "record")?;
        record.version = version_of(&item);
        Ok(Some(record))
    }

    async fn save_checkout(&self, record: &CheckoutRecord) -> PortResult<()> {
        self.put_versioned(Self::checkout_item(record)?, record.version).await
    }

    async fn find_checkout_by_cart(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<CheckoutRecord>> {
        self.query_index(CART_INDEX, "cart_key", format!("CART#{shop}#{cart}"), false).await
    }

    async fn find_open_checkout_by_contact(
        &self,
        shop: &ShopDomain,
        contact: &ContactKey,
    ) -> PortResult<Option<CheckoutRecord>> {
        self.query_index(CONTACT_INDEX, "contact_key", contact_pk(shop, contact), true).await
    }

    async fn save_cart(&self, shop: &ShopDomain, cart: &CartSnapshot, expires_at: DateTime<Utc>) -> PortResult<bool> {
        let mut item = owned(Self::key(format!("CART#{shop}#{}", cart.token), "STATE"), shop, &cart_owner(&cart.token));
        item.insert("updated_ms".into(), n(cart.updated_at.timestamp_millis()));
        item.insert("record".into(), json(cart)?);
        item.insert("expires_at".into(), n(expires_at.timestamp()));
        let newer = (":new", n(cart.updated_at.timestamp_millis()));
        self.put_if(item, "attribute_not_exists(pk) OR updated_ms < :new", Some(newer)).await
    }

    async fn load_cart(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<CartSnapshot>> {
        self.get(format!("CART#{shop}#{cart}"), "STATE").await?.map(|item| from_json(&item, "record")).transpose()
    }

    async fn save_capture(
        &self,
        shop: &ShopDomain,
        cart: &CartToken,
        capture: &Capture,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let mut item = owned(Self::key(format!("CART#{shop}#{cart}"), "CAPTURE"), shop, &cart_owner(cart));
        item.insert("capture".into(), json(capture)?);
        // In the contact index too, so that a privacy request finds a capture with no checkout.
        let address = capture.email.as_deref().or(capture.phone.as_deref());
        if let Some(address) = address {
            item.insert("contact_key".into(), s(contact_pk(shop, &ContactKey::for_email(shop, address))));
            item.insert("activity".into(), s(capture.consent.at.to_rfc3339()));
        }
        item.insert("expires_at".into(), n(expires_at.timestamp()));
        self.put(item).await
    }

    async fn load_capture(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<Capture>> {
        self.get(format!("CART#{shop}#{cart}"), "CAPTURE").await?.map(|item| from_json(&item, "capture")).transpose()
    }

    async fn messages(&self, shop: &ShopDomain, token: &CheckoutToken) -> PortResult<Vec<MessageRecord>> {
        self.checkout_children(shop, token, "MSG#", "message").await
    }

    async fn claim_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
    ) -> PortResult<ClaimOutcome> {
        let pk = checkout_pk(shop, token);
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::message_item(shop, token, message)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| PortError::Rejected(e.to_string()))?;
        let still_open = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, "STATE")))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s(CheckoutStatus::Open.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| PortError::Rejected(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(claim).build())
            .transact_items(TransactWriteItem::builder().condition_check(still_open).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => {
                // Which condition failed? Read back rather than trust the reasons' order.
                let claimed = self.get(checkout_pk(shop, token), &message_sk(message.step)).await?.is_some();
                Ok(if claimed { ClaimOutcome::AlreadyClaimed } else { ClaimOutcome::CheckoutClosed })
            }
            Err(e) => Err(unavailable("TransactWriteItems", e)),
        }
    }

    async fn update_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
    ) -> PortResult<()> {
        let item = Self::message_item(shop, token, message)?;
        self.put(item).await
    }

    async fn record_click(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        step: u32,
        at: DateTime<Utc>,
    ) -> PortResult<bool> {
        for _ in 0..3 {
            let Some(item) = self.get(checkout_pk(shop, token), &message_sk(step)).await? else {
                return Ok(false);
            };
            let mut message: MessageRecord = from_json(&item, "message")?;
            if message.clicked_at.is_some() {
                return Ok(false);
            }
            let previous = item.get("message").cloned().unwrap_or_else(|| s(""));
            message.clicked_at = Some(at);
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(checkout_pk(shop, token), &message_sk(step))))
                .update_expression("SET message = :new")
                .condition_expression("message = :old")
                .expression_attribute_values(":new", json(&message)?)
                .expression_attribute_values(":old", previous)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(true),
                Err(e) if e.as_service_error().is_some_and(is_condition_failure) => continue,
                Err(e) => return Err(unavailable("UpdateItem", e)),
            }
        }
        Err(PortError::Conflict)
    }

    async fn contact(&self, shop: &ShopDomain, key: &ContactKey) -> PortResult<ContactState> {
        self.document(contact_pk(shop, key), "STATE").await
    }

    async fn update_contact<F>(&self, shop: &ShopDomain, key: &ContactKey, change: F) -> PortResult<()>
    where
        F: FnMut(&mut ContactState) -> bool + Send,
    {
        let owner = DataOwner::Contact(key.clone()).tag();
        self.update_document(contact_pk(shop, key), "STATE", (shop, &owner), change).await
    }

    async fn shop_state(&self, shop: &ShopDomain) -> PortResult<ShopState> {
        self.document(format!("SHOP#{shop}"), "STATE").await
    }

    async fn update_shop_state<F>(&self, shop: &ShopDomain, change: F) -> PortResult<()>
    where
        F: FnMut(&mut ShopState) -> bool + Send,
    {
        self.update_document(format!("SHOP#{shop}"), "STATE", (shop, SHOP_OWNER), change).await
    }

    async fn reserve_sms(&self, shop: &ShopDomain, month: &str, budget: u32) -> PortResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(format!("SHOP#{shop}"), &format!("SMSBUDGET#{month}"))))
            .update_expression("SET #shop = :shop, #owner = :owner ADD used :one")
            .condition_expression("attribute_not_exists(used) OR used < :budget")
            .expression_attribute_names("#shop", "shop")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":shop", s(shop.as_str()))
            .expression_attribute_values(":owner", s(SHOP_OWNER))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":budget", n(budget))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(unavailable("UpdateItem", e)),
        }
    }

    async fn save_short_link(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        code: &str,
        token: &str,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = checkout_owner(checkout);
        self.put_pointer(format!("LINK#{code}"), token.to_owned(), (shop, &owner), expires_at).await
    }

    async fn load_short_link(&self, code: &str) -> PortResult<Option<String>> {
        self.pointer(format!("LINK#{code}")).await
    }

    async fn save_sms_thread(
        &self,
        thread: &SmsThreadKey,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = checkout_owner(checkout);
        let pk = format!("SMSTHREAD#{}", thread.as_str());
        self.put_pointer(pk, checkout_pk(shop, checkout), (shop, &owner), expires_at).await
    }

    async fn load_sms_thread(&self, thread: &SmsThreadKey) -> PortResult<Option<(ShopDomain, CheckoutToken)>> {
        let Some(target) = self.pointer(format!("SMSTHREAD#{}", thread.as_str())).await? else {
            return Ok(None);
        };
        let parsed = target
            .strip_prefix("CHK#")
            .and_then(|rest| rest.split_once('#'))
            .and_then(|(shop, checkout)| Some((ShopDomain::parse(shop).ok()?, CheckoutToken::new(checkout).ok()?)));
        parsed.map(Some).ok_or_else(|| PortError::Unavailable("unreadable SMS thread".into()))
    }

    async fn save_reply(&self, shop: &ShopDomain, checkout: &CheckoutToken, reply: &InboundReply) -> PortResult<()> {
        let sk = format!("REPLY#{}#{}", reply.at.to_rfc3339(), reply.id);
        let mut item = owned(Self::key(checkout_pk(shop, checkout), &sk), shop, &checkout_owner(checkout));
        item.insert("reply".into(), json(reply)?);
        item.insert("expires_at".into(), n((reply.at + PERSONAL_DATA_TTL).timestamp()));
        self.put(item).await
    }

    async fn claim_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
    ) -> PortResult<Option<DiscountRecord>> {
        let item = Self::discount_item(shop, checkout, discount)?;
        if self.put_if(item, "attribute_not_exists(pk)", None).await? {
            return Ok(None);
        }
        let existing = self.get(checkout_pk(shop, checkout), &discount_sk(discount.step)).await?;
        existing.map(|item| from_json(&item, "discount")).transpose()
    }

    async fn save_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
    ) -> PortResult<()> {
        self.put(Self::discount_item(shop, checkout, discount)?).await
    }

    async fn save_token(&self, shop: &ShopDomain, token: &SealedSecret) -> PortResult<()> {
        let mut item = owned(Self::key(format!("SHOP#{shop}"), "TOKEN"), shop, SHOP_OWNER);
        item.insert("sealed".into(), json(token)?);
        self.put(item).await
    }

    async fn load_token(&self, shop: &ShopDomain) -> PortResult<Option<SealedSecret>> {
        self.get(format!("SHOP#{shop}"), "TOKEN").await?.map(|item| from_json(&item, "sealed")).transpose()
    }

    async fn delete_token(&self, shop: &ShopDomain) -> PortResult<()> {
        self.delete_keys(&[(format!("SHOP#{shop}"), "TOKEN".to_owned())]).await.map(|_| ())
    }

    async fn armed_checkouts(&self, shop: &ShopDomain) -> PortResult<Vec<CheckoutRecord>> {
        let prefix = format!("CHK#{shop}#");
        let mut armed = Vec::new();
        for (pk, sk) in self.shop_keys(shop, None).await? {
            if sk != "STATE" || !pk.starts_with(&prefix) {
                continue;
            }
            if let Some(item) = self.get(pk, "STATE").await? {
                let record: CheckoutRecord = from_json(&item, "record")?;
                if record.armed.is_some() {
                    armed.push(record);
                }
            }
        }
        Ok(armed)
    }

    async fn customer_data(&self, shop: &ShopDomain, contacts: &[ContactKey]) -> PortResult<Vec<DataOwner>> {
        let (checkouts, carts) = (format!("CHK#{shop}#"), format!("CART#{shop}#"));
        let mut owners = Vec::new();
        for contact in contacts {
            let mut start_key = None;
            loop {
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(CONTACT_INDEX)
                    .key_condition_expression("contact_key = :k")
                    .expression_attribute_values(":k", s(contact_pk(shop, contact)))
                    .set_exclusive_start_key(start_key)
                    .send()
                    .await
                    .map_err(|e| unavailable("Query", e))?;
                for item in out.items() {
                    let pk = item.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
                    if let Some(token) = pk.strip_prefix(&checkouts) {
                        owners.push(DataOwner::Checkout(
                            CheckoutToken::new(token).map_err(|e| PortError::Unavailable(e.to_string()))?,
                        ));
                    } else if let Some(cart) = pk.strip_prefix(&carts) {
                        owners.push(DataOwner::Cart(
                            CartToken::new(cart).map_err(|e| PortError::Unavailable(e.to_string()))?,
                        ));
                    }
                }
                match out.last_evaluated_key {
                    Some(key) => start_key = Some(key),
                    None => break,
                }
            }
        }
        Ok(owners)
    }

    async fn forget(&self, shop: &ShopDomain, owner: &DataOwner) -> PortResult<usize> {
        let keys = self.shop_keys(shop, Some(&owner.tag())).await?;
        self.delete_keys(&keys).await
    }

    async fn forget_shop(&self, shop: &ShopDomain) -> PortResult<usize> {
        let keys = self.shop_keys(shop, None).await?;
        self.delete_keys(&keys).await
    }

    async fn replies(&self, shop: &ShopDomain, checkout: &CheckoutToken) -> PortResult<Vec<InboundReply>> {
        self.checkout_children(shop, checkout, "REPLY#", "reply").await
    }

    async fn load_settings(&self, shop: &ShopDomain) -> PortResult<Option<VersionedSettings>> {
        let Some(item) = self.get(format!("SHOP#{shop}"), "SETTINGS").await? else {
            return Ok(None);
        };
        Ok(Some(VersionedSettings { version: version_of(&item), settings: from_json(&item, "settings")? }))
    }

    async fn save_settings(
        &self,
        shop: &ShopDomain,
        settings: &RecoverySettings,
        expected_version: u64,
    ) -> PortResult<u64> {
        let mut item = owned(Self::key(format!("SHOP#{shop}"), "SETTINGS"), shop, SHOP_OWNER);
        item.insert("settings".into(), json(settings)?);
        item.insert("version".into(), n(expected_version + 1));
        self.put_versioned(item, expected_version).await?;
        Ok(expected_version + 1)
    }

    async fn add_to_stats(
        &self,
        shop: &ShopDomain,
        day: NaiveDate,
        shard: u8,
        counters: &[(String, i64)],
    ) -> PortResult<()> {
        if counters.is_empty() {
            return Ok(());
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(format!("SHOP#{shop}"), &format!("STATS#{day}#{shard}"))));
        let mut update = update
            .expression_attribute_names("#shop", "shop")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":shop", s(shop.as_str()))
            .expression_attribute_values(":owner", s(SHOP_OWNER));
        let mut clauses = Vec::new();
        for (index, (name, amount)) in counters.iter().enumerate() {
            clauses.push(format!("#c{index} :c{index}"));
            update = update
                .expression_attribute_names(format!("#c{index}"), format!("c.{name}"))
                .expression_attribute_values(format!(":c{index}"), n(amount));
        }
        update
            .update_expression(format!("SET #shop = :shop, #owner = :owner ADD {}", clauses.join(", ")))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("UpdateItem", e))
    }

    async fn stats(&self, shop: &ShopDomain, from: NaiveDate, to: NaiveDate) -> PortResult<BTreeMap<String, i64>> {
        let mut totals = BTreeMap::new();
        let mut start_key = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(format!("SHOP#{shop}")))
                .expression_attribute_values(":from", s(format!("STATS#{from}")))
                .expression_attribute_values(":to", s(format!("STATS#{to}#~")))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| unavailable("Query", e))?;
            for item in out.items() {
                for (name, value) in item {
                    if let (Some(counter), Ok(amount)) = (name.strip_prefix("c."), value.as_n()) {
                        *totals.entry(counter.to_owned()).or_insert(0) += amount.parse::<i64>().unwrap_or(0);
                    }
                }
            }
            match out.last_evaluated_key {
                Some(key) => start_key = Some(key),
                None => return Ok(totals),
            }
        }
    }
}
