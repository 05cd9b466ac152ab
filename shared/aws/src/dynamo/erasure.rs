//! [`Erasure`]: what privacy requests and uninstalls find and delete, through the contact index
//! and the keys-only `by_shop` index.

use super::{CONTACT_INDEX, DynamoStore, keys, s};
use reclaim_core::model::{CartToken, CheckoutToken, ContactKey, ContactState, ShopDomain};
use reclaim_core::ports::{DataOwner, Erased, Erasure, PortError, PortResult};

impl Erasure for DynamoStore {
    async fn customer_data(&self, shop: &ShopDomain, contacts: &[ContactKey]) -> PortResult<Vec<DataOwner>> {
        let (checkouts, carts) = (format!("CHK#{shop}#"), format!("CART#{shop}#"));
        let mut owners = Vec::new();
        for contact in contacts {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(CONTACT_INDEX)
                .key_condition_expression("contact_key = :k")
                .expression_attribute_values(":k", s(keys::contact_partition(shop, contact)));
            for item in self.query_all(query).await? {
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
        }
        Ok(owners)
    }

    async fn forget(&self, shop: &ShopDomain, owner: &DataOwner) -> PortResult<usize> {
        let keys = self.shop_keys(shop, Some(&owner.tag()), usize::MAX).await?;
        self.delete_keys(&keys).await
    }

    async fn contacts_with_devices(&self, shop: &ShopDomain, limit: usize) -> PortResult<Vec<ContactKey>> {
        let prefix = format!("CONTACT#{shop}#");
        let mut found = Vec::new();
        for key in self.shop_keys(shop, None, usize::MAX).await? {
            let Some(contact) = key.pk.strip_prefix(&prefix).map(|k| ContactKey::from_stored(k.to_owned())) else {
                continue;
            };
            let state: ContactState = self.document(&key).await?;
            if !state.push_endpoints.is_empty() {
                found.push(contact);
                if found.len() >= limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    async fn forget_shop(&self, shop: &ShopDomain, limit: usize) -> PortResult<Erased> {
        let keys = self.shop_keys(shop, None, limit).await?;
        let deleted = self.delete_keys(&keys).await?;
        Ok(Erased { deleted, more: keys.len() >= limit })
    }
}
