//! The embedded app in headless Chromium (tests/node/admin.test.mjs) against a local stack: the
//! page and its bundle, the App Bridge stand-in's ID tokens, the rules screen saving through the
//! admin API (field errors, conflicts), the message editor's live preview (a German shopper, the
//! shop's own images), the dashboard against `/admin/stats`, axe-core on every
//! screen, and a screenshot of each for the README.

use chrono::Duration;
use reclaim_core::ports::{SettingsStore, Stats};
use reclaim_local::fixtures;
use reclaim_tests::{TestStack, epoch};
use std::path::PathBuf;

/// Counters named as the stats store keeps them.
fn counters(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(name, amount)| ((*name).to_owned(), *amount)).collect()
}

/// `totals` split over `days` days, unevenly (a chart worth looking at), summing to the totals.
fn spread_over_days(totals: &[(String, i64)], days: i64) -> Vec<(i64, Vec<(String, i64)>)> {
    let weights: Vec<i64> = (0..days).map(|day| 6 + (day * 7) % 11).collect();
    let whole: i64 = weights.iter().sum();
    (0..days)
        .map(|day| {
            let share = |total: i64| {
                let before: i64 = weights[..day as usize].iter().sum();
                total * (before + weights[day as usize]) / whole - total * before / whole
            };
            (day, totals.iter().map(|(name, total)| (name.clone(), share(*total))).collect())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_app_in_chromium_edits_the_rules_and_shows_the_stats_honestly() {
    let stack = TestStack::start("admin-app").await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join("node/node_modules/axe-core").exists(), "axe-core missing: run `make test`");
    let shop = stack.shop_domain();
    // A store with enough carts in both groups for the lift, over two weeks...
    let (seeded_from, seeded_to) = (epoch().date_naive() - Duration::days(13), epoch().date_naive());
    let seeded = counters(&[
        ("abandoned", 2200),
        ("holdout", 200),
        ("treated.converted", 200),
        ("holdout.converted", 10),
        ("treated.revenue.USD", 200 * 8900),
        ("email.sent", 1900),
        ("sms.sent", 240),
        ("push.sent", 35),
        ("sent.step0.email", 1200),
        ("sent.step1.email", 700),
        ("sent.step0.sms", 240),
        ("clicks.step0", 310),
        ("clicks.step1", 95),
        ("recovered.orders", 190),
        ("recovered.revenue.USD", 133_500),
        ("recovered.revenue.EUR", 44_550),
    ]);
    for (day, counters) in spread_over_days(&seeded, 14) {
        stack.services.store.add_to_stats(&shop, seeded_from + Duration::days(day), 0, &counters).await.unwrap();
    }
    // ...and a tiny one, on a day before.
    let tiny_day = seeded_from - Duration::days(10);
    let tiny = counters(&[("abandoned", 7), ("holdout", 1), ("email.sent", 6), ("treated.converted", 1)]);
    stack.services.store.add_to_stats(&shop, tiny_day, 0, &tiny).await.unwrap();

    // A recent checkout with a product image: the message preview shows the shop's own images.
    let image = "https://cdn.shopify.example/files/linen-throw.jpg";
    let mut checkout = fixtures::checkout(&stack.checkout("chk-with-image", Some("image@shopper.test")));
    checkout["line_items"][0]["image_url"] = serde_json::json!(image);
    assert_eq!(stack.deliver("checkouts/create", "wh-with-image", &checkout).await.status(), 200);

    let status = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "admin.test.mjs"])
        .current_dir(root.join("node"))
        .env("RECLAIM_BASE", stack.gateway.url())
        .env("RECLAIM_SHOP", &stack.shop)
        .env("RECLAIM_SEEDED_FROM", seeded_from.to_string())
        .env("RECLAIM_SEEDED_TO", seeded_to.to_string())
        .env("RECLAIM_TINY_DAY", tiny_day.to_string())
        .env("RECLAIM_IMAGE", image)
        .env("RECLAIM_SCREENSHOTS", root.join("../docs/screenshots"))
        .status()
        .await
        .unwrap();
    assert!(status.success(), "browser tests failed (see their output above)");

    // What the browser saved is what the store holds: the delay in the first step, the second
    // step off, and the concurrent save's holdout (the browser's own was refused).
    let saved = stack.services.store.load_settings(&shop).await.unwrap().expect("saved settings");
    let steps = &saved.settings.steps;
    assert_eq!(steps[0].delay(), Duration::hours(2));
    assert!(steps[0].enabled && !steps[1].enabled && steps[2].enabled);
    assert_eq!(saved.settings.policies.holdout_percent, 20);
    // The app installed the shop itself, through the token exchange on open.
    use reclaim_core::ports::Shops;
    assert!(stack.services.store.shop_state(&shop).await.unwrap().installation.is_some(), "installed by the app");
    let german = steps[0].copy.get(reclaim_core::model::Channel::Email, reclaim_core::render::Language::De);
    assert_eq!(german.map(|copy| copy.len()), Some(1), "the German subject the browser saved");
}
