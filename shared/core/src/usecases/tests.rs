//! Use-case tests against in-memory ports: the flow of one cart without AWS.

use super::*;
use crate::clock::ManualClock;
use crate::model::*;
use crate::platform::shopify::sign_webhook;
use crate::ports::*;
use crate::testing::{
    MemoryEvents, MemoryJobs, MemoryMessenger, MemoryPlatform, MemoryScheduler, MemoryStore, MemoryVault,
};
use chrono::TimeZone;
use std::collections::HashMap;

type TestPorts = Services<
    MemoryStore,
    MemoryScheduler,
    MemoryMessenger,
    MemoryEvents,
    ManualClock,
    MemoryVault,
    MemoryPlatform,
    MemoryJobs,
>;

const SECRET: &[u8] = b"unit-test-secret";

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap()
}

fn ports() -> TestPorts {
    Services {
        store: MemoryStore::default(),
        scheduler: MemoryScheduler::default(),
        messenger: MemoryMessenger::default(),
        events: MemoryEvents::default(),
        clock: ManualClock::starting_at(start()),
        vault: MemoryVault,
        platform: MemoryPlatform::default(),
        jobs: MemoryJobs::default(),
        config: Config {
            webhook_secrets: crate::platform::shopify::WebhookSecrets::new(SECRET, None),
            links: crate::links::LinkSigner::new(b"links-secret-links-secret-links!"),
            public_base_url: "https://reclaim.test".into(),
            sender: "Reclaim <r@example.com>".into(),
            shopify_api_key: "api-key".into(),
            shopify_api_secret: SECRET.to_vec(),
            shop_daily_send_cap: None,
            sms_budget_ceiling: None,
            app_bridge_url: super::APP_BRIDGE_CDN.into(),
        },
    }
}

fn shop() -> ShopDomain {
    ShopDomain::parse("shop-a.myshopify.com").unwrap()
}

/// Every counter of shop A, over all days.
async fn all_stats(ports: &TestPorts) -> std::collections::BTreeMap<String, i64> {
    let (from, to) = (start().date_naive(), start().date_naive() + chrono::Duration::days(365));
    ports.store.stats(&shop(), from, to).await.unwrap()
}

fn checkout_body(updated_minutes: i64) -> String {
    serde_json::json!({
        "token": "chk-1", "cart_token": "cart-1", "email": "Ada@Example.com", "currency": "USD", "buyer_accepts_marketing": true,
        "created_at": start().to_rfc3339(),
        "updated_at": (start() + chrono::Duration::minutes(updated_minutes)).to_rfc3339(),
        "total_price": "20.00", "subtotal_price": "20.00",
        "abandoned_checkout_url": "https://shop-a.myshopify.com/1/checkouts/chk-1/recover",
        "line_items": [{"title": "Mug", "variant_id": 7, "quantity": 2, "price": "10.00"}]
    })
    .to_string()
}

async fn deliver(ports: &TestPorts, topic: &str, id: &str, body: &str) -> Result<IngestOutcome, UseCaseError> {
    let signature = sign_webhook(SECRET, body.as_bytes());
    let headers: HashMap<&str, &str> = [
        ("x-shopify-topic", topic),
        ("x-shopify-hmac-sha256", signature.as_str()),
        ("x-shopify-shop-domain", "shop-a.myshopify.com"),
        ("x-shopify-webhook-id", id),
    ]
    .into();
    let delivery = verify_webhook(&ports.config, "shopify", |name| headers.get(name).copied(), body.as_bytes())?;
    let outcome = ingest_webhook(ports, delivery).await;
    run_jobs(ports).await;
    outcome
}

/// Runs every queued job to the end, batch after batch, as the jobs function does.
async fn run_jobs(ports: &TestPorts) -> usize {
    let mut runs = 0;
    loop {
        let jobs = ports.jobs.take();
        if jobs.is_empty() {
            return runs;
        }
        for job in jobs {
            privacy::run_job(ports, &job).await.unwrap();
            runs += 1;
        }
    }
}

/// Fires every schedule due now, like the scheduler (and the local pump) does.
async fn fire_due(ports: &TestPorts) -> Vec<CheckOutcome> {
    let mut outcomes = Vec::new();
    for check in ports.scheduler.take_due(ports.clock.now()) {
        outcomes.push(run_check(ports, &check.input).await.unwrap());
    }
    outcomes
}

#[tokio::test]
async fn a_stalled_checkout_gets_each_step_once_then_stops() {
    let p = ports();
    assert_eq!(deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap(), IngestOutcome::Accepted);
    assert_eq!(p.scheduler.len(), 1);
    for hours in [1, 24, 72] {
        p.clock.advance(chrono::Duration::hours(hours) - (p.clock.now() - start()));
        fire_due(&p).await;
        assert_eq!(
            p.messenger.emails.lock().unwrap().len() as i64,
            [1, 24, 72].iter().position(|h| *h == hours).unwrap() as i64 + 1
        );
    }
    p.clock.advance(chrono::Duration::days(30));
    fire_due(&p).await;
    let sent = p.messenger.emails.lock().unwrap();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].to, "ada@example.com");
    assert!(sent[0].text.contains("https://reclaim.test/r/"));
    assert!(p.scheduler.is_empty());
}

#[tokio::test]
async fn duplicates_and_stale_updates_change_nothing() {
    let p = ports();
    deliver(&p, "checkouts/update", "w2", &checkout_body(10)).await.unwrap();
    assert_eq!(deliver(&p, "checkouts/update", "w2", &checkout_body(10)).await.unwrap(), IngestOutcome::Duplicate);
    assert_eq!(deliver(&p, "checkouts/update", "w1", &checkout_body(5)).await.unwrap(), IngestOutcome::Stale);
    let record = p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(record.snapshot.updated_at, start() + chrono::Duration::minutes(10));
    assert_eq!(p.scheduler.len(), 1);
}

