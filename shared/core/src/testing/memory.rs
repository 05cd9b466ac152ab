//! [`MemoryStore`]: every storage role on one in-memory table, with DynamoDB's semantics.
//!
//! Items live under the same partition and sort keys as in the DynamoDB adapter, so that sort
//! order (messages by step, replies by time), "everything of one owner" and "everything of one
//! shop" behave alike. Conditional writes are checked under one lock, which makes them atomic as
//! DynamoDB's are; versions start at 1; expiry is stored as the caller gave it and, as with
//! DynamoDB's TTL, an expired item stays readable until [`MemoryStore::sweep_expired`] removes it.

use crate::model::{
    Capture, CartSnapshot, CartToken, CheckoutRecord, CheckoutStatus, CheckoutToken, ContactKey, ContactState,
    DiscountRecord, Ending, InboundReply, MessageRecord, ShopDomain, ShopState, SmsThread, SmsThreadKey, StoredToken,
    WebhookId,
};
use crate::ports::{
    Carts, Checkouts, ClaimOutcome, Contacts, Conversations, DataOwner, Deliveries, DeliveryClaim, DiscountLedger,
    Erased, Erasure, MessageLog, PortError, PortResult, Quota, Quotas, SettingsStore, Shops, ShortLinks, Stats, Tokens,
    Tombstone, Tombstones, VersionedSettings,
};
use crate::rules::RecoverySettings;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// What an item holds.
#[derive(Debug, Clone)]
enum Value {
    Delivery,
    /// A webhook delivery being processed by `owner` until `lease_until`, or done.
    Lease {
        done: bool,
        lease_until: DateTime<Utc>,
        owner: String,
    },
    Checkout(Box<CheckoutRecord>),
    Message(MessageRecord),
    Discount(DiscountRecord),
    Reply(InboundReply),
    Cart(Box<CartSnapshot>),
    Capture(Capture),
    Tombstone(Ending),
    Contact(ContactState),
    ShopState(ShopState),
    Settings(Box<RecoverySettings>),
    Token(StoredToken),
    /// Units taken of a quota.
    Used(u32),
    ShortLink(String),
    Thread(SmsThread),
    Counters(BTreeMap<String, i64>),
}

/// One stored item and the attributes DynamoDB's indexes and conditions read.
#[derive(Debug, Clone)]
struct Item {
    shop: ShopDomain,
    /// The `by_shop` index's sort key: `SHOP` or a [`DataOwner::tag`].
    owner: String,
    version: u64,
    expires_at: Option<DateTime<Utc>>,
    /// The `by_contact` index's key, for checkouts and captures.
    contact: Option<ContactKey>,
    value: Value,
}

const SHOP_OWNER: &str = "SHOP";

type Key = (String, String);

fn checkout_pk(shop: &ShopDomain, token: &CheckoutToken) -> String {
    format!("CHK#{shop}#{token}")
}

fn cart_pk(shop: &ShopDomain, cart: &CartToken) -> String {
    format!("CART#{shop}#{cart}")
}

fn shop_pk(shop: &ShopDomain) -> String {
    format!("SHOP#{shop}")
}

fn key(pk: String, sk: impl Into<String>) -> Key {
    (pk, sk.into())
}

/// Code to run just before the next message claim: a racing writer in a test.
type ClaimHook = Box<dyn FnOnce(&MemoryStore) + Send>;

/// The in-memory table.
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<Key, Item>>,
    before_claim: Mutex<Option<ClaimHook>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("items", &self.items.lock().unwrap().len()).finish_non_exhaustive()
    }
}

/// Which stored item an expiry question is about (see [`super::contract::ExpiryProbe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef {
    Delivery(WebhookId),
    Checkout(CheckoutToken),
    Message(CheckoutToken, u32),
    Discount(CheckoutToken, u32),
    Cart(CartToken),
    Capture(CartToken),
    ShortLink(String),
    Contact(ContactKey),
}

