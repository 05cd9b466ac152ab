//! The demo store: a shop of 22 shoppers (`infra/fixtures/shopify/shoppers.json`) replayed through
//! the local stack with real signed webhooks over HTTP. Some buy at once, some abandon, some click
//! the restore link and buy, some unsubscribe, some webhooks arrive twice or out of order. Delays
//! are shortened to seconds (real time, `make demo`) or run on a manual clock that the demo moves
//! itself (the test: hours of recovery in seconds). It ends with a summary and the sent emails
//! written to files. This file is the script; [`client`] talks to the stack, [`report`] prints.

mod client;
mod report;

pub use report::{DemoReport, ShopperResult, print_report};

use crate::emulator::Emulator;
use crate::fixtures::{self, CheckoutSpec, Item};
use crate::local_stack::{LocalStack, StackOptions};
use crate::outbox;
use crate::pump;
use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use client::{DemoClient, futures_all};
use reclaim_core::clock::{AnyClock, ManualClock, SystemClock};
use reclaim_core::model::{CheckoutToken, ShopDomain};
use reclaim_core::ports::Clock;
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
    /// Real time (`make demo`: watch it happen) or a manual clock the demo moves itself.
    pub time: DemoTime,
}

/// How time passes in the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoTime {
    /// The wall clock; a background pump fires due schedules.
    Real,
    /// A manual clock moved forward a sixth of the step delay at a time, with a pump round after
    /// every move and a pause for the shoppers to react: hours of recovery take seconds.
    Manual,
}

fn say(started: Instant, message: impl std::fmt::Display) {
    println!("[{:>5.1}s] {message}", started.elapsed().as_secs_f64());
}

/// Runs the whole demo on a fresh emulator.
pub async fn run(options: &DemoOptions) -> anyhow::Result<DemoReport> {
    let started = Instant::now();
    say(started, "starting the AWS emulator (moto) ...");
    let emulator = Emulator::start(0)?;
    let manual = (options.time == DemoTime::Manual).then(|| ManualClock::starting_at(Utc::now()));
    let clock = manual.clone().map_or(AnyClock::System(SystemClock), AnyClock::Manual);
    let stack_options = StackOptions {
        port: 0,
        clock: clock.clone(),
        shop: DEMO_SHOP.to_owned(),
        pump_every: manual.is_none().then_some(std::time::Duration::from_millis(200)),
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

    let real = std::time::Duration::from_secs(30);
    let client = DemoClient {
        http: {
            reclaim_aws::install_tls_provider();
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?
        },
        gateway: gateway_url,
        outbox: outbox::watch(config.endpoint.clone(), std::time::Duration::from_millis(100)),
        secret: config.shopify_secret.clone(),
        shop: store.shop.clone(),
        patience: if manual.is_some() { real } else { options.step_delay * 10 },
        clock: clock.clone(),
    };
    // On the manual clock, the demo moves time itself.
    let driver = manual.clone().map(|manual| {
        let (services, tick, on_failure) = (services.clone(), delay / 6, local.failed_invocations.clone());
        tokio::spawn(async move {
            loop {
                manual.advance(tick);
                match pump::pump_once(&services, &on_failure).await {
                    Ok(round) if !round.failed.is_empty() => tracing::warn!(failed = ?round.failed, "checks failed"),
                    Err(error) => tracing::warn!(error = format!("{error:#}"), "scheduler pump"),
                    Ok(_) => {}
                }
                // Time for the shoppers who got an email to react before the clock moves on.
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            }
        })
    });
    let deliver = |topic: &'static str, id: String, body: serde_json::Value| {
        let client = client.clone();
        async move { client.deliver(topic, &id, &body).await }
    };
    let now = clock.now();
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
            deliver("orders/create", id(3), fixtures::order(spec, 9000 + index as u64, clock.now())).await?;
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
    let deadline = Instant::now() + if manual.is_some() { real * 4 } else { options.step_delay * 20 };
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
    if let Some(driver) = driver {
        driver.abort();
    }

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
    let today = clock.now().date_naive();
    let stats = services.store.stats(&shop, today - Duration::days(1), today).await?;
    say(started, "done");
    Ok(DemoReport { shoppers, stats, outbox_files })
}
