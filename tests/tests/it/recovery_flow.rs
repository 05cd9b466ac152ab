//! The flow of one cart against the emulator: checkout -> scheduled checks -> emails -> order.

use chrono::Duration;
use reclaim_tests::{TestStack, link};

#[tokio::test]
async fn a_stalled_checkout_gets_one_email_per_step_at_the_configured_delays() {
    let stack = TestStack::start("steps").await;
    let email = "steps@shopper.test";
    let checkout = stack.checkout("chk-steps", Some(email));
    let response = stack.deliver("checkouts/create", "wh-steps-1", &reclaim_local::fixtures::checkout(&checkout)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(stack.schedules().await.len(), 1, "the first check is armed once");

    // Just before the first delay: nothing.
    stack.advance_and_pump(Duration::minutes(59)).await;
    assert!(stack.emails_to(email).await.is_empty());
    // At 1 h, 24 h and 72 h after the last activity: one email each.
    stack.advance_and_pump(Duration::minutes(1)).await;
    assert_eq!(stack.emails_to(email).await.len(), 1);
    stack.advance_and_pump(Duration::hours(22)).await;
    assert_eq!(stack.emails_to(email).await.len(), 1, "step 2 is not due before 24 h");
    stack.advance_and_pump(Duration::hours(1)).await;
    assert_eq!(stack.emails_to(email).await.len(), 2);
    stack.advance_and_pump(Duration::hours(48)).await;
    assert_eq!(stack.emails_to(email).await.len(), 3);
    stack.advance_and_pump(Duration::days(10)).await;
    let emails = stack.emails_to(email).await;
    assert_eq!(emails.len(), 3, "exactly one email per step");
    assert!(stack.schedules().await.is_empty(), "nothing left armed");

    let first = &emails[0];
    assert!(first.text.contains("Robin") && first.text.contains("Field Notebook"));
    assert!(first.html.contains("Field Notebook"));
    assert_eq!(first.list_unsubscribe_post.as_deref(), Some("List-Unsubscribe=One-Click"));
    let unsubscribe = link(&first.text, &format!("{}/u/", stack.gateway.url()));
    assert_eq!(first.list_unsubscribe.as_deref(), Some(format!("<{unsubscribe}>").as_str()));
    let stats = stack.stats(20).await;
    assert_eq!(stats.get("sent.step0.email"), Some(&1));
    assert_eq!(stats.get("sent.step2.email"), Some(&1));
    assert_eq!(stats.get("abandoned"), Some(&1));
}

/// A check that fails (here: unreadable settings) is not lost: like the scheduler's retry policy,
/// the local pump arms it again, and it sends once the cause is gone.
#[tokio::test]
async fn a_failed_check_is_retried_not_lost() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let stack = TestStack::start("retry").await;
    let email = "retry@shopper.test";
    let checkout = stack.checkout("chk-retry", Some(email));
    stack.deliver("checkouts/create", "wh-retry", &reclaim_local::fixtures::checkout(&checkout)).await;
    let settings_key = |item: aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder| {
        item.table_name(&stack.config.table)
            .item("pk", AttributeValue::S(format!("SHOP#{}", stack.shop)))
            .item("sk", AttributeValue::S("SETTINGS".into()))
            .item("version", AttributeValue::N("1".into()))
    };
    let client = stack.services.store.client();
    settings_key(client.put_item()).item("settings", AttributeValue::S("{not json".into())).send().await.unwrap();

    let round = stack.advance_and_pump_expecting_failures(Duration::hours(1)).await;
    assert!(round.fired.is_empty(), "the check failed");
    assert_eq!(round.failed.len(), 1, "and says so");
    assert_eq!(stack.schedules().await.len(), 1, "and is armed again");
    assert!(stack.emails_to(email).await.is_empty());

    client
        .delete_item()
        .table_name(&stack.config.table)
        .key("pk", AttributeValue::S(format!("SHOP#{}", stack.shop)))
        .key("sk", AttributeValue::S("SETTINGS".into()))
        .send()
        .await
        .unwrap();
    stack.pump_until_idle().await;
    assert_eq!(stack.emails_to(email).await.len(), 1, "sent once the settings are readable again");
}
