//! The demo's client: it talks to the gateway over HTTP as Shopify and shoppers do, and makes
//! each shopper react to their first email (click and buy, unsubscribe, come back).

use super::{Behaviour, Shopper, say};
use crate::fixtures::{self, CheckoutSpec};
use crate::outbox;
use anyhow::{Context, bail};
use reclaim_core::clock::AnyClock;
use reclaim_core::ports::Clock;
use std::time::Instant;

/// The demo's view of the stack: it talks to the gateway over HTTP like Shopify and shoppers do.
#[derive(Clone)]
pub(super) struct DemoClient {
    pub http: reqwest::Client,
    pub gateway: String,
    /// The emulator's outbox, polled by one task for every shopper.
    pub outbox: tokio::sync::watch::Receiver<Vec<outbox::SentEmail>>,
    pub secret: String,
    pub shop: String,
    /// How long a shopper waits for the first email (real time).
    pub patience: std::time::Duration,
    /// The stack's clock: orders and cart updates happen at its time.
    pub clock: AnyClock,
}

impl DemoClient {
    /// Delivers a signed webhook as Shopify does, retrying while the answer says to (409 while
    /// another attempt processes the same delivery, 5xx), and returns the outcome's status.
    pub(super) async fn deliver(&self, topic: &str, id: &str, body: &serde_json::Value) -> anyhow::Result<String> {
        for attempt in 1..=5 {
            let response =
                fixtures::deliver(&self.http, &self.gateway, &self.secret, &self.shop, topic, id, body).await?;
            let status = response.status();
            if status.is_success() {
                let outcome: serde_json::Value = response.json().await?;
                return Ok(outcome["status"].as_str().unwrap_or_default().to_owned());
            }
            if status != reqwest::StatusCode::CONFLICT && !status.is_server_error() || attempt == 5 {
                bail!("{topic} {id}: HTTP {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
        }
        unreachable!("the last attempt returns or fails")
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
    pub(super) async fn react(&self, shopper: &Shopper, spec: &CheckoutSpec, started: Instant) -> anyhow::Result<()> {
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
                let order = fixtures::order(spec, 7000 + spec.items[0].2, self.clock.now());
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
                self.deliver(
                    "carts/update",
                    &format!("demo-cart-{}", spec.token),
                    &fixtures::cart(spec, self.clock.now()),
                )
                .await?;
                say(started, format!("  {name:<7} came back and changed the cart: the next reminder moves later"));
            }
            _ => {}
        }
        Ok(())
    }
}

pub(super) async fn futures_all<F: std::future::Future<Output = anyhow::Result<String>> + Send + 'static>(
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
