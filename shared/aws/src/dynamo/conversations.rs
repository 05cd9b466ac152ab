//! [`Conversations`]: which checkout each shop last texted a number about (one item per shop under
//! the thread), and the shoppers' replies under
//! their checkout.

use super::{DynamoStore, expiring, json, keys, new_item};
use chrono::{DateTime, Utc};
use reclaim_core::model::{CheckoutToken, InboundReply, ShopDomain, SmsThread, SmsThreadKey};
use reclaim_core::ports::{Conversations, DataOwner, PortResult};

impl Conversations for DynamoStore {
    async fn save_sms_thread(
        &self,
        thread: &SmsThreadKey,
        conversation: &SmsThread,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let shop = &conversation.shop;
        let owner = DataOwner::Checkout(conversation.checkout.clone()).tag();
        let mut item = expiring(new_item(&keys::sms_thread(thread, shop), shop, &owner), expires_at);
        item.insert("thread".into(), json(conversation)?);
        self.put(item).await
    }

    async fn sms_threads(&self, thread: &SmsThreadKey) -> PortResult<Vec<SmsThread>> {
        let mut threads: Vec<SmsThread> =
            self.children(keys::sms_thread_partition(thread), keys::SHOP_PREFIX, "thread").await?;
        threads.sort_by(|a, b| b.texted_at.cmp(&a.texted_at));
        Ok(threads)
    }

    async fn save_reply(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        reply: &InboundReply,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = DataOwner::Checkout(checkout.clone()).tag();
        let key = keys::reply(shop, checkout, reply.at, &reply.id);
        let mut item = expiring(new_item(&key, shop, &owner), expires_at);
        item.insert("reply".into(), json(reply)?);
        self.put(item).await
    }

    async fn replies(&self, shop: &ShopDomain, checkout: &CheckoutToken) -> PortResult<Vec<InboundReply>> {
        self.children(keys::checkout_partition(shop, checkout), keys::REPLY_PREFIX, "reply").await
    }
}
