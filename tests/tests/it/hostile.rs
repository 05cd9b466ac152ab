//! A table of hostile requests across every HTTP route, through the local gateway and the real
//! handlers: forged, missing and stale signatures; tampered, expired, wrong-kind and `alg: none`
//! tokens; header injection and markup in addresses; deep, huge, malformed and mistyped JSON;
//! absurd money; bad UTF-8; oversized ids; open-redirect and traversal attempts; session tokens
//! for the wrong audience, issuer or time. Each must be a clean 4xx with a JSON error (or the
//! auth function's error page), echo nothing it was sent, write nothing and send nothing.

use chrono::Duration;
use reclaim_core::links::LinkSigner;
use reclaim_core::model::{CheckoutToken, ContactKey, ShopDomain};
use reclaim_core::platform::proxy;
use reclaim_core::platform::shopify::sign_webhook;
use reclaim_local::fixtures;
use reclaim_local::outbox;
use reclaim_tests::TestStack;
use serde_json::{Value, json};

/// One hostile request and the refusal it must get.
struct Case {
    name: String,
    method: reqwest::Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The exact status, or `None` for any 4xx.
    status: Option<u16>,
}

impl Case {
    fn new(name: impl Into<String>, method: reqwest::Method, path: impl Into<String>) -> Self {
        Self { name: name.into(), method, path: path.into(), headers: Vec::new(), body: Vec::new(), status: None }
    }
    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
    fn headers(mut self, headers: Vec<(&'static str, String)>) -> Self {
        self.headers.extend(headers.into_iter().map(|(n, v)| (n.to_owned(), v)));
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    fn expect(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

const SHOP: &str = "test-shop.myshopify.com";

/// JSON nested `depth` arrays deep.
fn deep_json(depth: usize) -> Vec<u8> {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

/// Webhook refusals: every topic under every signature and header attack, then each topic's own.
fn webhook_cases(stack: &TestStack) -> Vec<Case> {
    let secret = stack.config.shopify_secret.clone();
    let spec = stack.checkout("chk-hostile", Some("hostile@shopper.test"));
    let customer =
        json!({"shop_domain": SHOP, "customer": {"id": 1, "email": "hostile@shopper.test"}, "orders_to_redact": []});
    let topics: Vec<(&str, Value)> = vec![
        ("checkouts/create", fixtures::checkout(&spec)),
        ("checkouts/update", fixtures::checkout(&spec)),
        ("checkouts/delete", json!({"id": 1, "token": "chk-hostile"})),
        ("carts/update", fixtures::cart(&spec, stack.clock_now())),
        ("orders/create", fixtures::order(&spec, 7, stack.clock_now())),
        ("orders/paid", fixtures::order(&spec, 7, stack.clock_now())),
        ("customers/update", json!({"id": 1, "email": "hostile@shopper.test"})),
        ("customers/redact", customer.clone()),
        ("customers/data_request", customer),
        ("shop/redact", json!({"shop_id": 1, "shop_domain": SHOP})),
        ("app/uninstalled", json!({"id": 1, "domain": SHOP})),
    ];
    let url = "/webhooks/shopify";
    let mut cases = Vec::new();
    for (topic, body) in &topics {
        let body = serde_json::to_vec(body).unwrap();
        let signed = |body: &[u8], id: &str| fixtures::headers(&secret, SHOP, topic, id, body);
        let without = |name: &str| -> Vec<(&'static str, String)> {
            signed(&body, "wh-x").into_iter().filter(|(n, _)| *n != name).collect()
        };
        let with = |name: &'static str, value: String| -> Vec<(&'static str, String)> {
            let mut headers = without(name);
            headers.push((name, value));
            headers
        };
        let post = |what: &str| Case::new(format!("{topic}: {what}"), reqwest::Method::POST, url);
        cases.push(post("no signature").headers(without("x-shopify-hmac-sha256")).body(body.clone()).expect(401));
        cases.push(
            post("signed with another secret")
                .headers(with("x-shopify-hmac-sha256", sign_webhook(b"not-the-secret", &body)))
                .body(body.clone())
                .expect(401),
        );
        cases.push(
            post("signature of another body")
                .headers(with("x-shopify-hmac-sha256", sign_webhook(secret.as_bytes(), b"{}")))
                .body(body.clone())
                .expect(401),
        );
        cases.push(
            post("signature not base64")
                .headers(with("x-shopify-hmac-sha256", "!!!".into()))
                .body(body.clone())
                .expect(401),
        );
        cases.push(
            post("empty signature")
                .headers(with("x-shopify-hmac-sha256", String::new()))
                .body(body.clone())
                .expect(401),
        );
        cases.push(
            post("another host as shop")
                .headers(with("x-shopify-shop-domain", "evil.example".into()))
                .body(body.clone())
                .expect(400),
        );
        cases.push(
            post("a look-alike shop host")
                .headers(with("x-shopify-shop-domain", format!("{SHOP}.evil.example")))
                .body(body.clone())
                .expect(400),
        );
        cases.push(post("no topic").headers(without("x-shopify-topic")).body(body.clone()).expect(400));
        cases.push(post("no webhook id").headers(without("x-shopify-webhook-id")).body(body.clone()).expect(400));
        cases.push(
            post("a 300-character webhook id").headers(signed(&body, &"w".repeat(300))).body(body.clone()).expect(400),
        );
        let bad_utf8 = [b"{\"token\": \"".as_slice(), &[0xff, 0xfe, 0xfd], b"\"}"].concat();
        cases.push(post("bad UTF-8").headers(signed(&bad_utf8, "wh-x")).body(bad_utf8).expect(400));
        let deep = deep_json(5000);
        cases.push(post("JSON 5000 levels deep").headers(signed(&deep, "wh-x")).body(deep).expect(400));
        let truncated = body[..body.len() / 2].to_vec();
        cases.push(post("truncated JSON").headers(signed(&truncated, "wh-x")).body(truncated).expect(400));
    }
    let huge = [b"{\"token\": \"".as_slice(), &vec![b'a'; 1024 * 1024 + 10], b"\"}"].concat();
    for topic in ["checkouts/create", "orders/create", "customers/redact"] {
        cases.push(
            Case::new(format!("{topic}: over 1 MiB"), reqwest::Method::POST, url)
                .headers(fixtures::headers(&secret, SHOP, topic, "wh-huge", &huge))
                .body(huge.clone())
                .expect(413),
        );
    }
    // The checkout's own fields: types, money, ids.
    let checkout = fixtures::checkout(&spec);
    let mutate = |field: &str, value: Value| {
        let mut body = checkout.clone();
        body[field] = value;
        serde_json::to_vec(&body).unwrap()
    };
    let line = checkout["line_items"][0].clone();
    let with_line = |key: &str, value: Value| {
        let mut line = line.clone();
        line[key] = value;
        let mut body = checkout.clone();
        body["line_items"] = json!([line]);
        body.as_object_mut().unwrap().remove("total_price");
        serde_json::to_vec(&body).unwrap()
    };
    let checkout_bodies: Vec<(&str, Vec<u8>)> = vec![
        ("token as an object", mutate("token", json!({"a": 1}))),
        ("token of 256 characters", mutate("token", json!("t".repeat(256)))),
        ("token with a NUL", mutate("token", json!("chk\u{0}1"))),
        ("no token", mutate("token", Value::Null)),
        ("created_at not a time", mutate("created_at", json!("yesterday"))),
        ("total 1e400", mutate("total_price", json!("1e400"))),
        ("negative total", mutate("total_price", json!("-5.00"))),
        ("a total of 25 digits", mutate("total_price", json!("9999999999999999999999999"))),
        ("total NaN", mutate("total_price", json!("NaN"))),
        ("total with three decimals", mutate("total_price", json!("1.005"))),
        ("currency of two letters", {
            let mut body = checkout.clone();
            body["currency"] = json!("XX");
            body["presentment_currency"] = json!("XX");
            serde_json::to_vec(&body).unwrap()
        }),
        ("line items as a string", mutate("line_items", json!("all of them"))),
        ("a negative quantity", with_line("quantity", json!(-1))),
        ("a quantity beyond u32", with_line("quantity", json!(1u64 << 40))),
        ("a price that is not money", with_line("price", json!("abc"))),
        ("a negative price", with_line("price", json!("-12.50"))),
    ];
    for (what, body) in checkout_bodies {
        cases.push(
            Case::new(format!("checkouts/create: {what}"), reqwest::Method::POST, url)
                .headers(fixtures::headers(&secret, SHOP, "checkouts/create", "wh-field", &body))
                .body(body)
                .expect(400),
        );
    }
    let other_shop = serde_json::to_vec(&json!({"shop_id": 2, "shop_domain": "other-shop.myshopify.com"})).unwrap();
    cases.push(
        Case::new("shop/redact naming another shop in its body", reqwest::Method::POST, url)
            .headers(fixtures::headers(&secret, SHOP, "shop/redact", "wh-other", &other_shop))
            .body(other_shop)
            .expect(400),
    );
    let body = serde_json::to_vec(&checkout).unwrap();
    cases.push(
        Case::new("an unknown platform", reqwest::Method::POST, "/webhooks/woocommerce")
            .headers(fixtures::headers(&secret, SHOP, "checkouts/create", "wh-p", &body))
            .body(body)
            .expect(404),
    );
    cases
}

/// Link refusals: every link route under every token attack.
fn link_cases(stack: &TestStack) -> Vec<Case> {
    let shop = ShopDomain::parse(SHOP).unwrap();
    let checkout = CheckoutToken::new("chk-hostile").unwrap();
    let contact = ContactKey::for_email(&shop, "hostile@shopper.test");
    let signer = LinkSigner::new(stack.config.link_secret.as_bytes());
    let other = LinkSigner::new(b"another-link-secret-another-link-secret");
    let now = stack.clock_now();
    let long_ago = now - Duration::days(400);
    let restore = signer.restore(&shop, &checkout, 0, now);
    let unsubscribe = signer.unsubscribe(&shop, &checkout, 0, &contact, now);
    let tamper = |token: &str| {
        let mut chars: Vec<char> = token.chars().collect();
        let middle = chars.len() / 2;
        chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let alg_none = |token: &str| {
        let payload = token.split('.').nth(1).unwrap_or_default().to_owned();
        let header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        format!("{header}.{payload}.")
    };
    let tokens = |valid_of_kind: &str, wrong_kind: &str| -> Vec<(String, String, u16)> {
        vec![
            ("garbage".into(), "abc".into(), 400),
            ("tampered".into(), tamper(valid_of_kind), 400),
            ("alg none".into(), alg_none(valid_of_kind), 400),
            (
                "signed with another secret".into(),
                match valid_of_kind == restore {
                    true => other.restore(&shop, &checkout, 0, now),
                    false => other.unsubscribe(&shop, &checkout, 0, &contact, now),
                },
                400,
            ),
            (
                "expired".into(),
                match valid_of_kind == restore {
                    true => signer.restore(&shop, &checkout, 0, long_ago - Duration::days(400)),
                    false => signer.unsubscribe(&shop, &checkout, 0, &contact, long_ago - Duration::days(400)),
                },
                410,
            ),
            ("of the wrong kind".into(), wrong_kind.to_owned(), 400),
            ("5000 characters".into(), "x".repeat(5000), 400),
            ("an encoded NUL".into(), "abc%00def".into(), 400),
        ]
    };
    let mut cases = Vec::new();
    for (method, prefix, valid, wrong) in [
        (reqwest::Method::GET, "/r/", &restore, &unsubscribe),
        (reqwest::Method::GET, "/u/", &unsubscribe, &restore),
        (reqwest::Method::POST, "/u/", &unsubscribe, &restore),
        (reqwest::Method::POST, "/ua/", &unsubscribe, &restore),
    ] {
        for (what, token, status) in tokens(valid, wrong) {
            cases.push(
                Case::new(format!("{method} {prefix}: {what}"), method.clone(), format!("{prefix}{token}"))
                    .expect(status),
            );
        }
    }
    cases.push(
        Case::new(
            "GET /r/: an absolute URL as token (open redirect)",
            reqwest::Method::GET,
            "/r/https:%2F%2Fevil.example",
        )
        .expect(400),
    );
    for (what, code) in
        [("unknown", "zzzzzzzz"), ("5000 characters", &"s".repeat(5000)), ("traversal", "..%2F..%2Fadmin")]
    {
        cases.push(Case::new(format!("GET /s/: {what}"), reqwest::Method::GET, format!("/s/{code}")));
    }
    cases
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A session token with `claims` changed, signed with `secret` (HS256).
fn session_with(stack: &TestStack, secret: &[u8], change: impl FnOnce(&mut Value)) -> String {
    let now = stack.clock_now().timestamp();
    let mut claims = json!({
        "iss": format!("https://{SHOP}/admin"), "dest": format!("https://{SHOP}"), "aud": stack.config.shopify_api_key,
        "sub": "42", "exp": now + 60, "nbf": now, "iat": now,
    });
    change(&mut claims);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Admin refusals: every admin route under every session attack, then bad bodies.
fn admin_cases(stack: &TestStack) -> Vec<Case> {
    let secret = stack.config.shopify_secret.as_bytes().to_vec();
    let now = stack.clock_now().timestamp();
    let valid = stack.session_token(SHOP);
    let none_token = format!("{}.{}.", base64_url(br#"{"alg":"none","typ":"JWT"}"#), valid.split('.').nth(1).unwrap());
    let attacks: Vec<(&str, Option<String>)> = vec![
        ("no Authorization", None),
        ("Bearer garbage", Some("Bearer garbage".into())),
        ("Basic credentials", Some("Basic dXNlcjpwYXNz".into())),
        ("alg none", Some(format!("Bearer {none_token}"))),
        (
            "wrong audience",
            Some(format!("Bearer {}", session_with(stack, &secret, |c| c["aud"] = json!("another-app")))),
        ),
        ("another secret", Some(format!("Bearer {}", session_with(stack, b"forged-secret", |_| {})))),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                session_with(stack, &secret, |c| {
                    c["exp"] = json!(now - 120);
                    c["nbf"] = json!(now - 180);
                })
            )),
        ),
        ("not yet valid", Some(format!("Bearer {}", session_with(stack, &secret, |c| c["nbf"] = json!(now + 600))))),
        (
            "issuer of another shop",
            Some(format!(
                "Bearer {}",
                session_with(stack, &secret, |c| {
                    c["iss"] = json!("https://other-shop.myshopify.com/admin");
                })
            )),
        ),
        (
            "destination not a shop",
            Some(format!(
                "Bearer {}",
                session_with(stack, &secret, |c| {
                    c["dest"] = json!("https://evil.example");
                    c["iss"] = json!("https://evil.example/admin");
                })
            )),
        ),
    ];
    let routes = [
        (reqwest::Method::GET, "/admin/settings"),
        (reqwest::Method::PUT, "/admin/settings"),
        (reqwest::Method::POST, "/admin/preview"),
        (reqwest::Method::GET, "/admin/stats"),
        (reqwest::Method::POST, "/admin/sender-health/resume"),
        (reqwest::Method::GET, "/admin/push-key"),
        (reqwest::Method::POST, "/admin/push-key/rotate"),
        (reqwest::Method::POST, "/admin/what-if"),
        (reqwest::Method::GET, "/admin/stats.csv"),
        (reqwest::Method::POST, "/admin/test-email"),
        (reqwest::Method::POST, "/admin/message-preview"),
        (reqwest::Method::GET, "/admin/onboarding"),
        (reqwest::Method::POST, "/auth/token-exchange"),
    ];
    let mut cases = Vec::new();
    for (method, path) in routes {
        for (what, authorization) in &attacks {
            let mut case = Case::new(format!("{method} {path}: {what}"), method.clone(), path).expect(401);
            if let Some(value) = authorization {
                case = case.header("authorization", value.clone());
            }
            cases.push(case.body(b"{}".to_vec()));
        }
    }
    // The embedded app's assets: only the built bundle's own names are served.
    for path in ["/app/assets/..%2F..%2FCargo.toml", "/app/assets/manifest.json", "/app/assets/%3Cscript%3E.js"] {
        cases.push(Case::new(format!("GET {path}"), reqwest::Method::GET, path).expect(404));
    }
    let bearer = format!("Bearer {valid}");
    let authed = |name: &str, method: reqwest::Method, path: &str, body: Vec<u8>| {
        Case::new(name, method, path)
            .header("authorization", bearer.clone())
            .header("content-type", "application/json")
            .body(body)
            .expect(400)
    };
    let settings = |settings: Value| serde_json::to_vec(&json!({"version": 0, "settings": settings})).unwrap();
    for (what, body) in [
        ("not JSON", b"settings please".to_vec()),
        ("JSON 5000 levels deep", deep_json(5000)),
        ("a version that is text", serde_json::to_vec(&json!({"version": "one", "settings": {}})).unwrap()),
        ("a delay of a million days", settings(json!({"steps": [{"name": "a", "delay": "1000000d"}]}))),
        ("an unknown field", settings(json!({"steps": [], "surprise": true}))),
        (
            "markup in a step name",
            settings(
                json!({"steps": [{"name": "<script>alert(1)</script>", "delay": "1h", "template": "<img src=x onerror=alert(1)>"}]}),
            ),
        ),
        (
            "a time zone that is not one",
            settings(
                json!({"policies": {"quiet_hours": [{"from": "21:00", "to": "08:00", "time_zone": "Mars/Olympus"}]}}),
            ),
        ),
        ("a holdout of 300%", settings(json!({"policies": {"holdout_percent": 300}}))),
    ] {
        cases.push(authed(&format!("PUT /admin/settings: {what}"), reqwest::Method::PUT, "/admin/settings", body));
    }
    for (what, body) in [
        ("not JSON", b"<xml/>".to_vec()),
        ("JSON 5000 levels deep", deep_json(5000)),
        (
            "an unknown template",
            serde_json::to_vec(&json!({"template": "../../etc/passwd", "channel": "email"})).unwrap(),
        ),
    ] {
        cases.push(authed(&format!("POST /admin/preview: {what}"), reqwest::Method::POST, "/admin/preview", body));
    }
    for (what, query) in [
        ("from after to", "from=2026-06-10&to=2026-06-01"),
        ("ten years", "from=2016-01-01&to=2026-01-01"),
        ("not dates", "from=yesterday&to=today"),
        ("script in a date", "from=%3Cscript%3E&to=2026-06-01"),
    ] {
        cases.push(authed(
            &format!("GET /admin/stats: {what}"),
            reqwest::Method::GET,
            &format!("/admin/stats?{query}"),
            Vec::new(),
        ));
    }
    cases
}

/// The storefront API: the proxy signature, the capture body, push registrations.
fn storefront_cases(stack: &TestStack) -> Vec<Case> {
    let secret = stack.config.shopify_secret.clone();
    let now = stack.clock_now().timestamp();
    let query = |secret: &str, shop: &str, timestamp: i64| {
        let mut pairs = vec![
            ("shop".to_owned(), shop.to_owned()),
            ("path_prefix".to_owned(), "/apps/reclaim".to_owned()),
            ("timestamp".to_owned(), timestamp.to_string()),
        ];
        let signature = proxy::sign(secret.as_bytes(), &pairs);
        pairs.push(("signature".into(), signature));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    };
    let capture = serde_json::to_vec(&json!({"cart_token": "c1", "email": "p@shopper.test", "consent": true})).unwrap();
    let mut cases = Vec::new();
    for (method, path) in [(reqwest::Method::GET, "/proxy/settings"), (reqwest::Method::POST, "/proxy/capture")] {
        let signed_for_other_shop = query(&secret, "other-shop.myshopify.com", now).replace("other-shop", "test-shop");
        for (what, q) in [
            ("unsigned", format!("shop={SHOP}")),
            ("forged", query("forged", SHOP, now)),
            ("stale", query(&secret, SHOP, now - 3600)),
            ("from the future", query(&secret, SHOP, now + 3600)),
            ("signed for another shop", signed_for_other_shop),
            ("no shop", query(&secret, SHOP, now).replace(&format!("shop={SHOP}&"), "")),
        ] {
            cases.push(
                Case::new(format!("{method} {path}: {what}"), method.clone(), format!("{path}?{q}"))
                    .body(capture.clone())
                    .expect(401),
            );
        }
    }
    let proxied = "/apps/reclaim/capture";
    let body = |value: Value| serde_json::to_vec(&value).unwrap();
    for (what, payload) in [
        (
            "header injection in the email",
            body(json!({"cart_token": "c1", "email": "me@x.co>\r\nBcc: <a@t.test>", "consent": true})),
        ),
        ("two addresses", body(json!({"cart_token": "c1", "email": "a@x.co, b@y.co", "consent": true}))),
        ("a display name", body(json!({"cart_token": "c1", "email": "Eve <e@x.co>", "consent": true}))),
        (
            "markup as the email",
            body(json!({"cart_token": "c1", "email": "<script>alert(1)</script>@x.co", "consent": true})),
        ),
        ("no consent", body(json!({"cart_token": "c1", "email": "a@x.co", "consent": false}))),
        ("consent as text", body(json!({"cart_token": "c1", "email": "a@x.co", "consent": "yes"}))),
        ("a phone of letters", body(json!({"cart_token": "c1", "phone": "call me", "consent": true}))),
        (
            "an unknown field",
            body(
                json!({"cart_token": "c1", "email": "a@x.co", "consent": true, "consent_text": "I agree to everything"}),
            ),
        ),
        (
            "a 300-character cart token",
            body(json!({"cart_token": "c".repeat(300), "email": "a@x.co", "consent": true})),
        ),
        ("not JSON", b"email=a@x.co".to_vec()),
        ("JSON 5000 levels deep", deep_json(5000)),
    ] {
        cases.push(
            Case::new(format!("capture: {what}"), reqwest::Method::POST, proxied)
                .header("content-type", "application/json")
                .body(payload)
                .expect(400),
        );
    }
    let registration = serde_json::to_vec(
        &json!({"customer_email": "p@shopper.test", "platform": "apns", "device_token": "abc", "timestamp": now}),
    )
    .unwrap();
    let signature = sign_webhook(b"not-the-push-key", &registration);
    for (what, headers, payload, status) in [
        ("no signature", vec![("x-reclaim-shop", SHOP.to_owned())], registration.clone(), 401),
        (
            "a forged signature",
            vec![("x-reclaim-shop", SHOP.to_owned()), ("x-reclaim-hmac-sha256", signature.clone())],
            registration.clone(),
            401,
        ),
        ("no shop", vec![("x-reclaim-hmac-sha256", signature.clone())], registration.clone(), 0),
        (
            "a shop that is not one",
            vec![("x-reclaim-shop", "evil.example".to_owned()), ("x-reclaim-hmac-sha256", signature)],
            registration,
            0,
        ),
        (
            "not JSON",
            vec![("x-reclaim-shop", SHOP.to_owned()), ("x-reclaim-hmac-sha256", "x".to_owned())],
            b"{".to_vec(),
            0,
        ),
    ] {
        let mut case =
            Case::new(format!("POST /push/devices: {what}"), reqwest::Method::POST, "/push/devices").body(payload);
        for (name, value) in headers {
            case = case.header(name, value);
        }
        cases.push(if status == 0 { case } else { case.expect(status) });
    }
    cases
}

/// The install flow's refusals (each an error page).
fn auth_cases(stack: &TestStack) -> Vec<Case> {
    let secret = stack.config.shopify_secret.as_bytes().to_vec();
    let now = stack.clock_now().timestamp();
    let mut cases = Vec::new();
    for (what, shop) in [
        ("another host", "evil.example"),
        ("a look-alike host", "test-shop.myshopify.com.evil.example"),
        ("a script URL", "javascript:alert(1)"),
        ("empty", ""),
        ("a path", "test-shop.myshopify.com%2F..%2Fadmin"),
        ("markup", "%3Cscript%3Ealert(1)%3C%2Fscript%3E.myshopify.com"),
    ] {
        cases.push(
            Case::new(format!("GET /auth: {what}"), reqwest::Method::GET, format!("/auth?shop={shop}")).expect(400),
        );
    }
    let signed = |pairs: Vec<(&str, String)>, key: &[u8]| {
        let owned: Vec<(String, String)> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let hmac = reclaim_core::platform::oauth::sign_query(key, &owned);
        let mut all = owned;
        all.push(("hmac".into(), hmac));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(all).finish()
    };
    let base = |timestamp: i64| {
        vec![
            ("code", "abc".to_owned()),
            ("shop", SHOP.to_owned()),
            ("state", "s".to_owned()),
            ("timestamp", timestamp.to_string()),
        ]
    };
    for (what, query) in [
        ("no parameters", String::new()),
        ("a forged hmac", signed(base(now), b"forged")),
        ("a stale timestamp", signed(base(now - 3600), &secret)),
        ("a state without its cookie", signed(base(now), &secret)),
        (
            "another host",
            signed(
                vec![
                    ("code", "abc".into()),
                    ("shop", "evil.example".into()),
                    ("state", "s".into()),
                    ("timestamp", now.to_string()),
                ],
                &secret,
            ),
        ),
    ] {
        cases.push(Case::new(
            format!("GET /auth/callback: {what}"),
            reqwest::Method::GET,
            format!("/auth/callback?{query}"),
        ));
    }
    cases
}

#[tokio::test]
async fn two_hundred_hostile_requests_are_clean_refusals_that_write_and_send_nothing() {
    let stack = TestStack::start("hostile").await;
    let mut cases = webhook_cases(&stack);
    cases.extend(link_cases(&stack));
    cases.extend(admin_cases(&stack));
    cases.extend(storefront_cases(&stack));
    cases.extend(auth_cases(&stack));
    assert!(cases.len() >= 200, "the table has {} cases", cases.len());
    let items_before = stack.items().await.len();
    // The emulator's outbox is shared by the tests of this binary: count only this table's addresses.
    let ours = |to: &str| {
        ["shopper.test", "x.co", "y.co", "t.test"].iter().any(|domain| to.ends_with(domain)) && to.contains("hostile")
            || ["p@shopper.test", "a@t.test", "a@x.co", "b@y.co", "e@x.co"].contains(&to)
    };
    let sent_to_us =
        || async { outbox::sent_emails(&stack.config.endpoint).await.unwrap().iter().filter(|e| ours(&e.to)).count() };
    let emails_before = sent_to_us().await;
    let mut wrong = Vec::new();
    for case in &cases {
        let mut request = stack.http.request(case.method.clone(), format!("{}{}", stack.gateway.url(), case.path));
        for (name, value) in &case.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.body(case.body.clone()).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap_or_default().to_owned());
        let location = response.headers().get("location").map(|v| v.to_str().unwrap_or_default().to_owned());
        let text = response.text().await.unwrap_or_default();
        let expected = case.status.map_or((400..500).contains(&status), |s| s == status);
        let clean =
            content_type.as_deref().is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/html"));
        let echoed =
            ["<script", "onerror=", "Bcc:", "javascript:", "evil.example"].iter().any(|bad| text.contains(bad));
        if !expected || !clean || echoed || location.is_some() {
            wrong.push(format!(
                "{}: {status} {content_type:?} location={location:?} {}",
                case.name,
                &text[..text.len().min(160)]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases were not clean refusals:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    assert_eq!(stack.items().await.len(), items_before, "nothing written");
    assert_eq!(sent_to_us().await, emails_before, "nothing sent");
}
