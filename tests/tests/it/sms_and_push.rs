//! SMS and push against the emulator: consent decides the channel, texts and pushes wait for
//! 08:00 local, short links restore the cart, the monthly SMS budget falls back to email, and
//! "stop all messages" reaches every channel. moto shows sent SMS and pushes at
//! `/moto-api/data.json`, which is what these tests read.

use chrono::{Duration, TimeZone, Utc};
use reclaim_core::model::{Channel, CheckoutToken, ContactKey};
use reclaim_core::ports::store::*;
use reclaim_local::{fixtures, outbox};
use reclaim_tests::{TestStack, epoch, link};
use serde_json::{Value, json};

/// A checkout whose shopper gave `phone` and, if `consent`, agreed to SMS marketing at checkout.
fn texting_checkout(stack: &TestStack, token: &str, email: Option<&str>, phone: &str, consent: bool) -> Value {
    let mut body = fixtures::checkout(&stack.checkout(token, email));
    body["buyer_accepts_sms_marketing"] = json!(consent);
    body["sms_marketing_phone"] = json!(phone);
    body
}

/// 08:00 in New York on the first day (the fixture's address), when texting may start.
fn eight_in_new_york() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

#[tokio::test]
async fn sms_goes_out_only_with_consent_at_eight_local_with_a_short_link() {
    let stack = TestStack::start("sms-consent").await;
    stack.put_settings(0, json!({"steps": [{"name": "text", "delay": "1h", "channels": ["sms", "email"]}]})).await;
    let (agreed, declined, via_customer) = ("+12125550171", "+12125550172", "+12125550173");
    // Consent given on the customer record, not at checkout.
    let customer = json!({
        "id": 7001, "phone": via_customer, "email": "cy@shopper.test",
        "sms_marketing_consent": {
            "state": "subscribed", "opt_in_level": "single_opt_in",
            "consent_updated_at": "2026-05-30T10:00:00Z", "consent_collected_from": "SHOPIFY"
        }
    });
    assert_eq!(stack.deliver("customers/update", "wh-cust", &customer).await.status(), 200);
    for (token, email, phone, consent) in [
        ("chk-agreed", None, agreed, true),
        ("chk-declined", Some("dee@shopper.test"), declined, false),
        ("chk-customer", Some("cy@shopper.test"), via_customer, false),
    ] {
        let response =
            stack.deliver("checkouts/create", token, &texting_checkout(&stack, token, email, phone, consent)).await;
        assert_eq!(response.status(), 200);
    }

    // 10:00 UTC is 06:00 in New York: email goes at once, texts wait for 08:00 local.
    stack.advance_and_pump(Duration::hours(1)).await;
    assert_eq!(stack.emails_to("dee@shopper.test").await.len(), 1, "no SMS consent: the step falls back to email");
    stack.advance_and_pump(Duration::hours(1)).await;
    assert!(stack.sms_to(agreed).await.is_empty(), "07:00 local is still quiet");
    stack.clock.set(eight_in_new_york());
    stack.pump_until_idle().await;

    let texts = stack.sms_to(agreed).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].ends_with("Reply STOP to opt out"), "{}", texts[0]);
    assert_eq!(stack.sms_to(via_customer).await.len(), 1, "consent from customers/update counts");
    assert!(stack.sms_to(declined).await.is_empty());
    assert!(stack.emails_to("cy@shopper.test").await.is_empty(), "SMS went first, not both");
    let shop = stack.shop_domain();
    let token = CheckoutToken::new("chk-agreed").unwrap();
    let messages = stack.services.store.messages(&shop, &token).await.unwrap();
    assert_eq!((messages[0].channel, messages[0].sent_at), (Channel::Sms, Some(eight_in_new_york())));
    assert_eq!(messages[0].sms_consent.as_ref().map(|c| c.source.as_str()), Some("checkout"), "evidence kept");
    let token = CheckoutToken::new("chk-customer").unwrap();
    let sent_under = stack.services.store.messages(&shop, &token).await.unwrap()[0].sms_consent.clone().unwrap();
    assert_eq!(sent_under.source, "customers/update:shopify");

    // The consent evidence is kept with the number.
    let evidence = stack.services.store.contact(&shop, &ContactKey::for_phone(&shop, via_customer)).await.unwrap();
    let evidence = evidence.sms_consent.expect("evidence kept");
    assert_eq!(evidence.source, "customers/update:shopify");
    assert_eq!(evidence.text, "sms_marketing_consent single_opt_in");

    // The short link restores the cart on the shop's domain and counts the click.
    let short = link(&texts[0], &format!("{}/s/", stack.gateway.url()));
    assert!(short.len() < stack.gateway.url().len() + 15, "short: {short}");
    let response = stack.http.get(&short).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert!(response.headers()["location"].to_str().unwrap().starts_with(&format!("https://{}/", stack.shop)));
    let stats = stack.stats(1).await;
    assert_eq!(stats.get("clicks.step0"), Some(&1));
    assert_eq!(stats.get("sms.sent"), Some(&2));
    let unknown = stack.http.get(format!("{}/s/AAAAAAAAAA", stack.gateway.url())).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_monthly_sms_budget_falls_back_to_email() {
    let stack = TestStack::start("sms-budget").await;
    let settings =
        json!({"sms": {"monthly_budget": 1}, "steps": [{"name": "text", "delay": "1h", "channels": ["sms", "email"]}]});
    stack.put_settings(0, settings).await;
    let shoppers = [("chk-b1", "b1@shopper.test", "+12125550181"), ("chk-b2", "b2@shopper.test", "+12125550182")];
    for (token, email, phone) in shoppers {
        stack.deliver("checkouts/create", token, &texting_checkout(&stack, token, Some(email), phone, true)).await;
    }
    stack.clock.set(eight_in_new_york());
    stack.pump_until_idle().await;
    let mut texted = 0;
    let mut emailed = 0;
    for (_, email, phone) in shoppers {
        texted += stack.sms_to(phone).await.len();
        emailed += stack.emails_to(email).await.len();
    }
    assert_eq!((texted, emailed), (1, 1), "one SMS within the budget, the other shopper gets email");
    assert_eq!(stack.stats(1).await.get("sms.budget_exhausted"), Some(&1));
}

