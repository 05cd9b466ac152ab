//! # reclaim-tests — the integration test harness
//!
//! [`TestStack::start`] gives each test its own table, schedule group and gateway on one shared
//! moto emulator (started once per test binary on a free port, stopped when the binary exits),
//! with a manual clock so that hours of recovery pass in milliseconds. Everything crosses the real
//! AWS SDK over HTTP and the real axum gateway with really signed payloads.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reclaim_core::clock::{AnyClock, ManualClock};
use reclaim_local::emulator::Emulator;
use reclaim_local::fixtures::{self, CheckoutSpec, Item};
use reclaim_local::gateway::Gateway;
use reclaim_local::local_stack::{LocalStack, StackOptions};
use reclaim_local::outbox::{self, SentEmail};
use reclaim_local::pump::{self, Fired};
use reclaim_local::redrive::FailedInvocations;
use reclaim_local::stack::{self, LocalConfig, LocalServices};
pub mod fault_proxy;
pub mod routes;
pub mod shopify_standin;

pub use fault_proxy::{Fault, FaultProxy, Times};
pub use shopify_standin::{Scripted, ShopifyStandIn};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// The emulator shared by the tests of one binary.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| Emulator::start(0).expect("moto starts (run `make venv` first)"))
}

/// Where every test's clock starts.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
}

/// One test's stack.
pub struct TestStack {
    pub services: Arc<LocalServices>,
    pub clock: ManualClock,
    pub gateway: Gateway,
    pub config: LocalConfig,
    pub http: reqwest::Client,
    pub shop: String,
    /// The failed-invocations queue (checks that failed every retry).
    pub failed_invocations: FailedInvocations,
    /// Shopify's OAuth and Admin API, stood in locally.
    pub shopify: ShopifyStandIn,
}

/// A DynamoDB item.
pub type Item_ = HashMap<String, AttributeValue>;

