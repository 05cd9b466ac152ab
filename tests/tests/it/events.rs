//! Domain events reach EventBridge (emulated): a rule on the default bus routes Reclaim's events
//! for one checkout to an SQS queue, and the queue shows what happened, without personal data.

use chrono::Duration;
use reclaim_local::fixtures;
use reclaim_tests::{TestStack, epoch, link};
use serde_json::Value;

#[tokio::test]
async fn sends_clicks_and_conversions_are_published_to_eventbridge() {
    let stack = TestStack::start("events").await;
    let sdk = reclaim_local::stack::sdk_config(&stack.config.endpoint).await;
    let (events, sqs) = (aws_sdk_eventbridge::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
    let queue = sqs.create_queue().queue_name("reclaim-events-test").send().await.unwrap().queue_url.unwrap();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:reclaim-events-test";
    let pattern = serde_json::json!({"source": [reclaim_aws::EVENT_SOURCE], "detail": {"checkout": ["chk-events"]}});
    events.put_rule().name("reclaim-events-test").event_pattern(pattern.to_string()).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(queue_arn).build().unwrap();
    events.put_targets().rule("reclaim-events-test").targets(target).send().await.unwrap();

    let spec = stack.checkout("chk-events", Some("events@shopper.test"));
    stack.deliver("checkouts/create", "wh-e1", &fixtures::checkout(&spec)).await;
    stack.advance_and_pump(Duration::hours(1)).await;
    let email = stack.emails_to("events@shopper.test").await.remove(0);
    stack.http.get(link(&email.text, &format!("{}/r/", stack.gateway.url()))).send().await.unwrap();
    stack.deliver("orders/create", "wh-e2", &fixtures::order(&spec, 77, epoch() + Duration::hours(2))).await;

    let mut received = Vec::new();
    for _ in 0..5 {
        let out = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
        for message in out.messages() {
            received.push(serde_json::from_str::<Value>(message.body().unwrap()).unwrap());
        }
        if received.len() >= 3 {
            break;
        }
    }
    let kinds: Vec<&str> = received.iter().map(|e| e["detail-type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["RecoveryMessageSent", "RestoreLinkClicked", "CheckoutConverted"]);
    let converted = &received[2]["detail"];
    assert_eq!(converted["recovered"], true);
    assert_eq!(converted["revenue"]["minor"], 2500);
    let everything = serde_json::to_string(&received).unwrap();
    assert!(!everything.contains("events@shopper.test"), "no personal data in events");
}
