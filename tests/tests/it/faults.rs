//! Delivery semantics under faults, through the fault-injecting proxy in front of the emulator:
//! the real SDK (its own retries on, as in production, but off for provider calls), the real
//! handlers, and faults at the wire. A definite refusal releases the step for a later attempt;
//! a lost answer never sends it twice; a claim whose answer is lost is recognised by its owner.

use chrono::Duration;
use reclaim_core::usecases::CheckOutcome;
use reclaim_local::fixtures;
use reclaim_tests::{Fault, TestStack, Times, outcome_of};

async fn abandon(stack: &TestStack, token: &str, email: &str) {
    let body = fixtures::checkout(&stack.checkout(token, Some(email)));
    assert_eq!(stack.deliver("checkouts/create", &format!("wh-{token}"), &body).await.status(), 200);
}

#[tokio::test]
async fn a_throttled_send_email_is_released_then_sent_once_after_its_backoff() {
    let (stack, proxy) = TestStack::behind_fault_proxy("fault-throttled").await;
    abandon(&stack, "chk-throttled", "throttled@faults.test").await;
    proxy.inject("SendEmail", Fault::Status(429, "TooManyRequestsException"), Times::Next(1));
    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    assert!(
        matches!(outcome_of(&fired, "chk-throttled"), CheckOutcome::Retrying { step: 0, attempt: 1, .. }),
        "{fired:?}"
    );
    assert!(stack.emails_to("throttled@faults.test").await.is_empty());
    assert_eq!(proxy.tally().count("SendEmail", "status"), 1, "one call, no SDK retry of a provider call");

    let fired = stack.advance_and_pump(Duration::minutes(2)).await;
    assert!(matches!(outcome_of(&fired, "chk-throttled"), CheckOutcome::Sent { step: 0, .. }), "{fired:?}");
    assert_eq!(stack.emails_to("throttled@faults.test").await.len(), 1);
    let stats = stack.stats(1).await;
    assert_eq!((stats.get("released.step0"), stats.get("sent.step0")), (Some(&1), Some(&1)));
}

#[tokio::test]
async fn a_send_email_whose_answer_is_lost_is_uncertain_and_never_sent_again() {
    let (stack, proxy) = TestStack::behind_fault_proxy("fault-lost-send").await;
    abandon(&stack, "chk-lost", "lost@faults.test").await;
    proxy.inject("SendEmail", Fault::LoseAnswer, Times::Next(1));
    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    assert_eq!(outcome_of(&fired, "chk-lost"), CheckOutcome::Uncertain { step: 0 });
    // SES accepted it; with the SDK's retries on, the lost answer would have been a second email.
    assert_eq!(stack.emails_to("lost@faults.test").await.len(), 1);
    assert_eq!(proxy.tally().count("SendEmail", "lose_answer"), 1);
    assert_eq!(proxy.tally().count("SendEmail", "forwarded"), 0, "not repeated");

    stack.advance_and_pump(Duration::minutes(90)).await;
    assert_eq!(stack.emails_to("lost@faults.test").await.len(), 1, "step 0 is never retried");
    assert_eq!(stack.stats(1).await.get("uncertain.step0"), Some(&1));
}

#[tokio::test]
async fn a_claim_whose_answer_is_lost_is_recognised_as_its_own_on_the_sdk_retry() {
    let (stack, proxy) = TestStack::behind_fault_proxy("fault-lost-claim").await;
    abandon(&stack, "chk-claim", "claim@faults.test").await;
    proxy.inject("TransactWriteItems", Fault::LoseAnswer, Times::Next(1));
    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    let tally = proxy.tally();
    assert_eq!(tally.count("TransactWriteItems", "lose_answer"), 1, "the claim committed, its answer lost");
    assert!(tally.count("TransactWriteItems", "forwarded") >= 1, "the SDK tried again and its condition failed");
    assert!(matches!(outcome_of(&fired, "chk-claim"), CheckOutcome::Sent { step: 0, .. }), "{fired:?}");
    assert_eq!(stack.emails_to("claim@faults.test").await.len(), 1);
}

