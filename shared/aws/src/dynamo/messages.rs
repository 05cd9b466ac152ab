//! [`MessageLog`], [`DiscountLedger`] and [`ShortLinks`]: the items under a checkout that a
//! send claims and records, and the short links sent in text messages.

use super::{DynamoStore, Item, expiring, from_json, json, keys, new_item, s};
use crate::error::unavailable;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Utc};
use reclaim_core::model::{CheckoutStatus, CheckoutToken, DeliveryState, DiscountRecord, MessageRecord, ShopDomain};
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
    // Top-level copies for the claim's condition: a released step may be claimed again, and a
    // claim that finds its own owner knows that its earlier write committed.
    item.insert(CLAIM_STATE.into(), s(message.state.as_str()));
    item.insert(CLAIM_OWNER.into(), s(&message.owner));
    Ok(item)
}

/// The attributes of a message item that the claim's condition reads.
const CLAIM_STATE: &str = "claim_state";
const CLAIM_OWNER: &str = "claim_owner";

/// Which of a claim transaction's two conditions failed, from its cancellation reasons
/// (in the order of the transaction's items: the message, then the checkout).
#[derive(Debug, PartialEq, Eq)]
enum Cancelled {
    /// The step is held; `owner` is the holder's claim id, when the reason carried the item.
    StepHeld {
        owner: Option<String>,
    },
    CheckoutClosed,
    /// Throttling, a transaction conflict or anything else that says nothing about the item:
    /// the claim did not happen and may be tried again.
    Other(String),
}

fn cancelled(reasons: &[CancellationReason]) -> Cancelled {
    let code = |index: usize| reasons.get(index).and_then(|r| r.code()).unwrap_or("None");
    match (code(0), code(1)) {
        ("ConditionalCheckFailed", _) => {
            let owner = reasons[0].item().and_then(|item| item.get(CLAIM_OWNER)).and_then(|v| v.as_s().ok()).cloned();
            Cancelled::StepHeld { owner }
        }
        ("None", "ConditionalCheckFailed") => Cancelled::CheckoutClosed,
        (first, second) => Cancelled::Other(format!("transaction cancelled: {first}, {second}")),
    }
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
            .condition_expression("attribute_not_exists(pk) OR #state = :released")
            .expression_attribute_names("#state", CLAIM_STATE)
            .expression_attribute_values(":released", s(DeliveryState::Released.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
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
        let reasons = match result {
            Ok(_) => return Ok(ClaimOutcome::Claimed),
            Err(SdkError::ServiceError(e)) if e.err().is_transaction_canceled_exception() => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(cancel) => cancel.cancellation_reasons,
                _ => None,
            },
            Err(e) => return Err(unavailable("TransactWriteItems", e)),
        };
        match cancelled(reasons.as_deref().unwrap_or_default()) {
            Cancelled::StepHeld { owner } => {
                // The holder: from the reason, else read back (an emulator may leave it out).
                let owner = match owner {
                    Some(owner) => Some(owner),
                    None => self
                        .get(&keys::message(shop, token, message.step))
                        .await?
                        .and_then(|item| item.get(CLAIM_OWNER).and_then(|v| v.as_s().ok()).cloned()),
                };
                let ours = !message.owner.is_empty() && owner.as_deref() == Some(message.owner.as_str());
                Ok(if ours { ClaimOutcome::Claimed } else { ClaimOutcome::AlreadyClaimed })
            }
            Cancelled::CheckoutClosed => Ok(ClaimOutcome::CheckoutClosed),
            Cancelled::Other(reason) => {
                tracing::warn!(reason, "claim transaction cancelled for a reason other than its conditions");
                Err(PortError::Unavailable(reason))
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn reason(code: &str, owner: Option<&str>) -> CancellationReason {
        let item = owner.map(|o| [(CLAIM_OWNER.to_owned(), AttributeValue::S(o.into()))].into());
        CancellationReason::builder().code(code).set_item(item).build()
    }

    #[test]
    fn cancellation_reasons_name_the_condition_that_failed() {
        let none = reason("None", None);
        assert_eq!(
            cancelled(&[reason("ConditionalCheckFailed", Some("a")), none.clone()]),
            Cancelled::StepHeld { owner: Some("a".into()) }
        );
        assert_eq!(
            cancelled(&[reason("ConditionalCheckFailed", None), reason("ConditionalCheckFailed", None)]),
            Cancelled::StepHeld { owner: None },
            "a held step wins over a closed checkout: the holder's write may be ours"
        );
        assert_eq!(cancelled(&[none.clone(), reason("ConditionalCheckFailed", None)]), Cancelled::CheckoutClosed);
        for throttled in [
            [reason("ThrottlingError", None), none.clone()],
            [none.clone(), reason("TransactionConflict", None)],
            [reason("ProvisionedThroughputExceeded", None), reason("None", None)],
        ] {
            assert!(matches!(cancelled(&throttled), Cancelled::Other(_)), "never read as closed: {throttled:?}");
        }
        assert!(matches!(cancelled(&[]), Cancelled::Other(_)), "no reasons: unknown, not closed");
    }
}
