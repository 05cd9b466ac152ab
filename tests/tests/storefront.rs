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
    seen_cart(&stack, "c1").await;
    assert_eq!(post(signed("forged", now)).await.unwrap().status(), 401);
    assert_eq!(post(signed(&stack.config.shopify_secret, now - 300)).await.unwrap().status(), 401, "stale");
    assert_eq!(post(format!("shop={}", stack.shop)).await.unwrap().status(), 401, "unsigned");
    assert!(captures(&stack.items().await).is_empty());
    assert_eq!(post(signed(&stack.config.shopify_secret, now)).await.unwrap().status(), 200);
    assert_eq!(captures(&stack.items().await).len(), 1);
}

/// Delivers the `carts/update` webhook of `cart`, so that Reclaim has seen it.
async fn seen_cart(stack: &TestStack, cart: &str) {
    let mut spec = stack.checkout("unused", None);
    spec.cart_token = cart.to_owned();
    let response = stack.deliver("carts/update", &format!("wh-{cart}"), &fixtures::cart(&spec, epoch())).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_capture_needs_a_seen_cart_takes_one_contact_and_is_rate_limited_per_shop() {
    let stack = TestStack::start("capture-rules").await;
    let url = format!("{}/apps/reclaim/capture", stack.gateway.url());
    let post = |body: Value| stack.http.post(&url).json(&body).send();
    let capture = json!({"cart_token": "cart-rules", "email": "rules@shopper.test", "consent": true});
    let response = post(capture.clone()).await.unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "cart_not_seen");
    assert!(captures(&stack.items().await).is_empty(), "nothing stored for an unseen cart");
    seen_cart(&stack, "cart-rules").await;
    let response = post(capture.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "captured");
    assert_eq!(post(capture.clone()).await.unwrap().json::<Value>().await.unwrap()["status"], "already_captured");
    let other = json!({"cart_token": "cart-rules", "email": "mallory@attacker.test", "consent": true});
    let response = post(other).await.unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "cart_has_contact");
    let stored = captures(&stack.items().await);
    assert_eq!((stored.len(), stored[0]["email"].as_str()), (1, Some("rules@shopper.test")));
    // Header injection never becomes an address, whatever else the body carries.
    let injected = json!({"cart_token": "cart-rules", "email": "me@x.co>
Bcc: <a@t.test>", "phone": "+12125550142", "consent": true});
    assert_eq!(post(injected).await.unwrap().status(), 400);
    // The shop's rate: every request counts, then 429 until the next minute.
    let mut statuses = Vec::new();
    for i in 0..130 {
        let body = json!({"cart_token": format!("unseen-{i}"), "email": "flood@attacker.test", "consent": true});
        statuses.push(post(body).await.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429), "the flood is limited");
    assert!(statuses.iter().all(|s| *s == 409 || *s == 429), "{statuses:?}");
    stack.clock.advance(Duration::minutes(1));
    assert_eq!(
        post(json!({"cart_token": "unseen-x", "email": "a@shopper.test", "consent": true})).await.unwrap().status(),
        409
    );
    assert_eq!(captures(&stack.items().await).len(), 1, "still the one capture");
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

    // The storefront sent the cart's webhook when the shopper added to it (as Shopify does), so
    // the capture started the cart's recovery at once; the email restores exactly that cart.
    use reclaim_core::ports::Carts;
    let cart = reclaim_core::model::CartToken::new(cart_token.clone()).unwrap();
    let seen = stack.services.store.load_cart(&stack.shop_domain(), &cart).await.unwrap();
    assert_eq!(seen.map(|c| c.line_items.len()), Some(1), "the cart webhook arrived with the add to cart");
    stack.advance_and_pump(Duration::hours(1)).await;
    let emails = stack.emails_to("browser@shopper.test").await;
    assert_eq!(emails.len(), 1);
    let restore = reclaim_tests::link(&emails[0].text, &format!("{}/r/", stack.gateway.url()));
    let response = stack.http.get(restore).send().await.unwrap();
    assert_eq!(response.headers()["location"], "https://test-shop.myshopify.com/cart/44001001:1", "the linen throw");
    let _ = std::fs::remove_file(result);
}

#[tokio::test]
async fn a_real_checkout_for_a_captured_cart_retires_the_cart_only_recovery() {
    let stack = TestStack::start("capture-then-checkout").await;
    let url = format!("{}/apps/reclaim/capture", stack.gateway.url());
    let capture = json!({"cart_token": "cart-chk-two", "email": "two@shopper.test", "consent": true});
    let spec = stack.checkout("chk-two", Some("two@shopper.test"));
    assert_eq!(stack.deliver("carts/update", "wh-cart-two", &fixtures::cart(&spec, epoch())).await.status(), 200);
    assert_eq!(stack.http.post(&url).json(&capture).send().await.unwrap().status(), 200);
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
