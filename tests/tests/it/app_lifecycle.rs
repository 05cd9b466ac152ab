//! The app's lifecycle against the emulator and the Shopify stand-in: install (authorization code
//! grant, every tampering refused with nothing stored, the token sealed with KMS), token exchange,
//! uninstall, and the mandatory privacy webhooks.

use chrono::Duration;
use reclaim_core::model::{SealedSecret, ShopDomain};
use reclaim_core::platform::oauth;
use reclaim_core::ports::store::*;
use reclaim_core::ports::{Clock, Vault};
use reclaim_local::fixtures;
use reclaim_tests::{Item_, TestStack};
use serde_json::{Value, json};

/// `GET /auth` for the test shop: the consent screen's URL and the state cookie (`name=value`).
async fn begin(stack: &TestStack) -> (String, String) {
    let url = format!("{}/auth?shop={}", stack.gateway.url(), stack.shop);
    let response = stack.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/auth"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    (location, cookie.split(';').next().unwrap().to_owned())
}

/// The callback query Shopify would send: signed with the app secret.
fn callback_query(stack: &TestStack, shop: &str, state: &str, code: &str, age: Duration) -> String {
    let timestamp = (stack.clock.now() - age).timestamp().to_string();
    let mut pairs: Vec<(String, String)> = [
        ("code", code),
        ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvdGVzdC1zaG9w"),
        ("shop", shop),
        ("state", state),
        ("timestamp", timestamp.as_str()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let hmac = oauth::sign_query(stack.config.shopify_secret.as_bytes(), &pairs);
    pairs.push(("hmac".into(), hmac));
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

async fn callback(stack: &TestStack, query: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = stack.http.get(format!("{}/auth/callback?{query}", stack.gateway.url()));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

fn has_pk(items: &[Item_], pk: &str) -> bool {
    items.iter().any(|item| item["pk"].as_s().unwrap() == pk)
}

/// Installs the app on the test shop through the real callback.
async fn install(stack: &TestStack) {
    let (location, cookie) = begin(stack).await;
    let state = url::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let query = callback_query(stack, &stack.shop, &state, &stack.shopify.issue_code(), Duration::zero());
    assert_eq!(callback(stack, &query, Some(&cookie)).await.status(), 302);
}

#[tokio::test]
async fn install_happy_path_and_every_tampering_refused_with_nothing_stored() {
    let stack = TestStack::start("install").await;
    let (location, cookie) = begin(&stack).await;
    let consent = url::Url::parse(&location).unwrap();
    assert_eq!(consent.host_str(), Some(stack.shop.as_str()));
    assert_eq!(consent.path(), "/admin/oauth/authorize");
    let param = |name: &str| consent.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap();
    assert_eq!(param("client_id"), stack.config.shopify_api_key);
    assert_eq!(param("scope"), "read_checkouts,read_orders,read_customers,write_discounts");
    assert_eq!(param("redirect_uri"), format!("{}/auth/callback", stack.gateway.url()));
    let state = param("state");
    assert_eq!(state.len(), 64, "32 random bytes, hex");

    // A shop outside myshopify.com never gets a redirect.
    for shop in ["evil.com", "test-shop.myshopify.com.evil.com", ""] {
        let response = stack.http.get(format!("{}/auth?shop={shop}", stack.gateway.url())).send().await.unwrap();
        assert_eq!(response.status(), 400, "{shop}");
        assert!(response.text().await.unwrap().contains("could not be installed"));
    }

    let code = stack.shopify.issue_code();
    let genuine = callback_query(&stack, &stack.shop, &state, &code, Duration::zero());
    let other_cookie = {
        let shop = ShopDomain::parse(&stack.shop).unwrap();
        let other = oauth::state_cookie(stack.config.shopify_secret.as_bytes(), &shop, "another-state");
        other.split(';').next().unwrap().to_owned()
    };
    let tampered_hmac = genuine.replace("hmac=", "hmac=00");
    let stale = callback_query(&stack, &stack.shop, &state, &code, Duration::seconds(91));
    let foreign = callback_query(&stack, "evil.example.com", &state, &code, Duration::zero());
    let cases: [(&str, &str, Option<&str>, u16); 5] = [
        ("hmac", &tampered_hmac, Some(&cookie), 401),
        ("state", &genuine, Some(&other_cookie), 403),
        ("no cookie", &genuine, None, 403),
        ("timestamp older than 90 s", &stale, Some(&cookie), 401),
        ("shop outside myshopify.com", &foreign, Some(&cookie), 400),
    ];
    for (name, query, cookie, status) in cases {
        let response = callback(&stack, query, cookie).await;
        assert_eq!(response.status(), status, "{name}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Reclaim could not be installed"), "{name}: {page}");
        assert!(stack.items().await.is_empty(), "{name}: nothing stored");
    }

    // The genuine callback installs and sends the merchant into the app.
    let response = callback(&stack, &genuine, Some(&cookie)).await;
    assert_eq!(response.status(), 302);
    let into_app = format!("https://{}/admin/apps/{}", stack.shop, stack.config.shopify_api_key);
    assert_eq!(response.headers()["location"], into_app.as_str());
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"), "state cookie cleared");

    // The token is ciphertext in the table, and decrypts to what Shopify issued.
    let issued = stack.shopify.tokens();
    assert_eq!(issued.len(), 1);
    let items = stack.items().await;
    let everything = format!("{items:?}");
    assert!(!everything.contains(&issued[0]), "the plain token is nowhere in the table");
    let token_item = items.iter().find(|i| i["sk"].as_s().unwrap() == "TOKEN").expect("token stored");
    let stored: reclaim_core::model::StoredToken = serde_json::from_str(token_item["sealed"].as_s().unwrap()).unwrap();
    assert!(
        stored.access_expires_at.is_some() && stored.refresh.is_some(),
        "an expiring token, with its refresh token"
    );
    let sealed: SealedSecret = stored.access;
    let shop = stack.shop_domain();
    assert_eq!(stack.services.vault.open(&shop, &sealed).await.unwrap(), issued[0]);
    let other = reclaim_core::model::ShopDomain::parse("another-shop.myshopify.com").unwrap();
    assert!(stack.services.vault.open(&other, &sealed).await.is_err(), "bound to its shop: opens for no other");
    let installation = stack.services.store.shop_state(&shop).await.unwrap().installation.unwrap();
    assert!(installation.scopes.contains(&"write_discounts".to_owned()));
    assert_eq!(installation.contact_email.as_deref(), Some(stack.shopify.contact_email().as_str()));

    // The same callback again (a replayed code) is refused, and changes nothing.
    let before = stack.items().await.len();
    let replay = callback(&stack, &genuine, Some(&cookie)).await;
    assert_eq!(replay.status(), 409);
    assert!(replay.text().await.unwrap().contains("already used"));
    assert_eq!(stack.items().await.len(), before);
    assert_eq!(stack.shopify.tokens().len(), 1, "no second exchange");

    // Embedded apps install by token exchange.
    let response = stack.admin(reqwest::Method::POST, "/auth/token-exchange").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["shop"], stack.shop.as_str());
    assert_eq!(stack.shopify.tokens().len(), 2);
    let unsigned = stack.http.post(format!("{}/auth/token-exchange", stack.gateway.url())).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
}

#[tokio::test]
async fn uninstall_stops_a_live_sequence_and_destroys_the_token() {
    let stack = TestStack::start("uninstall").await;
    install(&stack).await;
    let spec = stack.checkout("chk-live", Some("live@shopper.test"));
    stack.deliver("checkouts/create", "wh-live", &fixtures::checkout(&spec)).await;
    assert_eq!(stack.schedules().await.len(), 1);

    // A forged uninstall or privacy request is refused, and changes nothing.
    let before = stack.items().await.len();
    for topic in ["app/uninstalled", "shop/redact", "customers/redact", "customers/data_request"] {
        let body = json!({"shop_domain": stack.shop, "customer": {"email": "live@shopper.test"}});
        let forged = fixtures::deliver(
            &stack.http,
            &stack.gateway.url(),
            "not-the-secret",
            &stack.shop,
            topic,
            &format!("wh-forged-{topic}"),
            &body,
        )
        .await
        .unwrap();
        assert_eq!(forged.status(), 401, "{topic}");
    }
    assert_eq!(stack.schedules().await.len(), 1);
    assert_eq!(stack.items().await.len(), before);

    let response = stack.deliver("app/uninstalled", "wh-uninstall", &json!({"id": 1, "domain": stack.shop})).await;
    assert_eq!(response.status(), 200);
    assert!(stack.schedules().await.is_empty(), "schedules deleted");
    let shop = stack.shop_domain();
    assert!(stack.services.store.load_token(&shop).await.unwrap().is_none(), "token destroyed");
    let state = stack.services.store.shop_state(&shop).await.unwrap();
    assert!(state.uninstalled_at.is_some(), "marked uninstalled");
    assert!(state.installation.is_some(), "its contact address stays until shop/redact, for data requests");
    let fired = stack.advance_and_pump(Duration::hours(2)).await;
    assert!(fired.is_empty(), "no check left to fire: {fired:?}");
    assert!(stack.emails_to("live@shopper.test").await.is_empty(), "no further sends");
}

/// Puts a customer everywhere Reclaim keeps things: a checkout with a sent message and a click,
/// a storefront capture, an SMS conversation with a reply, and a contact state.
async fn a_customer_with_history(stack: &TestStack, token: &str, email: &str, phone: &str) {
    let mut body = fixtures::checkout(&stack.checkout(token, Some(email)));
    body["buyer_accepts_sms_marketing"] = json!(true);
    body["sms_marketing_phone"] = json!(phone);
    // The webhook id is the platform's, not the shopper's: keep the shopper's details out of it.
    let id = format!("wh-{}", token.len() + phone.len() + opaque_id(email));
    stack.deliver("checkouts/create", &id, &body).await;
    let capture = json!({"cart_token": format!("cart-{token}"), "email": email, "consent": true});
    let url = format!("{}/apps/reclaim/capture", stack.gateway.url());
    assert_eq!(stack.http.post(url).json(&capture).send().await.unwrap().status(), 200);
}

/// A webhook id that differs per shopper without containing anything of theirs.
fn opaque_id(email: &str) -> usize {
    email.bytes().map(usize::from).sum()
}

#[tokio::test]
async fn customer_data_request_exports_everything_and_customer_redact_leaves_nothing() {
    let stack = TestStack::start("privacy").await;
    install(&stack).await;
    let settings = json!({"steps": [{"name": "mail", "delay": "1h", "channels": ["email"]},
                                     {"name": "text", "delay": "1day", "channels": ["sms"]}]});
    stack.put_settings(0, settings).await;
    let (ada, ada_phone) = ("ada@shopper.test", "+12125550161");
    let (bob, bob_phone) = ("bob@shopper.test", "+12125550162");
    a_customer_with_history(&stack, "chk-ada", ada, ada_phone).await;
    a_customer_with_history(&stack, "chk-bob", bob, bob_phone).await;
    stack.advance_and_pump(Duration::hours(1)).await;
    stack.clock.set(reclaim_tests::epoch() + Duration::days(1) + Duration::hours(4));
    stack.pump_until_idle().await;
    assert_eq!(stack.emails_to(ada).await.len(), 1);
    assert_eq!(stack.sms_to(ada_phone).await.len(), 1);
    let reply = json!({"Records": [{"Sns": {"TopicArn": "arn:aws:sns:us-east-1:1:reclaim-sms-inbound", "Message": json!({
        "originationNumber": ada_phone, "destinationNumber": "+18005550100", "messageBody": "Is it waterproof?",
        "inboundMessageId": "in-ada"}).to_string()}}]});
    reclaim_delivery_events::handle(stack.services.as_ref(), &reply).await.unwrap();

    // The export: everything on Ada, as a JSON attachment to the shop's contact address.
    let request = json!({"shop_id": 1, "shop_domain": stack.shop, "orders_requested": [],
        "customer": {"id": 191167, "email": "Ada@Shopper.test", "phone": ada_phone}, "data_request": {"id": 9999}});
    assert_eq!(stack.deliver("customers/data_request", "wh-export", &request).await.status(), 200);
    let exports = stack.emails_to(&stack.shopify.contact_email()).await;
    assert_eq!(exports.len(), 1);
    let export = exports[0].attachment_json().expect("a JSON attachment");
    assert_eq!(export["data_request_id"], "9999");
    let checkouts = export["checkouts"].as_array().unwrap();
    assert_eq!(checkouts.len(), 1);
    assert_eq!(checkouts[0]["checkout"]["snapshot"]["token"], "chk-ada");
    assert_eq!(checkouts[0]["messages"].as_array().unwrap().len(), 2, "the email and the SMS");
    assert_eq!(checkouts[0]["replies"][0]["body"], "Is it waterproof?");
    assert_eq!(export["captures"][0]["email"], ada);
    assert!(!export["contacts"].as_array().unwrap().is_empty());
    assert!(!export.to_string().contains(bob), "nothing on anyone else");

    // Redaction: nothing of Ada is left, under any key pattern; Bob is untouched.
    let request = json!({"shop_id": 1, "shop_domain": stack.shop,
        "customer": {"id": 191167, "email": ada, "phone": ada_phone}, "orders_to_redact": []});
    assert_eq!(stack.deliver("customers/redact", "wh-redact", &request).await.status(), 200);
    let shop = stack.shop_domain();
    let traces = [
        ada.to_owned(),
        ada_phone.to_owned(),
        "chk-ada".to_owned(),
        reclaim_core::model::ContactKey::for_email(&shop, ada).as_str().to_owned(),
        reclaim_core::model::ContactKey::for_phone(&shop, ada_phone).as_str().to_owned(),
        "waterproof".to_owned(),
    ];
    let items = stack.items().await;
    for item in &items {
        let text = format!("{item:?}");
        for trace in &traces {
            assert!(!text.contains(trace.as_str()), "{trace} left in {text}");
        }
    }
    assert!(!has_pk(&items, &format!("CART#{}#cart-chk-ada", stack.shop)));
    assert!(has_pk(&items, &format!("CHK#{}#chk-bob", stack.shop)), "the other customer is kept");
    assert!(has_pk(&items, &format!("CART#{}#cart-chk-bob", stack.shop)));
}

#[tokio::test]
async fn shop_redact_deletes_everything_held_for_the_shop() {
    let stack = TestStack::start("shop-redact").await;
    install(&stack).await;
    stack.put_settings(0, json!({"steps": [{"name": "text", "delay": "1h", "channels": ["sms"]}]})).await;
    a_customer_with_history(&stack, "chk-gone", "lifecycle-gone@shopper.test", "+12125550165").await;
    stack.clock.set(reclaim_tests::epoch() + Duration::hours(4));
    stack.pump_until_idle().await;
    assert_eq!(stack.sms_to("+12125550165").await.len(), 1);
    assert!(stack.items().await.len() > 8, "checkout, message, link, thread, cart, capture, contact, shop items");
    // Enough checkouts that deletion takes several batches of 25, and another shop in the table.
    let bulk: Vec<(String, serde_json::Value)> = (0..60)
        .map(|i| {
            let spec = stack.checkout(&format!("chk-bulk-{i}"), Some(&format!("bulk-{i}@shopper.test")));
            (format!("wh-bulk-{i}"), fixtures::checkout(&spec))
        })
        .collect();
    assert!(stack.deliver_concurrently("checkouts/create", bulk).await.iter().all(|status| *status == 200));
    let other_shop = "other-shop.myshopify.com";
    let mut other = stack.checkout("chk-other", Some("other@shopper.test"));
    other.shop = other_shop.to_owned();
    let response = fixtures::deliver(
        &stack.http,
        &stack.gateway.url(),
        &stack.config.shopify_secret,
        other_shop,
        "checkouts/create",
        "wh-other",
        &fixtures::checkout(&other),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let body = json!({"shop_id": 1, "shop_domain": stack.shop});
    assert_eq!(stack.deliver("shop/redact", "wh-shop-redact", &body).await.status(), 200);
    let left = stack.items().await;
    let of = |shop: &str| left.iter().filter(|item| item["shop"].as_s().is_ok_and(|s| s == shop)).count();
    assert_eq!(of(&stack.shop), 0, "nothing of the redacted shop is left");
    assert!(of(other_shop) >= 1, "the other shop's checkout is kept");
    assert!(left.iter().all(|item| item["shop"].as_s().is_ok_and(|s| s == other_shop)), "left behind: {left:?}");
    assert_eq!(stack.schedules().await.len(), 1, "only the other shop's check is still armed");
}

#[tokio::test]
async fn ten_uses_of_an_expired_token_refresh_it_once_and_a_revoked_refresh_token_flags_the_shop() {
    use reclaim_core::usecases::install::access_token;
    let stack = TestStack::start("token-refresh").await;
    let installed = stack.admin(reqwest::Method::POST, "/auth/token-exchange").send().await.unwrap();
    assert_eq!(installed.status(), 200);
    let shop = stack.shop_domain();
    let first = access_token(stack.services.as_ref(), &shop).await.unwrap().unwrap();
    assert_eq!(stack.shopify.refreshes(), 0, "a live token is used as it is");

    // An hour later the token has expired: ten uses at once, one refresh.
    stack.clock.advance(chrono::Duration::minutes(61));
    let uses: Vec<_> = (0..10)
        .map(|_| {
            let (services, shop) = (stack.services.clone(), shop.clone());
            tokio::spawn(async move { access_token(services.as_ref(), &shop).await.map_err(|e| e.to_string()) })
        })
        .collect();
    let mut results = Vec::new();
    for use_ in uses {
        results.push(use_.await.unwrap());
    }
    assert_eq!(stack.shopify.refreshes(), 1, "one refresher: {results:?}");
    let refreshed: Vec<String> = results.iter().filter_map(|r| r.as_ref().ok().cloned().flatten()).collect();
    assert!(!refreshed.is_empty() && refreshed.iter().all(|t| *t != first), "the new token");
    let again = access_token(stack.services.as_ref(), &shop).await.unwrap().unwrap();
    assert_eq!(again, refreshed[0], "then everyone finds the new token");
    assert_eq!(stack.shopify.refreshes(), 1);

    // The refresh token is revoked: the shop is flagged and no token is used.
    stack.shopify.revoke_refresh_tokens();
    stack.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(access_token(stack.services.as_ref(), &shop).await.unwrap(), None);
    let stats = stack.admin_json("/admin/stats", &stack.session_token(&stack.shop)).await;
    assert_eq!(stats["needs_reauthorisation"], true, "the app says so");
    // The merchant opens the app again: a new install clears the flag.
    assert_eq!(stack.admin(reqwest::Method::POST, "/auth/token-exchange").send().await.unwrap().status(), 200);
    let stats = stack.admin_json("/admin/stats", &stack.session_token(&stack.shop)).await;
    assert_eq!(stats["needs_reauthorisation"], false);
}
