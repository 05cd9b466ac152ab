//! SES delivery events against the emulator: a permanent bounce or a complaint stops every further
//! email to that address at that shop; transient bounces, deliveries, opens and clicks are counted;
//! malformed events are refused (so SNS retries, then dead-letters them).

use chrono::Duration;
use reclaim_core::usecases::delivery::DeliveryOutcome;
use reclaim_delivery_events::RecordOutcome::Email;
use reclaim_local::fixtures;
use reclaim_tests::TestStack;
use serde_json::{Value, json};

fn sns(messages: &[Value]) -> Value {
    json!({ "Records": messages.iter().map(|m| json!({ "EventSource": "aws:sns", "Sns": { "Message": m.to_string() } })).collect::<Vec<_>>() })
}

fn ses(kind: &str, to: &str, extra: Value) -> Value {
    let mut event = json!({
        "eventType": kind,
        "mail": { "destination": [to], "tags": { "shop": ["test-shop_myshopify_com"], "step": ["0"] } }
    });
    if let (Some(event), Value::Object(extra)) = (event.as_object_mut(), extra) {
        event.extend(extra);
    }
    event
}

#[tokio::test]
async fn bounces_and_complaints_suppress_the_address_and_everything_is_counted() {
    let stack = TestStack::start("delivery-events").await;
    let bounced = ses(
        "Bounce",
        "gone@shopper.test",
        json!({"bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "gone@shopper.test"}]}}),
    );
    let complained = ses(
        "Complaint",
        "angry@shopper.test",
        json!({"complaint": {"complainedRecipients": [{"emailAddress": "angry@shopper.test"}]}}),
    );
    let transient = ses(
        "Bounce",
        "full@shopper.test",
        json!({"bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "full@shopper.test"}]}}),
    );
    let others = [
        ses("Delivery", "ok@shopper.test", json!({})),
        ses("Open", "ok@shopper.test", json!({})),
        ses("Click", "ok@shopper.test", json!({})),
    ];
    let mut all = vec![bounced, complained, transient];
    all.extend(others);
    let outcomes = reclaim_delivery_events::handle(stack.services.as_ref(), &sns(&all)).await.unwrap();
    assert_eq!(outcomes[0], Email(DeliveryOutcome::Suppressed { addresses: 1 }));
    assert_eq!(outcomes[1], Email(DeliveryOutcome::Suppressed { addresses: 1 }));
    assert!(outcomes[2..].iter().all(|o| *o == Email(DeliveryOutcome::Counted)));

    // Neither address gets anything more from this shop; the transient one still does.
    for (token, email) in
        [("chk-gone", "gone@shopper.test"), ("chk-angry", "angry@shopper.test"), ("chk-full", "full@shopper.test")]
    {
        stack
            .deliver(
                "checkouts/create",
                &format!("wh-{token}"),
                &fixtures::checkout(&stack.checkout(token, Some(email))),
            )
            .await;
    }
    stack.advance_and_pump(Duration::hours(1)).await;
    assert!(stack.emails_to("gone@shopper.test").await.is_empty());
    assert!(stack.emails_to("angry@shopper.test").await.is_empty());
    assert_eq!(stack.emails_to("full@shopper.test").await.len(), 1);

    let stats = stack.stats(1).await;
    for counter in [
        "email.bounces.permanent",
        "email.complaints",
        "email.bounces.transient",
        "email.delivered",
        "email.opens",
        "email.clicks",
    ] {
        assert_eq!(stats.get(counter), Some(&1), "{counter}");
    }
}

#[tokio::test]
async fn malformed_events_are_refused_and_foreign_mail_is_ignored() {
    let stack = TestStack::start("delivery-malformed").await;
    for bad in [
        json!({}),
        json!({"Records": [{"Sns": {}}]}),
        sns(&[json!("not an event")]),
        sns(&[json!({"eventType": "Bounce", "mail": {"tags": {"shop": ["test-shop_myshopify_com"]}}})]),
    ] {
        assert!(reclaim_delivery_events::handle(stack.services.as_ref(), &bad).await.is_err(), "{bad}");
    }
    let foreign = json!({"eventType": "Bounce", "mail": {"tags": {}}, "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}});
    let outcomes = reclaim_delivery_events::handle(stack.services.as_ref(), &sns(&[foreign])).await.unwrap();
    assert_eq!(outcomes, [Email(DeliveryOutcome::Ignored)]);
    assert!(stack.items().await.is_empty());
}