#[tokio::test]
async fn stop_all_on_the_unsubscribe_page_stops_texts_too() {
    let stack = TestStack::start("stop-all").await;
    let steps = json!([
        {"name": "mail", "delay": "1h", "channels": ["email"]},
        {"name": "text", "delay": "1day", "channels": ["sms"]}
    ]);
    stack.put_settings(0, json!({ "steps": steps })).await;
    let phone = "+12125550191";
    stack
        .deliver(
            "checkouts/create",
            "wh-all",
            &texting_checkout(&stack, "chk-all", Some("al@shopper.test"), phone, true),
        )
        .await;
    stack.advance_and_pump(Duration::hours(1)).await;
    let email = &stack.emails_to("al@shopper.test").await[0];
    let unsubscribe = link(&email.text, &format!("{}/u/", stack.gateway.url()));
    let page = stack.http.get(&unsubscribe).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Stop all messages from this shop"), "{page}");
    let stop_all = unsubscribe.replace("/u/", "/ua/");
    assert!(page.contains(&format!("action=\"../ua/{}\"", stop_all.rsplit('/').next().unwrap())));
    let response = stack.http.post(&stop_all).send().await.unwrap();
    assert_eq!(response.status(), 200);

    stack.clock.set(eight_in_new_york() + Duration::days(1));
    stack.pump_until_idle().await;
    assert!(stack.sms_to(phone).await.is_empty(), "no text after stop-all");
    let shop = stack.shop_domain();
    let state = stack.services.store.contact(&shop, &ContactKey::for_phone(&shop, phone)).await.unwrap();
    assert!(state.sms_suppressed.is_some());
    assert_eq!(stack.stats(2).await.get("unsubscribes.all"), Some(&1));
}

