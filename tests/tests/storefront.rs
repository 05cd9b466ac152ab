//! The storefront against the emulator: the app proxy's signature is enforced, a capture needs
//! consent, and the theme extension's script works in headless Chromium (tests/node/
//! storefront.test.mjs, run here with the local gateway) — after which the captured cart is
//! recoverable by email.

use chrono::Duration;
use reclaim_core::platform::proxy;
use reclaim_local::fixtures;
use reclaim_tests::{TestStack, epoch};
use serde_json::{Value, json};
use std::path::PathBuf;

fn captures(items: &[reclaim_tests::Item_]) -> Vec<Value> {
    items
        .iter()
        .filter(|i| i["sk"].as_s().unwrap() == "CAPTURE")
        .map(|i| serde_json::from_str(i["capture"].as_s().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn forged_or_stale_proxy_signatures_are_401_and_store_nothing() {
    let stack = TestStack::start("proxy-auth").await;
    let body = json!({"cart_token": "c1", "email": "p@shopper.test", "consent": true}).to_string();
    let post = |query: String| {
        stack.http.post(format!("{}/proxy/capture?{query}", stack.gateway.url())).body(body.clone()).send()
    };
    let signed = |secret: &str, timestamp: i64| {
        let mut pairs = vec![
            ("shop".to_owned(), stack.shop.clone()),
            ("path_prefix".to_owned(), "/apps/reclaim".to_owned()),
            ("timestamp".to_owned(), timestamp.to_string()),
        ];
        let signature = proxy::sign(secret.as_bytes(), &pairs);
        pairs.push(("signature".into(), signature));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    };
    let now = epoch().timestamp();
    assert_eq!(post(signed("forged", now)).await.unwrap().status(), 401);
    assert_eq!(post(signed(&stack.config.shopify_secret, now - 300)).await.unwrap().status(), 401, "stale");
    assert_eq!(post(format!("shop={}", stack.shop)).await.unwrap().status(), 401, "unsigned");
    assert!(stack.items().await.is_empty());
    assert_eq!(post(signed(&stack.config.shopify_secret, now)).await.unwrap().status(), 200);
    assert_eq!(captures(&stack.items().await).len(), 1);
}

#[tokio::test]
async fn a_capture_without_consent_or_address_is_refused() {
    let stack = TestStack::start("capture-consent").await;
    let url = format!("{}/apps/reclaim/capture", stack.gateway.url());
    for body in [
        json!({"cart_token": "c1", "email": "p@shopper.test", "consent": false}),
        json!({"cart_token": "c1", "email": "not an email", "consent": true}),
        json!({"cart_token": "c1", "phone": "12", "consent": true}),
    ] {
        let response = stack.http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
    }
    assert!(stack.items().await.is_empty());
    let settings = stack.http.get(format!("{}/apps/reclaim/settings", stack.gateway.url())).send().await.unwrap();
    assert_eq!(settings.status(), 200);
    let settings: Value = settings.json().await.unwrap();
    assert_eq!(settings["idle_seconds"], 45);
    assert!(settings["consent_text"].as_str().unwrap().contains("unsubscribe"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storefront_script_in_chromium_and_a_captured_cart_recovered() {
    let stack = TestStack::start("storefront-browser").await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join("node/node_modules/playwright-core").exists(), "playwright-core missing: run `make test`");
    let result = std::env::temp_dir().join(format!("reclaim-storefront-{}.json", std::process::id()));
    // The browser talks to the real wall clock's timestamps through the app proxy: keep the
    // stack's clock there while the browser runs.
    use reclaim_core::ports::Clock;
    stack.clock.advance(chrono::Utc::now() - stack.clock.now());
    let status = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "storefront.test.mjs"])
        .current_dir(root.join("node"))
        .env("RECLAIM_BASE", stack.gateway.url())
        .env("RECLAIM_SCREENSHOTS", root.join("../docs/screenshots"))
        .env("RECLAIM_RESULT", &result)
        .status()
        .await
        .unwrap();
    assert!(status.success(), "browser tests failed (see their output above)");

    let cart_token = serde_json::from_str::<Value>(&std::fs::read_to_string(&result).unwrap()).unwrap()["cart_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = captures(&stack.items().await);
    assert_eq!(stored.len(), 1, "one consented capture");
    assert_eq!(stored[0]["email"], "browser@shopper.test");
    assert_eq!(stored[0]["consent"]["source"], "storefront_exit_intent");
    assert!(stored[0]["consent"]["text"].as_str().unwrap().contains("Consent is not a condition"));

    // The cart webhook for that cart now starts a recovery, and the email restores the cart.
    let mut spec = stack.checkout("unused", None);
    spec.cart_token = cart_token.clone();
    spec.updated_at = stack.clock.now();
    assert_eq!(stack.deliver("carts/update", "wh-cart", &fixtures::cart(&spec, stack.clock.now())).await.status(), 200);
    stack.advance_and_pump(Duration::hours(1)).await;
    let emails = stack.emails_to("browser@shopper.test").await;
    assert_eq!(emails.len(), 1);
    let restore = reclaim_tests::link(&emails[0].text, &format!("{}/r/", stack.gateway.url()));
    let response = stack.http.get(restore).send().await.unwrap();
    assert_eq!(response.headers()["location"], "https://test-shop.myshopify.com/cart/55001:2");
    let _ = std::fs::remove_file(result);
}

#[tokio::test]
async fn a_real_checkout_for_a_captured_cart_retires_the_cart_only_recovery() {
    let stack = TestStack::start("capture-then-checkout").await;
    let url = format!("{}/apps/reclaim/capture", stack.gateway.url());
    let capture = json!({"cart_token": "cart-chk-two", "email": "two@shopper.test", "consent": true});
    assert_eq!(stack.http.post(&url).json(&capture).send().await.unwrap().status(), 200);
    let spec = stack.checkout("chk-two", Some("two@shopper.test"));
    assert_eq!(stack.deliver("carts/update", "wh-cart-two", &fixtures::cart(&spec, epoch())).await.status(), 200);
    assert_eq!(stack.schedules().await.len(), 1, "the cart-only recovery is armed");

    // The shopper goes on to a real checkout of the same cart.
    assert_eq!(stack.deliver("checkouts/create", "wh-chk-two", &fixtures::checkout(&spec)).await.status(), 200);
    let shop = stack.shop_domain();
    let token = reclaim_core::model::CheckoutToken::new("cart-cart-chk-two").unwrap();
    let retired = reclaim_core::ports::Checkouts::load_checkout(&stack.services.store, &shop, &token).await.unwrap();
    assert_eq!(retired.unwrap().status, reclaim_core::model::CheckoutStatus::Deleted);
    assert_eq!(stack.schedules().await.len(), 1, "only the real checkout's check is left");
    stack.advance_and_pump(Duration::hours(1)).await;
    stack.pump_until_idle().await;
    assert_eq!(stack.emails_to("two@shopper.test").await.len(), 1, "one sequence, one email");
}
