//! Restore links, one-click unsubscribe and orders against the emulator.

use chrono::Duration;
use reclaim_core::links::{LinkClaims, LinkKind, LinkSigner};
use reclaim_core::model::{CheckoutToken, ShopDomain};
use reclaim_core::usecases::CheckOutcome;
use reclaim_local::fixtures;
use reclaim_tests::{TestStack, epoch, link};

/// Creates a checkout, lets the first email go out and returns its restore link.
async fn first_email(stack: &TestStack, token: &str, email: &str) -> reclaim_local::outbox::SentEmail {
    stack
        .deliver("checkouts/create", &format!("wh-{token}"), &fixtures::checkout(&stack.checkout(token, Some(email))))
        .await;
    stack.advance_and_pump(Duration::hours(1)).await;
    stack.emails_to(email).await.remove(0)
}

fn clicks(items: &[reclaim_tests::Item_]) -> usize {
    items
        .iter()
        .filter(|i| i["sk"].as_s().unwrap().starts_with("MSG#"))
        .filter(|i| !i["message"].as_s().unwrap().contains("\"clicked_at\":null"))
        .count()
}

#[tokio::test]
async fn the_restore_link_redirects_to_the_shops_checkout_and_records_one_click() {
    let stack = TestStack::start("restore").await;
    let email = first_email(&stack, "chk-restore", "restore@shopper.test").await;
    let restore = link(&email.text, &format!("{}/r/", stack.gateway.url()));
    for _ in 0..2 {
        let response = stack.http.get(&restore).send().await.unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(
            response.headers()["location"],
            "https://test-shop.myshopify.com/70012345/checkouts/chk-restore/recover?key=demo"
        );
    }
    assert_eq!(clicks(&stack.items().await), 1);
    assert_eq!(stack.stats(1).await.get("clicks.step0"), Some(&1), "a second click is not counted twice");
}

#[tokio::test]
async fn tampered_expired_and_foreign_links_are_refused_and_record_nothing() {
    let stack = TestStack::start("bad-links").await;
    let email = first_email(&stack, "chk-bad", "bad@shopper.test").await;
    let restore = link(&email.text, &format!("{}/r/", stack.gateway.url()));

    let mut tampered = restore.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let signer = LinkSigner::new(stack.config.link_secret.as_bytes());
    let claims = |exp| LinkClaims {
        kind: LinkKind::Restore,
        shop: ShopDomain::parse(&stack.shop).unwrap(),
        checkout: CheckoutToken::new("chk-bad").unwrap(),
        step: 0,
        contact: None,
        discount: None,
        exp,
    };
    let expired =
        format!("{}/r/{}", stack.gateway.url(), signer.sign(&claims((epoch() - Duration::days(1)).timestamp())));
    let forged = format!(
        "{}/r/{}",
        stack.gateway.url(),
        LinkSigner::new(b"someone else's secret entirely").sign(&claims((epoch() + Duration::days(9)).timestamp()))
    );
    for (url, status) in
        [(tampered, 400), (expired, 410), (forged, 400), (format!("{}/r/x/y", stack.gateway.url()), 404)]
    {
        let response = stack.http.get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{url}");
        assert!(response.headers().get("location").is_none());
        // A path no route matches is answered by API Gateway itself (JSON); the rest by the
        // links function's page for people.
        let page = response.headers()["content-type"].to_str().unwrap().starts_with("text/html");
        assert_eq!(page, status != 404, "{url}");
    }
    assert_eq!(clicks(&stack.items().await), 0);
}

#[tokio::test]
async fn a_restore_url_off_the_shops_domain_is_never_a_redirect_target() {
    let stack = TestStack::start("foreign-host").await;
    let mut body = fixtures::checkout(&stack.checkout("chk-evil", Some("evil@shopper.test")));
    body["abandoned_checkout_url"] = "https://phishing.example/checkouts/recover".into();
    stack.deliver("checkouts/create", "wh-evil", &body).await;
    stack.advance_and_pump(Duration::hours(1)).await;
    let email = stack.emails_to("evil@shopper.test").await.remove(0);
    let response = stack.http.get(link(&email.text, &format!("{}/r/", stack.gateway.url()))).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "https://test-shop.myshopify.com/cart/55001:2");
}

