//! In-memory adapters for every port, and the contract suite that both storage adapters must
//! pass. Compiled for this crate's own tests and, behind the `testing` feature, for other crates'
//! tests; never part of a function binary.
//!
//! - [`MemoryStore`]: every storage role with DynamoDB's semantics (conditions, versions,
//!   per-shop keys, caller-chosen expiry, lazy TTL);
//! - [`MemoryScheduler`], [`MemoryMessenger`], [`MemoryEvents`], [`MemoryVault`],
//!   [`MemoryPlatform`]: record what they are asked and answer like their services;
//! - [`contract`]: the storage contract, run against [`MemoryStore`] here and against DynamoDB
//!   (on the emulator) in the integration tests.

pub mod contract;
mod memory;

/// A `checkouts/update` body of at least `min_bytes`: the project's checkout fixture with its line
/// items repeated. The hot-path benchmarks (criterion, and `benches/vs_node.rs` beside Node)
/// all measure these bytes.
pub fn checkout_webhook_body(min_bytes: usize) -> Vec<u8> {
    let mut checkout: serde_json::Value =
        serde_json::from_str(include_str!("../../../../infra/fixtures/shopify/checkout.json")).expect("the fixture");
    let items = checkout["line_items"].as_array().cloned().unwrap_or_default();
    let mut next = 0;
    while serde_json::to_vec(&checkout).expect("serialises").len() < min_bytes {
        let mut item = items[next % items.len()].clone();
        item["key"] = serde_json::Value::String(format!("bench-line-{next}"));
        checkout["line_items"].as_array_mut().expect("line items").push(item);
        next += 1;
    }
    serde_json::to_vec(&checkout).expect("serialises")
}

pub use memory::{ItemRef, MemoryStore};

