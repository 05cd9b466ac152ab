//! Use-case tests against in-memory ports: the flow of one cart without AWS.

use super::*;
use crate::clock::ManualClock;
use crate::model::*;
use crate::platform::shopify::sign_webhook;
use crate::ports::*;
use chrono::{NaiveDate, TimeZone};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Code to run just before a claim (simulates a racing writer).
type ClaimHook = Box<dyn FnOnce(&MemoryStore) + Send>;

#[derive(Default)]
struct MemoryStore {
    deliveries: Mutex<Vec<String>>,
    checkouts: Mutex<HashMap<String, CheckoutRecord>>,
    messages: Mutex<BTreeMap<(String, u32), MessageRecord>>,
    contacts: Mutex<HashMap<String, ContactState>>,
    stats: Mutex<BTreeMap<String, i64>>,
    shop_state: Mutex<ShopState>,
    sms_used: Mutex<HashMap<String, u32>>,
    short_links: Mutex<HashMap<String, String>>,
    threads: Mutex<HashMap<String, (ShopDomain, CheckoutToken)>>,
    replies: Mutex<Vec<(CheckoutToken, InboundReply)>>,
    discounts: Mutex<BTreeMap<(String, u32), DiscountRecord>>,
    token: Mutex<Option<SealedSecret>>,
    /// Runs between reading a checkout and claiming a message, to simulate a racing order.
    before_claim: Mutex<Option<ClaimHook>>,
}