impl ItemRef {
    /// The item's partition and sort key, as both adapters store it.
    pub fn key(&self, shop: &ShopDomain) -> (String, String) {
        match self {
            Self::Delivery(id) => (format!("DELIVERY#{shop}#{id}"), "-".into()),
            Self::Checkout(token) => (checkout_pk(shop, token), "STATE".into()),
            Self::Message(token, step) => (checkout_pk(shop, token), format!("MSG#{step:03}")),
            Self::Discount(token, step) => (checkout_pk(shop, token), format!("DISCOUNT#{step:03}")),
            Self::Cart(cart) => (cart_pk(shop, cart), "STATE".into()),
            Self::Capture(cart) => (cart_pk(shop, cart), "CAPTURE".into()),
            Self::ShortLink(code) => (format!("LINK#{code}"), "-".into()),
            Self::Contact(contact) => (format!("CONTACT#{shop}#{}", contact.as_str()), "STATE".into()),
        }
    }
}

impl MemoryStore {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// When an item expires, as written (`None`: absent, or no expiry).
    pub fn expiry_of(&self, shop: &ShopDomain, item: &ItemRef) -> Option<DateTime<Utc>> {
        self.items.lock().unwrap().get(&item.key(shop)).and_then(|item| item.expires_at)
    }

    /// Deletes every item whose expiry is before `now`, as DynamoDB's TTL eventually does;
    /// returns how many.
    pub fn sweep_expired(&self, now: DateTime<Utc>) -> usize {
        let mut items = self.items.lock().unwrap();
        let before = items.len();
        items.retain(|_, item| item.expires_at.is_none_or(|at| at >= now));
        before - items.len()
    }

    /// How many items the table holds (all shops).
    pub fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes a stored checkout in place, bypassing versions: a racing writer in a test.
    pub fn tamper_checkout(&self, shop: &ShopDomain, token: &CheckoutToken, change: impl FnOnce(&mut CheckoutRecord)) {
        let mut items = self.items.lock().unwrap();
        if let Some(Item { value: Value::Checkout(record), version, .. }) =
            items.get_mut(&key(checkout_pk(shop, token), "STATE"))
        {
            change(record);
            *version += 1;
        }
    }

    /// Runs `hook` just before the next message claim (after the check has read the checkout).
    pub fn before_next_claim(&self, hook: impl FnOnce(&MemoryStore) + Send + 'static) {
        *self.before_claim.lock().unwrap() = Some(Box::new(hook));
    }

    fn get<T>(&self, key: &Key, read: impl FnOnce(&Item) -> Option<T>) -> Option<T> {
        self.items.lock().unwrap().get(key).and_then(read)
    }

    fn put(&self, key: Key, item: Item) {
        self.items.lock().unwrap().insert(key, item);
    }

    /// Read-modify-write of a versioned document, like the DynamoDB adapter's conditional put.
    fn update_document<T: Default + Clone>(
        &self,
        key: Key,
        (shop, owner, expires_at): (&ShopDomain, String, Option<DateTime<Utc>>),
        unwrap: impl Fn(&Value) -> Option<T>,
        wrap: impl Fn(T) -> Value,
        mut change: impl FnMut(&mut T) -> bool,
    ) {
        let mut items = self.items.lock().unwrap();
        let (mut document, version) = match items.get(&key) {
            Some(item) => (unwrap(&item.value).unwrap_or_default(), item.version),
            None => (T::default(), 0),
        };
        if change(&mut document) {
            let item = Item {
                shop: shop.clone(),
                owner,
                version: version + 1,
                expires_at,
                contact: None,
                value: wrap(document),
            };
            items.insert(key, item);
        }
    }

    fn checkouts_where(&self, shop: &ShopDomain, keep: impl Fn(&CheckoutRecord) -> bool) -> Vec<CheckoutRecord> {
        let prefix = format!("CHK#{shop}#");
        let items = self.items.lock().unwrap();
        let mut found: Vec<CheckoutRecord> = items
            .iter()
            .filter(|((pk, sk), _)| pk.starts_with(&prefix) && sk == "STATE")
            .filter_map(|(_, item)| match &item.value {
                Value::Checkout(record) => Some(CheckoutRecord { version: item.version, ..(**record).clone() }),
                _ => None,
            })
            .filter(|record| keep(record))
            .collect();
        // Newest activity first, as the indexes sort.
        found.sort_by(|a, b| b.last_activity_at.cmp(&a.last_activity_at));
        found
    }

    fn children<T>(&self, pk: &str, prefix: &str, read: impl Fn(&Value) -> Option<T>) -> Vec<T> {
        let items = self.items.lock().unwrap();
        items
            .iter()
            .filter(|((p, sk), _)| p == pk && sk.starts_with(prefix))
            .filter_map(|(_, i)| read(&i.value))
            .collect()
    }

