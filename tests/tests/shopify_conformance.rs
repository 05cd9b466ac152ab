//! Conformance with Shopify: signatures cross-checked both ways with Shopify's own
//! `@shopify/shopify-api` (npm, installed by `make test` into `tests/node`), Shopify's published
//! test vector, and — where the team folder `../shared/fixtures/shopify` exists — the real payload
//! shapes and vectors kept there. The project never needs that folder.

use chrono::Duration;
use reclaim_core::platform::PlatformEvent;
use reclaim_core::platform::shopify::{WebhookSecrets, parse_event, sign_webhook};
use reclaim_local::fixtures;
use reclaim_tests::TestStack;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// Runs the cross-check script with `input` on stdin and returns its JSON answer.
fn shopify_api(mode: &str, input: &Value) -> Value {
    assert!(
        node_dir().join("node_modules/@shopify/shopify-api").exists(),
        "@shopify/shopify-api is not installed: run `make test` (or `npm ci --prefix tests/node`)"
    );
    let mut child = Command::new("node")
        .arg("crosscheck.mjs")
        .arg(mode)
        .current_dir(node_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "crosscheck.mjs {mode} failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn bodies(stack: &TestStack) -> Vec<String> {
    let mut unicode = stack.checkout("chk-ünï", Some("zoë@shopper.test"));
    unicode.first_name = "Zoë 🌸".into();
    unicode.updated_at += Duration::minutes(1);
    vec![
        serde_json::to_string_pretty(&fixtures::checkout(&stack.checkout("chk-node-1", Some("node1@shopper.test"))))
            .unwrap(),
        serde_json::to_string(&fixtures::checkout(&unicode)).unwrap(),
    ]
}

#[tokio::test]
async fn webhooks_signed_by_shopify_api_are_accepted_and_tampered_ones_refused() {
    let stack = TestStack::start("shopify-api-signed").await;
    let bodies = bodies(&stack);
    let signatures = shopify_api("sign", &json!({ "secret": stack.config.shopify_secret, "bodies": bodies }));
    for (index, (body, signature)) in bodies.iter().zip(signatures.as_array().unwrap()).enumerate() {
        let signature = signature.as_str().unwrap();
        let post = |body: String| {
            stack
                .http
                .post(format!("{}/webhooks/shopify", stack.gateway.url()))
                .header("x-shopify-topic", "checkouts/create")
                .header("x-shopify-hmac-sha256", signature)
                .header("x-shopify-shop-domain", &stack.shop)
                .header("x-shopify-webhook-id", format!("wh-node-{index}"))
                .body(body)
                .send()
        };
        assert_eq!(post(body.replacen("Field", "Fjeld", 1)).await.unwrap().status(), 401, "tampered body {index}");
        assert_eq!(post(body.clone()).await.unwrap().status(), 200, "body {index}");
    }
    assert_eq!(stack.schedules().await.len(), 2);
}

#[tokio::test]
async fn webhooks_signed_by_reclaim_validate_in_shopify_api() {
    let stack = TestStack::start("reclaim-signed").await;
    let secret = "crosscheck-secret";
    let mut cases = Vec::new();
    for (index, body) in bodies(&stack).into_iter().enumerate() {
        let hmac = sign_webhook(secret.as_bytes(), body.as_bytes());
        let case = |body: &str| json!({"body": body, "hmac": hmac, "topic": "checkouts/update", "shop": stack.shop, "webhookId": format!("w{index}")});
        cases.push(case(&body));
        cases.push(case(&format!("{body} ")));
    }
    let results = shopify_api("validate", &json!({ "secret": secret, "cases": cases }));
    let valid: Vec<bool> = results.as_array().unwrap().iter().map(|r| r["valid"].as_bool().unwrap()).collect();
    assert_eq!(valid, [true, false, true, false]);
}

#[test]
fn shopifys_published_test_vector_passes() {
    // From @shopify/shopify-api's own webhook validation tests.
    let secrets = WebhookSecrets::new(&b"test_secret_key"[..], None);
    assert!(secrets.verify(br#"{"foo": "bar"}"#, "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="));
    assert!(!secrets.verify(br#"{"foo": "bar"} "#, "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="));
}

/// The team's folder of real Shopify shapes. The tests that read it are ignored (not passed)
/// when it is not beside the project: see `tests/build.rs`.
fn shared_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/shopify")
}

#[test]
#[cfg_attr(not(shared_fixtures), ignore = "../shared/fixtures/shopify is not beside the project")]
fn every_webhook_vector_in_the_shared_fixtures_verifies_as_specified() {
    let dir = shared_fixtures();
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("test_vectors.json")).unwrap()).unwrap();
    for vector in vectors["webhook"].as_array().unwrap() {
        let body = match vector.get("body_file") {
            Some(file) => std::fs::read(dir.join(file.as_str().unwrap())).unwrap(),
            None => vector["body"].as_str().unwrap().as_bytes().to_vec(),
        };
        let secrets = WebhookSecrets::new(vector["secret"].as_str().unwrap().as_bytes(), None);
        let id = vector["id"].as_str().unwrap();
        match (vector.get("expected_b64"), vector.get("header_b64")) {
            (Some(expected), _) => {
                assert_eq!(secrets.sign(&body), expected.as_str().unwrap(), "{id}");
                assert!(secrets.verify(&body, expected.as_str().unwrap()), "{id}");
            }
            (None, Some(header)) => assert!(!secrets.verify(&body, header.as_str().unwrap()), "{id} must be rejected"),
            _ => panic!("vector {id} has no expectation"),
        }
    }
}

#[test]
#[cfg_attr(not(shared_fixtures), ignore = "../shared/fixtures/shopify is not beside the project")]
fn the_real_payload_shapes_in_the_shared_fixtures_parse() {
    let dir = shared_fixtures();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let PlatformEvent::CheckoutUpserted(checkout) =
        parse_event("checkouts/update", &read("rest_abandoned_checkout_2026-07.json")).unwrap()
    else {
        panic!("not a checkout")
    };
    assert_eq!(checkout.line_items.len(), 2);
    assert_eq!(checkout.total.minor, 37969);
    assert_eq!(checkout.total.currency.as_str(), "USD");
    assert_eq!(checkout.contact.email.as_deref(), Some("bob.norman@mail.example.com"));
    assert!(checkout.contact.phone_e164().is_some_and(|p| p.starts_with('+')));
    assert_eq!(checkout.region.country_code.as_deref(), Some("US"));
    assert!(checkout.restore_url.is_some());
    let PlatformEvent::OrderPlaced(order) = parse_event("orders/create", &read("rest_order_2026-07.json")).unwrap()
    else {
        panic!("not an order")
    };
    assert_eq!(order.cart_token, checkout.cart_token, "orders link to checkouts by cart token");
    assert!(order.total.minor > 0);
    // The real customer record: its phone in E.164, and `not_subscribed` SMS consent gives none.
    let PlatformEvent::ConsentChanged(change) =
        parse_event("customers/update", &read("rest_customer_2026-07.json")).unwrap()
    else {
        panic!("not a customer")
    };
    assert_eq!(change.phone.as_deref(), Some("+16136120707"));
    assert_eq!(change.evidence, None);
}

/// The install callback's query HMAC as Reclaim signs and checks it, judged by Shopify's own
/// `shopify.utils.validateHmac` (which also requires a timestamp within 90 s of now).
#[test]
fn oauth_query_hmacs_agree_with_shopify_api() {
    use reclaim_core::platform::oauth::{sign_query, verify_callback};
    let secret = "crosscheck-oauth-secret";
    let now = chrono::Utc::now();
    let mut pairs: Vec<(String, String)> = [
        ("code", "0907a61c0c8d55e99db179b68161bc00"),
        ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvcXVpY2tzdGFydA"),
        ("shop", "quickstart-d1b4.myshopify.com"),
        ("state", "3f2a9c1e"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    pairs.push(("timestamp".into(), now.timestamp().to_string()));
    let hmac = sign_query(secret.as_bytes(), &pairs);
    let as_object = |pairs: &[(String, String)], hmac: &str| {
        let mut object: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        object.insert("hmac".into(), json!(hmac));
        Value::Object(object)
    };
    let mut tampered = pairs.clone();
    tampered[3].1 = "another-state".into();
    let queries = json!([as_object(&pairs, &hmac), as_object(&tampered, &hmac)]);
    let verdicts = shopify_api("oauth", &json!({ "secret": secret, "queries": queries }));
    assert_eq!(verdicts[0]["valid"], true, "shopify-api accepts Reclaim's signature: {verdicts}");
    assert_eq!(verdicts[1]["valid"], false, "and refuses a tampered query: {verdicts}");

    // And Reclaim's check agrees with Shopify's on the same query (the state cookie aside).
    let shop = reclaim_core::model::ShopDomain::parse("quickstart-d1b4.myshopify.com").unwrap();
    let cookie = reclaim_core::platform::oauth::state_cookie(secret.as_bytes(), &shop, "3f2a9c1e");
    let mut signed = pairs.clone();
    signed.push(("hmac".into(), hmac));
    assert!(verify_callback(secret.as_bytes(), &signed, Some(cookie.split(';').next().unwrap()), now).is_ok());
}

/// `shopify.app.toml` asks for the scopes the install asks for, and subscribes every topic Reclaim
/// handles, the three mandatory compliance topics included.
#[test]
fn the_app_configuration_matches_the_code() {
    let toml = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shopify.app.toml")).unwrap();
    let scopes = reclaim_core::usecases::install::SCOPES.join(",");
    assert!(toml.contains(&format!("scopes = \"{scopes}\"")), "scopes in shopify.app.toml differ from {scopes}");
    for topic in [
        "checkouts/create",
        "checkouts/update",
        "checkouts/delete",
        "carts/update",
        "orders/create",
        "customers/update",
        "app/uninstalled",
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    ] {
        assert!(toml.contains(&format!("\"{topic}\"")), "{topic} is not subscribed");
    }
    assert!(toml.contains("compliance_topics"));
}
