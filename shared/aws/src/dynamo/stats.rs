//! [`Stats`]: daily counters per shop, added with `ADD` on one of a few shards per day.

use super::{DynamoStore, SHOP_OWNER, keys, n, s};
use crate::error::unavailable;
use chrono::NaiveDate;
use reclaim_core::model::ShopDomain;
use reclaim_core::ports::{PortResult, Stats};
use std::collections::BTreeMap;

impl Stats for DynamoStore {
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
        let update = self.client.update_item().table_name(&self.table);
        let mut update = super::with_ownership(update, shop, SHOP_OWNER, &keys::stats(shop, day, shard));
        let mut clauses = Vec::new();
        for (index, (name, amount)) in counters.iter().enumerate() {
            clauses.push(format!("#c{index} :c{index}"));
            update = update
                .expression_attribute_names(format!("#c{index}"), format!("c.{name}"))
                .expression_attribute_values(format!(":c{index}"), n(amount));
        }
        update
            .update_expression(format!("SET {} ADD {}", super::OWNERSHIP_SET, clauses.join(", ")))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("UpdateItem", e))
    }

    async fn stats(&self, shop: &ShopDomain, from: NaiveDate, to: NaiveDate) -> PortResult<BTreeMap<String, i64>> {
        let (low, high) = keys::stats_range(from, to);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(keys::shop_partition(shop)))
            .expression_attribute_values(":from", s(&low))
            .expression_attribute_values(":to", s(&high));
        let mut totals = BTreeMap::new();
        for item in self.query_all(query).await? {
            for (name, value) in &item {
                if let (Some(counter), Ok(amount)) = (name.strip_prefix("c."), value.as_n()) {
                    *totals.entry(counter.to_owned()).or_insert(0) += amount.parse::<i64>().unwrap_or(0);
                }
            }
        }
        Ok(totals)
    }
}
