//! Use cases: what Reclaim does when a webhook arrives, a check fires, an order lands or a shopper
//! follows a link. Each is an async function generic over [`Ports`], so the same code runs on
//! AWS, in the local stack and against in-memory fakes.

pub mod admin;
mod check;
pub mod checkouts;
pub mod delivery;
pub mod discounts;
mod ingest;
pub mod install;
mod links;
pub mod messages;
mod orders;
pub mod privacy;
pub mod push;
pub mod reconcile;
pub mod storefront;
#[cfg(test)]
mod tests;

pub use check::{CheckOutcome, CheckPorts, run_check};
pub use ingest::{IngestPorts, ingest_webhook, verify_webhook};
pub use links::{
    LinkPorts, LinkTarget, UnsubscribeScope, follow_restore_link, follow_short_link, unsubscribe, verify_unsubscribe,
};
pub use orders::{OrderOutcome, OrderPorts, record_order};

use crate::links::{LinkError, LinkSigner};
use crate::model::{CheckoutRecord, CheckoutToken, ShopDomain};
use crate::platform::DeliveryError;
use crate::platform::shopify::WebhookSecrets;
use crate::ports::{
    CheckInput, Checkouts, Clock, DomainEvent, EventBus, PortError, ScheduledCheck, Scheduler, SettingsStore, Stats,
};
use crate::render::RenderError;
use crate::rules::RecoverySettings;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long personal data is kept without activity.
pub const PERSONAL_DATA_TTL: Duration = Duration::days(90);

/// How long a contact's state (suppressions, consent evidence, devices, recent sends) is kept
/// after its last change: over a year, so that an opt-out outlives every sequence it could stop.
pub const CONTACT_TTL: Duration = Duration::days(400);
/// How long a webhook delivery id is remembered for dedupe.
pub const DELIVERY_DEDUPE_TTL: Duration = Duration::days(7);
/// How long one attempt holds a webhook delivery: longer than the function's timeout, so a live
/// attempt is never overtaken, and short enough that Shopify's retry after a crash is processed.
pub const DELIVERY_LEASE: Duration = Duration::seconds(60);

/// Deployment settings the use cases need (secrets come from the environment / SSM).
#[derive(Debug, Clone)]
pub struct Config {
    pub webhook_secrets: WebhookSecrets,
    pub links: LinkSigner,
    /// Where `/r/…` and `/u/…` are served, e.g. `https://abc.execute-api.us-east-1.amazonaws.com`.
    pub public_base_url: String,
    /// The `From` address of recovery email, e.g. `Reclaim <recover@example.com>`.
    pub sender: String,
    /// The app's API key: the `aud` of session tokens.
    pub shopify_api_key: String,
    /// The app's client secret: signs session tokens, OAuth callbacks and webhooks.
    pub shopify_api_secret: Vec<u8>,
    /// The operator's cap on recovery messages per shop per day (`None`: no cap).
    pub shop_daily_send_cap: Option<u32>,
    /// The operator's ceiling on any shop's monthly SMS budget (`None`: none).
    pub sms_budget_ceiling: Option<u32>,
    /// The App Bridge script the embedded app's page loads first: Shopify's CDN
    /// ([`APP_BRIDGE_CDN`]), or the local stack's stand-in.
    pub app_bridge_url: String,
}

/// Where Shopify serves App Bridge.
pub const APP_BRIDGE_CDN: &str = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

/// Everything a use case can reach: one adapter per kind, each unbounded here. A use case names
/// only the roles it uses in its own bounds (`P: Ports<Store: Checkouts + Stats, Scheduler:
/// Scheduler>`), so a function that never texts can be built with an adapter that cannot text.
pub trait Ports: Send + Sync {
    type Store: Send + Sync;
    type Scheduler: Send + Sync;
    type Messenger: Send + Sync;
    type Events: Send + Sync;
    type Clock: Clock;
    type Vault: Send + Sync;
    type Platform: Send + Sync;
    type Jobs: Send + Sync;
    fn store(&self) -> &Self::Store;
    fn scheduler(&self) -> &Self::Scheduler;
    fn messenger(&self) -> &Self::Messenger;
    fn events(&self) -> &Self::Events;
    fn clock(&self) -> &Self::Clock;
    fn vault(&self) -> &Self::Vault;
    fn platform(&self) -> &Self::Platform;
    fn jobs(&self) -> &Self::Jobs;
    fn config(&self) -> &Config;
}

