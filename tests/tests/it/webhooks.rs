//! `POST /webhooks/shopify` against the emulator: refusals write nothing, duplicates and stale
//! updates change nothing, concurrency leaves one state and one schedule.

use chrono::Duration;
use reclaim_core::rules::WaitReason;
use reclaim_core::usecases::CheckOutcome;
use reclaim_local::fixtures;
use reclaim_tests::{TestStack, outcome_of};
use serde_json::Value;

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/json");
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn refused_deliveries_answer_json_errors_and_write_nothing() {
    let stack = TestStack::start("refusals").await;
    let url = format!("{}/webhooks/shopify", stack.gateway.url());
    let body = serde_json::to_vec(&fixtures::checkout(&stack.checkout("chk-r", Some("r@shopper.test")))).unwrap();
    let signed =
        |body: &[u8]| fixtures::headers(&stack.config.shopify_secret, &stack.shop, "checkouts/create", "wh-r", body);
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let mut request = stack.http.post(&url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.body(body).send()
    };

    // Bad signature: signed with another secret.
    let forged = fixtures::headers("not-the-secret", &stack.shop, "checkouts/create", "wh-r", &body);
    let (status, error) = error_of(send(forged, body.clone()).await.unwrap()).await;
    assert_eq!((status, error["error"].as_str()), (401, Some("invalid_signature")));
    // Missing signature header.
    let unsigned: Vec<_> = signed(&body).into_iter().filter(|(n, _)| *n != "x-shopify-hmac-sha256").collect();
    assert_eq!(error_of(send(unsigned, body.clone()).await.unwrap()).await.0, 401);
    // Tampered body: one byte changed after signing.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(error_of(send(signed(&body), tampered).await.unwrap()).await.0, 401);
    // Missing required headers (signature fine).
    for missing in ["x-shopify-topic", "x-shopify-shop-domain", "x-shopify-webhook-id"] {
        let headers: Vec<_> = signed(&body).into_iter().filter(|(n, _)| *n != missing).collect();
        let (status, error) = error_of(send(headers, body.clone()).await.unwrap()).await;
        assert_eq!(status, 400, "{missing}");
        assert!(error["message"].as_str().unwrap().contains(missing));
    }
    // A shop domain that is not a myshopify.com domain.
    let foreign =
        fixtures::headers(&stack.config.shopify_secret, "evil.example.com", "checkouts/create", "wh-r", &body);
    assert_eq!(error_of(send(foreign, body.clone()).await.unwrap()).await.0, 400);
    // Malformed JSON, correctly signed.
    let broken = b"{\"token\": ".to_vec();
    let (status, error) = error_of(send(signed(&broken), broken).await.unwrap()).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("malformed_payload")));
    // Valid JSON without the fields a checkout needs.
    let empty = b"{}".to_vec();
    assert_eq!(error_of(send(signed(&empty), empty).await.unwrap()).await.0, 400);
    // Oversize body (over 1 MiB), correctly signed.
    let mut huge = body.clone();
    huge.truncate(huge.len() - 1);
    huge.extend(format!(",\"note\":\"{}\"}}", "x".repeat(1024 * 1024)).into_bytes());
    let (status, error) = error_of(send(signed(&huge), huge).await.unwrap()).await;
    assert_eq!((status, error["error"].as_str()), (413, Some("payload_too_large")));

    assert!(stack.items().await.is_empty(), "a refused delivery writes nothing");
    assert!(stack.schedules().await.is_empty());
}