    fn item(shop: &ShopDomain, owner: String, expires_at: Option<DateTime<Utc>>, value: Value) -> Item {
        Item { shop: shop.clone(), owner, version: 1, expires_at, contact: None, value }
    }
}

impl Deliveries for MemoryStore {
    async fn claim_delivery(&self, shop: &ShopDomain, id: &WebhookId, expires_at: DateTime<Utc>) -> PortResult<bool> {
        let mut items = self.items.lock().unwrap();
        let key = ItemRef::Delivery(id.clone()).key(shop);
        if items.contains_key(&key) {
            return Ok(false);
        }
        items.insert(key, Self::item(shop, SHOP_OWNER.into(), Some(expires_at), Value::Delivery));
        Ok(true)
    }

    async fn begin_delivery(
        &self,
        shop: &ShopDomain,
        id: &WebhookId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        keep_until: DateTime<Utc>,
    ) -> PortResult<DeliveryClaim> {
        let mut items = self.items.lock().unwrap();
        let key = ItemRef::Delivery(id.clone()).key(shop);
        match items.get(&key).map(|item| &item.value) {
            Some(Value::Lease { done: false, owner: holder, .. }) if holder == owner => {
                return Ok(DeliveryClaim::Started);
            }
            Some(Value::Lease { done: false, lease_until, .. }) if *lease_until >= now => {
                return Ok(DeliveryClaim::InProgress);
            }
            Some(Value::Lease { done: false, .. }) | None => {}
            Some(_) => return Ok(DeliveryClaim::Done),
        }
        let lease = Value::Lease { done: false, lease_until, owner: owner.to_owned() };
        items.insert(key, Self::item(shop, SHOP_OWNER.into(), Some(keep_until), lease));
        Ok(DeliveryClaim::Started)
    }

    async fn finish_delivery(&self, shop: &ShopDomain, id: &WebhookId, keep_until: DateTime<Utc>) -> PortResult<()> {
        let mut items = self.items.lock().unwrap();
        let key = ItemRef::Delivery(id.clone()).key(shop);
        if let Some(item) = items.get_mut(&key) {
            if let Value::Lease { done, .. } = &mut item.value {
                *done = true;
            }
            item.expires_at = Some(keep_until);
        }
        Ok(())
    }

    async fn release_delivery(&self, shop: &ShopDomain, id: &WebhookId) -> PortResult<()> {
        self.items.lock().unwrap().remove(&ItemRef::Delivery(id.clone()).key(shop));
        Ok(())
    }
}

impl Checkouts for MemoryStore {
    async fn load_checkout(&self, shop: &ShopDomain, token: &CheckoutToken) -> PortResult<Option<CheckoutRecord>> {
        Ok(self.get(&key(checkout_pk(shop, token), "STATE"), |item| match &item.value {
            Value::Checkout(record) => Some(CheckoutRecord { version: item.version, ..(**record).clone() }),
            _ => None,
        }))
    }

    async fn save_checkout(&self, record: &CheckoutRecord, expires_at: DateTime<Utc>) -> PortResult<()> {
        let mut items = self.items.lock().unwrap();
        let key = key(checkout_pk(&record.shop, &record.snapshot.token), "STATE");
        let stored = items.get(&key).map_or(0, |item| item.version);
        if stored != record.version {
            return Err(PortError::Conflict);
        }
        let item = Item {
            shop: record.shop.clone(),
            owner: DataOwner::Checkout(record.snapshot.token.clone()).tag(),
            version: record.version + 1,
            expires_at: Some(expires_at),
            contact: record.contact_key(),
            value: Value::Checkout(Box::new(record.clone())),
        };
        items.insert(key, item);
        Ok(())
    }