#[tokio::test]
async fn push_reaches_registered_devices_after_quiet_hours_and_disabled_endpoints_are_cleaned_up() {
    let stack = TestStack::start("push").await;
    let steps = json!([
        {"name": "nudge", "delay": "1h", "channels": ["push", "email"]},
        {"name": "again", "delay": "1day", "channels": ["push", "email"]},
        {"name": "last", "delay": "2days", "channels": ["push", "email"]}
    ]);
    stack.put_settings(0, json!({ "steps": steps })).await;
    let key = stack.admin(reqwest::Method::GET, "/admin/push-key").send().await.unwrap().json::<Value>().await.unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    let register = |body: Vec<u8>, shop: &str, signature: Option<String>| {
        let mut request =
            stack.http.post(format!("{}/push/devices", stack.gateway.url())).header("x-reclaim-shop", shop).body(body);
        if let Some(signature) = signature {
            request = request.header("x-reclaim-hmac-sha256", signature);
        }
        request.send()
    };
    let registration = |at: chrono::DateTime<Utc>| {
        serde_json::to_vec(&json!({
            "customer_email": "Pia@Shopper.test", "platform": "fcm", "device_token": "device-pia", "timestamp": at.timestamp()
        }))
        .unwrap()
    };
    let body = registration(epoch());
    let sign = |body: &[u8]| Some(reclaim_core::push::sign_registration(&key, body));
    // Refused, with nothing stored: unsigned, forged, for another shop, stale, malformed.
    for (body, shop, signature, status) in [
        (body.clone(), stack.shop.clone(), None, 401),
        (body.clone(), stack.shop.clone(), Some("AAAA".to_owned()), 401),
        (body.clone(), "other-shop.myshopify.com".to_owned(), sign(&body), 401),
        (
            registration(epoch() - Duration::minutes(10)),
            stack.shop.clone(),
            sign(&registration(epoch() - Duration::minutes(10))),
            401,
        ),
        (b"{\"nope\":1}".to_vec(), stack.shop.clone(), sign(b"{\"nope\":1}"), 400),
    ] {
        let response = register(body, &shop, signature).await.unwrap();
        assert_eq!(response.status(), status);
        let error = response.json::<Value>().await.unwrap();
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    }
    assert!(stack.items().await.iter().all(|item| !item["pk"].as_s().unwrap().starts_with("CONTACT#")));
    let response = register(body.clone(), &stack.shop, sign(&body)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["new_device"], true);

    stack
        .deliver(
            "checkouts/create",
            "wh-pia",
            &fixtures::checkout(&stack.checkout("chk-pia", Some("pia@shopper.test"))),
        )
        .await;
    stack.advance_and_pump(Duration::hours(1)).await;
    let shop = stack.shop_domain();
    let contact = ContactKey::for_email(&shop, "pia@shopper.test");
    let endpoint = stack.services.store.contact(&shop, &contact).await.unwrap().push_endpoints[0].arn.clone();
    assert!(pushes_to(&stack, &endpoint).await.is_empty(), "06:00 local is quiet for push too");
    stack.clock.set(eight_in_new_york());
    stack.pump_until_idle().await;
    let pushes = pushes_to(&stack, &endpoint).await;
    assert_eq!(pushes.len(), 1);
    let message: Value = serde_json::from_str(&pushes[0].message).unwrap();
    let fcm = message["GCM"].as_str().unwrap();
    assert!(fcm.contains(&format!("{}/r/", stack.gateway.url())), "deep link to the restored cart: {fcm}");
    assert!(stack.emails_to("pia@shopper.test").await.is_empty());

    // The device is uninstalled: SNS disables its endpoint. The next push cleans it up.
    let sns = aws_sdk_sns::Client::new(&reclaim_local::stack::sdk_config(&stack.config.endpoint).await);
    sns.set_endpoint_attributes().endpoint_arn(&endpoint).attributes("Enabled", "false").send().await.unwrap();
    stack.clock.set(eight_in_new_york() + Duration::days(1));
    stack.pump_until_idle().await;
    assert!(stack.services.store.contact(&shop, &contact).await.unwrap().push_endpoints.is_empty());
    assert!(sns.get_endpoint_attributes().endpoint_arn(&endpoint).send().await.is_err(), "endpoint deleted");
    assert_eq!(stack.stats(2).await.get("push.endpoints_removed"), Some(&1));
    // With no device left, the last step falls back to email.
    stack.clock.set(epoch() + Duration::days(2) + Duration::minutes(1));
    stack.pump_until_idle().await;
    assert_eq!(stack.emails_to("pia@shopper.test").await.len(), 1);
}