use crate::model::{PushPlatform, SealedSecret, ShopDomain};
use crate::ports::{
    AccessGrant, DiscountApi, DiscountOutcome, DiscountRequest, DomainEvent, EmailSender, EventBus, Job, JobQueue,
    OutgoingEmail, OutgoingPush, OutgoingSms, PlatformAuth, PortError, PortResult, PushSender, ScheduledCheck,
    Scheduler, SenderIdentity, SenderStatus, ShopProfile, SmsSender, Vault,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Schedules by name, as EventBridge Scheduler keeps them (an existing name is kept).
#[derive(Debug, Default)]
pub struct MemoryScheduler(pub Mutex<BTreeMap<String, ScheduledCheck>>);

impl MemoryScheduler {
    /// The schedules due at `now`, removed as `ActionAfterCompletion: DELETE` would.
    pub fn take_due(&self, now: chrono::DateTime<chrono::Utc>) -> Vec<ScheduledCheck> {
        let mut all = self.0.lock().unwrap();
        let due: Vec<String> = all.values().filter(|c| c.at <= now).map(|c| c.name.clone()).collect();
        due.iter().filter_map(|name| all.remove(name)).collect()
    }
    /// How many schedules exist.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    /// Whether no schedule exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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
///
/// [`MemoryMessenger::fail_next`] scripts the answers of the next sends on any channel, as a
/// provider under faults would give them: [`PortError::Ambiguous`] is the worst case, a message
/// that went out although its answer was lost (it is recorded as sent).
#[derive(Debug, Default)]
pub struct MemoryMessenger {
    pub emails: Mutex<Vec<OutgoingEmail>>,
    pub sms: Mutex<Vec<OutgoingSms>>,
    pub pushes: Mutex<Vec<OutgoingPush>>,
    pub disabled: Mutex<Vec<String>>,
    pub deleted: Mutex<Vec<String>>,
    failures: Mutex<std::collections::VecDeque<PortError>>,
    /// The sender identity's status as the provider would report it (verified by default).
    pub sender: Mutex<Option<SenderStatus>>,
}

impl MemoryMessenger {
    /// The next sends (one per error, any channel) fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = PortError>) {
        self.failures.lock().unwrap().extend(errors);
    }

    /// Records `message` in `sent` unless a scripted failure says otherwise.
    fn deliver<T: Clone>(&self, sent: &Mutex<Vec<T>>, message: &T, prefix: &str) -> PortResult<String> {
        let failure = self.failures.lock().unwrap().pop_front();
        let mut sent = sent.lock().unwrap();
        match failure {
            None => {
                sent.push(message.clone());
                Ok(format!("{prefix}-{}", sent.len()))
            }
            Some(lost @ PortError::Ambiguous(_)) => {
                sent.push(message.clone());
                Err(lost)
            }
            Some(error) => Err(error),
        }
    }
}

impl EmailSender for MemoryMessenger {
    async fn send_email(&self, email: &OutgoingEmail) -> PortResult<String> {
        self.deliver(&self.emails, email, "msg")
    }
}

impl SenderIdentity for MemoryMessenger {
    async fn sender_status(&self, _domain: &str) -> PortResult<SenderStatus> {
        let scripted = self.sender.lock().unwrap().clone();
        Ok(scripted.unwrap_or(SenderStatus { verified: true, status: "SUCCESS".into() }))
    }
}

impl SmsSender for MemoryMessenger {
    async fn send_sms(&self, sms: &OutgoingSms) -> PortResult<String> {
        self.deliver(&self.sms, sms, "sms")
    }
}

impl PushSender for MemoryMessenger {
    async fn send_push(&self, push: &OutgoingPush) -> PortResult<String> {
        if self.disabled.lock().unwrap().contains(&push.endpoint) {
            return Err(PortError::Gone("endpoint disabled".into()));
        }
        self.deliver(&self.pushes, push, "push")
    }
    async fn register_device(&self, platform: PushPlatform, token: &str) -> PortResult<String> {
        Ok(format!("arn:endpoint/{platform:?}/{token}"))
    }
    async fn delete_device(&self, endpoint: &str) -> PortResult<()> {
        self.deleted.lock().unwrap().push(endpoint.to_owned());
        Ok(())
    }
}

/// The job queue as a list; [`MemoryJobs::take`] hands out what is queued (a test runs them).
#[derive(Debug, Default)]
pub struct MemoryJobs(Mutex<std::collections::VecDeque<Job>>);

impl MemoryJobs {
    /// Every job queued so far, removed from the queue.
    pub fn take(&self) -> Vec<Job> {
        self.0.lock().unwrap().drain(..).collect()
    }
}

impl JobQueue for MemoryJobs {
    async fn enqueue(&self, job: &Job) -> PortResult<()> {
        self.0.lock().unwrap().push_back(job.clone());
        Ok(())
    }
}

/// "Seals" by reversing the text, bound to the shop like KMS's encryption context: enough to
/// tell sealed from plain, and one shop's secret from another's, in a unit test.
#[derive(Debug, Default)]
pub struct MemoryVault;

impl Vault for MemoryVault {
    async fn seal(&self, shop: &ShopDomain, secret: &str) -> PortResult<SealedSecret> {
        Ok(SealedSecret {
            key_id: format!("memory:{shop}"),
            wrapped_key: String::new(),
            nonce: String::new(),
            ciphertext: secret.chars().rev().collect(),
        })
    }
    async fn open(&self, shop: &ShopDomain, sealed: &SealedSecret) -> PortResult<String> {
        if sealed.key_id != format!("memory:{shop}") {
            return Err(PortError::Rejected("sealed for another shop".into()));
        }
        Ok(sealed.ciphertext.chars().rev().collect())
    }
}

/// The platform's APIs: every code exchange grants `token-for-{code}`; discounts are recorded.
#[derive(Debug, Default)]
pub struct MemoryPlatform {
    pub discounts: Mutex<Vec<DiscountRequest>>,
}

impl PlatformAuth for MemoryPlatform {
    async fn exchange_code(&self, _: &ShopDomain, code: &str) -> PortResult<AccessGrant> {
        Ok(AccessGrant::lasting(format!("token-for-{code}"), vec!["write_discounts".into()]))
    }
    async fn exchange_session_token(&self, _: &ShopDomain, _: &str) -> PortResult<AccessGrant> {
        Ok(AccessGrant::lasting("token-from-session", vec!["write_discounts".into()]))
    }
    async fn refresh_token(&self, _: &ShopDomain, refresh_token: &str) -> PortResult<AccessGrant> {
        Ok(AccessGrant::lasting(format!("token-refreshed-from-{refresh_token}"), vec!["write_discounts".into()]))
    }
    async fn shop_profile(&self, _: &ShopDomain, _: &str) -> PortResult<ShopProfile> {
        Ok(ShopProfile { name: Some("Shop A".into()), contact_email: Some("owner@shop-a.test".into()) })
    }
}

impl DiscountApi for MemoryPlatform {
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

/// Keeps every published event, in order.
#[derive(Debug, Default)]
pub struct MemoryEvents(pub Mutex<Vec<DomainEvent>>);

impl EventBus for MemoryEvents {
    async fn publish(&self, event: &DomainEvent) -> PortResult<()> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Checkouts;

    #[tokio::test]
    async fn the_memory_store_honours_the_storage_contract() {
        let store = MemoryStore::new();
        contract::run_all(&store, &store, "memory").await;
    }

    #[tokio::test]
    async fn expired_items_stay_readable_until_the_sweep_as_with_dynamodb_ttl() {
        let store = MemoryStore::new();
        let shop = ShopDomain::parse("ttl.myshopify.com").unwrap();
        let record = contract::checkout(&shop, "expiring", 0);
        let expires_at = record.last_activity_at + chrono::Duration::days(90);
        store.save_checkout(&record, expires_at).await.unwrap();
        let token = &record.snapshot.token;
        assert_eq!(store.sweep_expired(expires_at), 0, "not before its expiry");
        assert!(store.load_checkout(&shop, token).await.unwrap().is_some());
        assert_eq!(store.sweep_expired(expires_at + chrono::Duration::seconds(1)), 1);
        assert!(store.load_checkout(&shop, token).await.unwrap().is_none(), "swept");
    }
}
