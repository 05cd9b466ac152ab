//! The demo's report: one line per shopper and the shop's counters, printed as a table.

use super::Behaviour;
use std::path::PathBuf;

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
    println!(
        "the merchant's app: run `cargo run -p reclaim-local --bin reclaim -- up` and open \
         http://127.0.0.1:4000/app?shop={}",
        super::DEMO_SHOP
    );
}