#[tokio::test]
async fn an_order_between_the_check_and_the_claim_stops_the_send() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(2));
    p.store.before_next_claim(|store: &MemoryStore| {
        store.tamper_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap(), |record| {
            record.status = CheckoutStatus::Converted;
        });
    });
    let outcomes = fire_due(&p).await;
    assert_eq!(outcomes, vec![CheckOutcome::Stopped { reason: crate::rules::StopReason::Converted }]);
    assert!(p.messenger.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_order_after_a_message_is_recovered_revenue() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(1));
    fire_due(&p).await;
    let order = serde_json::json!({"id": 99, "checkout_token": "chk-1", "currency": "USD", "total_price": "20.00",
        "created_at": (start() + chrono::Duration::hours(3)).to_rfc3339()})
    .to_string();
    deliver(&p, "orders/create", "w9", &order).await.unwrap();
    deliver(&p, "orders/paid", "w10", &order).await.unwrap();
    let stats = all_stats(&p).await;
    assert_eq!(stats.get("recovered.orders"), Some(&1));
    assert_eq!(stats.get("recovered.revenue.USD"), Some(&2000));
    assert_eq!(stats.get("converted"), Some(&1));
    assert!(p.scheduler.is_empty(), "armed follow-up must be cancelled");
    p.clock.advance(chrono::Duration::days(3));
    fire_due(&p).await;
    assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn unsubscribe_stops_the_sequence() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(1));
    fire_due(&p).await;
    let url = p.messenger.emails.lock().unwrap()[0].unsubscribe_url.clone();
    unsubscribe(&p, url.rsplit('/').next().unwrap(), UnsubscribeScope::Email).await.unwrap();
    p.clock.advance(chrono::Duration::days(5));
    fire_due(&p).await;
    assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn restore_link_redirects_to_the_shop_only() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(1));
    fire_due(&p).await;
    let text = p.messenger.emails.lock().unwrap()[0].text.clone();
    let token = text.split("/r/").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let target = follow_restore_link(&p, &token).await.unwrap();
    assert_eq!(target.location, "https://shop-a.myshopify.com/1/checkouts/chk-1/recover");
    assert_eq!(all_stats(&p).await.get("clicks.step0"), Some(&1));
}

#[test]
fn foreign_restore_urls_fall_back_to_a_cart_permalink() {
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    let body = checkout_body(0);
    let crate::platform::PlatformEvent::CheckoutUpserted(mut snapshot) =
        crate::platform::shopify::parse_event("checkouts/create", body.as_bytes()).unwrap()
    else {
        panic!()
    };
    for evil in [
        "https://evil.example/x",
        "http://shop-a.myshopify.com/x",
        "https://shop-a.myshopify.com.evil.example/",
        "javascript:alert(1)",
        "https://shop-a.myshopify.com:8443/x",
    ] {
        snapshot.restore_url = Some(evil.into());
        assert_eq!(restore_location_for_test(&shop, &snapshot), "https://shop-a.myshopify.com/cart/7:2", "{evil}");
    }
}

fn restore_location_for_test(shop: &ShopDomain, snapshot: &CheckoutSnapshot) -> String {
    super::links::restore_location(shop, snapshot)
}

