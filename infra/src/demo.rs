//! The demo store: a shop of 22 shoppers (`infra/fixtures/shopify/shoppers.json`) replayed through
//! the local stack with real signed webhooks over HTTP. Some buy at once, some abandon, some click
//! the restore link and buy, some unsubscribe, some webhooks arrive twice or out of order. Delays
//! are shortened to seconds. It ends with a summary and the sent emails written to files.

use crate::emulator::Emulator;
use crate::fixtures::{self, CheckoutSpec, Item};
use crate::local_stack::{LocalStack, StackOptions};
use crate::outbox;
use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use reclaim_core::clock::{AnyClock, SystemClock};
use reclaim_core::model::{CheckoutToken, ShopDomain};
use reclaim_core::ports::{Checkouts, MessageLog, SettingsStore, Stats};
use reclaim_core::rules::{Delay, RecoverySettings, StepSettings};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Instant;

/// The demo store's domain (as in `shoppers.json`).
pub const DEMO_SHOP: &str = "demo-store.myshopify.com";

/// What a demo shopper does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    BuysAtOnce,
    Abandons,
    ClicksAndBuys,
    Unsubscribes,
    DuplicateWebhooks,
    OutOfOrder,
    NoEmail,
    BrowsesAgain,
}

#[derive(Debug, Clone, Deserialize)]
struct Shopper {
    first_name: String,
    email: Option<String>,
    behaviour: Behaviour,
    items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
struct Store_ {
    shop: String,
    shoppers: Vec<Shopper>,
}

/// Demo options.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Delay of the first step; the second and third come at twice and three times this.
    pub step_delay: std::time::Duration,
    /// Where the sent emails are written.
    pub outbox: PathBuf,
}

/// One shopper's line in the summary.
#[derive(Debug, Clone)]
pub struct ShopperResult {
    pub name: String,
    pub behaviour: Behaviour,
    pub emails: usize,
    pub clicked: bool,
    pub status: String,
    pub recovered: bool,
}

/// What the demo did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub shoppers: Vec<ShopperResult>,
    pub stats: std::collections::BTreeMap<String, i64>,
    pub outbox_files: Vec<PathBuf>,
}

fn say(started: Instant, message: impl std::fmt::Display) {
    println!("[{:>5.1}s] {message}", started.elapsed().as_secs_f64());
}