#[tokio::test]
async fn ses_5xx_answers_are_definite_failures_and_retried() {
    let (stack, proxy) = TestStack::behind_fault_proxy("fault-5xx").await;
    abandon(&stack, "chk-5xx", "five@faults.test").await;
    proxy.inject("SendEmail", Fault::Status(503, "ServiceUnavailable"), Times::Next(2));
    stack.advance_and_pump(Duration::hours(1)).await;
    stack.advance_and_pump(Duration::minutes(2)).await;
    assert!(stack.emails_to("five@faults.test").await.is_empty(), "two 503s, two releases");
    let fired = stack.advance_and_pump(Duration::minutes(5)).await;
    assert!(matches!(outcome_of(&fired, "chk-5xx"), CheckOutcome::Sent { step: 0, .. }), "{fired:?}");
    assert_eq!(stack.emails_to("five@faults.test").await.len(), 1);
    assert_eq!(stack.stats(1).await.get("released.step0"), Some(&2));
}

#[tokio::test]
async fn a_webhook_lease_whose_answer_is_lost_is_recognised_and_the_delivery_processed_at_once() {
    let (stack, proxy) = TestStack::behind_fault_proxy("fault-lost-lease").await;
    proxy.inject("PutItem", Fault::LoseAnswer, Times::Next(1));
    let body = fixtures::checkout(&stack.checkout("chk-lease", Some("lease@faults.test")));
    let response = stack.deliver("checkouts/create", "wh-lease", &body).await;
    assert_eq!(response.status(), 200, "not 409 in_progress behind its own lease");
    assert_eq!(proxy.tally().count("PutItem", "lose_answer"), 1);
    assert_eq!(stack.deliver("checkouts/create", "wh-lease", &body).await.status(), 200, "then a duplicate");
    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    assert!(matches!(outcome_of(&fired, "chk-lease"), CheckOutcome::Sent { step: 0, .. }), "the checkout was stored");
}

#[tokio::test]
async fn a_check_that_fails_every_retry_lands_in_the_queue_and_redrive_sends_it_once() {
    use reclaim_local::redrive::{LocalHandlers, redrive};
    let (stack, proxy) = TestStack::behind_fault_proxy("fault-redrive").await;
    abandon(&stack, "chk-redrive", "redrive@faults.test").await;
    // The table answers every read of the check's messages with a 500, through the SDK's retries.
    proxy.inject("Query", Fault::Status(500, "InternalServerError"), Times::Fraction(1.0));
    let mut failures = Vec::new();
    for minutes in [60, 0, 0] {
        failures.extend(stack.advance_and_pump_expecting_failures(Duration::minutes(minutes)).await.failed);
    }
    let exhausted: Vec<bool> = failures.iter().map(|f| f.exhausted).collect();
    assert_eq!(exhausted, [false, false, true], "the invocation and Lambda's two retries, then the queue");
    assert_eq!(stack.failed_invocations.depth().await.unwrap(), 1, "recorded, not dropped");
    assert!(stack.advance_and_pump_expecting_failures(Duration::minutes(10)).await.is_empty(), "and not retried again");
    assert!(stack.emails_to("redrive@faults.test").await.is_empty());

    proxy.heal();
    let report = redrive(&stack.failed_invocations, &LocalHandlers(stack.services.clone()), 100).await.unwrap();
    assert_eq!(report.total(), 1, "{report:?}");
    assert_eq!(report.resubmitted.get("reclaim-recovery-check"), Some(&1));
    assert_eq!(stack.emails_to("redrive@faults.test").await.len(), 1, "the redriven check sent the step");
    assert_eq!(stack.failed_invocations.depth().await.unwrap(), 0, "deleted once re-submitted");
    let again = redrive(&stack.failed_invocations, &LocalHandlers(stack.services.clone()), 100).await.unwrap();
    assert_eq!(again.total(), 0);
    stack.advance_and_pump(Duration::minutes(10)).await;
    assert_eq!(stack.emails_to("redrive@faults.test").await.len(), 1, "once");
}