#[tokio::test]
async fn one_click_unsubscribe_stops_every_further_email_to_that_contact_at_that_shop() {
    let stack = TestStack::start("unsubscribe").await;
    let email = first_email(&stack, "chk-unsub", "unsub@shopper.test").await;
    let unsubscribe = link(&email.text, &format!("{}/u/", stack.gateway.url()));

    // GET only shows a confirmation page and changes nothing (mail scanners follow links).
    let page = stack.http.get(&unsubscribe).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    let suppressed = |items: &[reclaim_tests::Item_]| {
        items.iter().filter(|i| i["pk"].as_s().unwrap().starts_with("CONTACT#")).any(|i| {
            let state: serde_json::Value = serde_json::from_str(i["state"].as_s().unwrap()).unwrap();
            !state["email_suppressed"].is_null()
        })
    };
    assert!(!suppressed(&stack.items().await));

    // RFC 8058 one-click: POST with List-Unsubscribe=One-Click.
    let response = stack
        .http
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(suppressed(&stack.items().await));

    // A later checkout by the same shopper gets nothing either.
    stack
        .deliver(
            "checkouts/create",
            "wh-unsub-2",
            &fixtures::checkout(&stack.checkout("chk-unsub-2", Some("unsub@shopper.test"))),
        )
        .await;
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.extend(stack.advance_and_pump(Duration::hours(24)).await.into_iter().map(|fired| fired.outcome));
    }
    let unsubscribed = CheckOutcome::Stopped { reason: reclaim_core::rules::StopReason::Unsubscribed };
    assert!(outcomes.contains(&unsubscribed), "the checks stop because of the unsubscribe: {outcomes:?}");
    assert!(!outcomes.iter().any(|o| matches!(o, CheckOutcome::Sent { .. })), "{outcomes:?}");
    assert_eq!(stack.emails_to("unsub@shopper.test").await.len(), 1);
    assert_eq!(stack.stats(5).await.get("unsubscribes"), Some(&1));
}

#[tokio::test]
async fn an_order_after_the_check_fell_due_but_before_it_ran_sends_nothing() {
    let stack = TestStack::start("order-race").await;
    let spec = stack.checkout("chk-race", Some("race@shopper.test"));
    stack.deliver("checkouts/create", "wh-1", &fixtures::checkout(&spec)).await;
    let armed = stack.schedule_inputs().await;
    assert_eq!(armed.len(), 1, "the first check is armed");
    stack.clock.advance(Duration::hours(2));
    // The schedule is due and the scheduler has fired it; the order lands before the check runs.
    stack.deliver("orders/create", "wh-2", &fixtures::order(&spec, 901, epoch() + Duration::minutes(90))).await;
    assert!(stack.schedules().await.is_empty(), "the armed schedule was deleted");
    // The fired check runs anyway, late: it must find the sequence over.
    let outcome = reclaim_recovery_check::handle(stack.services.as_ref(), &armed[0]).await.unwrap();
    assert_eq!(outcome, CheckOutcome::Superseded, "the order disarmed the checkout");
    for _ in 0..4 {
        assert!(stack.advance_and_pump(Duration::hours(24)).await.is_empty(), "nothing left to fire");
    }
    assert!(stack.emails_to("race@shopper.test").await.is_empty());
}

#[tokio::test]
async fn a_claim_is_refused_once_the_checkout_converted() {
    use reclaim_core::model::{Channel, MessageRecord};
    use reclaim_core::ports::store::*;
    let stack = TestStack::start("claim").await;
    let spec = stack.checkout("chk-claim", Some("claim@shopper.test"));
    stack.deliver("checkouts/create", "wh-1", &fixtures::checkout(&spec)).await;
    let (shop, token) = (ShopDomain::parse(&stack.shop).unwrap(), CheckoutToken::new("chk-claim").unwrap());
    let message = |step| MessageRecord::claimed(step, Channel::Email, epoch());
    let store = &stack.services.store;
    assert_eq!(
        store.claim_message(&shop, &token, &message(0), epoch() + chrono::Duration::days(90)).await.unwrap(),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        store.claim_message(&shop, &token, &message(0), epoch() + chrono::Duration::days(90)).await.unwrap(),
        ClaimOutcome::AlreadyClaimed
    );
    stack.deliver("orders/create", "wh-2", &fixtures::order(&spec, 902, epoch())).await;
    assert_eq!(
        store.claim_message(&shop, &token, &message(1), epoch() + chrono::Duration::days(90)).await.unwrap(),
        ClaimOutcome::CheckoutClosed
    );
}

