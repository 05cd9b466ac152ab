//! [`Shops`], [`Tokens`] and [`SettingsStore`]: the items of a shop's own partition.

use super::{DynamoStore, SHOP_OWNER, from_json, json, keys, n, new_item, version_of};
use reclaim_core::model::{ShopDomain, ShopState, StoredToken};
use reclaim_core::ports::{PortResult, SettingsStore, Shops, Tokens, VersionedSettings};
use reclaim_core::rules::RecoverySettings;

impl Shops for DynamoStore {
    async fn shop_state(&self, shop: &ShopDomain) -> PortResult<ShopState> {
        self.document(&keys::shop_state(shop)).await
    }

    async fn update_shop_state<F>(&self, shop: &ShopDomain, change: F) -> PortResult<()>
    where
        F: FnMut(&mut ShopState) -> bool + Send,
    {
        self.update_document(&keys::shop_state(shop), (shop, SHOP_OWNER), None, change).await
    }
}

impl Tokens for DynamoStore {
    async fn save_token(&self, shop: &ShopDomain, token: &StoredToken) -> PortResult<()> {
        let mut item = new_item(&keys::token(shop), shop, SHOP_OWNER);
        item.insert("sealed".into(), json(token)?);
        self.put(item).await
    }

    async fn load_token(&self, shop: &ShopDomain) -> PortResult<Option<StoredToken>> {
        self.get_json(&keys::token(shop), "sealed").await
    }

    async fn delete_token(&self, shop: &ShopDomain) -> PortResult<()> {
        self.delete(&keys::token(shop)).await
    }
}

impl SettingsStore for DynamoStore {
    async fn load_settings(&self, shop: &ShopDomain) -> PortResult<Option<VersionedSettings>> {
        let Some(item) = self.get(&keys::settings(shop)).await? else {
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
        let mut item = new_item(&keys::settings(shop), shop, SHOP_OWNER);
        item.insert("settings".into(), json(settings)?);
        item.insert("version".into(), n(expected_version + 1));
        self.put_versioned(item, expected_version).await?;
        Ok(expected_version + 1)
    }
}
