//! `reclaim simulate`: a what-if over historical checkouts. Each line of the input is one
//! checkout, either a platform checkout (a `checkouts/update` body) or the compact
//! [`HistoricalCheckout`] form that `reclaim generate-checkouts` writes. The work is split across
//! the machine's cores, with a progress bar on standard error.

use anyhow::Context;
use chrono::{DateTime, Duration, TimeZone, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use reclaim_core::model::{
    CheckoutRecord, CheckoutSnapshot, CheckoutStage, CheckoutToken, Contact, Currency, Device, Email, LineItem, Money,
    PhoneE164, Region, ShopDomain,
};
use reclaim_core::platform::{PlatformEvent, shopify};
use reclaim_core::rules::simulate::Tally;
use reclaim_core::rules::{DELIVERABLE_CHANNELS, RecoverySettings};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The email and number every compact checkout that has one stands in with (parsed once: a
/// million parses would dominate the simulation).
static STAND_IN_ADDRESSES: std::sync::LazyLock<(Email, PhoneE164)> = std::sync::LazyLock::new(|| {
    (
        Email::parse("shopper@example.com").expect("a valid address"),
        PhoneE164::parse("+12125550100", None).expect("a valid number"),
    )
});

/// One checkout in the compact form: only what the rules look at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoricalCheckout {
    pub token: String,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub total_minor: i64,
    pub currency: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub has_email: bool,
    #[serde(default)]
    pub has_phone: bool,
    #[serde(default)]
    pub accepts_email: bool,
    #[serde(default)]
    pub accepts_sms: bool,
    #[serde(default)]
    pub products: Vec<u64>,
    #[serde(default)]
    pub discount_code: bool,
    #[serde(default)]
    pub previous_orders: Option<u32>,
    #[serde(default)]
    pub stage: CheckoutStage,
    #[serde(default)]
    pub device: Option<Device>,
}

impl HistoricalCheckout {
    fn into_snapshot(self) -> anyhow::Result<CheckoutSnapshot> {
        let currency = Currency::parse(&self.currency)?;
        let money = |minor| Money { minor, currency: currency.clone() };
        let line_items = self
            .products
            .iter()
            .map(|product| LineItem {
                title: String::new(),
                variant_title: None,
                variant_id: None,
                product_id: Some(*product),
                quantity: 1,
                unit_price: money(0),
                image_url: None,
            })
            .collect();
        Ok(CheckoutSnapshot {
            token: CheckoutToken::new(self.token)?,
            cart_token: None,
            contact: Contact {
                email: self.has_email.then(|| STAND_IN_ADDRESSES.0.clone()),
                phone: self.has_phone.then(|| STAND_IN_ADDRESSES.1.clone().into()),
                first_name: None,
                accepts_email_marketing: self.accepts_email,
                accepts_sms_marketing: self.accepts_sms,
            },
            locale: None,
            region: Region { country_code: self.country, province_code: self.province },
            line_items,
            subtotal: money(self.total_minor),
            total: money(self.total_minor),
            restore_url: None,
            created_at: self.created_at,
            updated_at: self.last_activity_at,
            completed_at: None,
            stage: self.stage,
            device: self.device,
            discount_codes: if self.discount_code { vec!["CODE".into()] } else { Vec::new() },
            customer_orders: self.previous_orders,
        })
    }
}

/// Parses one input line into a record.
fn record_of(shop: &ShopDomain, line: &str) -> anyhow::Result<CheckoutRecord> {
    let snapshot = if line.contains("\"line_items\"") {
        match shopify::parse_event("checkouts/update", line.as_bytes())? {
            PlatformEvent::CheckoutUpserted(snapshot) => snapshot,
            _ => anyhow::bail!("not a checkout"),
        }
    } else {
        serde_json::from_str::<HistoricalCheckout>(line)?.into_snapshot()?
    };
    Ok(CheckoutRecord::new(shop.clone(), snapshot))
}

/// What a simulation found, and the lines it could not read.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tally: Tally,
    pub unreadable_lines: u64,
    pub first_error: Option<String>,
}