    async fn find_checkout_by_cart(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<CheckoutRecord>> {
        Ok(self.checkouts_where(shop, |r| r.snapshot.cart_token.as_ref() == Some(cart)).into_iter().next())
    }

    async fn find_open_checkout_by_contact(
        &self,
        shop: &ShopDomain,
        contact: &ContactKey,
    ) -> PortResult<Option<CheckoutRecord>> {
        let open = |r: &CheckoutRecord| r.status == CheckoutStatus::Open && r.contact_key().as_ref() == Some(contact);
        Ok(self.checkouts_where(shop, open).into_iter().next())
    }

    async fn recent_checkouts(
        &self,
        shop: &ShopDomain,
        since: DateTime<Utc>,
        limit: usize,
    ) -> PortResult<Vec<CheckoutRecord>> {
        Ok(self.checkouts_where(shop, |r| r.snapshot.created_at >= since).into_iter().take(limit).collect())
    }

    async fn armed_checkouts(&self, shop: &ShopDomain) -> PortResult<Vec<CheckoutRecord>> {
        Ok(self.checkouts_where(shop, |r| r.armed.is_some()))
    }

    async fn checkouts_due_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> PortResult<Vec<(ShopDomain, CheckoutToken)>> {
        let items = self.items.lock().unwrap();
        let mut due: Vec<(DateTime<Utc>, ShopDomain, CheckoutToken)> = items
            .values()
            .filter_map(|item| match &item.value {
                Value::Checkout(record) => {
                    record.armed.as_ref().map(|a| (a.at, record.shop.clone(), record.snapshot.token.clone()))
                }
                _ => None,
            })
            .filter(|(at, ..)| *at >= from && *at < to)
            .collect();
        due.sort();
        Ok(due.into_iter().map(|(_, shop, token)| (shop, token)).collect())
    }
}

/// Where a tombstone lives, and whose it is (erased with its checkout or cart).
fn tombstone_key(shop: &ShopDomain, target: &Tombstone) -> (Key, String) {
    match target {
        Tombstone::Checkout(token) => {
            (key(checkout_pk(shop, token), "TOMBSTONE"), DataOwner::Checkout(token.clone()).tag())
        }
        Tombstone::Cart(cart) => (key(cart_pk(shop, cart), "TOMBSTONE"), DataOwner::Cart(cart.clone()).tag()),
    }
}

impl Tombstones for MemoryStore {
    async fn leave_tombstone(
        &self,
        shop: &ShopDomain,
        target: &Tombstone,
        ending: &Ending,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let (key, owner) = tombstone_key(shop, target);
        self.put(key, Self::item(shop, owner, Some(expires_at), Value::Tombstone(ending.clone())));
        Ok(())
    }

    async fn tombstone(&self, shop: &ShopDomain, target: &Tombstone) -> PortResult<Option<Ending>> {
        Ok(self.get(&tombstone_key(shop, target).0, |item| match &item.value {
            Value::Tombstone(ending) => Some(ending.clone()),
            _ => None,
        }))
    }
}

impl Carts for MemoryStore {
    async fn save_cart(&self, shop: &ShopDomain, cart: &CartSnapshot, expires_at: DateTime<Utc>) -> PortResult<bool> {
        let mut items = self.items.lock().unwrap();
        let key = ItemRef::Cart(cart.token.clone()).key(shop);
        let newer = match items.get(&key).map(|item| &item.value) {
            Some(Value::Cart(stored)) => cart.updated_at.timestamp_millis() > stored.updated_at.timestamp_millis(),
            _ => true,
        };
        if newer {
            let owner = DataOwner::Cart(cart.token.clone()).tag();
            items.insert(key, Self::item(shop, owner, Some(expires_at), Value::Cart(Box::new(cart.clone()))));
        }
        Ok(newer)
    }

    async fn load_cart(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<CartSnapshot>> {
        Ok(self.get(&ItemRef::Cart(cart.clone()).key(shop), |item| match &item.value {
            Value::Cart(cart) => Some((**cart).clone()),
            _ => None,
        }))
    }

    async fn save_capture(
        &self,
        shop: &ShopDomain,
        cart: &CartToken,
        capture: &Capture,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let mut item =
            Self::item(shop, DataOwner::Cart(cart.clone()).tag(), Some(expires_at), Value::Capture(capture.clone()));
        item.contact = capture.email.as_deref().or(capture.phone.as_deref()).map(|a| ContactKey::for_email(shop, a));
        self.put(ItemRef::Capture(cart.clone()).key(shop), item);
        Ok(())
    }

    async fn load_capture(&self, shop: &ShopDomain, cart: &CartToken) -> PortResult<Option<Capture>> {
        Ok(self.get(&ItemRef::Capture(cart.clone()).key(shop), |item| match &item.value {
            Value::Capture(capture) => Some(capture.clone()),
            _ => None,
        }))
    }
}

impl MessageLog for MemoryStore {
    async fn messages(&self, shop: &ShopDomain, token: &CheckoutToken) -> PortResult<Vec<MessageRecord>> {
        Ok(self.children(&checkout_pk(shop, token), "MSG#", |value| match value {
            Value::Message(message) => Some(message.clone()),
            _ => None,
        }))
    }

