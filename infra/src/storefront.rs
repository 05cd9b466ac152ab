//! A local test storefront, served by the gateway for the browser tests and `reclaim up`: a
//! product page, a cart page, a checkout page and a page on another origin, Shopify's AJAX cart
//! (`/cart.js`, `/cart/add.js`, `/cart/clear.js`), the theme extension's script, and the app proxy
//! (`/apps/reclaim/…`), which signs the query the way Shopify does and hands the request to the
//! `storefront-api` handler.

use chrono::Utc;
use reclaim_core::platform::proxy;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// The theme extension's script, exactly as shipped.
pub const SCRIPT: &str = include_str!("../../extensions/reclaim-storefront/assets/reclaim.js");

const PRODUCTS: &[(u64, &str, i64)] = &[(44001001, "Linen Throw Blanket", 8900), (44001002, "Stoneware Mug", 1850)];

/// The local shop: its domain, its app secret (for proxy signatures) and the carts by cookie.
#[derive(Debug)]
pub struct LocalStorefront {
    pub shop: String,
    pub secret: String,
    carts: Mutex<HashMap<String, Vec<(u64, u32)>>>,
}

/// A line to add to the cart.
#[derive(Debug, Deserialize)]
pub struct AddToCart {
    pub id: u64,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

impl LocalStorefront {
    pub fn new(shop: &str, secret: &str) -> Self {
        Self { shop: shop.to_owned(), secret: secret.to_owned(), carts: Mutex::new(HashMap::new()) }
    }

    /// Shopify's `/cart.js` for a cart token.
    pub fn cart_json(&self, token: &str) -> serde_json::Value {
        let carts = self.carts.lock().expect("cart lock");
        let lines = carts.get(token).cloned().unwrap_or_default();
        let items: Vec<serde_json::Value> = lines
            .iter()
            .map(|(id, quantity)| {
                let (_, title, price) = PRODUCTS.iter().find(|p| p.0 == *id).copied().unwrap_or((*id, "Item", 0));
                serde_json::json!({ "id": id, "variant_id": id, "title": title, "quantity": quantity, "price": price })
            })
            .collect();
        let count: u32 = lines.iter().map(|l| l.1).sum();
        let total: i64 =
            lines.iter().map(|(id, q)| PRODUCTS.iter().find(|p| p.0 == *id).map_or(0, |p| p.2) * i64::from(*q)).sum();
        serde_json::json!({ "token": token, "item_count": count, "items": items, "total_price": total, "currency": "USD" })
    }

    pub fn add(&self, token: &str, line: &AddToCart) {
        let mut carts = self.carts.lock().expect("cart lock");
        let cart = carts.entry(token.to_owned()).or_default();
        match cart.iter_mut().find(|l| l.0 == line.id) {
            Some(existing) => existing.1 += line.quantity,
            None => cart.push((line.id, line.quantity)),
        }
    }

    /// The signed `carts/update` delivery Shopify sends for this cart now: headers and body.
    pub fn cart_webhook(&self, token: &str, now: chrono::DateTime<Utc>) -> (Vec<(&'static str, String)>, Vec<u8>) {
        static DELIVERIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let cart = self.cart_json(token);
        let lines: Vec<serde_json::Value> = cart["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let price = item["price"].as_i64().unwrap_or(0);
                serde_json::json!({
                    "title": item["title"], "variant_id": item["variant_id"], "quantity": item["quantity"],
                    "price": format!("{}.{:02}", price / 100, price % 100)
                })
            })
            .collect();
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let body = serde_json::json!({
            "id": token, "token": token, "line_items": lines, "currency": "USD", "created_at": at, "updated_at": at,
        });
        let body = serde_json::to_vec(&body).expect("JSON");
        let id = format!("local-cart-{}", DELIVERIES.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
        (crate::fixtures::headers(&self.secret, &self.shop, "carts/update", &id, &body), body)
    }

    pub fn clear(&self, token: &str) {
        self.carts.lock().expect("cart lock").remove(token);
    }

    /// The query Shopify's app proxy would forward: the shopper's query plus shop, path prefix,
    /// timestamp and signature.
    pub fn proxied_query(&self, original: Option<&str>, now: chrono::DateTime<Utc>) -> String {
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(original.unwrap_or_default().as_bytes()).into_owned().collect();
        pairs.retain(|(k, _)| {
            !["shop", "path_prefix", "timestamp", "signature", "logged_in_customer_id"].contains(&k.as_str())
        });
        pairs.push(("shop".into(), self.shop.clone()));
        pairs.push(("path_prefix".into(), "/apps/reclaim".into()));
        pairs.push(("timestamp".into(), now.timestamp().to_string()));
        pairs.push(("logged_in_customer_id".into(), String::new()));
        let signature = proxy::sign(self.secret.as_bytes(), &pairs);
        pairs.push(("signature".into(), signature));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }
}

/// A storefront page: the theme's layout with the app embed (config + script).
pub fn page(title: &str, body: &str, idle_seconds: Option<u32>) -> String {
    let mut config = serde_json::json!({ "proxy": "/apps/reclaim" });
    if let Some(seconds) = idle_seconds {
        config["idle_seconds"] = seconds.into();
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – Demo Store</title><style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}\
         nav a{{margin-right:1rem}}</style></head><body>\
         <nav><a id=\"home\" href=\"/store/products/linen-throw\">Shop</a><a id=\"cart-link\" href=\"/store/cart\">Cart</a>\
         <a id=\"external\" href=\"{{EXTERNAL}}\">Our blog (another site)</a></nav>\
         <h1>{title}</h1>{body}\
         <script id=\"reclaim-config\" type=\"application/json\">{config}</script>\
         <script src=\"/assets/reclaim.js\" defer></script></body></html>"
    )
}

/// The product page.
pub fn product_page(idle: Option<u32>) -> String {
    page(
        "Linen Throw Blanket",
        "<p>Soft, washed linen. USD 89.00</p><button id=\"add\" type=\"button\">Add to cart</button>\
         <script>document.getElementById('add').addEventListener('click',function(){fetch('/cart/add.js',{method:'POST',\
         headers:{'content-type':'application/json'},body:JSON.stringify({id:44001001,quantity:1})}).then(function(){\
         document.getElementById('add').textContent='Added';});});</script>",
        idle,
    )
}

/// The cart page.
pub fn cart_page(idle: Option<u32>) -> String {
    page(
        "Your cart",
        "<p id=\"cart-lines\">Your items are waiting.</p><form action=\"/checkout\" method=\"get\"><button id=\"checkout\" type=\"submit\">Check out</button></form>",
        idle,
    )
}