/// The pushes the emulator accepted for one device endpoint.
async fn pushes_to(stack: &TestStack, endpoint: &str) -> Vec<outbox::SentPush> {
    let all = outbox::sent_pushes(&stack.config.endpoint).await.unwrap();
    all.into_iter().filter(|push| push.endpoint == endpoint).collect()
}

/// Registers a shopper's device as the merchant's backend does: signed with `key`, now.
async fn register_device(stack: &TestStack, key: &str, email: &str, device: &str) -> reqwest::Response {
    let body = serde_json::to_vec(&json!({
        "customer_email": email, "platform": "fcm", "device_token": device, "timestamp": stack.clock_now().timestamp()
    }))
    .unwrap();
    stack
        .http
        .post(format!("{}/push/devices", stack.gateway.url()))
        .header("x-reclaim-shop", stack.shop.as_str())
        .header("x-reclaim-hmac-sha256", reclaim_core::push::sign_registration(key, &body))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The shop's current push-registration key.
async fn push_key(stack: &TestStack) -> String {
    let answer: Value =
        stack.admin(reqwest::Method::GET, "/admin/push-key").send().await.unwrap().json().await.unwrap();
    answer["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_push_key_is_per_shop_revocable_and_dies_with_an_uninstall() {
    let stack = TestStack::start("push-key").await;
    let old = push_key(&stack).await;
    let email = "kim@shopper.test";
    assert_eq!(register_device(&stack, &old, email, "device-1").await.status(), 200);
    let rotated = stack.admin(reqwest::Method::POST, "/admin/push-key/rotate").send().await.unwrap();
    assert_eq!(rotated.status(), 200);
    let new = rotated.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(register_device(&stack, &old, email, "device-2").await.status(), 401, "the revoked key signs nothing");
    assert_eq!(register_device(&stack, &new, email, "device-3").await.status(), 200);
    let uninstall = json!({"id": 1, "domain": stack.shop});
    assert_eq!(stack.deliver("app/uninstalled", "wh-uninstall", &uninstall).await.status(), 200);
    assert_eq!(register_device(&stack, &new, email, "device-4").await.status(), 401, "an uninstall revokes the key");
}

#[tokio::test]
async fn redactions_delete_push_endpoints_at_sns() {
    let stack = TestStack::start("push-redact").await;
    let key = push_key(&stack).await;
    let shop = stack.shop_domain();
    let sns = aws_sdk_sns::Client::new(&reclaim_local::stack::sdk_config(&stack.config.endpoint).await);
    let exists = |arn: String| {
        let sns = sns.clone();
        async move { sns.get_endpoint_attributes().endpoint_arn(arn).send().await.is_ok() }
    };
    let endpoint_of = |email: &'static str| {
        let (stack, shop) = (&stack, shop.clone());
        async move {
            let contact = ContactKey::for_email(&shop, email);
            stack.services.store.contact(&shop, &contact).await.unwrap().push_endpoints.first().map(|d| d.arn.clone())
        }
    };
    for (email, device) in [("gone@shopper.test", "device-gone"), ("stay@shopper.test", "device-stay")] {
        assert_eq!(register_device(&stack, &key, email, device).await.status(), 200);
    }
    let (gone, stay) =
        (endpoint_of("gone@shopper.test").await.unwrap(), endpoint_of("stay@shopper.test").await.unwrap());
    assert!(exists(gone.clone()).await && exists(stay.clone()).await, "registered at SNS");

    let redact = json!({"shop_id": 1, "shop_domain": stack.shop, "customer": {"id": 9, "email": "gone@shopper.test"}, "orders_to_redact": []});
    assert_eq!(stack.deliver("customers/redact", "wh-redact", &redact).await.status(), 200);
    assert!(!exists(gone).await, "the endpoint went with the customer's data");
    assert_eq!(endpoint_of("gone@shopper.test").await, None);
    assert!(exists(stay.clone()).await, "another shopper's stays");

    let redact_shop = json!({"shop_id": 1, "shop_domain": stack.shop});
    assert_eq!(stack.deliver("shop/redact", "wh-shop-redact", &redact_shop).await.status(), 200);
    assert!(!exists(stay).await, "shop/redact deletes every endpoint of the shop at SNS");
}
