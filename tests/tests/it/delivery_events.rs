//! SES delivery events against the emulator: a permanent bounce or a complaint stops every further
//! email to that address at that shop; transient bounces, deliveries, opens and clicks are counted;
//! malformed events are refused (so SNS retries, then dead-letters them).

use chrono::Duration;
use reclaim_core::rules::{StopReason, WaitReason};
use reclaim_core::usecases::CheckOutcome;
use reclaim_core::usecases::delivery::DeliveryOutcome;
use reclaim_delivery_events::RecordOutcome::Email;
use reclaim_local::fixtures;
use reclaim_tests::{TestStack, epoch, outcome_of};
use serde_json::{Value, json};

/// An SNS event carrying `messages`, each notification with its own `MessageId` (as SNS gives).
fn sns(messages: &[Value]) -> Value {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let record = |m: &Value| {
        let id = format!("sns-{}-{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
        json!({ "EventSource": "aws:sns", "Sns": { "MessageId": id, "Message": m.to_string() } })
    };
    json!({ "Records": messages.iter().map(record).collect::<Vec<_>>() })
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
    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    let unsubscribed = CheckOutcome::Stopped { reason: StopReason::Unsubscribed };
    assert_eq!(outcome_of(&fired, "chk-gone"), unsubscribed, "a permanent bounce suppresses");
    assert_eq!(outcome_of(&fired, "chk-angry"), unsubscribed, "a complaint suppresses");
    assert!(matches!(outcome_of(&fired, "chk-full"), CheckOutcome::Sent { .. }));
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

/// An SNS event from the two-way SMS topic carrying one inbound message per reply.
fn inbound(replies: &[(&str, &str, &str)]) -> Value {
    let records: Vec<Value> = replies
        .iter()
        .map(|(id, from, body)| {
            let message = json!({
                "originationNumber": from, "destinationNumber": "+18005550100",
                "messageKeyword": "KEYWORD_123456789012", "messageBody": body,
                "inboundMessageId": id, "previousPublishedMessageId": "out-1"
            });
            json!({ "EventSource": "aws:sns", "Sns": {
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:reclaim-sms-inbound",
                "Message": message.to_string()
            }})
        })
        .collect();
    json!({ "Records": records })
}

#[tokio::test]
async fn stop_in_every_form_suppresses_sms_with_one_confirmation_help_answers_and_replies_are_kept() {
    use reclaim_core::ports::store::*;
    use reclaim_core::usecases::delivery::ReplyOutcome;
    use reclaim_delivery_events::RecordOutcome::Sms;
    let stack = TestStack::start("sms-replies").await;
    let steps = json!([
        {"name": "text", "delay": "1h", "channels": ["sms"]},
        {"name": "again", "delay": "1day", "channels": ["sms"]}
    ]);
    let sms = json!({"support_contact": "help@shop.test", "program_name": "Test Shop"});
    stack.put_settings(0, json!({ "steps": steps, "sms": sms })).await;
    let stops = [" STOP ", "stopall", "Unsubscribe", "CANCEL", "end", "Quit", "REVOKE", "opt out", "OptOut", "ARRET"];
    let phone = |i: usize| format!("+121255502{i:02}");
    let (helper, chatty) = (phone(40), phone(41));
    for i in (0..stops.len()).chain([40, 41]) {
        let mut body = fixtures::checkout(&stack.checkout(&format!("chk-{i}"), None));
        body["buyer_accepts_sms_marketing"] = json!(true);
        body["sms_marketing_phone"] = json!(phone(i));
        stack.deliver("checkouts/create", &format!("wh-{i}"), &body).await;
    }
    let eight_local = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 12, 0, 0).unwrap();
    stack.clock.set(eight_local);
    stack.pump_until_idle().await;
    for i in 0..stops.len() {
        assert_eq!(stack.sms_to(&phone(i)).await.len(), 1, "first reminder to {i}");
    }

    let replies: Vec<(String, String, &str)> =
        stops.iter().enumerate().map(|(i, word)| (format!("in-{i}"), phone(i), *word)).collect();
    let borrowed: Vec<(&str, &str, &str)> = replies.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), *c)).collect();
    let outcomes = reclaim_delivery_events::handle(stack.services.as_ref(), &inbound(&borrowed)).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == Sms(ReplyOutcome::Stopped)), "{outcomes:?}");
    // SNS delivers at least once: the same inbound message again changes nothing.
    let again = reclaim_delivery_events::handle(stack.services.as_ref(), &inbound(&borrowed[..1])).await.unwrap();
    assert_eq!(again, [Sms(ReplyOutcome::Duplicate)]);

    let help = inbound(&[("in-help", &helper, " help "), ("in-chat", &chatty, "Do you ship to Canada?")]);
    let outcomes = reclaim_delivery_events::handle(stack.services.as_ref(), &help).await.unwrap();
    assert_eq!(outcomes, [Sms(ReplyOutcome::Helped), Sms(ReplyOutcome::Stored)]);

    // The next step is due: nobody who said STOP gets it; each got exactly one confirmation.
    stack.clock.set(eight_local + Duration::days(1));
    stack.pump_until_idle().await;
    for (i, word) in stops.iter().enumerate() {
        let texts = stack.sms_to(&phone(i)).await;
        assert_eq!(texts.len(), 2, "reminder + confirmation for {word:?}: {texts:?}");
        assert!(texts[1].contains("unsubscribed") && !texts[1].contains("http"), "{}", texts[1]);
    }
    let answer = stack.sms_to(&helper).await.into_iter().find(|t| t.contains("Msg & data rates may apply")).unwrap();
    for needle in ["Test Shop", "up to 2 msgs", "Reply STOP", "help@shop.test"] {
        assert!(answer.contains(needle), "{needle} missing from {answer}");
    }
    assert_eq!(stack.sms_to(&helper).await.len(), 3, "HELP does not opt out: the second reminder still goes");
    let shop = stack.shop_domain();
    let kept = stack.services.store.replies(&shop, &reclaim_core::model::CheckoutToken::new("chk-41").unwrap()).await;
    let kept = kept.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body, "Do you ship to Canada?");
    let stats = stack.stats(2).await;
    assert_eq!(stats.get("sms.stops"), Some(&(stops.len() as i64)));
    assert_eq!((stats.get("sms.help"), stats.get("sms.replies")), (Some(&1), Some(&1)));

    // Malformed inbound messages are refused, so SNS retries and then dead-letters them.
    for bad in [
        json!("not json"),
        json!({"originationNumber": "nope", "destinationNumber": "+1", "messageBody": "STOP", "inboundMessageId": "x"}),
    ] {
        let event = json!({"Records": [{"Sns": {"TopicArn": "arn:aws:sns:us-east-1:1:reclaim-sms-inbound", "Message": bad.to_string()}}]});
        assert!(reclaim_delivery_events::handle(stack.services.as_ref(), &event).await.is_err(), "{bad}");
    }
}

