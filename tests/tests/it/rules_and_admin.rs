//! Recovery rules and the admin API against the emulator: versioned settings, validation,
//! session-token authentication, quiet hours in the shopper's own time zone, the holdout group.

use chrono::Duration;
use reclaim_core::model::{CheckoutRecord, ShopDomain};
use reclaim_core::rules::{RecoverySettings, StopReason, WaitReason, in_holdout};
use reclaim_core::usecases::CheckOutcome;
use reclaim_local::fixtures;
use reclaim_tests::{TestStack, epoch, outcome_of};
use reqwest::Method;
use serde_json::{Value, json};

fn one_step_settings(extra: Value) -> Value {
    let mut settings = json!({
        "timezone": "America/New_York",
        "steps": [{"name": "reminder", "delay": "1h"}, {"name": "follow-up", "delay": "1day", "templates": {"email": "follow_up"}}],
    });
    settings["policies"] = extra;
    settings
}

#[tokio::test]
async fn settings_round_trip_with_versions_and_a_stale_write_is_409() {
    let stack = TestStack::start("settings").await;
    let current: Value = stack.admin(Method::GET, "/admin/settings").send().await.unwrap().json().await.unwrap();
    assert_eq!(current["version"], 0);
    assert_eq!(current["settings"]["steps"].as_array().unwrap().len(), 3, "defaults before any save");

    let v1 = stack.put_settings(0, one_step_settings(json!({"holdout_percent": 10}))).await;
    assert_eq!(v1, 1);
    let read: Value = stack.admin(Method::GET, "/admin/settings").send().await.unwrap().json().await.unwrap();
    assert_eq!(read["version"], 1);
    assert_eq!(read["settings"]["policies"]["holdout_percent"], 10);
    assert_eq!(read["settings"]["steps"][1]["templates"]["email"], "follow_up");

    let v2 = stack.put_settings(1, one_step_settings(json!({"holdout_percent": 5}))).await;
    assert_eq!(v2, 2);
    // Someone saving on top of version 1 again lost the race.
    let stale = stack
        .admin(Method::PUT, "/admin/settings")
        .json(&json!({"version": 1, "settings": one_step_settings(json!({}))}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
    let read: Value = stack.admin(Method::GET, "/admin/settings").send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (read["version"].as_u64(), read["settings"]["policies"]["holdout_percent"].as_u64()),
        (Some(2), Some(5))
    );
}

#[tokio::test]
async fn invalid_settings_are_400_with_every_offending_path_and_nothing_saved() {
    let stack = TestStack::start("invalid-settings").await;
    let settings = json!({
        "timezone": "Nowhere/Special",
        "steps": [{"name": "a", "delay": "2h"}, {"name": "b", "delay": "1h", "channels": []}],
        "policies": {"holdout_percent": 90, "quiet_hours": {"start": "21:00", "end": "21:00"}}
    });
    let response = stack
        .admin(Method::PUT, "/admin/settings")
        .json(&json!({"version": 0, "settings": settings}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    let paths: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    for expected in
        ["timezone", "steps[1].delay", "steps[1].channels", "policies.holdout_percent", "policies.quiet_hours.end"]
    {
        assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
    }
    assert!(body["errors"][0]["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let read: Value = stack.admin(Method::GET, "/admin/settings").send().await.unwrap().json().await.unwrap();
    assert_eq!(read["version"], 0, "no partial save");
}

#[tokio::test]
async fn missing_bad_and_foreign_tokens_are_refused() {
    let stack = TestStack::start("admin-auth").await;
    let url = format!("{}/admin/settings", stack.gateway.url());
    let status = |request: reqwest::RequestBuilder| async move { request.send().await.unwrap().status().as_u16() };
    assert_eq!(status(stack.http.get(&url)).await, 401, "no token");
    assert_eq!(status(stack.http.get(&url).bearer_auth("not-a-token")).await, 401, "garbage");
    let forged = reclaim_core::session::sign_session_token(
        &ShopDomain::parse(&stack.shop).unwrap(),
        &stack.config.shopify_api_key,
        b"another app's secret",
        epoch(),
        60,
    );
    assert_eq!(status(stack.http.get(&url).bearer_auth(forged)).await, 401, "wrong secret");
    let expired = stack.session_token(&stack.shop);
    stack.clock.advance(Duration::seconds(75));
    assert_eq!(status(stack.http.get(&url).bearer_auth(&expired)).await, 401, "expired beyond the leeway");
    // A valid token of another shop cannot reach this shop's data.
    let other = stack.session_token("other-shop.myshopify.com");
    assert_eq!(status(stack.http.get(format!("{url}?shop={}", stack.shop)).bearer_auth(&other)).await, 403);
    // And with its own shop it only ever sees its own (default) settings.
    let response = stack.http.get(&url).bearer_auth(&other).send().await.unwrap();
    assert_eq!(response.status(), 200);
    stack.put_settings(0, one_step_settings(json!({"holdout_percent": 7}))).await;
    let theirs = stack.admin_json("/admin/settings", &stack.session_token("other-shop.myshopify.com")).await;
    assert_eq!(theirs["version"], 0);
}

/// A checkout body shipping to `country`/`province`.
fn checkout_in(
    stack: &TestStack,
    token: &str,
    email: &str,
    country: &str,
    province: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    let mut spec = stack.checkout(token, Some(email));
    spec.created_at = at;
    spec.updated_at = at;
    let mut body = fixtures::checkout(&spec);
    for address in ["shipping_address", "billing_address"] {
        body[address]["country_code"] = country.into();
        body[address]["province_code"] = province.into();
        body[address]["phone"] = Value::Null;
    }
    body
}

#[tokio::test]
async fn new_york_and_berlin_get_the_same_step_at_their_own_local_eight_oclock() {
    let stack = TestStack::start("quiet-hours").await;
    stack.put_settings(0, one_step_settings(json!({"quiet_hours": {"start": "21:00", "end": "08:00"}}))).await;
    // 01:00 UTC on 2 June: 21:00 in New York, 03:00 in Berlin. The 1 h delay falls in quiet hours in both.
    stack.clock.advance(Duration::hours(16));
    let abandoned = epoch() + Duration::hours(16);
    stack
        .deliver("checkouts/create", "wh-ny", &checkout_in(&stack, "chk-ny", "ny@shopper.test", "US", "NY", abandoned))
        .await;
    stack
        .deliver(
            "checkouts/create",
            "wh-be",
            &checkout_in(&stack, "chk-be", "berlin@shopper.test", "DE", "BE", abandoned),
        )
        .await;

    stack.clock.advance(Duration::hours(1));
    stack.pump_until_idle().await;
    // 05:59 UTC = 07:59 in Berlin: nothing yet.
    stack.clock.advance(Duration::minutes(3 * 60 + 59));
    let fired = stack.pump_until_idle().await;
    assert!(fired.iter().all(|f| matches!(f.outcome, CheckOutcome::Rearmed { reason: WaitReason::QuietHours, .. })));
    assert!(stack.emails_to("berlin@shopper.test").await.is_empty());
    // 06:00 UTC = 08:00 in Berlin.
    stack.clock.advance(Duration::minutes(1));
    stack.pump_until_idle().await;
    assert_eq!(stack.emails_to("berlin@shopper.test").await.len(), 1);
    assert!(stack.emails_to("ny@shopper.test").await.is_empty(), "02:00 in New York");
    // 11:59 UTC = 07:59 in New York, then 12:00 UTC = 08:00.
    stack.clock.advance(Duration::minutes(5 * 60 + 59));
    stack.pump_until_idle().await;
    assert!(stack.emails_to("ny@shopper.test").await.is_empty());
    stack.clock.advance(Duration::minutes(1));
    stack.pump_until_idle().await;
    let ny = stack.emails_to("ny@shopper.test").await;
    let berlin = stack.emails_to("berlin@shopper.test").await;
    assert_eq!((ny.len(), berlin.len()), (1, 1));
    assert_eq!(ny[0].subject, berlin[0].subject, "the same step");
}

#[tokio::test]
async fn a_holdout_cart_gets_nothing_and_is_still_counted() {
    let stack = TestStack::start("holdout").await;
    let settings = one_step_settings(json!({"holdout_percent": 50}));
    stack.put_settings(0, settings.clone()).await;
    let parsed = RecoverySettings::from_json(&settings.to_string()).unwrap();
    // Find one checkout in the holdout and one outside it (the assignment is a stable hash).
    let shop = ShopDomain::parse(&stack.shop).unwrap();
    let held_out = |token: &str| {
        let spec = stack.checkout(token, Some("rules-x@shopper.test"));
        let bytes = serde_json::to_vec(&fixtures::checkout(&spec)).unwrap();
        let reclaim_core::platform::PlatformEvent::CheckoutUpserted(snapshot) =
            reclaim_core::platform::shopify::parse_event("checkouts/create", &bytes).unwrap()
        else {
            unreachable!()
        };
        in_holdout(&CheckoutRecord::new(shop.clone(), snapshot), &parsed)
    };
    let holdout_token = (0..100).map(|i| format!("chk-h{i}")).find(|t| held_out(t)).unwrap();
    let treated_token = (0..100).map(|i| format!("chk-t{i}")).find(|t| !held_out(t)).unwrap();
    let holdout = stack.checkout(&holdout_token, Some("holdout@shopper.test"));
    let treated = stack.checkout(&treated_token, Some("treated@shopper.test"));
    stack.deliver("checkouts/create", "wh-h1", &fixtures::checkout(&holdout)).await;
    stack.deliver("checkouts/create", "wh-t1", &fixtures::checkout(&treated)).await;
    let mut fired = Vec::new();
    for _ in 0..3 {
        fired.extend(stack.advance_and_pump(Duration::days(1)).await);
    }
    assert_eq!(outcome_of(&fired, &holdout_token), CheckOutcome::Stopped { reason: StopReason::Holdout });
    assert!(stack.emails_to("holdout@shopper.test").await.is_empty());
    assert_eq!(stack.emails_to("treated@shopper.test").await.len(), 2);
    stack.deliver("orders/create", "wh-h2", &fixtures::order(&holdout, 11, epoch() + Duration::days(3))).await;

    let stats = stack.admin_json("/admin/stats?from=2026-06-01&to=2026-06-10", &stack.session_token(&stack.shop)).await;
    let counters = &stats["counters"];
    assert_eq!(counters["holdout"], 1);
    assert_eq!(counters["abandoned"], 2, "the holdout cart counts as abandoned too");
    assert_eq!(counters["holdout.converted"], 1);
    assert_eq!(counters["holdout.revenue.USD"], 2500);
    assert_eq!(counters["sent.step0.email"], 1);
    assert_eq!(counters["sent.step0.variant.control"], 1);
    stack.deliver("orders/create", "wh-t2", &fixtures::order(&treated, 12, epoch() + Duration::days(3))).await;
    let stats = stack.admin_json("/admin/stats?from=2026-06-01&to=2026-06-10", &stack.session_token(&stack.shop)).await;
    assert_eq!(stats["counters"]["treated.converted"], 1, "the reminded group's order");
    assert_eq!(stats["lift"]["status"], "not_enough_data", "two carts say nothing yet: {}", stats["lift"]);
    assert_eq!(stats["lift"]["needed_per_group"], 100);
}

#[tokio::test]
async fn the_stats_carry_the_incremental_lift_with_its_interval_for_a_seeded_store() {
    use reclaim_core::ports::Stats;
    let stack = TestStack::start("lift").await;
    let shop = stack.shop_domain();
    let seeded: Vec<(String, i64)> = [
        ("abandoned", 2200),
        ("holdout", 200),
        ("treated.converted", 200),
        ("holdout.converted", 10),
        ("treated.revenue.USD", 200 * 8900),
    ]
    .iter()
    .map(|(name, amount)| ((*name).to_owned(), *amount))
    .collect();
    stack.services.store.add_to_stats(&shop, epoch().date_naive(), 0, &seeded).await.unwrap();
    let stats = stack.admin_json("/admin/stats?from=2026-06-01&to=2026-06-10", &stack.session_token(&stack.shop)).await;
    let lift = &stats["lift"];
    assert_eq!(lift["status"], "estimated", "{lift}");
    let counters: std::collections::BTreeMap<String, i64> = serde_json::from_value(stats["counters"].clone()).unwrap();
    let expected = serde_json::to_value(reclaim_core::rules::lift::estimate(&counters)).unwrap();
    assert!(same_json(lift, &expected), "the same estimate as the core's: {lift} / {expected}");
    let orders = &lift["incremental_orders"];
    assert!((orders["estimate"].as_f64().unwrap() - 100.0).abs() < 1e-6, "{orders}");
    assert!(orders["low"].as_f64().unwrap() > 0.0 && orders["high"].as_f64().unwrap() < 200.0, "{orders}");
    assert!(lift["incremental_revenue"]["USD"]["estimate"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn the_preview_shows_the_timeline_with_local_send_times() {
    let stack = TestStack::start("preview").await;
    let mut spec = stack.checkout("chk-preview", Some("rules-p@shopper.test"));
    spec.updated_at = epoch() + Duration::hours(16); // 21:00 in New York
    let body = json!({
        "checkout": fixtures::checkout(&spec),
        "settings": one_step_settings(json!({"quiet_hours": {"start": "21:00", "end": "08:00"}})),
    });
    let response = stack.admin(Method::POST, "/admin/preview").json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let preview: Value = response.json().await.unwrap();
    assert_eq!(preview["timezone"], "America/New_York");
    let timeline = preview["timeline"].as_array().unwrap();
    let sends: Vec<&Value> = timeline.iter().filter(|e| e["decision"]["decision"] == "send").collect();
    assert_eq!(sends.len(), 2);
    assert!(sends[0]["local_time"].as_str().unwrap().contains("T08:00:00-04:00"), "{}", sends[0]["local_time"]);
    assert!(timeline.iter().any(|e| e["decision"]["reason"] == "quiet_hours"));
    assert_eq!(timeline.last().unwrap()["decision"]["reason"], "sequence_complete");
    let bad = stack.admin(Method::POST, "/admin/preview").json(&json!({"checkout": {}})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

/// JSON values equal but for the last bits of their floating-point numbers (a JSON round trip).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_json(v, w)),
        _ => a == b,
    }
}

#[tokio::test]
async fn the_what_if_replays_the_shops_last_30_days_under_the_draft_beside_the_saved_settings() {
    let stack = TestStack::start("what-if").await;
    for i in 0..3 {
        let spec = stack.checkout(&format!("chk-w{i}"), Some(&format!("what-if-{i}@shopper.test")));
        stack.deliver("checkouts/create", &format!("wh-w{i}"), &fixtures::checkout(&spec)).await;
    }
    let draft = json!({"settings": {"steps": [{"name": "only", "delay": "2h"}]}});
    let response = stack.admin(Method::POST, "/admin/what-if").json(&draft).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let what_if: Value = response.json().await.unwrap();
    assert_eq!(what_if["checkouts"], 3);
    let sent = |tally: &Value| tally["sends"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>();
    assert_eq!(sent(&what_if["current"]), 9, "the default three steps for three carts: {}", what_if["current"]);
    assert_eq!(sent(&what_if["draft"]), 3, "one step for three carts: {}", what_if["draft"]);
    let invalid = json!({"settings": {"steps": [{"name": "x", "delay": "soon"}]}});
    let refused = stack.admin(Method::POST, "/admin/what-if").json(&invalid).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["path"], "steps[0].delay", "{body}");
}

#[tokio::test]
async fn the_stats_export_as_csv_one_row_per_day_one_column_per_counter() {
    use reclaim_core::ports::Stats;
    let stack = TestStack::start("stats-csv").await;
    let shop = stack.shop_domain();
    let day = |d: i64| (epoch() + Duration::days(d)).date_naive();
    let counters = |sent: i64| vec![("sent.step0.email".to_owned(), sent), ("abandoned".to_owned(), sent + 1)];
    stack.services.store.add_to_stats(&shop, day(0), 0, &counters(3)).await.unwrap();
    stack.services.store.add_to_stats(&shop, day(2), 1, &counters(5)).await.unwrap();
    let response = stack.admin(Method::GET, "/admin/stats.csv?from=2026-06-01&to=2026-06-03").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows, ["day,abandoned,sent.step0.email", "2026-06-01,4,3", "2026-06-02,0,0", "2026-06-03,6,5"]);
}

#[tokio::test]
async fn send_me_a_test_mails_the_first_step_to_the_shops_own_address_only() {
    let stack = TestStack::start("test-email").await;
    let refused = stack.admin(Method::POST, "/admin/test-email").send().await.unwrap();
    assert_eq!(refused.status(), 400, "no contact address before the install");
    assert_eq!(stack.admin(Method::POST, "/auth/token-exchange").send().await.unwrap().status(), 200);
    let response = stack.admin(Method::POST, "/admin/test-email").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let owner = stack.shopify.contact_email();
    assert_eq!(response.json::<Value>().await.unwrap()["sent_to"], owner.as_str());
    // Every test stack's stand-in shop has this contact address (data requests go there too):
    // count only test emails.
    let sent: Vec<_> = stack.emails_to(&owner).await.into_iter().filter(|e| e.subject.starts_with("[Test]")).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "[Test] You left something in your cart", "the first step's template");
    assert!(sent[0].text.contains("Linen Throw Blanket"), "the example cart: {}", sent[0].text);
    assert_eq!(sent[0].list_unsubscribe, None, "a message to the merchant is not marketing");
    // With a body: exactly what the editor previews (the draft's German copy, in euros).
    let draft = json!({"steps": [{"name": "reminder", "delay": "1h",
        "copy": {"email": {"de": {"subject": "Test auf Deutsch für {{ first_name }}"}}}}]});
    let body = json!({"settings": draft, "step": 0, "language": "de"});
    let response = stack.admin(Method::POST, "/admin/test-email").json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let german: Vec<_> =
        stack.emails_to(&owner).await.into_iter().filter(|e| e.subject == "[Test] Test auf Deutsch für Alex").collect();
    assert_eq!(german.len(), 1, "the draft's subject, not the saved one");
    assert!(german[0].text.contains("89,00\u{a0}€"), "{}", german[0].text);
}

#[tokio::test]
async fn the_message_preview_renders_the_drafts_copy_for_a_german_shopper_with_the_shops_own_images() {
    let stack = TestStack::start("message-preview").await;
    let spec = stack.checkout("chk-images", Some("images@shopper.test"));
    let mut body = fixtures::checkout(&spec);
    body["line_items"][0]["image_url"] = json!("https://cdn.shopify.example/files/linen.jpg");
    assert_eq!(stack.deliver("checkouts/create", "wh-images", &body).await.status(), 200);
    let draft = json!({"steps": [
        {"name": "reminder", "delay": "1h", "channels": ["email", "sms", "push"],
         "copy": {"email": {"de": {"subject": "Alex, dein Warenkorb bei {{ shop_name }}"}},
                  "sms": {"de": {"text": "{{ shop_name }}: {{ item_count }} Artikel warten:"}}}},
        {"name": "follow-up", "delay": "1day"}]});
    let preview = |body: Value| stack.admin(Method::POST, "/admin/message-preview").json(&body).send();
    let response = preview(json!({"settings": draft, "step": 0, "language": "de"})).await.unwrap();
    assert_eq!(response.status(), 200);
    let preview_json: Value = response.json().await.unwrap();
    let email = &preview_json["email"];
    assert_eq!(email["subject"], "Alex, dein Warenkorb bei Test Shop");
    let html = email["html"].as_str().unwrap().replace("&#x2f;", "/");
    assert!(html.contains(r#"<img src="https://cdn.shopify.example/files/linen.jpg""#), "the shop's own image: {html}");
    assert!(html.contains("89,00\u{a0}€") && html.contains("137,00\u{a0}€") && html.contains("Hallo Alex,"), "{html}");
    let sms = &preview_json["sms"];
    assert!(sms["text"].as_str().unwrap().starts_with("Test Shop: 3 Artikel warten: http"), "{sms}");
    assert!(sms["text"].as_str().unwrap().ends_with("Antworte STOP zum Abbestellen"), "{sms}");
    assert_eq!((sms["encoding"].as_str(), sms["segments"].as_u64()), (Some("GSM-7"), Some(1)), "{sms}");
    assert_eq!(preview_json["push"]["title"], "Test Shop");
    assert_eq!(preview_json["variables"].as_array().unwrap().len(), 6);
    let template_copy = &preview_json["template_copy"];
    assert_eq!(
        template_copy["email"]["subject"], "Du hast etwas in deinem Warenkorb vergessen",
        "the template's own words"
    );
    assert_eq!(template_copy["push"]["title"], "{{ shop_name }}");

    // The saved settings (English defaults) when no draft is sent; an English shopper pays in dollars.
    let saved: Value = preview(json!({"step": 0})).await.unwrap().json().await.unwrap();
    assert_eq!(saved["email"]["subject"], "You left something in your cart");
    assert!(saved["email"]["html"].as_str().unwrap().contains("$89.00"));
    // Copy naming what is not a variable is refused with its path; nothing renders.
    let bad = json!({"settings": {"steps": [{"name": "a", "delay": "1h",
        "copy": {"email": {"en": {"body": "{{ customer.password }}"}}}}]}});
    let response = preview(bad).await.unwrap();
    assert_eq!(response.status(), 400);
    let refusal: Value = response.json().await.unwrap();
    assert_eq!(refusal["errors"][0]["path"], "steps[0].copy.email.en.body", "{refusal}");
    assert_eq!(preview(json!({"step": 5})).await.unwrap().status(), 400, "no such step");
}

#[tokio::test]
async fn the_onboarding_checklist_reads_each_step_live() {
    use reclaim_core::ports::Shops;
    let stack = TestStack::start("onboarding").await;
    let checklist = || async {
        let list = stack.admin_json("/admin/onboarding", &stack.session_token(&stack.shop)).await["checklist"].clone();
        let done = |id: &str| list.as_array().unwrap().iter().find(|item| item["id"] == id).unwrap()["done"] == true;
        ["sender_verified", "app_embed", "test_email", "sms_number"].map(done)
    };
    // The local stack created and verified its sender domain in SES (the emulator): only that.
    assert_eq!(checklist().await, [true, false, false, false]);
    // The storefront script asks for its settings through the app proxy: the embed is live.
    let widget = stack.http.get(format!("{}/apps/reclaim/settings", stack.gateway.url())).send().await.unwrap();
    assert_eq!(widget.status(), 200);
    assert_eq!(checklist().await, [true, true, false, false]);
    assert_eq!(stack.admin(Method::POST, "/auth/token-exchange").send().await.unwrap().status(), 200);
    // (Its own subject: the emulator's outbox and the stand-in's contact address are shared.)
    let draft = json!({"steps": [{"name": "reminder", "delay": "1h",
        "copy": {"email": {"en": {"subject": "Onboarding checklist test"}}}}]});
    let test_email = stack.admin(Method::POST, "/admin/test-email").json(&json!({"settings": draft})).send();
    assert_eq!(test_email.await.unwrap().status(), 200);
    assert_eq!(checklist().await, [true, true, true, false]);
    // The operator allows a number, the merchant picks it: the optional step is done too.
    let shop = stack.shop_domain();
    stack
        .services
        .store
        .update_shop_state(&shop, |state| state.allowed_originations.insert("+12065550100".into()))
        .await
        .unwrap();
    let mut settings = RecoverySettings::default();
    settings.sms.origination_identity = Some("+12065550100".into());
    stack.put_settings(0, serde_json::to_value(&settings).unwrap()).await;
    assert_eq!(checklist().await, [true, true, true, true]);
}
