//! [`Conversations`]: which checkout a text thread is about, and the shopper's replies under
//! their checkout.

use super::{DynamoStore, expiring, json, keys, new_item};
use chrono::{DateTime, Utc};
use reclaim_core::model::{CheckoutToken, InboundReply, ShopDomain, SmsThreadKey};
use reclaim_core::ports::{Conversations, DataOwner, PortError, PortResult};

impl Conversations for DynamoStore {
    async fn save_sms_thread(
        &self,
        thread: &SmsThreadKey,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = DataOwner::Checkout(checkout.clone()).tag();
        let target = keys::checkout_partition(shop, checkout);
        self.put_pointer(&keys::sms_thread(thread), target, (shop, &owner), expires_at).await
    }

    async fn load_sms_thread(&self, thread: &SmsThreadKey) -> PortResult<Option<(ShopDomain, CheckoutToken)>> {
        let Some(target) = self.pointer(&keys::sms_thread(thread)).await? else {
            return Ok(None);
        };
        let parsed = target
            .strip_prefix("CHK#")
            .and_then(|rest| rest.split_once('#'))
            .and_then(|(shop, checkout)| Some((ShopDomain::parse(shop).ok()?, CheckoutToken::new(checkout).ok()?)));
        parsed.map(Some).ok_or_else(|| PortError::Unavailable("unreadable SMS thread".into()))
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