/// Simulates every checkout of `checkouts` under `settings`.
pub fn run(settings: &RecoverySettings, checkouts: &Path, show_progress: bool) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(checkouts).with_context(|| format!("reading {}", checkouts.display()))?;
    let shop = ShopDomain::parse("simulation.myshopify.com")?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunks = split_lines(&text, threads);
    let done = AtomicU64::new(0);
    let progress = if show_progress { ProgressBar::new(text.len() as u64) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {percent:>3}% {msg}")
            .expect("valid template"),
    );
    let results: Vec<(Tally, u64, Option<String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (shop, done) = (&shop, &done);
                scope.spawn(move || {
                    let (mut tally, mut bad, mut first_error) = (Tally::default(), 0, None);
                    let mut pending = 0u64;
                    for line in chunk.lines() {
                        pending += line.len() as u64 + 1;
                        if pending > 1 << 20 {
                            done.fetch_add(std::mem::take(&mut pending), Ordering::Relaxed);
                        }
                        if line.trim().is_empty() {
                            continue;
                        }
                        match record_of(shop, line) {
                            Ok(record) => tally.add(&record, settings, DELIVERABLE_CHANNELS),
                            Err(error) => {
                                bad += 1;
                                first_error.get_or_insert_with(|| error.to_string());
                            }
                        }
                    }
                    done.fetch_add(pending, Ordering::Relaxed);
                    (tally, bad, first_error)
                })
            })
            .collect();
        while workers.iter().any(|w| !w.is_finished()) {
            progress.set_position(done.load(Ordering::Relaxed));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        workers.into_iter().map(|w| w.join().expect("worker finished")).collect()
    });
    progress.finish_and_clear();
    let mut report = Report { tally: Tally::default(), unreadable_lines: 0, first_error: None };
    for (tally, bad, error) in results {
        report.tally.merge(tally);
        report.unreadable_lines += bad;
        report.first_error = report.first_error.or(error);
    }
    Ok(report)
}

/// Splits text into about `parts` pieces at line boundaries.
fn split_lines(text: &str, parts: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let size = text.len() / parts.max(1) + 1;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while cut < rest.len() && !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let end = rest[cut..].find('\n').map_or(rest.len(), |i| cut + i + 1);
        pieces.push(&rest[..end]);
        rest = &rest[end..];
    }
    pieces
}

/// Writes `count` synthetic checkouts (deterministic for a seed) in the compact form.
pub fn generate(count: u64, seed: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let regions = [
        ("US", "NY"),
        ("US", "CA"),
        ("US", "TX"),
        ("CA", "ON"),
        ("GB", ""),
        ("DE", ""),
        ("FR", ""),
        ("AU", "NSW"),
        ("JP", ""),
    ];
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    for index in 0..count {
        let created = start + Duration::seconds(rng.i64(0..30 * 24 * 3600));
        let (country, province) = regions[rng.usize(..regions.len())];
        let checkout = HistoricalCheckout {
            token: format!("sim{index:010}"),
            created_at: created,
            last_activity_at: created + Duration::seconds(rng.i64(0..3600)),
            total_minor: rng.i64(500..50_000),
            currency: "USD".into(),
            country: Some(country.into()),
            province: (!province.is_empty()).then(|| province.into()),
            has_email: rng.u8(..100) < 85,
            has_phone: rng.bool(),
            accepts_email: rng.u8(..100) < 60,
            accepts_sms: rng.u8(..100) < 20,
            products: (0..rng.usize(1..4)).map(|_| rng.u64(1..200)).collect(),
            discount_code: rng.u8(..100) < 15,
            previous_orders: Some(if rng.bool() { 0 } else { rng.u32(1..10) }),
            stage: [CheckoutStage::Contact, CheckoutStage::Shipping, CheckoutStage::Payment][rng.usize(..3)],
            device: Some(if rng.bool() { Device::Mobile } else { Device::Desktop }),
        };
        serde_json::to_writer(&mut *out, &checkout)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Prints a report for people.
pub fn print(report: &Report) {
    let tally = &report.tally;
    println!("checkouts simulated: {}", tally.checkouts);
    println!("holdout (no message): {}", tally.holdout);
    println!("\nmessages by step and channel:");
    for (key, value) in &tally.sends {
        println!("  {key:<22} {value:>10}");
    }
    println!("\nholds by reason:");
    for (key, value) in &tally.holds {
        println!("  {key:<22} {value:>10}");
    }
    println!("\nsequences ended by:");
    for (key, value) in &tally.stops {
        println!("  {key:<22} {value:>10}");
    }
    println!("\nincentives offered: {}", tally.incentives);
    for (currency, cost) in &tally.incentive_cost {
        println!("  cost if all redeemed: {currency} {}.{:02}", cost / 100, cost % 100);
    }
    if report.unreadable_lines > 0 {
        println!(
            "\n{} lines could not be read; the first: {}",
            report.unreadable_lines,
            report.first_error.as_deref().unwrap_or("?")
        );
    }
}