/// The plain bundle of adapters that implements [`Ports`]. A function that does not use a kind
/// of adapter puts `()` in its place.
#[derive(Debug, Clone)]
pub struct Services<S, Sch, M, E, C, V, A, J = ()> {
    pub store: S,
    pub scheduler: Sch,
    pub messenger: M,
    pub events: E,
    pub clock: C,
    pub vault: V,
    pub platform: A,
    pub jobs: J,
    pub config: Config,
}

impl<S, Sch, M, E, C, V, A, J> Ports for Services<S, Sch, M, E, C, V, A, J>
where
    S: Send + Sync,
    Sch: Send + Sync,
    M: Send + Sync,
    E: Send + Sync,
    C: Clock,
    V: Send + Sync,
    A: Send + Sync,
    J: Send + Sync,
{
    type Store = S;
    type Scheduler = Sch;
    type Messenger = M;
    type Events = E;
    type Clock = C;
    type Vault = V;
    type Platform = A;
    type Jobs = J;
    fn store(&self) -> &S {
        &self.store
    }
    fn scheduler(&self) -> &Sch {
        &self.scheduler
    }
    fn messenger(&self) -> &M {
        &self.messenger
    }
    fn events(&self) -> &E {
        &self.events
    }
    fn clock(&self) -> &C {
        &self.clock
    }
    fn vault(&self) -> &V {
        &self.vault
    }
    fn platform(&self) -> &A {
        &self.platform
    }
    fn jobs(&self) -> &J {
        &self.jobs
    }
    fn config(&self) -> &Config {
        &self.config
    }
}

/// What became of a delivery (the 200 response body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum IngestOutcome {
    /// Acted on.
    Accepted,
    /// Seen before: nothing done.
    Duplicate,
    /// Older than what is stored: nothing changed.
    Stale,
    /// A topic Reclaim does not act on.
    Ignored,
}