impl Store for MemoryStore {
    async fn claim_delivery(&self, _: &ShopDomain, id: &WebhookId, _: DateTime<Utc>) -> PortResult<bool> {
        let mut seen = self.deliveries.lock().unwrap();
        if seen.contains(&id.to_string()) {
            return Ok(false);
        }
        seen.push(id.to_string());
        Ok(true)
    }
    async fn release_delivery(&self, _: &ShopDomain, id: &WebhookId) -> PortResult<()> {
        self.deliveries.lock().unwrap().retain(|d| d != id.as_str());
        Ok(())
    }
    async fn load_checkout(&self, _: &ShopDomain, token: &CheckoutToken) -> PortResult<Option<CheckoutRecord>> {
        Ok(self.checkouts.lock().unwrap().get(token.as_str()).cloned())
    }
    async fn save_checkout(&self, record: &CheckoutRecord) -> PortResult<()> {
        let mut all = self.checkouts.lock().unwrap();
        let stored_version = all.get(record.snapshot.token.as_str()).map_or(0, |r| r.version);
        if stored_version != record.version {
            return Err(PortError::Conflict);
        }
        all.insert(record.snapshot.token.to_string(), CheckoutRecord { version: record.version + 1, ..record.clone() });
        Ok(())
    }
    async fn find_checkout_by_cart(&self, _: &ShopDomain, cart: &CartToken) -> PortResult<Option<CheckoutRecord>> {
        Ok(self.checkouts.lock().unwrap().values().find(|r| r.snapshot.cart_token.as_ref() == Some(cart)).cloned())
    }
    async fn find_open_checkout_by_contact(
        &self,
        _: &ShopDomain,
        key: &ContactKey,
    ) -> PortResult<Option<CheckoutRecord>> {
        Ok(self.checkouts.lock().unwrap().values().find(|r| r.contact_key().as_ref() == Some(key)).cloned())
    }
    async fn save_cart(&self, _: &ShopDomain, _: &CartSnapshot, _: DateTime<Utc>) -> PortResult<bool> {
        Ok(true)
    }
    async fn load_cart(&self, _: &ShopDomain, _: &CartToken) -> PortResult<Option<CartSnapshot>> {
        Ok(None)
    }
    async fn save_capture(&self, _: &ShopDomain, _: &CartToken, _: &Capture, _: DateTime<Utc>) -> PortResult<()> {
        Ok(())
    }
    async fn load_capture(&self, _: &ShopDomain, _: &CartToken) -> PortResult<Option<Capture>> {
        Ok(None)
    }
    async fn messages(&self, _: &ShopDomain, token: &CheckoutToken) -> PortResult<Vec<MessageRecord>> {
        Ok(self
            .messages
            .lock()
            .unwrap()
            .iter()
            .filter(|((t, _), _)| t == token.as_str())
            .map(|(_, m)| m.clone())
            .collect())
    }
    async fn claim_message(
        &self,
        _: &ShopDomain,
        token: &CheckoutToken,
        message: &MessageRecord,
    ) -> PortResult<ClaimOutcome> {
        if let Some(hook) = self.before_claim.lock().unwrap().take() {
            hook(self);
        }
        if self.checkouts.lock().unwrap().get(token.as_str()).is_none_or(|r| r.status != CheckoutStatus::Open) {
            return Ok(ClaimOutcome::CheckoutClosed);
        }
        let mut all = self.messages.lock().unwrap();
        let key = (token.to_string(), message.step);
        if all.contains_key(&key) {
            return Ok(ClaimOutcome::AlreadyClaimed);
        }
        all.insert(key, message.clone());
        Ok(ClaimOutcome::Claimed)
    }
    async fn update_message(&self, _: &ShopDomain, token: &CheckoutToken, message: &MessageRecord) -> PortResult<()> {
        self.messages.lock().unwrap().insert((token.to_string(), message.step), message.clone());
        Ok(())
    }
    async fn record_click(
        &self,
        _: &ShopDomain,
        token: &CheckoutToken,
        step: u32,
        at: DateTime<Utc>,
    ) -> PortResult<bool> {
        let mut all = self.messages.lock().unwrap();
        match all.get_mut(&(token.to_string(), step)) {
            Some(m) if m.clicked_at.is_none() => {
                m.clicked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn contact(&self, _: &ShopDomain, key: &ContactKey) -> PortResult<ContactState> {
        Ok(self.contacts.lock().unwrap().get(key.as_str()).cloned().unwrap_or_default())
    }
    async fn update_contact<F>(&self, _: &ShopDomain, key: &ContactKey, mut change: F) -> PortResult<()>
    where
        F: FnMut(&mut ContactState) -> bool + Send,
    {
        change(self.contacts.lock().unwrap().entry(key.as_str().to_owned()).or_default());
        Ok(())
    }
    async fn shop_state(&self, _: &ShopDomain) -> PortResult<ShopState> {
        Ok(self.shop_state.lock().unwrap().clone())
    }
    async fn update_shop_state<F>(&self, _: &ShopDomain, mut change: F) -> PortResult<()>
    where
        F: FnMut(&mut ShopState) -> bool + Send,
    {
        change(&mut self.shop_state.lock().unwrap());
        Ok(())
    }
    async fn reserve_sms(&self, _: &ShopDomain, month: &str, budget: u32) -> PortResult<bool> {
        let mut used = self.sms_used.lock().unwrap();
        let count = used.entry(month.to_owned()).or_default();
        if *count >= budget {
            return Ok(false);
        }
        *count += 1;
        Ok(true)
    }
    async fn save_short_link(
        &self,
        _: &ShopDomain,
        _: &CheckoutToken,
        code: &str,
        token: &str,
        _: DateTime<Utc>,
    ) -> PortResult<()> {
        self.short_links.lock().unwrap().insert(code.to_owned(), token.to_owned());
        Ok(())
    }
    async fn load_short_link(&self, code: &str) -> PortResult<Option<String>> {
        Ok(self.short_links.lock().unwrap().get(code).cloned())
    }
    async fn save_sms_thread(
        &self,
        thread: &SmsThreadKey,
        shop: &ShopDomain,
        checkout: &CheckoutToken,
        _: DateTime<Utc>,
    ) -> PortResult<()> {
        self.threads.lock().unwrap().insert(thread.as_str().to_owned(), (shop.clone(), checkout.clone()));
        Ok(())
    }
    async fn load_sms_thread(&self, thread: &SmsThreadKey) -> PortResult<Option<(ShopDomain, CheckoutToken)>> {
        Ok(self.threads.lock().unwrap().get(thread.as_str()).cloned())
    }
    async fn save_reply(&self, _: &ShopDomain, checkout: &CheckoutToken, reply: &InboundReply) -> PortResult<()> {
        self.replies.lock().unwrap().push((checkout.clone(), reply.clone()));
        Ok(())
    }
    async fn claim_discount(
        &self,
        _: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
    ) -> PortResult<Option<DiscountRecord>> {
        let mut all = self.discounts.lock().unwrap();
        let key = (checkout.to_string(), discount.step);
        if let Some(existing) = all.get(&key) {
            return Ok(Some(existing.clone()));
        }
        all.insert(key, discount.clone());
        Ok(None)
    }
    async fn save_discount(
        &self,
        _: &ShopDomain,
        checkout: &CheckoutToken,
        discount: &DiscountRecord,
    ) -> PortResult<()> {
        self.discounts.lock().unwrap().insert((checkout.to_string(), discount.step), discount.clone());
        Ok(())
    }
    async fn save_token(&self, _: &ShopDomain, token: &SealedSecret) -> PortResult<()> {
        *self.token.lock().unwrap() = Some(token.clone());
        Ok(())
    }
    async fn load_token(&self, _: &ShopDomain) -> PortResult<Option<SealedSecret>> {
        Ok(self.token.lock().unwrap().clone())
    }
    async fn delete_token(&self, _: &ShopDomain) -> PortResult<()> {
        *self.token.lock().unwrap() = None;
        Ok(())
    }
    async fn armed_checkouts(&self, _: &ShopDomain) -> PortResult<Vec<CheckoutRecord>> {
        Ok(self.checkouts.lock().unwrap().values().filter(|r| r.armed.is_some()).cloned().collect())
    }
    async fn customer_data(&self, shop: &ShopDomain, contacts: &[ContactKey]) -> PortResult<Vec<DataOwner>> {
        let all = self.checkouts.lock().unwrap();
        Ok(all
            .values()
            .filter(|r| {
                let c = &r.snapshot.contact;
                [c.email_key(shop), c.phone_key(shop)].iter().flatten().any(|k| contacts.contains(k))
            })
            .map(|r| DataOwner::Checkout(r.snapshot.token.clone()))
            .collect())
    }
    async fn forget(&self, _: &ShopDomain, owner: &DataOwner) -> PortResult<usize> {
        let removed = match owner {
            DataOwner::Checkout(token) => {
                let mut messages = self.messages.lock().unwrap();
                let before = messages.len();
                messages.retain(|(t, _), _| t != token.as_str());
                (before - messages.len()) + usize::from(self.checkouts.lock().unwrap().remove(token.as_str()).is_some())
            }
            DataOwner::Contact(key) => usize::from(self.contacts.lock().unwrap().remove(key.as_str()).is_some()),
            DataOwner::Cart(_) => 0,
        };
        Ok(removed)
    }
    async fn forget_shop(&self, _: &ShopDomain) -> PortResult<usize> {
        let count = self.checkouts.lock().unwrap().drain().count() + self.contacts.lock().unwrap().drain().count();
        self.messages.lock().unwrap().clear();
        Ok(count)
    }
    async fn replies(&self, _: &ShopDomain, checkout: &CheckoutToken) -> PortResult<Vec<InboundReply>> {
        Ok(self.replies.lock().unwrap().iter().filter(|(c, _)| c == checkout).map(|(_, r)| r.clone()).collect())
    }
    async fn load_settings(&self, _: &ShopDomain) -> PortResult<Option<VersionedSettings>> {
        Ok(None)
    }
    async fn save_settings(&self, _: &ShopDomain, _: &crate::rules::RecoverySettings, _: u64) -> PortResult<u64> {
        Ok(1)
    }
    async fn add_to_stats(&self, _: &ShopDomain, _: NaiveDate, _: u8, counters: &[(String, i64)]) -> PortResult<()> {
        let mut stats = self.stats.lock().unwrap();
        for (name, amount) in counters {
            *stats.entry(name.clone()).or_default() += amount;
        }
        Ok(())
    }
    async fn stats(&self, _: &ShopDomain, _: NaiveDate, _: NaiveDate) -> PortResult<BTreeMap<String, i64>> {
        Ok(self.stats.lock().unwrap().clone())
    }
}

#[derive(Default)]
struct MemoryScheduler(Mutex<BTreeMap<String, ScheduledCheck>>);

impl Scheduler for MemoryScheduler {
    async fn arm(&self, check: &ScheduledCheck) -> PortResult<()> {
        self.0.lock().unwrap().entry(check.name.clone()).or_insert_with(|| check.clone());
        Ok(())
    }
    async fn cancel(&self, name: &str) -> PortResult<()> {
        self.0.lock().unwrap().remove(name);
        Ok(())
    }
}

/// Records what was sent on each channel; endpoints in `disabled` answer [`PortError::Gone`].
#[derive(Default)]
struct MemoryMessenger {
    emails: Mutex<Vec<OutgoingEmail>>,
    sms: Mutex<Vec<OutgoingSms>>,
    pushes: Mutex<Vec<OutgoingPush>>,
    disabled: Mutex<Vec<String>>,
    deleted: Mutex<Vec<String>>,
}

impl Messenger for MemoryMessenger {
    async fn send_email(&self, email: &OutgoingEmail) -> PortResult<String> {
        let mut sent = self.emails.lock().unwrap();
        sent.push(email.clone());
        Ok(format!("msg-{}", sent.len()))
    }
    async fn send_sms(&self, sms: &OutgoingSms) -> PortResult<String> {
        let mut sent = self.sms.lock().unwrap();
        sent.push(sms.clone());
        Ok(format!("sms-{}", sent.len()))
    }
    async fn send_push(&self, push: &OutgoingPush) -> PortResult<String> {
        if self.disabled.lock().unwrap().contains(&push.endpoint) {
            return Err(PortError::Gone("endpoint disabled".into()));
        }
        let mut sent = self.pushes.lock().unwrap();
        sent.push(push.clone());
        Ok(format!("push-{}", sent.len()))
    }
    async fn register_device(&self, platform: PushPlatform, token: &str) -> PortResult<String> {
        Ok(format!("arn:endpoint/{platform:?}/{token}"))
    }
    async fn delete_device(&self, endpoint: &str) -> PortResult<()> {
        self.deleted.lock().unwrap().push(endpoint.to_owned());
        Ok(())
    }
}

/// "Seals" by reversing the text: enough to tell sealed from plain in a unit test.
#[derive(Default)]
struct MemoryVault;

impl Vault for MemoryVault {
    async fn seal(&self, secret: &str) -> PortResult<SealedSecret> {
        Ok(SealedSecret {
            key_id: "memory".into(),
            wrapped_key: String::new(),
            nonce: String::new(),
            ciphertext: secret.chars().rev().collect(),
        })
    }
    async fn open(&self, sealed: &SealedSecret) -> PortResult<String> {
        Ok(sealed.ciphertext.chars().rev().collect())
    }
}

/// The platform's APIs: every code exchange grants `token-for-{code}`; discounts are recorded.
#[derive(Default)]
struct MemoryPlatform {
    discounts: Mutex<Vec<DiscountRequest>>,
}

impl PlatformApi for MemoryPlatform {
    async fn exchange_code(&self, _: &ShopDomain, code: &str) -> PortResult<AccessGrant> {
        Ok(AccessGrant { access_token: format!("token-for-{code}"), scopes: vec!["write_discounts".into()] })
    }
    async fn exchange_session_token(&self, _: &ShopDomain, _: &str) -> PortResult<AccessGrant> {
        Ok(AccessGrant { access_token: "token-from-session".into(), scopes: vec!["write_discounts".into()] })
    }
    async fn shop_profile(&self, _: &ShopDomain, _: &str) -> PortResult<ShopProfile> {
        Ok(ShopProfile { name: Some("Shop A".into()), contact_email: Some("owner@shop-a.test".into()) })
    }
    async fn create_discount(
        &self,
        _: &ShopDomain,
        _: &str,
        discount: &DiscountRequest,
    ) -> PortResult<DiscountOutcome> {
        let mut all = self.discounts.lock().unwrap();
        if all.iter().any(|d| d.code == discount.code) {
            return Ok(DiscountOutcome::AlreadyExists);
        }
        all.push(discount.clone());
        Ok(DiscountOutcome::Created(format!("gid://shopify/DiscountCodeNode/{}", all.len())))
    }
}

#[derive(Default)]
struct MemoryEvents(Mutex<Vec<DomainEvent>>);

impl EventBus for MemoryEvents {
    async fn publish(&self, event: &DomainEvent) -> PortResult<()> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

type TestPorts =
    Services<MemoryStore, MemoryScheduler, MemoryMessenger, MemoryEvents, ManualClock, MemoryVault, MemoryPlatform>;

const SECRET: &[u8] = b"unit-test-secret";

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap()
}

fn ports() -> TestPorts {
    Services {
        store: MemoryStore::default(),
        scheduler: MemoryScheduler::default(),
        messenger: MemoryMessenger::default(),
        events: MemoryEvents::default(),
        clock: ManualClock::starting_at(start()),
        vault: MemoryVault,
        platform: MemoryPlatform::default(),
        config: Config {
            webhook_secrets: crate::platform::shopify::WebhookSecrets::new(SECRET, None),
            links: crate::links::LinkSigner::new(b"links-secret-links-secret-links!"),
            public_base_url: "https://reclaim.test".into(),
            sender: "Reclaim <r@example.com>".into(),
            shopify_api_key: "api-key".into(),
            shopify_api_secret: SECRET.to_vec(),
        },
    }
}

fn checkout_body(updated_minutes: i64) -> String {
    serde_json::json!({
        "token": "chk-1", "cart_token": "cart-1", "email": "Ada@Example.com", "currency": "USD", "buyer_accepts_marketing": true,
        "created_at": start().to_rfc3339(),
        "updated_at": (start() + chrono::Duration::minutes(updated_minutes)).to_rfc3339(),
        "total_price": "20.00", "subtotal_price": "20.00",
        "abandoned_checkout_url": "https://shop-a.myshopify.com/1/checkouts/chk-1/recover",
        "line_items": [{"title": "Mug", "variant_id": 7, "quantity": 2, "price": "10.00"}]
    })
    .to_string()
}

async fn deliver(ports: &TestPorts, topic: &str, id: &str, body: &str) -> Result<IngestOutcome, UseCaseError> {
    let signature = sign_webhook(SECRET, body.as_bytes());
    let headers: HashMap<&str, &str> = [
        ("x-shopify-topic", topic),
        ("x-shopify-hmac-sha256", signature.as_str()),
        ("x-shopify-shop-domain", "shop-a.myshopify.com"),
        ("x-shopify-webhook-id", id),
    ]
    .into();
    ingest_webhook(ports, "shopify", |name| headers.get(name).copied(), body.as_bytes()).await
}

/// Fires every schedule due now, like the scheduler (and the local pump) does.
async fn fire_due(ports: &TestPorts) -> Vec<CheckOutcome> {
    let now = ports.clock.now();
    let due: Vec<ScheduledCheck> =
        ports.scheduler.0.lock().unwrap().values().filter(|c| c.at <= now).cloned().collect();
    let mut outcomes = Vec::new();
    for check in due {
        ports.scheduler.0.lock().unwrap().remove(&check.name);
        outcomes.push(run_check(ports, &check.input).await.unwrap());
    }
    outcomes
}

#[tokio::test]
async fn a_stalled_checkout_gets_each_step_once_then_stops() {
    let p = ports();
    assert_eq!(deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap(), IngestOutcome::Accepted);
    assert_eq!(p.scheduler.0.lock().unwrap().len(), 1);
    for hours in [1, 24, 72] {
        p.clock.advance(chrono::Duration::hours(hours) - (p.clock.now() - start()));
        fire_due(&p).await;
        assert_eq!(
            p.messenger.emails.lock().unwrap().len() as i64,
            [1, 24, 72].iter().position(|h| *h == hours).unwrap() as i64 + 1
        );
    }
    p.clock.advance(chrono::Duration::days(30));
    fire_due(&p).await;
    let sent = p.messenger.emails.lock().unwrap();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].to, "ada@example.com");
    assert!(sent[0].text.contains("https://reclaim.test/r/"));
    assert!(p.scheduler.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn duplicates_and_stale_updates_change_nothing() {
    let p = ports();
    deliver(&p, "checkouts/update", "w2", &checkout_body(10)).await.unwrap();
    assert_eq!(deliver(&p, "checkouts/update", "w2", &checkout_body(10)).await.unwrap(), IngestOutcome::Duplicate);
    assert_eq!(deliver(&p, "checkouts/update", "w1", &checkout_body(5)).await.unwrap(), IngestOutcome::Stale);
    let record = p.store.checkouts.lock().unwrap()["chk-1"].clone();
    assert_eq!(record.snapshot.updated_at, start() + chrono::Duration::minutes(10));
    assert_eq!(p.scheduler.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_order_between_the_check_and_the_claim_stops_the_send() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(2));
    *p.store.before_claim.lock().unwrap() = Some(Box::new(|store: &MemoryStore| {
        store.checkouts.lock().unwrap().get_mut("chk-1").unwrap().status = CheckoutStatus::Converted;
    }));
    let outcomes = fire_due(&p).await;
    assert_eq!(outcomes, vec![CheckOutcome::Stopped { reason: crate::rules::StopReason::Converted }]);
    assert!(p.messenger.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_order_after_a_message_is_recovered_revenue() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(1));
    fire_due(&p).await;
    let order = serde_json::json!({"id": 99, "checkout_token": "chk-1", "currency": "USD", "total_price": "20.00",
        "created_at": (start() + chrono::Duration::hours(3)).to_rfc3339()})
    .to_string();
    deliver(&p, "orders/create", "w9", &order).await.unwrap();
    deliver(&p, "orders/paid", "w10", &order).await.unwrap();
    let stats = p.store.stats.lock().unwrap().clone();
    assert_eq!(stats.get("recovered.orders"), Some(&1));
    assert_eq!(stats.get("recovered.revenue.USD"), Some(&2000));
    assert_eq!(stats.get("converted"), Some(&1));
    assert!(p.scheduler.0.lock().unwrap().is_empty(), "armed follow-up must be cancelled");
    p.clock.advance(chrono::Duration::days(3));
    fire_due(&p).await;
    assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn unsubscribe_stops_the_sequence() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(1));
    fire_due(&p).await;
    let url = p.messenger.emails.lock().unwrap()[0].unsubscribe_url.clone();
    unsubscribe(&p, url.rsplit('/').next().unwrap(), UnsubscribeScope::Email).await.unwrap();
    p.clock.advance(chrono::Duration::days(5));
    fire_due(&p).await;
    assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn restore_link_redirects_to_the_shop_only() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(1));
    fire_due(&p).await;
    let text = p.messenger.emails.lock().unwrap()[0].text.clone();
    let token = text.split("/r/").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let target = follow_restore_link(&p, &token).await.unwrap();
    assert_eq!(target.location, "https://shop-a.myshopify.com/1/checkouts/chk-1/recover");
    assert_eq!(p.store.stats.lock().unwrap().get("clicks.step0"), Some(&1));
}

#[test]
fn foreign_restore_urls_fall_back_to_a_cart_permalink() {
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    let body = checkout_body(0);
    let crate::platform::PlatformEvent::CheckoutUpserted(mut snapshot) =
        crate::platform::shopify::parse_event("checkouts/create", body.as_bytes()).unwrap()
    else {
        panic!()
    };
    for evil in [
        "https://evil.example/x",
        "http://shop-a.myshopify.com/x",
        "https://shop-a.myshopify.com.evil.example/",
        "javascript:alert(1)",
        "https://shop-a.myshopify.com:8443/x",
    ] {
        snapshot.restore_url = Some(evil.into());
        assert_eq!(restore_location_for_test(&shop, &snapshot), "https://shop-a.myshopify.com/cart/7:2", "{evil}");
    }
}

fn restore_location_for_test(shop: &ShopDomain, snapshot: &CheckoutSnapshot) -> String {
    super::links::restore_location(shop, snapshot)
}

#[tokio::test]
async fn an_uninstall_stops_the_sequence_and_destroys_the_token() {
    let p = ports();
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    p.store.save_token(&shop, &p.vault.seal("shpat_secret").await.unwrap()).await.unwrap();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    assert_eq!(p.scheduler.0.lock().unwrap().len(), 1);
    deliver(&p, "app/uninstalled", "w2", r#"{"id": 1}"#).await.unwrap();
    assert!(p.scheduler.0.lock().unwrap().is_empty(), "every armed check cancelled");
    assert!(p.store.load_token(&shop).await.unwrap().is_none());
    // The check that was armed no longer counts.
    let input =
        CheckInput { shop: shop.clone(), checkout: CheckoutToken::new("chk-1").unwrap(), step: 0, generation: 0 };
    p.clock.advance(chrono::Duration::hours(2));
    assert_eq!(run_check(&p, &input).await.unwrap(), CheckOutcome::Superseded);
    assert!(p.messenger.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_check_for_an_uninstalled_shop_stops_even_if_its_schedule_survived() {
    let p = ports();
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    let at = p.clock.now();
    p.store.update_shop_state(&shop, |state| state.uninstalled_at.replace(at).is_none()).await.unwrap();
    p.clock.advance(chrono::Duration::hours(2));
    let outcomes = fire_due(&p).await;
    assert_eq!(outcomes, [CheckOutcome::Stopped { reason: crate::rules::StopReason::Uninstalled }]);
    assert!(p.messenger.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_install_callback_stores_the_sealed_token_once() {
    use crate::platform::oauth::{OAuthError, sign_query, state_cookie};
    use crate::usecases::install::complete_install;
    let p = ports();
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    let mut pairs: Vec<(String, String)> = [
        ("code", "code-1"),
        ("shop", "shop-a.myshopify.com"),
        ("state", "nonce"),
        ("timestamp", &p.clock.now().timestamp().to_string()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let hmac = sign_query(SECRET, &pairs);
    pairs.push(("hmac".into(), hmac));
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
    let cookie = state_cookie(SECRET, &shop, "nonce");
    let cookie = cookie.split(';').next().unwrap();

    let location = complete_install(&p, Some(&query), Some(cookie)).await.unwrap();
    assert_eq!(location, "https://shop-a.myshopify.com/admin/apps/api-key");
    let sealed = p.store.load_token(&shop).await.unwrap().expect("token stored");
    assert_ne!(sealed.ciphertext, "token-for-code-1", "stored sealed, not in plain text");
    assert_eq!(p.vault.open(&sealed).await.unwrap(), "token-for-code-1");
    let state = p.store.shop_state(&shop).await.unwrap();
    assert_eq!(state.installation.unwrap().contact_email.as_deref(), Some("owner@shop-a.test"));

    let replay = complete_install(&p, Some(&query), Some(cookie)).await.unwrap_err();
    assert!(matches!(replay, UseCaseError::Install(OAuthError::CodeReused)), "{replay:?}");
}