#[tokio::test]
async fn orders_match_by_checkout_then_cart_then_email_and_count_recovered_revenue() {
    let stack = TestStack::start("orders").await;
    let by_checkout = stack.checkout("chk-o1", Some("o1@shopper.test"));
    let by_cart = stack.checkout("chk-o2", Some("o2@shopper.test"));
    let by_email = stack.checkout("chk-o3", Some("o3@shopper.test"));
    for (i, spec) in [&by_checkout, &by_cart, &by_email].into_iter().enumerate() {
        stack.deliver("checkouts/create", &format!("wh-c{i}"), &fixtures::checkout(spec)).await;
    }
    stack.advance_and_pump(Duration::hours(1)).await;
    let at = epoch() + Duration::hours(2);
    stack.deliver("orders/create", "wh-o1", &fixtures::order(&by_checkout, 1, at)).await;
    let mut order = fixtures::order(&by_cart, 2, at);
    order["checkout_token"] = serde_json::Value::Null;
    stack.deliver("orders/create", "wh-o2", &order).await;
    let mut order = fixtures::order(&by_email, 3, at);
    order["checkout_token"] = serde_json::Value::Null;
    order["cart_token"] = serde_json::Value::Null;
    stack.deliver("orders/create", "wh-o3", &order).await;
    // orders/paid for the first order again: counted once.
    stack.deliver("orders/paid", "wh-o4", &fixtures::order(&by_checkout, 1, at)).await;

    let stats = stack.stats(1).await;
    assert_eq!(stats.get("converted"), Some(&3));
    assert_eq!(stats.get("recovered.orders"), Some(&3));
    assert_eq!(stats.get("recovered.revenue.USD"), Some(&(3 * 2500)));
    assert!(stack.schedules().await.is_empty());
    for _ in 0..4 {
        stack.advance_and_pump(Duration::hours(24)).await;
    }
    for email in ["o1@shopper.test", "o2@shopper.test", "o3@shopper.test"] {
        assert_eq!(stack.emails_to(email).await.len(), 1, "{email}: nothing after the order");
    }
}

#[tokio::test]
async fn when_an_order_points_at_several_checkouts_the_checkout_token_wins_then_the_cart() {
    use reclaim_core::model::CheckoutStatus;
    use reclaim_core::ports::Checkouts;
    let stack = TestStack::start("order-precedence").await;
    let a = stack.checkout("chk-pa", Some("pa@shopper.test"));
    let b = stack.checkout("chk-pb", Some("pb@shopper.test"));
    let c = stack.checkout("chk-pc", Some("pc@shopper.test"));
    for (i, spec) in [&a, &b, &c].into_iter().enumerate() {
        stack.deliver("checkouts/create", &format!("wh-p{i}"), &fixtures::checkout(spec)).await;
    }
    let status = |token: &'static str| {
        let (store, shop) = (&stack.services.store, stack.shop_domain());
        async move { store.load_checkout(&shop, &CheckoutToken::new(token).unwrap()).await.unwrap().unwrap().status }
    };
    let at = epoch() + Duration::hours(2);
    // A's checkout token, B's cart, C's email: A, and only A, converts.
    let mut order = fixtures::order(&a, 11, at);
    order["cart_token"] = b.cart_token.clone().into();
    order["email"] = "pc@shopper.test".into();
    stack.deliver("orders/create", "wh-po1", &order).await;
    assert_eq!((status("chk-pa").await, status("chk-pb").await), (CheckoutStatus::Converted, CheckoutStatus::Open));
    // No checkout token, B's cart, C's email: the cart beats the email.
    let mut order = fixtures::order(&b, 12, at);
    order["checkout_token"] = serde_json::Value::Null;
    order["email"] = "pc@shopper.test".into();
    stack.deliver("orders/create", "wh-po2", &order).await;
    assert_eq!((status("chk-pb").await, status("chk-pc").await), (CheckoutStatus::Converted, CheckoutStatus::Open));
    assert_eq!(stack.stats(1).await.get("converted"), Some(&2));
}

#[tokio::test]
async fn an_order_that_arrives_before_its_checkout_means_no_reminder_ever() {
    use reclaim_core::model::CheckoutStatus;
    use reclaim_core::ports::Checkouts;
    let stack = TestStack::start("order-first").await;
    let spec = stack.checkout("chk-first", Some("first@shopper.test"));
    stack.deliver("orders/create", "wh-order", &fixtures::order(&spec, 31, epoch())).await;
    stack.deliver("checkouts/create", "wh-chk", &fixtures::checkout(&spec)).await;
    let (store, shop) = (&stack.services.store, stack.shop_domain());
    let record = store.load_checkout(&shop, &CheckoutToken::new("chk-first").unwrap()).await.unwrap().unwrap();
    assert_eq!(record.status, CheckoutStatus::Converted, "stored converted");
    assert!(stack.schedules().await.is_empty(), "nothing armed");
    for _ in 0..4 {
        assert!(stack.advance_and_pump(Duration::hours(24)).await.is_empty());
    }
    assert!(stack.emails_to("first@shopper.test").await.is_empty());
}

#[tokio::test]
async fn an_order_outside_the_attribution_window_is_converted_but_not_recovered() {
    let stack = TestStack::start("attribution").await;
    let spec = stack.checkout("chk-late", Some("late@shopper.test"));
    stack.deliver("checkouts/create", "wh-1", &fixtures::checkout(&spec)).await;
    stack.advance_and_pump(Duration::hours(1)).await;
    stack.deliver("orders/create", "wh-2", &fixtures::order(&spec, 5, epoch() + Duration::days(7))).await;
    let stats = stack.stats(1).await;
    assert_eq!(stats.get("converted"), Some(&1));
    assert_eq!(stats.get("recovered.orders"), None);
}