#[tokio::test]
async fn a_lost_schedule_is_found_by_the_sweep_and_the_step_goes_out_once() {
    use reclaim_core::usecases::reconcile::RECONCILE_GRACE;
    let stack = TestStack::start("reconcile-lost").await;
    abandon(&stack, "chk-lost-schedule", "sweep@faults.test").await;
    let scheduler = stack.services.scheduler.client();
    for name in stack.schedules().await {
        scheduler.delete_schedule().name(&name).group_name(&stack.config.schedule_group).send().await.unwrap();
    }
    assert!(stack.advance_and_pump(Duration::hours(1)).await.is_empty(), "nothing fires: the schedule is gone");
    let report = reclaim_reconcile::handle(stack.services.as_ref()).await.unwrap();
    assert_eq!(report.overdue, 0, "within the grace");
    stack.clock.advance(RECONCILE_GRACE + Duration::minutes(1));
    let report = reclaim_reconcile::handle(stack.services.as_ref()).await.unwrap();
    assert_eq!((report.overdue, report.rearmed), (1, 1), "{report:?}");
    let fired = stack.advance_and_pump(Duration::zero()).await;
    assert!(matches!(outcome_of(&fired, "chk-lost-schedule"), CheckOutcome::Sent { step: 0, .. }), "{fired:?}");
    assert_eq!(stack.emails_to("sweep@faults.test").await.len(), 1);
    let again = reclaim_reconcile::handle(stack.services.as_ref()).await.unwrap();
    assert_eq!(again.overdue, 0, "the next step is armed for tomorrow: nothing overdue");
    assert_eq!(stack.stats(1).await.get("reconcile.rearmed"), Some(&1));
}

/// Delivers a webhook as Shopify does: again after any answer but 200 (a minute later each time,
/// so that a lease left by a failed attempt runs out), up to 30 times.
async fn deliver_like_shopify(stack: &TestStack, topic: &str, id: &str, body: &serde_json::Value) -> u32 {
    for attempt in 1..=30 {
        if stack.deliver(topic, id, body).await.status() == 200 {
            return attempt;
        }
        stack.clock.advance(Duration::minutes(1));
    }
    panic!("{topic} {id} was never accepted");
}

/// Pumps like Scheduler and Lambda under faults: a round that fails outright is tried again.
async fn pump_rounds(stack: &TestStack, rounds: usize) {
    for _ in 0..rounds {
        let _ = reclaim_local::pump::pump_once(&stack.services, &stack.failed_invocations).await;
    }
}