/// Why a use case failed. [`crate::web::error_reply`] maps each to a response.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    #[error("the token's shop may not act on the requested shop")]
    Forbidden,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("invalid settings")]
    InvalidSettings(Vec<crate::rules::SettingsError>),
    #[error("the settings changed since they were read")]
    StaleVersion,
    #[error("another attempt is processing this delivery")]
    DeliveryInProgress,
    #[error("too many requests")]
    TooManyRequests,
    #[error("Reclaim has not seen this cart yet; try again in a few seconds")]
    CartNotSeen,
    #[error("this cart already has a contact to remind")]
    CartHasContact,
    #[error(transparent)]
    Registration(#[from] crate::push::RegistrationError),
    #[error(transparent)]
    Install(#[from] crate::platform::oauth::OAuthError),
}

/// The name of the schedule for a checkout's step: a hash, so it is deterministic, fits the
/// scheduler's 64-character limit and carries no personal data.
pub fn schedule_name(shop: &ShopDomain, checkout: &CheckoutToken, step: u32, generation: u32) -> String {
    let digest = Sha256::digest(format!("{shop}\n{checkout}\n{step}\n{generation}"));
    format!("rc-{}", hex::encode(&digest[..20]))
}

/// Creates the schedule for `step` at `at` and returns what to record as armed.
pub(crate) async fn arm<P: Ports<Scheduler: Scheduler>>(
    ports: &P,
    record: &CheckoutRecord,
    step: u32,
    generation: u32,
    at: DateTime<Utc>,
) -> Result<crate::model::ArmedCheck, PortError> {
    let input = CheckInput { shop: record.shop.clone(), checkout: record.snapshot.token.clone(), step, generation };
    let name = schedule_name(&input.shop, &input.checkout, step, generation);
    ports.scheduler().arm(&ScheduledCheck { name, at, input }).await?;
    Ok(crate::model::ArmedCheck { step, generation, at })
}

/// Deletes the armed schedule of a record, if any (a missing schedule is fine).
pub(crate) async fn disarm<P: Ports<Scheduler: Scheduler>>(
    ports: &P,
    record: &CheckoutRecord,
) -> Result<(), PortError> {
    if let Some(armed) = &record.armed {
        let name = schedule_name(&record.shop, &record.snapshot.token, armed.step, armed.generation);
        ports.scheduler().cancel(&name).await?;
    }
    Ok(())
}

/// Reads a shop's settings, or the defaults.
async fn settings_of<P: Ports<Store: SettingsStore>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<RecoverySettings, PortError> {
    Ok(ports.store().load_settings(shop).await?.map(|stored| stored.settings).unwrap_or_default())
}

/// Until when a checkout record (personal data) is kept: [`PERSONAL_DATA_TTL`] after its last
/// activity, or after now when the activity lies in the past (a late webhook).
pub(crate) fn checkout_expiry(record: &CheckoutRecord, now: DateTime<Utc>) -> DateTime<Utc> {
    record.last_activity_at.max(now) + PERSONAL_DATA_TTL
}

/// How many times a read-modify-write is retried after losing a race.
const MAX_ATTEMPTS: usize = 5;

/// Re-reads and re-applies `change` until the conditional write wins. `change` returns `None`
/// when there is nothing to write. Returns the record as written (or as found).
async fn update_checkout<P, F>(
    ports: &P,
    shop: &ShopDomain,
    token: &CheckoutToken,
    mut change: F,
) -> Result<Option<CheckoutRecord>, PortError>
where
    P: Ports<Store: Checkouts>,
    F: FnMut(CheckoutRecord) -> Option<CheckoutRecord> + Send,
{
    for _ in 0..MAX_ATTEMPTS {
        let Some(current) = ports.store().load_checkout(shop, token).await? else {
            return Ok(None);
        };
        let Some(changed) = change(current.clone()) else {
            return Ok(Some(current));
        };
        match ports.store().save_checkout(&changed, checkout_expiry(&changed, ports.clock().now())).await {
            Ok(()) => {
                return Ok(Some(CheckoutRecord { version: changed.version + 1, ..changed }));
            }
            Err(PortError::Conflict) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(PortError::Conflict)
}

/// Adds counters to today's stats for a shop, on a shard chosen by the checkout so that one busy
/// shop does not hammer a single item.
async fn count<P: Ports<Store: Stats>>(
    ports: &P,
    shop: &ShopDomain,
    checkout: &CheckoutToken,
    counters: &[(String, i64)],
) -> Result<(), PortError> {
    count_by(ports, shop, checkout.as_str(), counters).await
}

/// [`count`], sharded by any key (a checkout token, a contact key).
async fn count_by<P: Ports<Store: Stats>>(
    ports: &P,
    shop: &ShopDomain,
    shard_key: &str,
    counters: &[(String, i64)],
) -> Result<(), PortError> {
    let shard = Sha256::digest(shard_key.as_bytes())[0] % STATS_SHARDS;
    ports.store().add_to_stats(shop, ports.clock().now().date_naive(), shard, counters).await
}

/// Publishes an event; a failure is logged and does not fail the use case (the table and the
/// stats are the record, events are a notification).
async fn publish<P: Ports<Events: EventBus>>(ports: &P, event: DomainEvent) {
    if let Err(error) = ports.events().publish(&event).await {
        tracing::warn!(%error, event = event.name(), "could not publish event");
    }
}

/// How many stats items a shop's day is spread over.
pub const STATS_SHARDS: u8 = 4;

/// "demo-store.myshopify.com" -> "Demo Store".
pub(crate) fn shop_display_name(domain: &str) -> String {
    domain
        .trim_end_matches(".myshopify.com")
        .split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
