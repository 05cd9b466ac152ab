//! Payloads in Shopify's shapes, built from the project's own fixtures in `infra/fixtures/shopify`
//! (a full REST checkout, order and cart with made-up values), and signed as Shopify signs them.
//! The demo store and the integration tests both use these.

use chrono::{DateTime, SecondsFormat, Utc};
use reclaim_core::platform::shopify::sign_webhook;
use serde::Deserialize;
use serde_json::{Value, json};

const CHECKOUT: &str = include_str!("../fixtures/shopify/checkout.json");
const ORDER: &str = include_str!("../fixtures/shopify/order.json");
const CART: &str = include_str!("../fixtures/shopify/cart.json");
/// The demo store's shoppers.
pub const SHOPPERS: &str = include_str!("../fixtures/shopify/shoppers.json");

/// One line of a cart: (title, variant title, variant id, quantity, unit price).
#[derive(Debug, Clone, Deserialize)]
pub struct Item(pub String, pub String, pub u64, pub u32, pub String);

/// What a checkout payload is made of.
#[derive(Debug, Clone)]
pub struct CheckoutSpec {
    pub shop: String,
    pub token: String,
    pub cart_token: String,
    pub email: Option<String>,
    pub first_name: String,
    pub items: Vec<Item>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn cents(price: &str) -> i64 {
    let (whole, fraction) = price.split_once('.').unwrap_or((price, "0"));
    whole.parse::<i64>().unwrap_or(0) * 100 + format!("{fraction:0<2}")[..2].parse::<i64>().unwrap_or(0)
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn line_items(items: &[Item]) -> Vec<Value> {
    items
        .iter()
        .map(|Item(title, variant, variant_id, quantity, price)| {
            json!({
                "title": title, "presentment_title": title, "variant_title": variant,
                "variant_id": variant_id, "product_id": variant_id / 1000, "quantity": quantity,
                "price": price, "line_price": money(cents(price) * i64::from(*quantity)),
                "sku": format!("SKU-{variant_id}"), "requires_shipping": true, "taxable": true,
                "gift_card": false, "applied_discounts": [], "discount_allocations": [], "tax_lines": []
            })
        })
        .collect()
}

fn total(items: &[Item]) -> String {
    money(items.iter().map(|i| cents(&i.4) * i64::from(i.3)).sum())
}

/// A `checkouts/create` / `checkouts/update` body.
pub fn checkout(spec: &CheckoutSpec) -> Value {
    let mut body: Value = serde_json::from_str(CHECKOUT).expect("checkout fixture is JSON");
    let total = total(&spec.items);
    let fields = json!({
        "token": spec.token, "cart_token": spec.cart_token, "email": spec.email,
        "created_at": time(spec.created_at), "updated_at": time(spec.updated_at),
        "line_items": line_items(&spec.items),
        "total_line_items_price": total, "subtotal_price": total, "total_price": total,
        "total_tax": "0.00", "tax_lines": [],
        "abandoned_checkout_url": format!("https://{}/70012345/checkouts/{}/recover?key=demo", spec.shop, spec.token),
    });
    merge(&mut body, fields);
    body["customer"]["email"] = json!(spec.email);
    body["customer"]["first_name"] = json!(spec.first_name);
    body["shipping_address"]["first_name"] = json!(spec.first_name);
    body["billing_address"]["first_name"] = json!(spec.first_name);
    body
}

/// An `orders/create` / `orders/paid` body for a checkout.
pub fn order(spec: &CheckoutSpec, order_id: u64, at: DateTime<Utc>) -> Value {
    let mut body: Value = serde_json::from_str(ORDER).expect("order fixture is JSON");
    let total = total(&spec.items);
    merge(
        &mut body,
        json!({
            "id": order_id, "checkout_token": spec.token, "cart_token": spec.cart_token,
            "email": spec.email, "contact_email": spec.email,
            "created_at": time(at), "updated_at": time(at), "processed_at": time(at),
            "line_items": line_items(&spec.items),
            "subtotal_price": total, "total_line_items_price": total, "total_price": total, "current_total_price": total,
            "total_tax": "0.00",
        }),
    );
    body["customer"]["email"] = json!(spec.email);
    body
}

/// A `carts/update` body for the checkout's cart, changed at `at`.
pub fn cart(spec: &CheckoutSpec, at: DateTime<Utc>) -> Value {
    let mut body: Value = serde_json::from_str(CART).expect("cart fixture is JSON");
    merge(
        &mut body,
        json!({ "id": spec.cart_token, "token": spec.cart_token, "updated_at": time(at), "line_items": line_items(&spec.items) }),
    );
    body
}

fn merge(target: &mut Value, fields: Value) {
    if let (Some(target), Value::Object(fields)) = (target.as_object_mut(), fields) {
        target.extend(fields);
    }
}

/// The headers Shopify sends with a delivery, signed with `secret`.
pub fn headers(secret: &str, shop: &str, topic: &str, webhook_id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-shopify-topic", topic.into()),
        ("x-shopify-hmac-sha256", sign_webhook(secret.as_bytes(), body)),
        ("x-shopify-shop-domain", shop.into()),
        ("x-shopify-api-version", "2026-07".into()),
        ("x-shopify-webhook-id", webhook_id.into()),
        ("x-shopify-triggered-at", time(Utc::now())),
    ]
}

/// Posts a signed delivery to a gateway and returns the response.
pub async fn deliver(
    http: &reqwest::Client,
    gateway: &str,
    secret: &str,
    shop: &str,
    topic: &str,
    webhook_id: &str,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    let bytes = serde_json::to_vec(body).expect("payload serialises");
    let mut request = http.post(format!("{gateway}/webhooks/shopify"));
    for (name, value) in headers(secret, shop, topic, webhook_id, &bytes) {
        request = request.header(name, value);
    }
    request.body(bytes).send().await
}