#[tokio::test]
async fn sender_health_pauses_email_at_the_thresholds_until_the_merchant_resumes_it() {
    use reclaim_core::ports::store::*;
    let complaint =
        |to: &str| ses("Complaint", to, json!({"complaint": {"complainedRecipients": [{"emailAddress": to}]}}));
    let bounce = |to: &str| {
        ses("Bounce", to, json!({"bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": to}]}}))
    };
    let stats_json = |stack: &TestStack| {
        let request = stack.admin(reqwest::Method::GET, "/admin/stats");
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    // Complaints: one in 200 sends is 0.5%, over the 0.1% threshold.
    let stack = TestStack::start("sender-health").await;
    let shop = stack.shop_domain();
    stack.services.store.add_to_stats(&shop, epoch().date_naive(), 0, &[("email.sent".into(), 200)]).await.unwrap();
    stack
        .deliver("checkouts/create", "wh-p", &fixtures::checkout(&stack.checkout("chk-p", Some("p@shopper.test"))))
        .await;
    reclaim_delivery_events::handle(stack.services.as_ref(), &sns(&[complaint("x@shopper.test")])).await.unwrap();
    let stats = stats_json(&stack).await;
    assert_eq!(stats["sender_health"]["email_paused"], true, "{stats}");
    assert_eq!(stats["sender_health"]["pause"]["reason"], "complaint_rate");
    assert_eq!(stats["counters"]["email.paused"], 1);

    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    assert!(
        matches!(outcome_of(&fired, "chk-p"), CheckOutcome::Rearmed { reason: WaitReason::SenderPaused, .. }),
        "{fired:?}"
    );
    assert!(stack.emails_to("p@shopper.test").await.is_empty(), "paused: nothing goes out");
    let resumed = stack.admin(reqwest::Method::POST, "/admin/sender-health/resume").send().await.unwrap();
    assert_eq!(resumed.json::<Value>().await.unwrap()["resumed"], true);
    assert_eq!(stats_json(&stack).await["sender_health"]["email_paused"], false);
    stack.advance_and_pump(Duration::hours(1)).await;
    assert_eq!(stack.emails_to("p@shopper.test").await.len(), 1, "the held step goes once email resumes");

    // Bounces: 9 in 200 (4.5%) is fine, the 10th (5%) pauses.
    let stack = TestStack::start("sender-health-bounce").await;
    let shop = stack.shop_domain();
    stack.services.store.add_to_stats(&shop, epoch().date_naive(), 0, &[("email.sent".into(), 200)]).await.unwrap();
    let nine: Vec<Value> = (0..9).map(|i| bounce(&format!("b{i}@shopper.test"))).collect();
    reclaim_delivery_events::handle(stack.services.as_ref(), &sns(&nine)).await.unwrap();
    assert_eq!(stats_json(&stack).await["sender_health"]["email_paused"], false);
    reclaim_delivery_events::handle(stack.services.as_ref(), &sns(&[bounce("b9@shopper.test")])).await.unwrap();
    let stats = stats_json(&stack).await;
    assert_eq!(stats["sender_health"]["pause"]["reason"], "bounce_rate", "{stats}");
    assert_eq!(stats["sender_health"]["pause"]["bounces"], 10);
}