    async fn claim_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
        expires_at: DateTime<Utc>,
    ) -> PortResult<ClaimOutcome> {
        let hook = self.before_claim.lock().unwrap().take();
        if let Some(hook) = hook {
            hook(self);
        }
        let mut items = self.items.lock().unwrap();
        let key = ItemRef::Message(token.clone(), message.step).key(shop);
        match items.get(&key).map(|item| &item.value) {
            // Our own earlier write (its answer lost, the call repeated): it stands.
            Some(Value::Message(held)) if held.owner == message.owner && !message.owner.is_empty() => {
                return Ok(ClaimOutcome::Claimed);
            }
            Some(Value::Message(released)) if !released.state.holds_step() => {}
            Some(_) => return Ok(ClaimOutcome::AlreadyClaimed),
            None => {}
        }
        let open = matches!(
            items.get(&ItemRef::Checkout(token.clone()).key(shop)).map(|i| &i.value),
            Some(Value::Checkout(record)) if record.status == CheckoutStatus::Open
        );
        if !open {
            return Ok(ClaimOutcome::CheckoutClosed);
        }
        let owner = DataOwner::Checkout(token.clone()).tag();
        items.insert(key, Self::item(shop, owner, Some(expires_at), Value::Message(message.clone())));
        Ok(ClaimOutcome::Claimed)
    }

    async fn update_message(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = DataOwner::Checkout(token.clone()).tag();
        let item = Self::item(shop, owner, Some(expires_at), Value::Message(message.clone()));
        self.put(ItemRef::Message(token.clone(), message.step).key(shop), item);
        Ok(())
    }

