//! A replay storm: everything Shopify and Scheduler may do to one shop's deliveries at once —
//! duplicates sequential and concurrent, updates out of order and a day late, orders before,
//! between and after the checks, a delete before its checkout, schedules fired twice and at
//! once — and each cart still gets each step once, never after its order.

use chrono::Duration;
use reclaim_core::model::{CheckoutStatus, CheckoutToken};
use reclaim_core::ports::Checkouts;
use reclaim_core::usecases::CheckOutcome;
use reclaim_local::fixtures;
use reclaim_tests::TestStack;
use serde_json::json;

/// Delivers until Shopify would stop retrying: a 409 (another attempt holds the lease) is tried
/// again a minute later.
async fn deliver(stack: &TestStack, topic: &str, id: &str, body: &serde_json::Value) {
    for _ in 0..5 {
        match stack.deliver(topic, id, body).await.status().as_u16() {
            200 => return,
            409 => stack.clock.advance(Duration::minutes(1)),
            other => panic!("{topic} {id}: {other}"),
        }
    }
    panic!("{topic} {id} never accepted");
}

async fn emails(stack: &TestStack, token: &str) -> usize {
    stack.emails_to(&format!("{token}@storm.test")).await.len()
}

async fn status(stack: &TestStack, token: &str) -> Option<CheckoutStatus> {
    let token = CheckoutToken::new(token).unwrap();
    stack.services.store.load_checkout(&stack.shop_domain(), &token).await.unwrap().map(|r| r.status)
}

#[tokio::test]
async fn a_replay_storm_leaves_one_state_per_cart_and_each_step_once_never_after_an_order() {
    let stack = TestStack::start("replay-storm").await;
    let spec = |token: &str, minutes: i64| {
        let mut spec = stack.checkout(token, Some(&format!("{token}@storm.test")));
        spec.updated_at += Duration::minutes(minutes);
        spec
    };
    let shop = stack.shop_domain();

    // Reordered and duplicated, sequentially and at once: three updates, each five times.
    let mut deliveries = Vec::new();
    for minutes in [10, 0, 5] {
        for _ in 0..5 {
            deliveries.push((format!("wh-storm-{minutes}"), fixtures::checkout(&spec("storm", minutes))));
        }
    }
    let statuses = stack.deliver_concurrently("checkouts/update", deliveries).await;
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    for minutes in [0, 5, 10] {
        deliver(
            &stack,
            "checkouts/update",
            &format!("wh-storm-{minutes}"),
            &fixtures::checkout(&spec("storm", minutes)),
        )
        .await;
    }
    // An order that overtakes its checkout, and a delete that overtakes its checkout.
    deliver(&stack, "orders/create", "wh-early-order", &fixtures::order(&spec("early", 0), 501, stack.clock_now()))
        .await;
    deliver(&stack, "checkouts/create", "wh-early", &fixtures::checkout(&spec("early", 0))).await;
    deliver(&stack, "checkouts/delete", "wh-gone-delete", &json!({"id": 1, "token": "gone"})).await;
    deliver(&stack, "checkouts/create", "wh-gone", &fixtures::checkout(&spec("gone", 0))).await;
    for token in ["between", "after", "twice"] {
        deliver(&stack, "checkouts/create", &format!("wh-{token}"), &fixtures::checkout(&spec(token, 0))).await;
    }
    assert_eq!(status(&stack, "early").await, Some(CheckoutStatus::Converted));
    assert_eq!(status(&stack, "gone").await, Some(CheckoutStatus::Deleted));

    // The first checks fall due ("storm" last changed ten minutes later than the others).
    // "twice"'s schedule fires twice at once (and the pump fires it a third time).
    stack.clock.advance(Duration::minutes(75));
    let twice = stack.schedule_inputs().await.into_iter().find(|input| input.checkout.as_str() == "twice").unwrap();
    let (a, b) = tokio::join!(
        reclaim_recovery_check::handle(stack.services.as_ref(), &twice),
        reclaim_recovery_check::handle(stack.services.as_ref(), &twice)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| matches!(o, CheckOutcome::Sent { .. })).count(), 1, "{outcomes:?}");
    stack.pump_until_idle().await;
    for token in ["storm", "between", "after", "twice"] {
        assert_eq!(emails(&stack, token).await, 1, "{token}: the first step once");
    }

    // A day late: the oldest update again, and an order between the checks.
    stack.clock.advance(Duration::hours(3));
    deliver(&stack, "checkouts/update", "wh-storm-late", &fixtures::checkout(&spec("storm", 1))).await;
    deliver(&stack, "orders/create", "wh-between-order", &fixtures::order(&spec("between", 0), 502, stack.clock_now()))
        .await;
    deliver(&stack, "orders/create", "wh-between-order", &fixtures::order(&spec("between", 0), 502, stack.clock_now()))
        .await;
    for _ in 0..4 {
        stack.advance_and_pump(Duration::hours(24)).await;
    }
    deliver(&stack, "orders/paid", "wh-after-order", &fixtures::order(&spec("after", 0), 503, stack.clock_now())).await;
    stack.advance_and_pump(Duration::days(3)).await;

    assert_eq!(emails(&stack, "storm").await, 3, "every step once, whatever the storm");
    assert_eq!(emails(&stack, "twice").await, 3, "a schedule fired twice sends once");
    assert_eq!(emails(&stack, "after").await, 3);
    assert_eq!(emails(&stack, "between").await, 1, "nothing after the order");
    assert_eq!(emails(&stack, "early").await, 0, "an order that came first: never reminded");
    assert_eq!(emails(&stack, "gone").await, 0, "a delete that came first: never reminded");
    assert_eq!(status(&stack, "between").await, Some(CheckoutStatus::Converted));
    let storm =
        stack.services.store.load_checkout(&shop, &CheckoutToken::new("storm").unwrap()).await.unwrap().unwrap();
    assert_eq!(
        storm.snapshot.updated_at,
        stack.checkout("storm", None).updated_at + Duration::minutes(10),
        "the newest stands"
    );
    assert!(stack.schedules().await.is_empty(), "nothing left armed");
}