impl TestStack {
    /// A fresh stack: its own table and schedule group, named after the test, on a manual clock.
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, |_| {}).await
    }

    /// A fresh stack whose AWS calls all go through a [`FaultProxy`] in front of the emulator,
    /// with the SDK's own retries as in production.
    pub async fn behind_fault_proxy(name: &str) -> (Self, FaultProxy) {
        reclaim_aws::install_tls_provider();
        let proxy = FaultProxy::start(emulator().endpoint()).await;
        let endpoint = proxy.url().to_owned();
        let stack = Self::start_with(name, |config| {
            config.endpoint = endpoint;
            config.sdk_attempts = 3;
        })
        .await;
        (stack, proxy)
    }

    /// [`TestStack::start`] with the configuration tuned further by `tune`.
    pub async fn start_with(name: &str, tune: impl FnOnce(&mut stack::LocalConfig)) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let unique = format!("{name}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let clock = ManualClock::starting_at(epoch());
        let shop = "test-shop.myshopify.com".to_owned();
        let options =
            StackOptions { port: 0, clock: AnyClock::Manual(clock.clone()), shop: shop.clone(), pump_every: None };
        let shopify = ShopifyStandIn::start(stack::LOCAL_SHOPIFY_API_KEY, stack::LOCAL_SHOPIFY_API_SECRET).await;
        let local = LocalStack::start(emulator().endpoint(), options, |config| {
            config.table = format!("t-{unique}");
            config.schedule_group = format!("g-{unique}");
            config.failed_invocations_queue = format!("q-{unique}");
            config.jobs_queue = format!("j-{unique}");
            config.shopify_endpoint = Some(shopify.url().to_owned());
            let quick = std::time::Duration::from_millis(20);
            config.shopify_retry = reclaim_aws::RetryPolicy { attempts: 4, base_delay: quick, max_delay: quick * 3 };
            tune(config);
        })
        .await
        .unwrap();
        reclaim_aws::install_tls_provider();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let LocalStack { config, services, gateway, failed_invocations, .. } = local;
        Self { services, clock, gateway, config, http, shop, failed_invocations, shopify }
    }

    /// The stack's (manual) clock's time.
    pub fn clock_now(&self) -> DateTime<Utc> {
        use reclaim_core::ports::Clock;
        self.clock.now()
    }

    /// A checkout of this test's shop, created at the epoch.
    pub fn checkout(&self, token: &str, email: Option<&str>) -> CheckoutSpec {
        CheckoutSpec {
            shop: self.shop.clone(),
            token: token.into(),
            cart_token: format!("cart-{token}"),
            email: email.map(str::to_owned),
            first_name: "Robin".into(),
            items: vec![Item("Field Notebook".into(), "Grid".into(), 55001, 2, "12.50".into())],
            created_at: epoch(),
            updated_at: epoch(),
        }
    }

    /// Posts a signed webhook through the gateway, then lets the jobs function run what it queued
    /// (privacy requests, an uninstall's schedules), as it would within seconds on AWS.
    pub async fn deliver(&self, topic: &str, webhook_id: &str, body: &serde_json::Value) -> reqwest::Response {
        let response = fixtures::deliver(
            &self.http,
            &self.gateway.url(),
            &self.config.shopify_secret,
            &self.shop,
            topic,
            webhook_id,
            body,
        )
        .await
        .unwrap();
        self.drain_jobs().await;
        response
    }

    /// Runs every queued job to its end; returns how many job runs there were.
    pub async fn drain_jobs(&self) -> usize {
        pump::drain_jobs(&self.services).await.unwrap()
    }

    /// Posts several signed webhooks at once; returns their statuses in order.
    pub async fn deliver_concurrently(
        &self,
        topic: &'static str,
        deliveries: Vec<(String, serde_json::Value)>,
    ) -> Vec<u16> {
        let tasks: Vec<_> = deliveries
            .into_iter()
            .map(|(id, body)| {
                let (http, url) = (self.http.clone(), self.gateway.url());
                let (secret, shop) = (self.config.shopify_secret.clone(), self.shop.clone());
                tokio::spawn(async move {
                    let response = fixtures::deliver(&http, &url, &secret, &shop, topic, &id, &body).await.unwrap();
                    response.status().as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        statuses
    }

    /// Moves the clock and fires every schedule due. A check that fails fails the test: a
    /// "nothing was sent" assertion must not pass because the check crashed (tests that inject
    /// failures use [`TestStack::advance_and_pump_expecting_failures`]).
    pub async fn advance_and_pump(&self, by: Duration) -> Vec<Fired> {
        self.clock.advance(by);
        self.pump_strictly().await
    }

    /// Like [`TestStack::advance_and_pump`], for a test that expects checks to fail; returns the
    /// round with its failures.
    pub async fn advance_and_pump_expecting_failures(&self, by: Duration) -> pump::Round {
        self.clock.advance(by);
        pump::pump_once(&self.services, &self.failed_invocations).await.unwrap()
    }

    /// One pump round that fails the test when a check keeps failing. A failed check is armed
    /// again at once (as the scheduler retries); moto now and then answers a request with a 500
    /// under concurrent load, so a check gets two more rounds to succeed before the test fails.
    async fn pump_strictly(&self) -> Vec<Fired> {
        let mut fired = Vec::new();
        let mut failed = Vec::new();
        for _ in 0..3 {
            let round = pump::pump_once(&self.services, &self.failed_invocations).await.unwrap();
            fired.extend(round.fired);
            failed = round.failed;
            if failed.is_empty() {
                return fired;
            }
        }
        panic!("a check failed three times in a row: {failed:#?}");
    }

    /// Emails the emulator accepted for `to`.
    pub async fn emails_to(&self, to: &str) -> Vec<SentEmail> {
        outbox::sent_emails(&self.config.endpoint).await.unwrap().into_iter().filter(|e| e.to == to).collect()
    }

    /// SMS the emulator accepted for `to` (E.164).
    pub async fn sms_to(&self, to: &str) -> Vec<String> {
        let all = outbox::sent_sms(&self.config.endpoint).await.unwrap();
        all.into_iter().filter(|sms| sms.to == to).map(|sms| sms.body).collect()
    }

    /// The shop as the use cases see it.
    pub fn shop_domain(&self) -> reclaim_core::model::ShopDomain {
        reclaim_core::model::ShopDomain::parse(&self.shop).unwrap()
    }

    /// Every item in this test's table.
    pub async fn items(&self) -> Vec<Item_> {
        let client = self.services.store.client();
        let out = client.scan().table_name(&self.config.table).send().await.unwrap();
        out.items.unwrap_or_default()
    }

    /// The inputs of the schedules armed now (what each would hand `recovery-check`).
    pub async fn schedule_inputs(&self) -> Vec<reclaim_core::ports::CheckInput> {
        let client = self.services.scheduler.client();
        let mut inputs = Vec::new();
        for name in self.schedules().await {
            let schedule =
                client.get_schedule().name(&name).group_name(&self.config.schedule_group).send().await.unwrap();
            let input = schedule.target().and_then(|t| t.input()).unwrap_or_default();
            inputs.push(serde_json::from_str(input).unwrap());
        }
        inputs
    }

    /// The names of the schedules armed now.
    pub async fn schedules(&self) -> Vec<String> {
        let client = self.services.scheduler.client();
        let out = client.list_schedules().group_name(&self.config.schedule_group).send().await.unwrap();
        out.schedules().iter().filter_map(|s| s.name().map(str::to_owned)).collect()
    }

    /// The shop's counters from the first day of the test to `days` later.
    pub async fn stats(&self, days: i64) -> std::collections::BTreeMap<String, i64> {
        use reclaim_core::ports::store::*;
        let shop = reclaim_core::model::ShopDomain::parse(&self.shop).unwrap();
        self.services
            .store
            .stats(&shop, epoch().date_naive(), (epoch() + Duration::days(days)).date_naive())
            .await
            .unwrap()
    }
}

/// What the check of `checkout` did in a pump round; panics when it did not run (a test that
/// asserts silence must also say why there was silence).
pub fn outcome_of(fired: &[Fired], checkout: &str) -> reclaim_core::usecases::CheckOutcome {
    let runs: Vec<_> = fired.iter().filter(|f| f.input.checkout.as_str() == checkout).collect();
    match runs.as_slice() {
        [run] => run.outcome.clone(),
        other => panic!("{checkout}: expected one check, got {other:?}"),
    }
}

/// The first link in `text` that starts with `prefix`.
pub fn link(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    text[start..].split_whitespace().next().unwrap().trim_end_matches('>').to_owned()
}

/// Admin API calls as the embedded app makes them.
impl TestStack {
    /// A session token for `shop`, signed like Shopify signs them, valid at the stack's clock.
    pub fn session_token(&self, shop: &str) -> String {
        use reclaim_core::ports::Clock;
        let shop = reclaim_core::model::ShopDomain::parse(shop).unwrap();
        let secret = self.config.shopify_secret.as_bytes();
        reclaim_core::session::sign_session_token(&shop, &self.config.shopify_api_key, secret, self.clock.now(), 60)
    }

    /// An authenticated admin request for this test's shop.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.gateway.url())).bearer_auth(self.session_token(&self.shop))
    }

    /// An admin GET as `token` would make it, answered as JSON.
    pub async fn admin_json(&self, path: &str, token: &str) -> serde_json::Value {
        let response = self.http.get(format!("{}{path}", self.gateway.url())).bearer_auth(token).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// Saves settings through the admin API and returns the new version.
    pub async fn put_settings(&self, version: u64, settings: serde_json::Value) -> u64 {
        let response = self
            .admin(reqwest::Method::PUT, "/admin/settings")
            .json(&serde_json::json!({"version": version, "settings": settings}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<serde_json::Value>().await.unwrap()["version"].as_u64().unwrap()
    }

    /// Pumps until nothing more is due (a check that re-arms for "now" fires in the next round);
    /// returns every check that ran.
    pub async fn pump_until_idle(&self) -> Vec<Fired> {
        let mut all = Vec::new();
        for _ in 0..10 {
            let fired = self.pump_strictly().await;
            if fired.is_empty() {
                break;
            }
            all.extend(fired);
        }
        all
    }
}