/// Runs the whole demo on a fresh emulator.
pub async fn run(options: &DemoOptions) -> anyhow::Result<DemoReport> {
    let started = Instant::now();
    say(started, "starting the AWS emulator (moto) ...");
    let emulator = Emulator::start(0)?;
    let stack_options = StackOptions {
        port: 0,
        clock: AnyClock::System(SystemClock),
        shop: DEMO_SHOP.to_owned(),
        pump_every: Some(std::time::Duration::from_millis(200)),
    };
    let mut local = LocalStack::start(emulator.endpoint(), stack_options, |_| {}).await?;
    let (config, services, gateway_url) = (local.config.clone(), local.services.clone(), local.gateway.url());
    say(
        started,
        format!("emulator at {}; table, indexes, schedule group and sender identity created", config.endpoint),
    );
    say(started, format!("local gateway at {gateway_url} (the functions' own handlers); scheduler pump running"));

    let store: Store_ = serde_json::from_str(fixtures::SHOPPERS).context("shoppers.json")?;
    let shop = ShopDomain::parse(&store.shop)?;
    let delay = Duration::from_std(options.step_delay)?;
    let seconds = |n: i64| format!("{}ms", (delay * n as i32).num_milliseconds());
    let mut settings = RecoverySettings {
        steps: [("reminder", 1, "reminder"), ("follow-up", 2, "follow_up"), ("last-chance", 3, "last_chance")]
            .into_iter()
            .map(|(name, n, template)| StepSettings::email(name, &seconds(n), template))
            .collect(),
        ..RecoverySettings::default()
    };
    settings.policies.abandonment_cutoff = Delay::known(&seconds(1));
    settings.validate().map_err(|errors| anyhow::anyhow!("demo settings invalid: {errors:?}"))?;
    services.store.save_settings(&shop, &settings, 0).await?;
    say(
        started,
        format!("demo settings: emails {} / {} / {} after the last activity", seconds(1), seconds(2), seconds(3)),
    );

    let client = DemoClient {
        http: {
            reclaim_aws::install_tls_provider();
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?
        },
        gateway: gateway_url,
        outbox: outbox::watch(config.endpoint.clone(), std::time::Duration::from_millis(300)),
        secret: config.shopify_secret.clone(),
        shop: store.shop.clone(),
        patience: options.step_delay * 10,
    };
    let deliver = |topic: &'static str, id: String, body: serde_json::Value| {
        let client = client.clone();
        async move { client.deliver(topic, &id, &body).await }
    };
    let now = Utc::now();
    let specs: Vec<CheckoutSpec> = store
        .shoppers
        .iter()
        .enumerate()
        .map(|(index, shopper)| CheckoutSpec {
            shop: store.shop.clone(),
            token: format!("demo{index:02}{:024x}", index * 7919 + 104729),
            cart_token: format!("cart{index:02}{:024x}", index * 6151 + 7727),
            email: shopper.email.clone(),
            first_name: shopper.first_name.clone(),
            items: shopper.items.clone(),
            created_at: now - Duration::seconds(30),
            updated_at: now,
        })
        .collect();

    say(started, format!("replaying {} shoppers' checkouts as signed webhooks ...", specs.len()));
    for (index, (shopper, spec)) in store.shoppers.iter().zip(&specs).enumerate() {
        let id = |n: u32| format!("demo-{index}-{n}");
        match shopper.behaviour {
            Behaviour::DuplicateWebhooks => {
                let body = fixtures::checkout(spec);
                let outcomes = futures_all(vec![
                    deliver("checkouts/create", id(1), body.clone()),
                    deliver("checkouts/create", id(1), body.clone()),
                    deliver("checkouts/create", id(1), body),
                ])
                .await?;
                say(
                    started,
                    format!(
                        "  {:<7} checkouts/create delivered 3 times at once -> {}",
                        shopper.first_name,
                        outcomes.join(", ")
                    ),
                );
            }
            Behaviour::OutOfOrder => {
                let older = CheckoutSpec { updated_at: spec.updated_at - Duration::seconds(20), ..spec.clone() };
                let newer = deliver("checkouts/update", id(2), fixtures::checkout(spec)).await?;
                let stale = deliver("checkouts/create", id(1), fixtures::checkout(&older)).await?;
                say(
                    started,
                    format!("  {:<7} update arrived before create -> {newer}, then {stale}", shopper.first_name),
                );
            }
            _ => {
                deliver("checkouts/create", id(1), fixtures::checkout(spec)).await?;
            }
        }
        if shopper.behaviour == Behaviour::BuysAtOnce {
            deliver("orders/create", id(3), fixtures::order(spec, 9000 + index as u64, Utc::now())).await?;
            say(started, format!("  {:<7} bought straight away", shopper.first_name));
        }
    }

    // Shoppers who react to their first email do so concurrently, as soon as it arrives.
    let mut reactions = Vec::new();
    for (shopper, spec) in store.shoppers.iter().zip(&specs) {
        let (client, shopper, spec) = (client.clone(), shopper.clone(), spec.clone());
        reactions.push(tokio::spawn(async move { client.react(&shopper, &spec, started).await }));
    }
    for reaction in reactions {
        reaction.await??;
    }

    say(started, "waiting for every sequence to finish ...");
    let deadline = Instant::now() + options.step_delay * 20;
    loop {
        // A sequence is over when its record has nothing armed (a check re-arms before it clears).
        let mut armed = 0;
        for spec in &specs {
            let record = services.store.load_checkout(&shop, &CheckoutToken::new(spec.token.clone())?).await?;
            armed += usize::from(record.is_some_and(|r| r.armed.is_some()));
        }
        if armed == 0 {
            break;
        }
        if Instant::now() > deadline {
            bail!("{armed} sequences still armed after the demo's time limit");
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    local.stop_pump();

    let emails = outbox::sent_emails(&config.endpoint).await?;
    let outbox_files = outbox::write_html(&emails, &options.outbox)?;
    let mut shoppers = Vec::new();
    for (shopper, spec) in store.shoppers.iter().zip(&specs) {
        let token = CheckoutToken::new(spec.token.clone())?;
        let record = services.store.load_checkout(&shop, &token).await?;
        let messages = services.store.messages(&shop, &token).await?;
        shoppers.push(ShopperResult {
            name: shopper.first_name.clone(),
            behaviour: shopper.behaviour,
            emails: spec.email.as_ref().map_or(0, |e| emails.iter().filter(|m| &m.to == e).count()),
            clicked: messages.iter().any(|m| m.clicked_at.is_some()),
            status: record.as_ref().map_or("-".into(), |r| r.status.as_str().to_owned()),
            recovered: record.and_then(|r| r.conversion).is_some_and(|c| c.recovered),
        });
    }
    let today = Utc::now().date_naive();
    let stats = services.store.stats(&shop, today - Duration::days(1), today).await?;
    say(started, "done");
    Ok(DemoReport { shoppers, stats, outbox_files })
}

/// The demo's view of the stack: it talks to the gateway over HTTP like Shopify and shoppers do.
#[derive(Clone)]
struct DemoClient {
    http: reqwest::Client,
    gateway: String,
    /// The emulator's outbox, polled by one task for every shopper.
    outbox: tokio::sync::watch::Receiver<Vec<outbox::SentEmail>>,
    secret: String,
    shop: String,
    patience: std::time::Duration,
}

impl DemoClient {
    /// Delivers a signed webhook and returns the outcome's status.
    async fn deliver(&self, topic: &str, id: &str, body: &serde_json::Value) -> anyhow::Result<String> {
        let response = fixtures::deliver(&self.http, &self.gateway, &self.secret, &self.shop, topic, id, body).await?;
        if !response.status().is_success() {
            bail!("{topic} {id}: HTTP {}", response.status());
        }
        let outcome: serde_json::Value = response.json().await?;
        Ok(outcome["status"].as_str().unwrap_or_default().to_owned())
    }

    async fn first_email(&self, to: &str) -> anyhow::Result<outbox::SentEmail> {
        let mut outbox = self.outbox.clone();
        let arrived = outbox.wait_for(|emails| emails.iter().any(|e| e.to == to));
        match tokio::time::timeout(self.patience, arrived).await {
            Ok(Ok(emails)) => Ok(emails.iter().find(|e| e.to == to).cloned().expect("waited for it")),
            _ => bail!("no first email for {to}"),
        }
    }

    /// What a shopper does once the first reminder is out.
    async fn react(&self, shopper: &Shopper, spec: &CheckoutSpec, started: Instant) -> anyhow::Result<()> {
        let name = &shopper.first_name;
        match shopper.behaviour {
            Behaviour::ClicksAndBuys => {
                let email = self.first_email(spec.email.as_deref().unwrap_or_default()).await?;
                let link = first_link(&email.text, &format!("{}/r/", self.gateway))?;
                let response = self.http.get(&link).send().await?;
                let location =
                    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                say(
                    started,
                    format!("  {name:<7} clicked the restore link -> {} {location}", response.status().as_u16()),
                );
                let order = fixtures::order(spec, 7000 + spec.items[0].2, Utc::now());
                self.deliver("orders/create", &format!("demo-order-{}", spec.token), &order).await?;
                say(started, format!("  {name:<7} bought after the reminder"));
            }
            Behaviour::Unsubscribes => {
                let email = self.first_email(spec.email.as_deref().unwrap_or_default()).await?;
                let link = first_link(&email.text, &format!("{}/u/", self.gateway))?;
                let response = self.http.post(&link).body("List-Unsubscribe=One-Click").send().await?;
                say(started, format!("  {name:<7} unsubscribed with one click -> {}", response.status().as_u16()));
            }
            Behaviour::BrowsesAgain => {
                self.first_email(spec.email.as_deref().unwrap_or_default()).await?;
                self.deliver("carts/update", &format!("demo-cart-{}", spec.token), &fixtures::cart(spec, Utc::now()))
                    .await?;
                say(started, format!("  {name:<7} came back and changed the cart: the next reminder moves later"));
            }
            _ => {}
        }
        Ok(())
    }
}

async fn futures_all<F: std::future::Future<Output = anyhow::Result<String>> + Send + 'static>(
    futures: Vec<F>,
) -> anyhow::Result<Vec<String>> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await??);
    }
    Ok(results)
}

