//! [`Contacts`]: a contact's state as a versioned document.

use super::{DynamoStore, keys};
use chrono::{DateTime, Utc};
use reclaim_core::model::{ContactKey, ContactState, ShopDomain};
use reclaim_core::ports::{Contacts, DataOwner, PortResult};

impl Contacts for DynamoStore {
    async fn contact(&self, shop: &ShopDomain, key: &ContactKey) -> PortResult<ContactState> {
        self.document(&keys::contact(shop, key)).await
    }

    async fn update_contact<F>(
        &self,
        shop: &ShopDomain,
        key: &ContactKey,
        expires_at: DateTime<Utc>,
        change: F,
    ) -> PortResult<()>
    where
        F: FnMut(&mut ContactState) -> bool + Send,
    {
        let owner = DataOwner::Contact(key.clone()).tag();
        self.update_document(&keys::contact(shop, key), (shop, &owner), Some(expires_at), change).await
    }
}