#[tokio::test]
async fn under_faults_everywhere_no_step_goes_twice_or_after_its_order_and_none_is_lost() {
    use reclaim_core::model::{CheckoutToken, DeliveryState};
    use reclaim_core::ports::MessageLog;
    use reclaim_local::redrive::{LocalHandlers, redrive};
    const CARTS: usize = 12;
    let (stack, proxy) = TestStack::behind_fault_proxy("fault-soak").await;
    for (operation, fault, fraction) in [
        ("TransactWriteItems", Fault::Status(500, "InternalServerError"), 0.15),
        ("TransactWriteItems", Fault::LoseAnswer, 0.05),
        ("PutItem", Fault::Status(400, "ThrottlingException"), 0.1),
        ("PutItem", Fault::LoseAnswer, 0.05),
        ("UpdateItem", Fault::Status(500, "InternalServerError"), 0.1),
        ("GetItem", Fault::Status(500, "InternalServerError"), 0.1),
        ("Query", Fault::Status(500, "InternalServerError"), 0.1),
        ("SendEmail", Fault::Status(429, "TooManyRequestsException"), 0.2),
        ("SendEmail", Fault::Status(503, "ServiceUnavailable"), 0.05),
        ("SendEmail", Fault::LoseAnswer, 0.05),
        ("SendEmail", Fault::Refuse, 0.05),
        ("CreateSchedule", Fault::Status(500, "InternalServerException"), 0.05),
    ] {
        proxy.inject(operation, fault, Times::Fraction(fraction));
    }
    let address = |i: usize| format!("soak-{i}@faults.test");
    let token = |i: usize| format!("chk-soak-{i}");
    let ordered = |i: usize| i % 3 == 0;
    for i in 0..CARTS {
        let body = fixtures::checkout(&stack.checkout(&token(i), Some(&address(i))));
        deliver_like_shopify(&stack, "checkouts/create", &format!("wh-soak-{i}"), &body).await;
        // Shopify delivers at least once: the same delivery again is a duplicate.
        deliver_like_shopify(&stack, "checkouts/create", &format!("wh-soak-{i}"), &body).await;
    }
    // The first steps fall due and go out, retried through the schedule as they fail.
    stack.clock.advance(Duration::hours(1));
    for minutes in [0, 1, 4, 16, 64] {
        stack.clock.advance(Duration::minutes(minutes));
        pump_rounds(&stack, 3).await;
    }
    // A third of the shoppers buy; the orders arrive through the same faults.
    let mut order_times = std::collections::HashMap::new();
    for i in (0..CARTS).filter(|i| ordered(*i)) {
        let spec = stack.checkout(&token(i), Some(&address(i)));
        let at = stack.clock_now();
        deliver_like_shopify(
            &stack,
            "orders/create",
            &format!("wh-order-{i}"),
            &fixtures::order(&spec, 9000 + i as u64, at),
        )
        .await;
        order_times.insert(i, stack.clock_now());
    }
    // Days pass; the operator's tools run now and then, under the same faults.
    for hours in [6, 12, 24, 24, 12] {
        stack.clock.advance(Duration::hours(hours));
        for minutes in [0, 1, 4, 16, 64] {
            stack.clock.advance(Duration::minutes(minutes));
            pump_rounds(&stack, 2).await;
        }
        let _ = reclaim_reconcile::handle(stack.services.as_ref()).await;
    }
    // The faults stop; everything drains.
    proxy.heal();
    redrive(&stack.failed_invocations, &LocalHandlers(stack.services.clone()), 1000).await.unwrap();
    for _ in 0..6 {
        stack.clock.advance(Duration::hours(12));
        reclaim_reconcile::handle(stack.services.as_ref()).await.unwrap();
        stack.pump_until_idle().await;
    }
    assert!(proxy.tally().calls.len() > 500, "the faults had work to do: {} calls", proxy.tally().calls.len());
    let faulted = proxy.tally().calls.iter().filter(|(_, outcome)| *outcome != "forwarded").count();
    assert!(faulted > 30, "and did it: {faulted} faults");

    let subjects =
        ["You left something in your cart", "Still thinking it over?", "Last chance: your cart is about to expire"];
    let shop = stack.shop_domain();
    for i in 0..CARTS {
        let emails = stack.emails_to(&address(i)).await;
        let messages = stack.services.store.messages(&shop, &CheckoutToken::new(token(i)).unwrap()).await.unwrap();
        for (step, subject) in subjects.iter().enumerate() {
            let sent = emails.iter().filter(|e| e.subject == *subject).count();
            assert!(sent <= 1, "cart {i}: step {step} went {sent} times");
            let state = messages.iter().find(|m| m.step == step as u32).map(|m| m.state);
            match state {
                Some(DeliveryState::Sent) => assert_eq!(sent, 1, "cart {i}: step {step} recorded sent"),
                Some(DeliveryState::Uncertain) => {}
                Some(DeliveryState::Failed) => assert_eq!(sent, 0, "cart {i}: step {step} failed"),
                Some(other) => panic!("cart {i}: step {step} left {other:?} after draining"),
                None if ordered(i) => assert_eq!(sent, 0),
                None => panic!("cart {i}: step {step} was lost"),
            }
        }
        if let Some(order_at) = order_times.get(&i) {
            assert!(
                messages.iter().all(|m| m.claimed_at <= *order_at),
                "cart {i}: nothing claimed after its order: {messages:?}"
            );
        }
    }
}