    async fn record_click(
        &self,
        shop: &ShopDomain,
        token: &CheckoutToken,
        step: u32,
        at: DateTime<Utc>,
    ) -> PortResult<bool> {
        let mut items = self.items.lock().unwrap();
        match items.get_mut(&ItemRef::Message(token.clone(), step).key(shop)).map(|item| &mut item.value) {
            Some(Value::Message(message)) if message.clicked_at.is_none() => {
                message.clicked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl DiscountLedger for MemoryStore {
    async fn claim_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
        expires_at: DateTime<Utc>,
    ) -> PortResult<Option<DiscountRecord>> {
        let mut items = self.items.lock().unwrap();
        let key = ItemRef::Discount(checkout.clone(), discount.step).key(shop);
        if let Some(Value::Discount(existing)) = items.get(&key).map(|item| &item.value) {
            return Ok(Some(existing.clone()));
        }
        let owner = DataOwner::Checkout(checkout.clone()).tag();
        items.insert(key, Self::item(shop, owner, Some(expires_at), Value::Discount(discount.clone())));
        Ok(None)
    }

    async fn save_discount(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = DataOwner::Checkout(checkout.clone()).tag();
        let item = Self::item(shop, owner, Some(expires_at), Value::Discount(discount.clone()));
        self.put(ItemRef::Discount(checkout.clone(), discount.step).key(shop), item);
        Ok(())
    }
}

impl ShortLinks for MemoryStore {
    async fn save_short_link(
        &self,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        code: &str,
        token: &str,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let owner = DataOwner::Checkout(checkout.clone()).tag();
        let item = Self::item(shop, owner, Some(expires_at), Value::ShortLink(token.to_owned()));
        self.put(ItemRef::ShortLink(code.to_owned()).key(shop), item);
        Ok(())
    }

    async fn load_short_link(&self, code: &str) -> PortResult<Option<String>> {
        Ok(self.get(&key(format!("LINK#{code}"), "-"), |item| match &item.value {
            Value::ShortLink(token) => Some(token.clone()),
            _ => None,
        }))
    }
}

impl Contacts for MemoryStore {
    async fn contact(&self, shop: &ShopDomain, key: &ContactKey) -> PortResult<ContactState> {
        let pk = format!("CONTACT#{shop}#{}", key.as_str());
        Ok(self
            .get(&(pk, "STATE".into()), |item| match &item.value {
                Value::Contact(state) => Some(state.clone()),
                _ => None,
            })
            .unwrap_or_default())
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
        let pk = format!("CONTACT#{shop}#{}", key.as_str());
        let owner = DataOwner::Contact(key.clone()).tag();
        let unwrap = |value: &Value| match value {
            Value::Contact(state) => Some(state.clone()),
            _ => None,
        };
        self.update_document((pk, "STATE".into()), (shop, owner, Some(expires_at)), unwrap, Value::Contact, change);
        Ok(())
    }
}

impl Shops for MemoryStore {
    async fn shop_state(&self, shop: &ShopDomain) -> PortResult<ShopState> {
        Ok(self
            .get(&key(shop_pk(shop), "STATE"), |item| match &item.value {
                Value::ShopState(state) => Some(state.clone()),
                _ => None,
            })
            .unwrap_or_default())
    }

    async fn update_shop_state<F>(&self, shop: &ShopDomain, change: F) -> PortResult<()>
    where
        F: FnMut(&mut ShopState) -> bool + Send,
    {
        let unwrap = |value: &Value| match value {
            Value::ShopState(state) => Some(state.clone()),
            _ => None,
        };
        self.update_document(
            key(shop_pk(shop), "STATE"),
            (shop, SHOP_OWNER.into(), None),
            unwrap,
            Value::ShopState,
            change,
        );
        Ok(())
    }
}

impl Tokens for MemoryStore {
    async fn save_token(&self, shop: &ShopDomain, token: &StoredToken) -> PortResult<()> {
        self.put(key(shop_pk(shop), "TOKEN"), Self::item(shop, SHOP_OWNER.into(), None, Value::Token(token.clone())));
        Ok(())
    }

    async fn load_token(&self, shop: &ShopDomain) -> PortResult<Option<StoredToken>> {
        Ok(self.get(&key(shop_pk(shop), "TOKEN"), |item| match &item.value {
            Value::Token(token) => Some(token.clone()),
            _ => None,
        }))
    }

    async fn delete_token(&self, shop: &ShopDomain) -> PortResult<()> {
        self.items.lock().unwrap().remove(&key(shop_pk(shop), "TOKEN"));
        Ok(())
    }
}

impl SettingsStore for MemoryStore {
    async fn load_settings(&self, shop: &ShopDomain) -> PortResult<Option<VersionedSettings>> {
        Ok(self.get(&key(shop_pk(shop), "SETTINGS"), |item| match &item.value {
            Value::Settings(settings) => {
                Some(VersionedSettings { version: item.version, settings: (**settings).clone() })
            }
            _ => None,
        }))
    }

    async fn save_settings(
        &self,
        shop: &ShopDomain,
        settings: &RecoverySettings,
        expected_version: u64,
    ) -> PortResult<u64> {
        let mut items = self.items.lock().unwrap();
        let key = key(shop_pk(shop), "SETTINGS");
        if items.get(&key).map_or(0, |item| item.version) != expected_version {
            return Err(PortError::Conflict);
        }
        let mut item = Self::item(shop, SHOP_OWNER.into(), None, Value::Settings(Box::new(settings.clone())));
        item.version = expected_version + 1;
        items.insert(key, item);
        Ok(expected_version + 1)
    }
}

impl Quotas for MemoryStore {
    async fn reserve(
        &self,
        shop: &ShopDomain,
        quota: &Quota,
        limit: u32,
        expires_at: DateTime<Utc>,
    ) -> PortResult<bool> {
        let mut items = self.items.lock().unwrap();
        let sort = match quota {
            Quota::SmsMonth(month) => format!("SMSBUDGET#{month}"),
            Quota::SendsDay(day) => format!("SENDS#{day}"),
            Quota::CapturesMinute(minute) => format!("CAPTURES#{minute}"),
        };
        let key = key(shop_pk(shop), sort);
        let used = match items.get(&key).map(|item| &item.value) {
            Some(Value::Used(used)) => *used,
            _ => 0,
        };
        if used >= limit {
            return Ok(false);
        }
        items.insert(key, Self::item(shop, SHOP_OWNER.into(), Some(expires_at), Value::Used(used + 1)));
        Ok(true)
    }
}

impl Conversations for MemoryStore {
    async fn save_sms_thread(
        &self,
        thread: &SmsThreadKey,
        conversation: &SmsThread,
        expires_at: DateTime<Utc>,
    ) -> PortResult<()> {
        let (shop, checkout) = (&conversation.shop, &conversation.checkout);
        let owner = DataOwner::Checkout(checkout.clone()).tag();
        let item = Self::item(shop, owner, Some(expires_at), Value::Thread(conversation.clone()));
        self.put(key(format!("SMSTHREAD#{}", thread.as_str()), format!("SHOP#{shop}")), item);
        Ok(())
    }

    async fn sms_threads(&self, thread: &SmsThreadKey) -> PortResult<Vec<SmsThread>> {
        let mut threads = self.children(&format!("SMSTHREAD#{}", thread.as_str()), "SHOP#", |value| match value {
            Value::Thread(conversation) => Some(conversation.clone()),
            _ => None,
        });
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
        let sk = format!("REPLY#{}#{}", reply.at.to_rfc3339(), reply.id);
        self.put(
            key(checkout_pk(shop, checkout), sk),
            Self::item(shop, owner, Some(expires_at), Value::Reply(reply.clone())),
        );
        Ok(())
    }

    async fn replies(&self, shop: &ShopDomain, checkout: &CheckoutToken) -> PortResult<Vec<InboundReply>> {
        Ok(self.children(&checkout_pk(shop, checkout), "REPLY#", |value| match value {
            Value::Reply(reply) => Some(reply.clone()),
            _ => None,
        }))
    }
}

impl Stats for MemoryStore {
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
        let mut items = self.items.lock().unwrap();
        let item = items
            .entry(key(shop_pk(shop), format!("STATS#{day}#{shard}")))
            .or_insert_with(|| Self::item(shop, SHOP_OWNER.into(), None, Value::Counters(BTreeMap::new())));
        if let Value::Counters(totals) = &mut item.value {
            for (name, amount) in counters {
                *totals.entry(name.clone()).or_default() += amount;
            }
        }
        Ok(())
    }

    async fn stats(&self, shop: &ShopDomain, from: NaiveDate, to: NaiveDate) -> PortResult<BTreeMap<String, i64>> {
        let (low, high) = (format!("STATS#{from}"), format!("STATS#{to}#~"));
        let mut totals = BTreeMap::new();
        if low > high {
            return Ok(totals);
        }
        let items = self.items.lock().unwrap();
        for ((_, _), item) in items.range(key(shop_pk(shop), low)..=key(shop_pk(shop), high)) {
            if let Value::Counters(counters) = &item.value {
                for (name, amount) in counters {
                    *totals.entry(name.clone()).or_insert(0) += amount;
                }
            }
        }
        Ok(totals)
    }
}

impl Erasure for MemoryStore {
    async fn contacts_with_devices(&self, shop: &ShopDomain, limit: usize) -> PortResult<Vec<ContactKey>> {
        let prefix = format!("CONTACT#{shop}#");
        let items = self.items.lock().unwrap();
        Ok(items
            .iter()
            .filter_map(|((pk, _), item)| match &item.value {
                Value::Contact(state) if !state.push_endpoints.is_empty() => {
                    pk.strip_prefix(&prefix).map(|key| ContactKey::from_stored(key.to_owned()))
                }
                _ => None,
            })
            .take(limit)
            .collect())
    }

    async fn customer_data(&self, shop: &ShopDomain, contacts: &[ContactKey]) -> PortResult<Vec<DataOwner>> {
        let items = self.items.lock().unwrap();
        let mut owners = Vec::new();
        for contact in contacts {
            for item in items.values().filter(|item| &item.shop == shop && item.contact.as_ref() == Some(contact)) {
                match &item.value {
                    Value::Checkout(record) => owners.push(DataOwner::Checkout(record.snapshot.token.clone())),
                    Value::Capture(_) => {
                        let cart = item.owner.strip_prefix("CART#").and_then(|cart| CartToken::new(cart).ok());
                        owners.extend(cart.map(DataOwner::Cart));
                    }
                    _ => {}
                }
            }
        }
        Ok(owners)
    }

    async fn forget(&self, shop: &ShopDomain, owner: &DataOwner) -> PortResult<usize> {
        let tag = owner.tag();
        let mut items = self.items.lock().unwrap();
        let before = items.len();
        items.retain(|_, item| !(&item.shop == shop && item.owner == tag));
        Ok(before - items.len())
    }

    async fn forget_shop(&self, shop: &ShopDomain, limit: usize) -> PortResult<Erased> {
        let mut items = self.items.lock().unwrap();
        let batch: Vec<Key> =
            items.iter().filter(|(_, item)| &item.shop == shop).map(|(k, _)| k.clone()).take(limit).collect();
        for key in &batch {
            items.remove(key);
        }
        Ok(Erased { deleted: batch.len(), more: batch.len() == limit })
    }
}
