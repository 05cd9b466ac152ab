//! The storage contract (`reclaim_core::testing::contract`) against the DynamoDB adapter on the
//! emulator: the same checks the in-memory adapter passes in the core's unit tests, so the fake
//! that the use-case tests run on behaves as the real table does.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use reclaim_aws::DynamoStore;
use reclaim_aws::dynamo::keys;
use reclaim_core::model::ShopDomain;
use reclaim_core::testing::ItemRef;
use reclaim_core::testing::contract::{self, ExpiryProbe};
use reclaim_tests::TestStack;

/// Reads the `expires_at` attribute (the table's TTL) of an item.
struct DynamoExpiry<'a>(&'a DynamoStore);

impl ExpiryProbe for DynamoExpiry<'_> {
    async fn expires_at(&self, shop: &ShopDomain, item: ItemRef) -> Option<DateTime<Utc>> {
        let (pk, sk) = item.key(shop);
        let out = self
            .0
            .client()
            .get_item()
            .table_name(self.0.table())
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem");
        let seconds = out.item?.get("expires_at")?.as_n().ok()?.parse().ok()?;
        DateTime::from_timestamp(seconds, 0)
    }
}

#[tokio::test]
async fn the_dynamodb_store_honours_the_storage_contract() {
    let stack = TestStack::start("contract").await;
    let store = &stack.services.store;
    contract::run_all(store, &DynamoExpiry(store), "dynamo").await;
}

#[test]
fn the_contract_and_the_adapter_agree_on_item_keys() {
    let shop = ShopDomain::parse("keys.myshopify.com").unwrap();
    let token = reclaim_core::model::CheckoutToken::new("chk").unwrap();
    let cart = reclaim_core::model::CartToken::new("cart").unwrap();
    let contact = reclaim_core::model::ContactKey::for_email(&shop, "a@b.co");
    let pairs = [
        (ItemRef::Checkout(token.clone()), keys::checkout(&shop, &token)),
        (ItemRef::Message(token.clone(), 2), keys::message(&shop, &token, 2)),
        (ItemRef::Discount(token.clone(), 2), keys::discount(&shop, &token, 2)),
        (ItemRef::Cart(cart.clone()), keys::cart(&shop, &cart)),
        (ItemRef::Capture(cart.clone()), keys::capture(&shop, &cart)),
        (ItemRef::ShortLink("abc".into()), keys::short_link("abc")),
        (ItemRef::Contact(contact.clone()), keys::contact(&shop, &contact)),
    ];
    for (item, key) in pairs {
        assert_eq!(item.key(&shop), (key.pk, key.sk), "{item:?}");
    }
}