#[tokio::test]
async fn an_uninstall_stops_the_sequence_and_destroys_the_token() {
    let p = ports();
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    let access = p.vault.seal(&shop, "shpat_secret").await.unwrap();
    let token = StoredToken { access, access_expires_at: None, refresh: None, refresh_expires_at: None };
    p.store.save_token(&shop, &token).await.unwrap();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    assert_eq!(p.scheduler.len(), 1);
    deliver(&p, "app/uninstalled", "w2", r#"{"id": 1}"#).await.unwrap();
    assert!(p.scheduler.is_empty(), "every armed check cancelled");
    assert!(p.store.load_token(&shop).await.unwrap().is_none());
    // The check that was armed no longer counts.
    let input =
        CheckInput { shop: shop.clone(), checkout: CheckoutToken::new("chk-1").unwrap(), step: 0, generation: 0 };
    p.clock.advance(chrono::Duration::hours(2));
    assert_eq!(run_check(&p, &input).await.unwrap(), CheckOutcome::Superseded);
    assert!(p.messenger.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_check_for_an_uninstalled_shop_stops_even_if_its_schedule_survived() {
    let p = ports();
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    let at = p.clock.now();
    p.store.update_shop_state(&shop, |state| state.uninstalled_at.replace(at).is_none()).await.unwrap();
    p.clock.advance(chrono::Duration::hours(2));
    let outcomes = fire_due(&p).await;
    assert_eq!(outcomes, [CheckOutcome::Stopped { reason: crate::rules::StopReason::Uninstalled }]);
    assert!(p.messenger.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_install_callback_stores_the_sealed_token_once() {
    use crate::platform::oauth::{OAuthError, sign_query, state_cookie};
    use crate::usecases::install::{complete_install, verify_install_callback};
    let p = ports();
    let shop = ShopDomain::parse("shop-a.myshopify.com").unwrap();
    let mut pairs: Vec<(String, String)> = [
        ("code", "code-1"),
        ("shop", "shop-a.myshopify.com"),
        ("state", "nonce"),
        ("timestamp", &p.clock.now().timestamp().to_string()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let hmac = sign_query(SECRET, &pairs);
    pairs.push(("hmac".into(), hmac));
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
    let cookie = state_cookie(SECRET, &shop, "nonce");
    let cookie = cookie.split(';').next().unwrap();

    let verified = verify_install_callback(&p, Some(&query), Some(cookie)).unwrap();
    let location = complete_install(&p, verified.clone()).await.unwrap();
    assert_eq!(location, "https://shop-a.myshopify.com/admin/apps/api-key");
    let sealed = p.store.load_token(&shop).await.unwrap().expect("token stored");
    assert_ne!(sealed.access.ciphertext, "token-for-code-1", "stored sealed, not in plain text");
    assert_eq!(p.vault.open(&shop, &sealed.access).await.unwrap(), "token-for-code-1");
    let state = p.store.shop_state(&shop).await.unwrap();
    assert_eq!(state.installation.unwrap().contact_email.as_deref(), Some("owner@shop-a.test"));

    let replay =
        complete_install(&p, verify_install_callback(&p, Some(&query), Some(cookie)).unwrap()).await.unwrap_err();
    assert!(matches!(replay, UseCaseError::Install(OAuthError::CodeReused)), "{replay:?}");
}

fn cart_body(updated_minutes: i64) -> String {
    serde_json::json!({
        "id": "cart-1", "token": "cart-1",
        "updated_at": (start() + chrono::Duration::minutes(updated_minutes)).to_rfc3339(),
        "line_items": [{"title": "Mug", "variant_id": 7, "quantity": 2, "price": "10.00"}]
    })
    .to_string()
}

fn capture_request(email: &str) -> storefront::CaptureRequest {
    let body = serde_json::json!({"cart_token": "cart-1", "email": email, "consent": true, "source": "exit_intent"});
    storefront::CaptureRequest::from_json(body.to_string().as_bytes()).unwrap()
}

#[tokio::test]
async fn a_capture_on_a_known_cart_starts_a_cart_only_recovery_with_the_permalink() {
    let p = ports();
    deliver(&p, "carts/create", "w-cart", &cart_body(0)).await.unwrap();
    assert!(p.scheduler.is_empty(), "a cart without a contact is not recoverable");
    storefront::capture(&p, &shop(), capture_request("Grace@Example.com")).await.unwrap();
    let capture = p.store.load_capture(&shop(), &CartToken::new("cart-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(capture.email.as_deref(), Some("grace@example.com"));
    assert_eq!(capture.consent.at, start(), "the evidence carries the server's time");
    let record = p.store.load_checkout(&shop(), &CheckoutToken::new("cart-cart-1").unwrap()).await.unwrap().unwrap();
    assert!(record.armed.is_some(), "the cart's own recovery is armed");
    p.clock.advance(chrono::Duration::hours(2));
    fire_due(&p).await;
    let sent = p.messenger.emails.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "grace@example.com");
    let token = sent[0].text.split("/r/").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let target = follow_restore_link(&p, &token).await.unwrap();
    assert_eq!(target.location, "https://shop-a.myshopify.com/cart/7:2", "the cart permalink on the shop");
}

#[tokio::test]
async fn a_capture_needs_a_cart_seen_for_the_shop_and_takes_one_contact_per_cart() {
    use storefront::CaptureOutcome;
    let p = ports();
    let refused = storefront::capture(&p, &shop(), capture_request("grace@example.com")).await.unwrap_err();
    assert!(matches!(refused, UseCaseError::CartNotSeen), "{refused:?}");
    assert!(p.store.load_capture(&shop(), &CartToken::new("cart-1").unwrap()).await.unwrap().is_none());
    deliver(&p, "carts/update", "w-cart", &cart_body(1)).await.unwrap();
    let first = storefront::capture(&p, &shop(), capture_request("grace@example.com")).await.unwrap();
    assert_eq!(first, CaptureOutcome::Captured);
    assert_eq!(p.scheduler.len(), 1, "the cart's recovery starts");
    let again = storefront::capture(&p, &shop(), capture_request("Grace@example.com")).await.unwrap();
    assert_eq!(again, CaptureOutcome::AlreadyCaptured, "the same contact again changes nothing");
    let other = storefront::capture(&p, &shop(), capture_request("mallory@example.com")).await.unwrap_err();
    assert!(matches!(other, UseCaseError::CartHasContact), "{other:?}");
    let kept = p.store.load_capture(&shop(), &CartToken::new("cart-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(kept.email.as_deref(), Some("grace@example.com"), "the first contact stays");
    // Another shop has not seen this cart.
    let elsewhere = ShopDomain::parse("shop-b.myshopify.com").unwrap();
    let foreign = storefront::capture(&p, &elsewhere, capture_request("grace@example.com")).await.unwrap_err();
    assert!(matches!(foreign, UseCaseError::CartNotSeen));
}

#[tokio::test]
async fn captures_beyond_the_shops_rate_are_refused_until_the_next_minute() {
    let p = ports();
    for _ in 0..storefront::CAPTURES_PER_MINUTE {
        let outcome = storefront::capture(&p, &shop(), capture_request("grace@example.com")).await;
        assert!(matches!(outcome, Err(UseCaseError::CartNotSeen)), "{outcome:?}");
    }
    let limited = storefront::capture(&p, &shop(), capture_request("grace@example.com")).await.unwrap_err();
    assert!(matches!(limited, UseCaseError::TooManyRequests), "{limited:?}");
    let elsewhere = ShopDomain::parse("shop-b.myshopify.com").unwrap();
    let other_shop = storefront::capture(&p, &elsewhere, capture_request("grace@example.com")).await.unwrap_err();
    assert!(matches!(other_shop, UseCaseError::CartNotSeen), "per shop");
    p.clock.advance(chrono::Duration::minutes(1));
    let later = storefront::capture(&p, &shop(), capture_request("grace@example.com")).await.unwrap_err();
    assert!(matches!(later, UseCaseError::CartNotSeen), "the next minute: {later:?}");
}

#[tokio::test]
async fn a_real_checkout_takes_the_captured_contact_and_retires_the_cart_recovery() {
    let p = ports();
    deliver(&p, "carts/create", "w-cart", &cart_body(0)).await.unwrap();
    storefront::capture(&p, &shop(), capture_request("grace@example.com")).await.unwrap();
    let mut body: serde_json::Value = serde_json::from_str(&checkout_body(5)).unwrap();
    body.as_object_mut().unwrap().remove("email");
    deliver(&p, "checkouts/create", "w-chk", &body.to_string()).await.unwrap();
    let checkout = p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(checkout.snapshot.contact.email.as_deref(), Some("grace@example.com"), "the capture fills the gap");
    let cart_only = p.store.load_checkout(&shop(), &CheckoutToken::new("cart-cart-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(cart_only.status, CheckoutStatus::Deleted, "one sequence, not two");
    assert_eq!(p.scheduler.len(), 1, "only the real checkout's check is armed");
}

#[test]
fn a_capture_without_consent_or_address_is_refused_at_the_edge() {
    for body in [
        r#"{"cart_token": "cart-1", "email": "a@b.co", "consent": false}"#,
        r#"{"cart_token": "cart-1", "email": "not-an-address", "consent": true}"#,
        r#"{"cart_token": "cart-1", "email": "me@x.co>\r\nBcc: <a@t.test>", "phone": "+12125550142", "consent": true}"#,
        r#"{"cart_token": "cart-1", "email": "a@b.co, c@d.co", "consent": true}"#,
        r#"{"cart_token": "cart-1", "email": "Ada <a@b.co>", "consent": true}"#,
        r#"{"cart_token": "cart-1", "email": "a@b.co", "phone": "12", "consent": true}"#,
        r#"{"cart_token": "", "email": "a@b.co", "consent": true}"#,
        r#"{"cart_token": "cart-1", "consent": true}"#,
        r#"{"cart_token": "cart-1", "email": "a@b.co", "consent": true, "extra": 1}"#,
    ] {
        let refused = storefront::CaptureRequest::from_json(body.as_bytes()).unwrap_err();
        assert!(matches!(refused, UseCaseError::BadRequest(_)), "{body}: {refused:?}");
    }
}

#[tokio::test]
async fn a_settings_save_from_a_stale_version_is_a_conflict_and_changes_nothing() {
    let p = ports();
    let update = |version: u64, holdout: u8| {
        let settings =
            serde_json::json!({"steps": [{"name": "first", "delay": "1h"}], "policies": {"holdout_percent": holdout}});
        let body = serde_json::json!({"version": version, "settings": settings});
        admin::SettingsUpdate::from_json(body.to_string().as_bytes()).unwrap()
    };
    assert_eq!(admin::put_settings(&p, &shop(), update(0, 10)).await.unwrap().version, 1);
    let conflict = admin::put_settings(&p, &shop(), update(0, 30)).await.unwrap_err();
    assert!(matches!(conflict, UseCaseError::StaleVersion), "{conflict:?}");
    let stored = admin::get_settings(&p, &shop()).await.unwrap();
    assert_eq!((stored.version, stored.settings.policies.holdout_percent), (1, 10), "the first save stands");
    assert_eq!(admin::put_settings(&p, &shop(), update(1, 30)).await.unwrap().version, 2);
}

#[tokio::test]
async fn a_compliance_webhook_whose_body_names_another_shop_is_refused_and_deletes_nothing() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    let other = serde_json::json!({"shop_id": 2, "shop_domain": "shop-b.myshopify.com"}).to_string();
    let refused = deliver(&p, "shop/redact", "w2", &other).await.unwrap_err();
    assert!(
        matches!(refused, UseCaseError::Delivery(crate::platform::DeliveryError::InvalidHeader { .. })),
        "{refused:?}"
    );
    assert!(p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().is_some());
    let own = serde_json::json!({"shop_id": 1, "shop_domain": "shop-a.myshopify.com"}).to_string();
    assert_eq!(deliver(&p, "shop/redact", "w3", &own).await.unwrap(), IngestOutcome::Accepted);
    assert!(p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_webhook_whose_attempt_crashed_is_processed_once_its_lease_runs_out() {
    let p = ports();
    let id = WebhookId::new("w-crash").unwrap();
    // An attempt began and died (a timeout, a crash) without finishing or releasing.
    let now = p.clock.now();
    p.store
        .begin_delivery(&shop(), &id, "crashed-attempt", now, now + DELIVERY_LEASE, now + DELIVERY_DEDUPE_TTL)
        .await
        .unwrap();
    let retry = deliver(&p, "checkouts/create", "w-crash", &checkout_body(0)).await.unwrap_err();
    assert!(matches!(retry, UseCaseError::DeliveryInProgress), "a live lease: retry later ({retry:?})");
    assert!(p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().is_none());
    p.clock.advance(DELIVERY_LEASE + chrono::Duration::seconds(1));
    assert_eq!(deliver(&p, "checkouts/create", "w-crash", &checkout_body(0)).await.unwrap(), IngestOutcome::Accepted);
    assert!(p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().is_some());
    assert_eq!(deliver(&p, "checkouts/create", "w-crash", &checkout_body(0)).await.unwrap(), IngestOutcome::Duplicate);
}

#[tokio::test]
async fn an_order_that_overtakes_its_checkout_means_the_checkout_is_never_reminded() {
    let p = ports();
    let order = serde_json::json!({"id": 77, "checkout_token": "chk-1", "cart_token": "cart-1", "currency": "USD",
        "total_price": "20.00", "created_at": start().to_rfc3339()})
    .to_string();
    deliver(&p, "orders/create", "w-order", &order).await.unwrap();
    deliver(&p, "checkouts/create", "w-chk", &checkout_body(0)).await.unwrap();
    let record = p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(record.status, CheckoutStatus::Converted);
    assert_eq!(record.conversion.map(|c| c.order_id.to_string()), Some("77".to_owned()));
    assert!(p.scheduler.is_empty(), "nothing armed");
    p.clock.advance(chrono::Duration::days(3));
    fire_due(&p).await;
    assert!(p.messenger.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_order_that_overtakes_a_checkout_of_its_cart_is_honoured_by_cart_token() {
    let p = ports();
    let order = serde_json::json!({"id": 78, "cart_token": "cart-1", "currency": "USD", "total_price": "20.00",
        "created_at": start().to_rfc3339()})
    .to_string();
    deliver(&p, "orders/create", "w-order", &order).await.unwrap();
    deliver(&p, "checkouts/create", "w-chk", &checkout_body(0)).await.unwrap();
    let record = p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(record.status, CheckoutStatus::Converted);
    assert!(p.scheduler.is_empty(), "nothing armed");
}

fn customer_update(email_state: &str, minutes: i64) -> String {
    serde_json::json!({
        "id": 5, "email": "ada@example.com",
        "email_marketing_consent": {"state": email_state, "opt_in_level": "single_opt_in",
            "consent_updated_at": (start() + chrono::Duration::minutes(minutes)).to_rfc3339()},
    })
    .to_string()
}

#[tokio::test]
async fn withdrawn_email_consent_stops_reminders_and_an_older_update_never_undoes_it() {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    deliver(&p, "customers/update", "w2", &customer_update("unsubscribed", 10)).await.unwrap();
    // An older statement (subscribed at minute 5) arrives late: it changes nothing.
    deliver(&p, "customers/update", "w3", &customer_update("subscribed", 5)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(2));
    let outcomes = fire_due(&p).await;
    assert_eq!(outcomes, [CheckOutcome::Stopped { reason: crate::rules::StopReason::Unsubscribed }]);
    assert!(p.messenger.emails.lock().unwrap().is_empty(), "the checkout's own consent does not override it");
    let key = ContactKey::for_email(&shop(), "ada@example.com");
    let state = p.store.contact(&shop(), &key).await.unwrap();
    assert_eq!(state.email_suppressed.map(|s| s.reason), Some(SuppressionReason::ConsentWithdrawn));
    // A newer subscription lifts what the withdrawal did.
    deliver(&p, "customers/update", "w4", &customer_update("subscribed", 200)).await.unwrap();
    assert!(p.store.contact(&shop(), &key).await.unwrap().email_suppressed.is_none());
}

#[test]
fn a_stop_is_not_lifted_by_a_later_subscription_on_the_platform() {
    let mut state = ContactState::default();
    let stop = Suppression { reason: SuppressionReason::StopReply, at: start() };
    state.suppress(Channel::Sms, &stop);
    let subscribed = MarketingConsent { subscribed: true, withdrawn: false, updated_at: Some(start()) };
    state.apply_marketing_consent(Channel::Sms, &subscribed, None, start());
    assert_eq!(state.sms_suppressed, Some(stop), "only the shopper's own STOP-side action lifts a STOP");
}

/// Delivery semantics: what a provider's answer (or its absence) does to a claimed step.
mod delivery_semantics {
    use super::*;
    use crate::usecases::check::{MAX_SEND_ATTEMPTS, PENDING_LEASE, retry_backoff};

    fn chk() -> CheckoutToken {
        CheckoutToken::new("chk-1").unwrap()
    }

    async fn step_zero(p: &TestPorts) -> MessageRecord {
        p.store.messages(&shop(), &chk()).await.unwrap().into_iter().find(|m| m.step == 0).unwrap()
    }

    /// A checkout whose first step falls due now.
    async fn due_checkout() -> TestPorts {
        let p = ports();
        deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
        p.clock.advance(chrono::Duration::hours(1));
        p
    }

    #[tokio::test]
    async fn a_throttled_send_is_released_and_goes_out_once_after_its_backoff() {
        let p = due_checkout().await;
        p.messenger.fail_next([PortError::Unavailable("TooManyRequestsException".into())]);
        let retry_at = p.clock.now() + retry_backoff(1);
        assert_eq!(fire_due(&p).await, [CheckOutcome::Retrying { step: 0, attempt: 1, at: retry_at }]);
        assert!(p.messenger.emails.lock().unwrap().is_empty());
        assert_eq!(step_zero(&p).await.state, DeliveryState::Released);
        assert_eq!(fire_due(&p).await, [], "nothing before the backoff");
        p.clock.advance(retry_backoff(1));
        let outcomes = fire_due(&p).await;
        assert!(matches!(outcomes[..], [CheckOutcome::Sent { step: 0, .. }]), "{outcomes:?}");
        assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
        let message = step_zero(&p).await;
        assert_eq!((message.state, message.attempt), (DeliveryState::Sent, 2));
        let stats = all_stats(&p).await;
        assert_eq!((stats.get("released.step0"), stats.get("sent.step0")), (Some(&1), Some(&1)));
        assert_eq!(stats.get("abandoned"), Some(&1), "the cart counts once");
    }

    #[tokio::test]
    async fn a_step_that_keeps_failing_is_failed_after_the_last_attempt_and_the_sequence_moves_on() {
        let p = due_checkout().await;
        let outage = (0..MAX_SEND_ATTEMPTS).map(|_| PortError::Unavailable("ServiceUnavailable".into()));
        p.messenger.fail_next(outage);
        let mut outcomes = Vec::new();
        for attempt in 1..=MAX_SEND_ATTEMPTS {
            outcomes.extend(fire_due(&p).await);
            p.clock.advance(retry_backoff(attempt));
        }
        let retries = outcomes.iter().filter(|o| matches!(o, CheckOutcome::Retrying { step: 0, .. })).count();
        assert_eq!(retries as u32, MAX_SEND_ATTEMPTS - 1, "{outcomes:?}");
        assert!(matches!(outcomes.last(), Some(CheckOutcome::Failed { step: 0, .. })), "{outcomes:?}");
        assert_eq!(step_zero(&p).await.state, DeliveryState::Failed);
        let stats = all_stats(&p).await;
        assert_eq!(stats.get("failed.step0"), Some(&1));
        assert_eq!(stats.get("released.step0"), Some(&(i64::from(MAX_SEND_ATTEMPTS) - 1)));
        // The provider is back: the next step goes out as planned, the failed one never.
        p.clock.advance(chrono::Duration::days(1));
        fire_due(&p).await;
        let emails = p.messenger.emails.lock().unwrap();
        assert_eq!(emails.len(), 1, "step 1 only");
        assert_eq!(p.store.messages(&shop(), &chk()).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_answer_lost_after_the_send_is_uncertain_and_never_sent_again() {
        let p = due_checkout().await;
        p.messenger.fail_next([PortError::Ambiguous("timeout after the request left".into())]);
        assert_eq!(fire_due(&p).await, [CheckOutcome::Uncertain { step: 0 }]);
        assert_eq!(p.messenger.emails.lock().unwrap().len(), 1, "the provider did send it");
        p.clock.advance(chrono::Duration::minutes(90));
        assert_eq!(fire_due(&p).await, [], "no retry of step 0");
        assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
        assert_eq!(all_stats(&p).await.get("uncertain.step0"), Some(&1));
        assert_eq!(step_zero(&p).await.state, DeliveryState::Uncertain);
    }

    #[tokio::test]
    async fn a_refused_message_fails_at_once_and_is_not_retried() {
        let p = due_checkout().await;
        p.messenger.fail_next([PortError::Rejected("MessageRejected".into())]);
        let outcomes = fire_due(&p).await;
        assert!(matches!(&outcomes[..], [CheckOutcome::Failed { step: 0, reason }] if reason == "MessageRejected"));
        let stats = all_stats(&p).await;
        assert_eq!((stats.get("failed.step0"), stats.get("released.step0")), (Some(&1), None));
    }

    #[tokio::test]
    async fn a_claim_left_pending_by_a_crashed_check_becomes_uncertain_and_the_next_step_follows() {
        let p = due_checkout().await;
        let crashed = MessageRecord {
            owner: "crashed-check".into(),
            ..MessageRecord::claimed(0, Channel::Email, p.clock.now() - PENDING_LEASE - chrono::Duration::minutes(1))
        };
        let expires = p.clock.now() + chrono::Duration::days(90);
        assert_eq!(p.store.claim_message(&shop(), &chk(), &crashed, expires).await.unwrap(), ClaimOutcome::Claimed);
        let outcomes = fire_due(&p).await;
        assert!(matches!(outcomes[..], [CheckOutcome::Rearmed { step: 1, .. }]), "{outcomes:?}");
        assert!(p.messenger.emails.lock().unwrap().is_empty(), "step 0 is never sent twice");
        assert_eq!(step_zero(&p).await.state, DeliveryState::Uncertain);
        assert_eq!(all_stats(&p).await.get("uncertain.step0"), Some(&1));
    }

    #[tokio::test]
    async fn a_young_pending_claim_is_left_to_its_check() {
        let p = due_checkout().await;
        let in_flight =
            MessageRecord { owner: "other-check".into(), ..MessageRecord::claimed(0, Channel::Email, p.clock.now()) };
        let expires = p.clock.now() + chrono::Duration::days(90);
        p.store.claim_message(&shop(), &chk(), &in_flight, expires).await.unwrap();
        fire_due(&p).await;
        assert_eq!(step_zero(&p).await.state, DeliveryState::Pending, "still the other check's");
        assert!(p.messenger.emails.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_operators_daily_cap_holds_a_shops_sends_until_the_next_utc_day() {
    let mut p = ports();
    p.config.shop_daily_send_cap = Some(1);
    for (token, email) in [("chk-1", "Ada@Example.com"), ("chk-2", "bo@example.com")] {
        let body = checkout_body(0).replace("chk-1", token).replace("Ada@Example.com", email);
        deliver(&p, "checkouts/create", &format!("w-{token}"), &body).await.unwrap();
    }
    p.clock.advance(chrono::Duration::hours(1));
    let outcomes = fire_due(&p).await;
    let midnight = Utc.with_ymd_and_hms(2026, 4, 2, 0, 0, 0).unwrap();
    let held = CheckOutcome::Rearmed { step: 0, at: midnight, reason: crate::rules::WaitReason::DailyCap };
    assert_eq!(outcomes.iter().filter(|o| matches!(o, CheckOutcome::Sent { .. })).count(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&held), "{outcomes:?}");
    assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
    assert_eq!(all_stats(&p).await.get("cap.daily_reached"), Some(&1));
    p.clock.set(midnight);
    let outcomes = fire_due(&p).await;
    assert!(matches!(outcomes[..], [CheckOutcome::Sent { step: 0, .. }]), "the next day: {outcomes:?}");
    assert_eq!(p.messenger.emails.lock().unwrap().len(), 2);
}

/// The reconcile sweep: lost schedules re-armed, closed checkouts disarmed, nothing else touched.
mod reconcile_sweep {
    use super::*;
    use crate::usecases::reconcile::{RECONCILE_GRACE, ReconcileReport, reconcile};

    #[tokio::test]
    async fn a_check_whose_schedule_was_lost_is_rearmed_and_sends_once() {
        let p = ports();
        deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
        p.clock.advance(chrono::Duration::hours(1));
        let lost = p.scheduler.take_due(p.clock.now());
        assert_eq!(lost.len(), 1, "the schedule fired, and its invocation was lost");
        assert_eq!(reconcile(&p).await.unwrap(), ReconcileReport::default(), "within the grace: left alone");
        p.clock.advance(RECONCILE_GRACE + chrono::Duration::minutes(1));
        let report = reconcile(&p).await.unwrap();
        assert_eq!(report, ReconcileReport { overdue: 1, rearmed: 1, disarmed: 0 });
        assert_eq!(reconcile(&p).await.unwrap(), ReconcileReport::default(), "re-armed for now: no longer overdue");
        let outcomes = fire_due(&p).await;
        assert!(matches!(outcomes[..], [CheckOutcome::Sent { step: 0, .. }]), "{outcomes:?}");
        // The lost invocation, redriven late, is superseded by the new generation.
        assert_eq!(run_check(&p, &lost[0].input).await.unwrap(), CheckOutcome::Superseded);
        assert_eq!(p.messenger.emails.lock().unwrap().len(), 1);
        assert_eq!(all_stats(&p).await.get("reconcile.rearmed"), Some(&1));
    }

    #[tokio::test]
    async fn a_closed_checkout_still_armed_is_disarmed() {
        let p = ports();
        deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
        p.store.tamper_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap(), |record| {
            record.status = CheckoutStatus::Converted;
        });
        p.clock.advance(chrono::Duration::hours(2));
        p.scheduler.take_due(p.clock.now());
        let report = reconcile(&p).await.unwrap();
        assert_eq!(report, ReconcileReport { overdue: 1, rearmed: 0, disarmed: 1 });
        let record = p.store.load_checkout(&shop(), &CheckoutToken::new("chk-1").unwrap()).await.unwrap().unwrap();
        assert_eq!(record.armed, None);
        assert!(p.scheduler.is_empty());
    }
}

/// Order of arrival and consent on the checkout itself.
mod arrival_and_consent {
    use super::*;

    fn chk() -> CheckoutToken {
        CheckoutToken::new("chk-1").unwrap()
    }

    #[tokio::test]
    async fn a_delete_that_overtakes_its_checkout_leaves_it_deleted_and_never_reminded() {
        let p = ports();
        let delete = serde_json::json!({"id": 1, "token": "chk-1"}).to_string();
        deliver(&p, "checkouts/delete", "w-del", &delete).await.unwrap();
        deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
        let record = p.store.load_checkout(&shop(), &chk()).await.unwrap().unwrap();
        assert_eq!(record.status, CheckoutStatus::Deleted);
        assert!(p.scheduler.is_empty(), "never armed");
        deliver(&p, "checkouts/update", "w2", &checkout_body(5)).await.unwrap();
        assert_eq!(p.store.load_checkout(&shop(), &chk()).await.unwrap().unwrap().status, CheckoutStatus::Deleted);
        p.clock.advance(chrono::Duration::days(4));
        fire_due(&p).await;
        assert!(p.messenger.emails.lock().unwrap().is_empty());
    }

    /// The same second, two contents: the email and the phone arrive in different snapshots.
    fn same_second_pair() -> (String, String) {
        let mut with_phone: serde_json::Value = serde_json::from_str(&checkout_body(3)).unwrap();
        with_phone["phone"] = "+12125550142".into();
        with_phone.as_object_mut().unwrap().remove("email");
        (checkout_body(3), with_phone.to_string())
    }

    #[tokio::test]
    async fn same_second_snapshots_are_merged_alike_in_either_order() {
        let (a, b) = same_second_pair();
        let (first, second) = (ports(), ports());
        deliver(&first, "checkouts/update", "w-a", &a).await.unwrap();
        deliver(&first, "checkouts/update", "w-b", &b).await.unwrap();
        deliver(&second, "checkouts/update", "w-b", &b).await.unwrap();
        deliver(&second, "checkouts/update", "w-a", &a).await.unwrap();
        let one = first.store.load_checkout(&shop(), &chk()).await.unwrap().unwrap().snapshot;
        let other = second.store.load_checkout(&shop(), &chk()).await.unwrap().unwrap().snapshot;
        assert_eq!(one, other, "either arrival order stores the same state");
        assert!(one.contact.email.is_some() && one.contact.phone.is_some(), "nothing either snapshot said is dropped");
        let again = deliver(&first, "checkouts/update", "w-c", &a).await.unwrap();
        assert_eq!(again, IngestOutcome::Stale, "a repeat of the same second changes nothing");
    }

    #[tokio::test]
    async fn a_checkout_that_now_says_no_to_marketing_suppresses_at_once() {
        let p = ports();
        deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
        let mut withdrawn: serde_json::Value = serde_json::from_str(&checkout_body(10)).unwrap();
        withdrawn["buyer_accepts_marketing"] = false.into();
        deliver(&p, "checkouts/update", "w2", &withdrawn.to_string()).await.unwrap();
        let key = ContactKey::for_email(&shop(), "ada@example.com");
        let contact = p.store.contact(&shop(), &key).await.unwrap();
        assert_eq!(contact.email_suppressed.map(|s| s.reason), Some(SuppressionReason::ConsentWithdrawn));
        p.clock.advance(chrono::Duration::hours(2));
        let outcomes = fire_due(&p).await;
        assert!(p.messenger.emails.lock().unwrap().is_empty(), "{outcomes:?}");
        // Another checkout of the same shopper that still says yes is held by the suppression.
        let other = checkout_body(200).replace("chk-1", "chk-2");
        deliver(&p, "checkouts/create", "w3", &other).await.unwrap();
        p.clock.advance(chrono::Duration::days(1));
        fire_due(&p).await;
        assert!(p.messenger.emails.lock().unwrap().is_empty(), "withdrawn is withdrawn for the contact");
    }
}

/// The operator's grants for SMS: allowed origination identities and the budget ceiling.
mod sms_grants {
    use super::*;
    use crate::rules::RecoverySettings;
    use crate::usecases::admin::{SettingsUpdate, originations, put_settings};

    const SHARED: &str = "+18005550199";

    fn texting_settings(budget: u32) -> RecoverySettings {
        let json = serde_json::json!({
            "steps": [{"name": "text", "delay": "1h", "channels": ["sms", "email"]}],
            "sms": {"origination_identity": SHARED, "monthly_budget": budget}
        });
        RecoverySettings::from_json(&json.to_string()).unwrap()
    }

    fn texting_checkout(token: &str) -> String {
        let mut body: serde_json::Value = serde_json::from_str(&checkout_body(0)).unwrap();
        body["token"] = token.into();
        body["buyer_accepts_sms_marketing"] = true.into();
        body["sms_marketing_phone"] = "+12125550142".into();
        body.to_string()
    }

    #[tokio::test]
    async fn texts_go_only_from_an_identity_the_operator_allowed_else_the_step_falls_back() {
        let p = ports();
        p.store.save_settings(&shop(), &texting_settings(100), 0).await.unwrap();
        deliver(&p, "checkouts/create", "w1", &texting_checkout("chk-1")).await.unwrap();
        // 12:00 UTC is 08:00 in New York (the number's zone), when texting may start.
        p.clock.advance(chrono::Duration::hours(3));
        fire_due(&p).await;
        assert!(p.messenger.sms.lock().unwrap().is_empty(), "not allowed: no text");
        assert_eq!(p.messenger.emails.lock().unwrap().len(), 1, "the step went by email instead");
        assert_eq!(all_stats(&p).await.get("sms.origination_not_allowed"), Some(&1));
        originations::allow(&p, &shop(), SHARED).await.unwrap();
        deliver(&p, "checkouts/create", "w2", &texting_checkout("chk-2").replace("Ada@Example.com", "bo@example.com"))
            .await
            .unwrap();
        p.clock.advance(chrono::Duration::hours(1));
        fire_due(&p).await;
        let texts = p.messenger.sms.lock().unwrap().clone();
        assert_eq!(texts.len(), 1);
        assert_eq!(texts[0].origination.as_deref(), Some(SHARED));
        assert!(originations::allow(&p, &shop(), "+1 not a number").await.is_err(), "only numbers and sender ids");
    }

    #[tokio::test]
    async fn settings_beyond_the_operators_grants_are_refused_field_by_field() {
        let mut p = ports();
        p.config.sms_budget_ceiling = Some(500);
        let update = SettingsUpdate { version: 0, settings: texting_settings(1000) };
        let Err(UseCaseError::InvalidSettings(errors)) = put_settings(&p, &shop(), update).await else {
            panic!("refused");
        };
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["sms.origination_identity", "sms.monthly_budget"]);
        assert!(p.store.load_settings(&shop()).await.unwrap().is_none(), "nothing saved");
        originations::allow(&p, &shop(), SHARED).await.unwrap();
        let update = SettingsUpdate { version: 0, settings: texting_settings(500) };
        assert_eq!(put_settings(&p, &shop(), update).await.unwrap().version, 1);
    }
}

/// A checkout whose first check claimed step 0 and crashed before the provider answered: the
/// ports, the check's input (for Lambda's retry) and the checkout.
async fn a_check_that_crashed_after_its_claim() -> (TestPorts, CheckInput, CheckoutToken) {
    let p = ports();
    deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
    p.clock.advance(chrono::Duration::hours(1));
    let input = p.scheduler.take_due(p.clock.now()).remove(0).input;
    let chk = CheckoutToken::new("chk-1").unwrap();
    let crashed = MessageRecord { owner: "crashed".into(), ..MessageRecord::claimed(0, Channel::Email, p.clock.now()) };
    p.store.claim_message(&shop(), &chk, &crashed, p.clock.now() + chrono::Duration::days(90)).await.unwrap();
    (p, input, chk)
}

#[tokio::test]
async fn a_claim_left_pending_on_a_checkout_that_converted_meanwhile_is_settled_by_the_late_check() {
    let (p, input, chk) = a_check_that_crashed_after_its_claim().await;
    let order = serde_json::json!({"id": 5, "checkout_token": "chk-1", "currency": "USD", "total_price": "20.00",
        "created_at": p.clock.now().to_rfc3339()});
    deliver(&p, "orders/create", "w-order", &order.to_string()).await.unwrap();
    // Lambda's retry of the crashed check, a minute later: superseded, and the claim too young to
    // settle, so it comes back after the lease, and then settles it.
    p.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(run_check(&p, &input).await.unwrap(), CheckOutcome::Superseded);
    assert_eq!(p.store.messages(&shop(), &chk).await.unwrap()[0].state, DeliveryState::Pending);
    p.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(fire_due(&p).await, [CheckOutcome::Superseded], "the settling visit");
    let message = p.store.messages(&shop(), &chk).await.unwrap().remove(0);
    assert_eq!(message.state, DeliveryState::Uncertain);
    assert_eq!(all_stats(&p).await.get("uncertain.step0"), Some(&1));
}

/// Privacy requests after the fact: push endpoints and uninstalled shops.
mod privacy_requests {
    use super::*;
    use crate::push::DeviceRegistration;

    fn customer(email: &str) -> String {
        serde_json::json!({"shop_id": 1, "shop_domain": "shop-a.myshopify.com",
            "customer": {"id": 7, "email": email}, "orders_to_redact": [], "data_request": {"id": 99}})
        .to_string()
    }

    #[tokio::test]
    async fn a_customer_redaction_deletes_their_push_endpoints_at_the_push_service() {
        let p = ports();
        let registration = DeviceRegistration {
            customer_email: "ada@example.com".into(),
            platform: PushPlatform::Fcm,
            device_token: "device-ada".into(),
            timestamp: p.clock.now().timestamp(),
        };
        crate::usecases::push::register_device(&p, shop(), registration).await.unwrap();
        let key = ContactKey::for_email(&shop(), "ada@example.com");
        let arn = p.store.contact(&shop(), &key).await.unwrap().push_endpoints[0].arn.clone();
        deliver(&p, "customers/redact", "w-redact", &customer("ada@example.com")).await.unwrap();
        assert_eq!(p.messenger.deleted.lock().unwrap().clone(), vec![arn], "deleted at the push service");
        assert!(p.store.contact(&shop(), &key).await.unwrap().push_endpoints.is_empty(), "and forgotten");
    }

    #[tokio::test]
    async fn a_shop_redaction_deletes_every_push_endpoint_of_the_shop() {
        let p = ports();
        for (email, device) in [("ada@example.com", "device-ada"), ("bo@example.com", "device-bo")] {
            let registration = DeviceRegistration {
                customer_email: email.into(),
                platform: PushPlatform::Apns,
                device_token: device.into(),
                timestamp: p.clock.now().timestamp(),
            };
            crate::usecases::push::register_device(&p, shop(), registration).await.unwrap();
        }
        let body = serde_json::json!({"shop_id": 1, "shop_domain": "shop-a.myshopify.com"}).to_string();
        deliver(&p, "shop/redact", "w-shop-redact", &body).await.unwrap();
        let mut deleted = p.messenger.deleted.lock().unwrap().clone();
        deleted.sort();
        assert_eq!(deleted, ["arn:endpoint/Apns/device-ada", "arn:endpoint/Apns/device-bo"]);
        assert_eq!(p.store.forget_shop(&shop(), usize::MAX).await.unwrap().deleted, 0, "nothing left");
    }

    #[tokio::test]
    async fn a_data_request_after_an_uninstall_is_still_answered_until_shop_redact() {
        let p = ports();
        let installation = Installation {
            installed_at: p.clock.now(),
            scopes: vec!["read_checkouts".into()],
            contact_email: Email::parse("owner@shop-a.test").ok(),
        };
        p.store
            .update_shop_state(&shop(), |state| state.installation.replace(installation.clone()).is_none())
            .await
            .unwrap();
        deliver(&p, "checkouts/create", "w1", &checkout_body(0)).await.unwrap();
        deliver(&p, "app/uninstalled", "w-un", r#"{"id": 1}"#).await.unwrap();
        deliver(&p, "customers/data_request", "w-data", &customer("ada@example.com")).await.unwrap();
        let sent = p.messenger.emails.lock().unwrap().clone();
        assert_eq!(sent.len(), 1, "the export still goes to the shop");
        assert_eq!(sent[0].to, "owner@shop-a.test");
        assert!(sent[0].attachment.is_some());
    }
}

#[tokio::test]
async fn a_large_shop_is_redacted_in_resumable_batches_and_nothing_is_left() {
    use crate::usecases::privacy::JOB_BATCH;
    let p = ports();
    let checkouts = JOB_BATCH * 2 + 500;
    for i in 0..checkouts {
        let mut snapshot = sample_snapshot(start());
        snapshot.token = CheckoutToken::new(format!("chk-{i}")).unwrap();
        p.store
            .save_checkout(&CheckoutRecord::new(shop(), snapshot), start() + chrono::Duration::days(90))
            .await
            .unwrap();
    }
    let other = ShopDomain::parse("shop-b.myshopify.com").unwrap();
    p.store
        .save_checkout(
            &CheckoutRecord::new(other.clone(), sample_snapshot(start())),
            start() + chrono::Duration::days(90),
        )
        .await
        .unwrap();
    let body = serde_json::json!({"shop_id": 1, "shop_domain": "shop-a.myshopify.com"}).to_string();
    let signature = sign_webhook(SECRET, body.as_bytes());
    let headers: HashMap<&str, &str> = [
        ("x-shopify-topic", "shop/redact"),
        ("x-shopify-hmac-sha256", signature.as_str()),
        ("x-shopify-shop-domain", "shop-a.myshopify.com"),
        ("x-shopify-webhook-id", "w-redact"),
    ]
    .into();
    let delivery = verify_webhook(&p.config, "shopify", |name| headers.get(name).copied(), body.as_bytes()).unwrap();
    assert_eq!(ingest_webhook(&p, delivery).await.unwrap(), IngestOutcome::Accepted, "answered at once");
    let runs = run_jobs(&p).await;
    assert!(runs >= 3, "{checkouts} checkouts take several short runs, not one long one: {runs}");
    assert_eq!(p.store.forget_shop(&shop(), usize::MAX).await.unwrap().deleted, 0, "nothing of the shop is left");
    assert!(
        p.store.load_checkout(&other, &sample_snapshot(start()).token).await.unwrap().is_some(),
        "another shop is kept"
    );
}

#[tokio::test]
async fn a_young_claim_of_a_crashed_check_is_settled_even_when_an_order_cancels_the_next_check() {
    let (p, input, chk) = a_check_that_crashed_after_its_claim().await;
    // Lambda's retry a minute later: the step is held, so the check moves on to step 1.
    p.clock.advance(chrono::Duration::minutes(1));
    let outcome = run_check(&p, &input).await.unwrap();
    assert!(matches!(outcome, CheckOutcome::Rearmed { step: 1, .. }), "{outcome:?}");
    // The order cancels step 1's check: only the settling visit is left to come.
    let order = serde_json::json!({"id": 5, "checkout_token": "chk-1", "currency": "USD", "total_price": "20.00",
        "created_at": p.clock.now().to_rfc3339()});
    deliver(&p, "orders/create", "w-order", &order.to_string()).await.unwrap();
    p.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(fire_due(&p).await, [CheckOutcome::Superseded]);
    assert_eq!(p.store.messages(&shop(), &chk).await.unwrap()[0].state, DeliveryState::Uncertain);
}

#[tokio::test]
async fn the_onboarding_checklist_says_what_the_sender_domain_still_needs() {
    let ports = ports();
    *ports.messenger.sender.lock().unwrap() = Some(SenderStatus { verified: false, status: "PENDING".into() });
    let checklist = admin::onboarding(&ports, &shop()).await.unwrap();
    let ids: Vec<&str> = checklist.iter().map(|item| item.id).collect();
    assert_eq!(ids, ["sender_verified", "app_embed", "test_email", "sms_number"]);
    assert!(!checklist[0].done);
    assert_eq!(checklist[0].detail, "example.com is not verified in Amazon SES yet (PENDING): add its DNS records.");
    assert!(checklist.iter().all(|item| !item.done) && checklist[3].optional);
    // The storefront's visits are written down at most daily.
    storefront::widget_settings(&ports, &shop()).await.unwrap();
    let first = ports.store.shop_state(&shop()).await.unwrap().storefront_seen_at;
    assert_eq!(first, Some(start()));
    ports.clock.advance(chrono::Duration::hours(23));
    storefront::widget_settings(&ports, &shop()).await.unwrap();
    assert_eq!(ports.store.shop_state(&shop()).await.unwrap().storefront_seen_at, first, "not every page view");
    ports.clock.advance(chrono::Duration::hours(1));
    storefront::widget_settings(&ports, &shop()).await.unwrap();
    assert_eq!(
        ports.store.shop_state(&shop()).await.unwrap().storefront_seen_at,
        Some(start() + chrono::Duration::days(1))
    );
    assert!(admin::onboarding(&ports, &shop()).await.unwrap()[1].done);
}
