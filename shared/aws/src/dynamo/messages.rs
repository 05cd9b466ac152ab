//! [`MessageLog`], [`DiscountLedger`] and [`ShortLinks`]: the items under a checkout that a
//! send claims and records, and the short links sent in text messages.

use super::{DynamoStore, Item, expiring, from_json, json, keys, new_item, s};
use crate::error::unavailable;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use chrono::{DateTime, Utc};
use reclaim_core::model::{CheckoutStatus, CheckoutToken, DiscountRecord, MessageRecord, ShopDomain};
use reclaim_core::ports::{ClaimOutcome, DataOwner, DiscountLedger, MessageLog, PortError, PortResult, ShortLinks};

/// The `MSG#{step}` item of a message.
fn message_item(
    shop: &ShopDomain,
    token: &CheckoutToken,
    message: &MessageRecord,
    expires_at: DateTime<Utc>,
) -> PortResult<Item> {
    let owner = DataOwner::Checkout(token.clone()).tag();
    let mut item = expiring(new_item(&keys::message(shop, token, message.step), shop, &owner), expires_at);
    item.insert("message".into(), json(message)?);
    Ok(item)
}

/// The `DISCOUNT#{step}` item of a discount code.
fn discount_item(
    shop: &ShopDomain,
    checkout: &CheckoutToken,
    discount: &DiscountRecord,
    expires_at: DateTime<Utc>,
) -> PortResult<Item> {
    let owner = DataOwner::Checkout(checkout.clone()).tag();
    let mut item = expiring(new_item(&keys::discount(shop, checkout, discount.step), shop, &owner), expires_at);
    item.insert("discount".into(), json(discount)?);
    Ok(item)
}

impl MessageLog for DynamoStore {
    async fn messages(&self, shop: &ShopDomain, token: &CheckoutToken) -> PortResult<Vec<MessageRecord>> {
        self.children(keys::checkout_partition(shop, token), keys::MESSAGE_PREFIX, "message").await
    }

    async fn claim_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
        expires_at: DateTime<Utc>,
    ) -> PortResult<ClaimOutcome> {
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(message_item(shop, token, message, expires_at)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| PortError::Rejected(e.to_string()))?;
        let still_open = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(super::key_item(&keys::checkout(shop, token))))
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
                let claimed = self.get(&keys::message(shop, token, message.step)).await?.is_some();
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
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        self.put(message_item(shop, token, message, expires_at)?).await
    }

    async fn record_click(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        step: u32,
        at: DateTime<Utc>,
    ) -> PortResult<bool> {
        let key = keys::message(shop, token, step);
        for _ in 0..3 {
            let Some(item) = self.get(&key).await? else {
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
                .set_key(Some(super::key_item(&key)))
                .update_expression("SET message = :new")
                .condition_expression("message = :old")
                .expression_attribute_values(":new", json(&message)?)
                .expression_attribute_values(":old", previous)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(true),
                Err(e) if e.as_service_error().is_some_and(super::is_condition_failure) => continue,
                Err(e) => return Err(unavailable("UpdateItem", e)),
            }
        }
        Err(PortError::Conflict)
    }
}

impl DiscountLedger for DynamoStore {
    async fn claim_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
        expires_at: DateTime<Utc>,
    ) -> PortResult<Option<DiscountRecord>> {
        let item = discount_item(shop, checkout, discount, expires_at)?;
        if self.put_if(item, "attribute_not_exists(pk)", None).await? {
            return Ok(None);
        }
        self.get_json(&keys::discount(shop, checkout, discount.step), "discount").await
    }

    async fn save_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        self.put(discount_item(shop, checkout, discount, expires_at)?).await
    }
}

impl ShortLinks for DynamoStore {
    async fn save_short_link(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        code: &str,
        token: &str,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = DataOwner::Checkout(checkout.clone()).tag();
        self.put_pointer(&keys::short_link(code), token.to_owned(), (shop, &owner), expires_at).await
    }

    async fn load_short_link(&self, code: &str) -> PortResult<Option<String>> {
        self.pointer(&keys::short_link(code)).await
    }
}