#[tokio::test]
async fn unknown_topics_are_acknowledged_and_ignored() {
    let stack = TestStack::start("unknown-topic").await;
    let response = stack.deliver("products/update", "wh-p", &serde_json::json!({"id": 1})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ignored");
    assert!(stack.items().await.is_empty());
}

#[tokio::test]
async fn five_deliveries_sequential_and_concurrent_make_one_state_one_schedule_one_email_per_step() {
    let stack = TestStack::start("duplicates").await;
    let email = "dup@shopper.test";
    let body = fixtures::checkout(&stack.checkout("chk-dup", Some(email)));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = stack.deliver("checkouts/create", "wh-dup-1", &body).await;
        assert_eq!(response.status(), 200);
        statuses.push(response.json::<Value>().await.unwrap()["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses, ["accepted", "duplicate", "duplicate", "duplicate", "duplicate"]);

    // The same update, delivered five times at once.
    let mut update = stack.checkout("chk-dup", Some(email));
    update.updated_at += Duration::minutes(5);
    let update = fixtures::checkout(&update);
    let deliveries = (0..5).map(|_| ("wh-dup-2".to_owned(), update.clone())).collect();
    let responses = stack.deliver_concurrently("checkouts/update", deliveries).await;
    // One attempt processes it; the others are duplicates, or 409 while it is in progress (which
    // Shopify retries, and then they are duplicates).
    assert!(responses.iter().all(|s| *s == 200 || *s == 409), "{responses:?}");
    for status in responses.iter().filter(|s| **s == 409) {
        let retried = stack.deliver("checkouts/update", "wh-dup-2", &update).await;
        assert_eq!(retried.status(), 200, "a retry after {status} is a duplicate");
    }

    let states: Vec<_> = stack
        .items()
        .await
        .into_iter()
        .filter(|i| i["sk"].as_s().unwrap() == "STATE" && i["pk"].as_s().unwrap().starts_with("CHK#"))
        .collect();
    assert_eq!(states.len(), 1);
    assert_eq!(stack.schedules().await.len(), 1);

    for _ in 0..4 {
        stack.advance_and_pump(Duration::hours(24)).await;
    }
    assert_eq!(stack.emails_to(email).await.len(), 3, "one email per step");
}

#[tokio::test]
async fn concurrent_distinct_updates_keep_the_newest() {
    let stack = TestStack::start("concurrent-updates").await;
    let deliveries = (1..=5)
        .map(|minute| {
            let mut spec = stack.checkout("chk-race", Some("webhook-race@shopper.test"));
            spec.updated_at += Duration::minutes(minute);
            (format!("wh-race-{minute}"), fixtures::checkout(&spec))
        })
        .collect();
    let statuses = stack.deliver_concurrently("checkouts/update", deliveries).await;
    assert_eq!(statuses, [200; 5]);
    let record = stored_record(&stack, "chk-race").await;
    assert_eq!(record["snapshot"]["updated_at"], "2026-06-01T09:05:00Z");
    assert_eq!(stack.schedules().await.len(), 1);
}

async fn stored_record(stack: &TestStack, token: &str) -> Value {
    let items = stack.items().await;
    let item = items
        .iter()
        .find(|i| i["pk"].as_s().unwrap().ends_with(&format!("#{token}")) && i["sk"].as_s().unwrap() == "STATE")
        .unwrap();
    serde_json::from_str(item["record"].as_s().unwrap()).unwrap()
}

#[tokio::test]
async fn out_of_order_updates_leave_the_newer_state() {
    let stack = TestStack::start("out-of-order").await;
    let mut newer = stack.checkout("chk-ooo", Some("ooo@shopper.test"));
    newer.updated_at += Duration::minutes(30);
    newer.items.push(reclaim_local::fixtures::Item("Pen".into(), "Blue".into(), 55002, 1, "3.00".into()));
    let older = stack.checkout("chk-ooo", Some("ooo@shopper.test"));

    assert_eq!(stack.deliver("checkouts/update", "wh-new", &fixtures::checkout(&newer)).await.status(), 200);
    let response = stack.deliver("checkouts/create", "wh-old", &fixtures::checkout(&older)).await;
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "stale");

    let record = stored_record(&stack, "chk-ooo").await;
    assert_eq!(record["snapshot"]["line_items"].as_array().unwrap().len(), 2);
    assert_eq!(record["last_activity_at"], "2026-06-01T09:30:00Z");
    // The first step counts from the newer activity.
    let fired = stack.advance_and_pump(Duration::minutes(70)).await;
    assert!(fired.is_empty(), "the check is armed from the newer activity, so not due yet: {fired:?}");
    assert!(stack.emails_to("ooo@shopper.test").await.is_empty());
    stack.advance_and_pump(Duration::minutes(20)).await;
    assert_eq!(stack.emails_to("ooo@shopper.test").await.len(), 1);
}

#[tokio::test]
async fn cart_activity_pushes_the_next_email_back() {
    let stack = TestStack::start("cart-activity").await;
    let spec = stack.checkout("chk-cart", Some("cart@shopper.test"));
    stack.deliver("checkouts/create", "wh-c1", &fixtures::checkout(&spec)).await;
    let cart = fixtures::cart(&spec, spec.updated_at + Duration::minutes(45));
    assert_eq!(stack.deliver("carts/update", "wh-c2", &cart).await.status(), 200);
    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    assert!(matches!(outcome_of(&fired, "chk-cart"), CheckOutcome::Rearmed { reason: WaitReason::NotYetDue, .. }));
    assert!(stack.emails_to("cart@shopper.test").await.is_empty(), "the cart changed 45 minutes in");
    stack.advance_and_pump(Duration::minutes(45)).await;
    assert_eq!(stack.emails_to("cart@shopper.test").await.len(), 1);
}

#[tokio::test]
async fn checkouts_without_email_or_completed_are_never_armed() {
    let stack = TestStack::start("not-recoverable").await;
    stack.deliver("checkouts/create", "wh-n1", &fixtures::checkout(&stack.checkout("chk-anon", None))).await;
    let mut completed = fixtures::checkout(&stack.checkout("chk-done", Some("done@shopper.test")));
    completed["completed_at"] = "2026-06-01T09:00:00Z".into();
    stack.deliver("checkouts/create", "wh-n2", &completed).await;
    assert!(stack.schedules().await.is_empty());
}

#[tokio::test]
async fn a_checkout_near_the_body_limit_is_stored_cut_to_size_never_a_retried_503() {
    let stack = TestStack::start("oversized").await;
    let mut body = fixtures::checkout(&stack.checkout("chk-huge", Some("huge@shopper.test")));
    let long = "Ü".repeat(1150);
    let line =
        serde_json::json!({"title": long, "variant_title": long, "variant_id": 1, "quantity": 1, "price": "1.00"});
    body["line_items"] = Value::Array(vec![line; 200]);
    body["total_price"] = "200.00".into();
    let size = serde_json::to_vec(&body).unwrap().len();
    assert!(size > 900_000 && size < 1024 * 1024, "near the 1 MiB limit: {size}");
    let response = stack.deliver("checkouts/create", "wh-huge", &body).await;
    assert_eq!(response.status(), 200, "stored, not a 503 that Shopify would retry for ever");
    let token = reclaim_core::model::CheckoutToken::new("chk-huge").unwrap();
    use reclaim_core::ports::Checkouts;
    let record = stack.services.store.load_checkout(&stack.shop_domain(), &token).await.unwrap().unwrap();
    assert_eq!(record.snapshot.line_items.len(), 100);
    assert_eq!(record.snapshot.line_items[0].title.chars().count(), 255);
    assert_eq!(record.snapshot.total.minor, 20_000, "the merchant's total stands");
}