#[tokio::test]
async fn an_ses_event_delivered_twice_is_counted_once() {
    let stack = TestStack::start("ses-redelivery").await;
    let complaint = ses(
        "Complaint",
        "twice@shopper.test",
        json!({"complaint": {"complainedRecipients": [{"emailAddress": "twice@shopper.test"}]}}),
    );
    let event = sns(&[complaint]);
    let first = reclaim_delivery_events::handle(stack.services.as_ref(), &event).await.unwrap();
    let again = reclaim_delivery_events::handle(stack.services.as_ref(), &event).await.unwrap();
    assert_eq!(first, vec![Email(DeliveryOutcome::Suppressed { addresses: 1 })]);
    assert_eq!(again, vec![Email(DeliveryOutcome::Duplicate)], "SNS redelivered the same notification");
    assert_eq!(stack.stats(1).await.get("email.complaints"), Some(&1), "counted once");
}

#[tokio::test]
async fn a_stop_on_a_shared_number_reaches_every_shop_that_texted_it_from_allowed_numbers_only() {
    use reclaim_core::model::{Channel, ContactKey, ShopDomain};
    use reclaim_core::ports::store::*;
    use reclaim_core::usecases::admin::originations;
    use reclaim_core::usecases::delivery::ReplyOutcome;
    use reclaim_delivery_events::RecordOutcome::Sms;
    let stack = TestStack::start("sms-shared-number").await;
    let (first, second) = ("test-shop.myshopify.com", "second-shop.myshopify.com");
    let (shared, shopper) = ("+18005550199", "+12125550301");
    let put = |shop: &'static str, settings: Value| {
        let url = format!("{}/admin/settings", stack.gateway.url());
        stack
            .http
            .put(url)
            .bearer_auth(stack.session_token(shop))
            .json(&json!({"version": 0, "settings": settings}))
            .send()
    };
    let settings = |program: &str| {
        json!({"steps": [{"name": "text", "delay": "1h", "channels": ["sms"]}, {"name": "again", "delay": "1day", "channels": ["sms"]}],
               "sms": {"origination_identity": shared, "program_name": program}})
    };
    // Only the operator grants a number: before it does, the settings are refused, field by field.
    let refused = put(first, settings("First Shop")).await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["path"], "sms.origination_identity", "{body}");
    for shop in [first, second] {
        originations::allow(stack.services.as_ref(), &ShopDomain::parse(shop).unwrap(), shared).await.unwrap();
    }
    assert_eq!(put(first, settings("First Shop")).await.unwrap().status(), 200);
    assert_eq!(put(second, settings("Second Shop")).await.unwrap().status(), 200);

    // Both shops text the same shopper from the shared number, the second an hour later.
    for (shop, token, hours) in [(first, "chk-first", 0), (second, "chk-second", 1)] {
        let mut spec = stack.checkout(token, None);
        spec.shop = shop.to_owned();
        spec.created_at += Duration::hours(hours);
        spec.updated_at += Duration::hours(hours);
        let mut body = fixtures::checkout(&spec);
        body["buyer_accepts_sms_marketing"] = json!(true);
        body["sms_marketing_phone"] = json!(shopper);
        let response = fixtures::deliver(
            &stack.http,
            &stack.gateway.url(),
            &stack.config.shopify_secret,
            shop,
            "checkouts/create",
            &format!("wh-{token}"),
            &body,
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 200);
    }
    let eight_local = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 12, 0, 0).unwrap();
    stack.clock.set(eight_local);
    stack.pump_until_idle().await;
    assert_eq!(stack.sms_to(shopper).await.len(), 2, "one text from each shop");

    let reply = |id: &str, text: &str| {
        let message = json!({"originationNumber": shopper, "destinationNumber": shared, "messageBody": text, "inboundMessageId": id});
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:reclaim-sms-inbound", "Message": message.to_string()}}]})
    };
    let chat =
        reclaim_delivery_events::handle(stack.services.as_ref(), &reply("in-chat", "Is shipping free?")).await.unwrap();
    assert_eq!(chat, [Sms(ReplyOutcome::Stored)]);
    let second_shop = ShopDomain::parse(second).unwrap();
    let kept = stack
        .services
        .store
        .replies(&second_shop, &reclaim_core::model::CheckoutToken::new("chk-second").unwrap())
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "a reply belongs to the shop that texted last");

    let stop = reclaim_delivery_events::handle(stack.services.as_ref(), &reply("in-stop", "Stop")).await.unwrap();
    assert_eq!(stop, [Sms(ReplyOutcome::Stopped)]);
    for shop in [first, second] {
        let shop = ShopDomain::parse(shop).unwrap();
        let contact = stack.services.store.contact(&shop, &ContactKey::for_phone(&shop, shopper)).await.unwrap();
        assert!(
            contact.is_suppressed(Channel::Sms),
            "{shop}: a STOP on a shared number stops every shop that texted it"
        );
    }
    let confirmation = stack.sms_to(shopper).await.into_iter().find(|t| t.contains("unsubscribed")).unwrap();
    assert!(confirmation.contains("First Shop") && confirmation.contains("Second Shop"), "it says so: {confirmation}");
    stack.clock.set(eight_local + Duration::days(2));
    stack.pump_until_idle().await;
    assert_eq!(stack.sms_to(shopper).await.len(), 3, "two reminders and one confirmation, nothing after the STOP");

    // The operator takes the number away: the shop's settings can no longer name it.
    originations::revoke(stack.services.as_ref(), &ShopDomain::parse(first).unwrap(), shared).await.unwrap();
    let refused = stack
        .http
        .put(format!("{}/admin/settings", stack.gateway.url()))
        .bearer_auth(stack.session_token(first))
        .json(&json!({"version": 1, "settings": settings("First Shop")}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}