fn first_link(text: &str, prefix: &str) -> anyhow::Result<String> {
    let start = text.find(prefix).with_context(|| format!("no {prefix} link in the email"))?;
    Ok(text[start..].split_whitespace().next().unwrap_or_default().to_owned())
}

/// Prints the summary table.
pub fn print_report(report: &DemoReport, outbox: &std::path::Path) {
    println!();
    println!(
        "{:<8} {:<19} {:>6} {:>8} {:<10} {:>9}",
        "shopper", "behaviour", "emails", "clicked", "status", "recovered"
    );
    println!("{}", "-".repeat(66));
    for s in &report.shoppers {
        let behaviour = format!("{:?}", s.behaviour);
        println!(
            "{:<8} {:<19} {:>6} {:>8} {:<10} {:>9}",
            s.name,
            behaviour,
            s.emails,
            if s.clicked { "yes" } else { "-" },
            s.status,
            if s.recovered { "yes" } else { "-" }
        );
    }
    let stat = |name: &str| report.stats.get(name).copied().unwrap_or(0);
    let revenue: Vec<String> = report
        .stats
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("recovered.revenue.").map(|currency| format!("{currency} {}.{:02}", v / 100, v % 100))
        })
        .collect();
    println!();
    println!("carts abandoned (first reminder sent): {}", stat("abandoned"));
    println!(
        "emails sent by step:                   {} / {} / {}",
        stat("sent.step0.email"),
        stat("sent.step1.email"),
        stat("sent.step2.email")
    );
    println!(
        "restore-link clicks:                   {}",
        stat("clicks.step0") + stat("clicks.step1") + stat("clicks.step2")
    );
    println!("unsubscribes:                          {}", stat("unsubscribes"));
    println!("orders matched / recovered:            {} / {}", stat("converted"), stat("recovered.orders"));
    println!(
        "recovered revenue:                     {}",
        if revenue.is_empty() { "0".into() } else { revenue.join(", ") }
    );
    println!();
    println!("{} emails rendered to {}/ (open them in a browser)", report.outbox_files.len(), outbox.display());
}
