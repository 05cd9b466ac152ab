//! Ports: what the use cases need from the outside world, as traits sized to their callers.
//! Storage is a set of roles ([`store`]), messaging one role per channel ([`messaging`]), the
//! platform one role for installing and one for discounts ([`platform`]); the scheduler, the
//! event bus, the vault and the clock are one small trait each. `reclaim-aws` implements them on
//! DynamoDB, EventBridge Scheduler, SES, SNS, EventBridge and KMS; `crate::testing` implements
//! them in memory.
//!
//! Every method returns a `Send` future so that the use cases run on any multi-threaded executor.

pub mod messaging;
pub mod platform;
pub mod store;

pub use messaging::*;
pub use platform::*;
pub use store::*;

use crate::model::{CheckoutToken, SealedSecret, ShopDomain};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A failure of an adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// A conditional write lost a race: someone else changed the item first.
    #[error("concurrent modification")]
    Conflict,
    /// The provider refused this particular request (for example an address it will not send to).
    #[error("rejected by provider: {0}")]
    Rejected(String),
    /// The dependency failed or could not be reached, and did not act on the request (a
    /// refused connection, throttling, a 5xx): trying again later is safe.
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    /// The request left and no answer came (a timeout, a dropped connection, an unreadable
    /// response): the provider may have acted on it, so it must not be sent again blindly.
    #[error("outcome unknown: {0}")]
    Ambiguous(String),
    /// The address no longer exists (a disabled push endpoint): forget it.
    #[error("address gone: {0}")]
    Gone(String),
}

/// Result of an adapter call.
pub type PortResult<T> = Result<T, PortError>;

/// The input a scheduled check carries to `recovery-check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInput {
    pub shop: ShopDomain,
    pub checkout: CheckoutToken,
    pub step: u32,
    pub generation: u32,
}

/// A one-time check to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledCheck {
    /// Deterministic: the same (shop, checkout, step, generation) always gives the same name.
    pub name: String,
    pub at: DateTime<Utc>,
    pub input: CheckInput,
}

/// One-time schedules that fire `recovery-check`.
pub trait Scheduler: Send + Sync {
    /// Creates the schedule; an existing schedule of the same name counts as success.
    fn arm(&self, check: &ScheduledCheck) -> impl Future<Output = PortResult<()>> + Send;
    /// Deletes the schedule; a missing one counts as success.
    fn cancel(&self, name: &str) -> impl Future<Output = PortResult<()>> + Send;
}

/// Seals secrets with envelope encryption (a key service wraps a fresh data key per secret).
pub trait Vault: Send + Sync {
    /// Seals a shop's secret, bound to that shop: it opens for no other.
    fn seal(&self, shop: &ShopDomain, secret: &str) -> impl Future<Output = PortResult<SealedSecret>> + Send;
    /// Opens a secret sealed for `shop`; one sealed for another shop is refused.
    fn open(&self, shop: &ShopDomain, sealed: &SealedSecret) -> impl Future<Output = PortResult<String>> + Send;
}

/// Something that happened, published for other systems (analytics, the merchant's own
/// automations). Carries ids and amounts, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A recovery message went out.
    RecoveryMessageSent { shop: ShopDomain, checkout: CheckoutToken, step: u32, channel: crate::model::Channel },
    /// A shopper followed a restore link for the first time.
    RestoreLinkClicked { shop: ShopDomain, checkout: CheckoutToken, step: u32 },
    /// An order matched a checkout; `recovered` when a message came first inside the window.
    CheckoutConverted { shop: ShopDomain, checkout: CheckoutToken, recovered: bool, revenue: crate::model::Money },
    /// A contact stopped email from a shop.
    ContactUnsubscribed { shop: ShopDomain },
}

impl DomainEvent {
    /// The event's name, used as the EventBridge detail type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RecoveryMessageSent { .. } => "RecoveryMessageSent",
            Self::RestoreLinkClicked { .. } => "RestoreLinkClicked",
            Self::CheckoutConverted { .. } => "CheckoutConverted",
            Self::ContactUnsubscribed { .. } => "ContactUnsubscribed",
        }
    }
}

/// Work too long for a request (a shop with 100,000 checkouts), run later from a queue in
/// resumable batches: each run does a bounded batch and queues the rest of the job again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// `shop/redact`: delete everything held for the shop.
    RedactShop { shop: ShopDomain },
    /// `customers/redact`: delete a customer's data, push endpoints included.
    RedactCustomer { shop: ShopDomain, customer: crate::platform::CustomerRef },
    /// `customers/data_request`: mail the customer's data to the shop.
    ExportCustomer { shop: ShopDomain, customer: crate::platform::CustomerRef, request_id: String },
    /// `app/uninstalled`: delete the schedules the shop still has armed.
    DisarmShop { shop: ShopDomain },
}

impl Job {
    /// The shop the job is for.
    pub fn shop(&self) -> &ShopDomain {
        match self {
            Self::RedactShop { shop }
            | Self::RedactCustomer { shop, .. }
            | Self::ExportCustomer { shop, .. }
            | Self::DisarmShop { shop } => shop,
        }
    }
}

/// Queues jobs (at least once: every job is idempotent).
pub trait JobQueue: Send + Sync {
    fn enqueue(&self, job: &Job) -> impl Future<Output = PortResult<()>> + Send;
}

/// Publishes domain events.
pub trait EventBus: Send + Sync {
    fn publish(&self, event: &DomainEvent) -> impl Future<Output = PortResult<()>> + Send;
}

/// The two things a use case cannot compute: the time, and an id nobody else holds.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// An id unique to this call (across invocations and machines), for claims that must
    /// recognise their own earlier write.
    fn unique_id(&self) -> String;
}
