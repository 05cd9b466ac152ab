//! [`Quotas`]: a shop's allowances (the monthly SMS budget, the daily send cap), each one item
//! taken with an atomic conditional `ADD`, so racing takes never go past the limit.

use super::{DynamoStore, SHOP_OWNER, keys, n};
use crate::error::unavailable;
use chrono::{DateTime, Utc};
use reclaim_core::model::ShopDomain;
use reclaim_core::ports::{PortResult, Quota, Quotas};

impl Quotas for DynamoStore {
    async fn reserve(
        &self,
        shop: &ShopDomain,
        quota: &Quota,
        limit: u32,
        expires_at: DateTime<Utc>,
    ) -> PortResult<bool> {
        let key = match quota {
            Quota::SmsMonth(month) => keys::sms_budget(shop, month),
            Quota::SendsDay(day) => keys::daily_sends(shop, *day),
            Quota::CapturesMinute(minute) => keys::minute_captures(shop, minute),
        };
        let update = self.client.update_item().table_name(&self.table);
        let result = super::with_ownership(update, shop, SHOP_OWNER, &key)
            .update_expression(format!("SET {}, expires_at = :expires ADD used :one", super::OWNERSHIP_SET))
            .condition_expression("attribute_not_exists(used) OR used < :limit")
            .expression_attribute_values(":expires", n(expires_at.timestamp()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(super::is_condition_failure) => Ok(false),
            Err(e) => Err(unavailable("UpdateItem", e)),
        }
    }
}
