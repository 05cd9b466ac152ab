//! A local stand-in for the Shopify endpoints Reclaim calls, so that tests never reach Shopify.
//! It follows Shopify's published documentation, shape for shape:
//!
//! - "Authorization code grant": `POST /admin/oauth/access_token` with `client_id`,
//!   `client_secret` and `code` answers `{"access_token", "scope"}`; a code that was never issued
//!   or was already used answers 400 `{"error": "invalid_request", "error_description"}`.
//! - "Token exchange": the same endpoint with
//!   `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` and a `subject_token`.
//! - Expiring offline tokens ("Use expiring offline access tokens", the 2025-12 changelog): with
//!   `expiring: "1"` the answer adds `expires_in` (3600), `refresh_token` and
//!   `refresh_token_expires_in`; `grant_type=refresh_token` with a live `refresh_token` answers a
//!   new pair (the old refresh token is spent); a revoked or spent one answers 400
//!   `invalid_grant`.
//! - GraphQL Admin API (`/admin/api/{version}/graphql.json`, `X-Shopify-Access-Token`):
//!   `shop { name contactEmail }`; `discountCodeBasicCreate` answering `codeDiscountNode { id }`
//!   and `userErrors { field message code }` (`TAKEN` for a code that exists); every answer
//!   carries `extensions.cost` with its `throttleStatus`; a throttled query answers
//!   `errors: [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]`.
//! - Rate limits and outages: HTTP 429 with `Retry-After`, and 5xx.
//!
//! The shop is the path prefix: the client is pointed at `{url}/shops/{shop}` instead of
//! `https://{shop}`. Tests script the next discount answers with [`Scripted`].

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// A scripted answer to the next `discountCodeBasicCreate`.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// The bucket is empty: `THROTTLED`.
    Throttled,
    /// HTTP 429 with `Retry-After: 1`.
    TooManyRequests,
    /// HTTP 503.
    ServerError,
    /// `userErrors` with this message.
    UserError(String),
}

#[derive(Default)]
struct Shopify {
    api_key: String,
    api_secret: String,
    contact_email: String,
    issued_codes: HashSet<String>,
    used_codes: HashSet<String>,
    /// access token -> shop
    tokens: HashMap<String, String>,
    /// (shop, DiscountCodeBasicInput) of every discount created.
    discounts: Vec<(String, Value)>,
    script: VecDeque<Scripted>,
    discount_calls: usize,
    /// refresh token -> shop (live ones only).
    refresh_tokens: HashMap<String, String>,
    refreshes: usize,
}

type Shared = Arc<Mutex<Shopify>>;

/// The running stand-in.
pub struct ShopifyStandIn {
    url: String,
    state: Shared,
}

fn cost(available: u32) -> Value {
    json!({"requestedQueryCost": 10, "actualQueryCost": 10,
           "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0}})
}

async fn access_token(State(state): State<Shared>, Path(shop): Path<String>, Json(body): Json<Value>) -> Response {
    let mut shopify = state.lock().unwrap();
    if body["client_id"] != shopify.api_key.as_str() || body["client_secret"] != shopify.api_secret.as_str() {
        let error = json!({"error": "invalid_client", "error_description": "Client credentials are invalid"});
        return (StatusCode::UNAUTHORIZED, Json(error)).into_response();
    }
    let scope = "read_checkouts,read_orders,read_customers,write_discounts";
    let exchange = body["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange";
    let refresh = body["grant_type"] == "refresh_token";
    if refresh {
        shopify.refreshes += 1;
        let presented = body["refresh_token"].as_str().unwrap_or_default().to_owned();
        if shopify.refresh_tokens.remove(&presented).as_deref() != Some(shop.as_str()) {
            let error =
                json!({"error": "invalid_grant", "error_description": "The refresh token is invalid or revoked"});
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        }
    } else if exchange {
        if body["subject_token"].as_str().is_none_or(str::is_empty) {
            let error = json!({"error": "invalid_subject_token", "error_description": "subject token missing"});
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        }
    } else {
        let code = body["code"].as_str().unwrap_or_default().to_owned();
        if !shopify.issued_codes.contains(&code) || !shopify.used_codes.insert(code) {
            let error = json!({"error": "invalid_request",
                               "error_description": "The authorization code was not found or was already used"});
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        }
    }
    let token = format!("shpat_{:032x}", fastrand::u128(..));
    shopify.tokens.insert(token.clone(), shop.clone());
    if body["expiring"] != "1" && !refresh {
        return Json(json!({"access_token": token, "scope": scope})).into_response();
    }
    let refresh_token = format!("shprt_{:032x}", fastrand::u128(..));
    shopify.refresh_tokens.insert(refresh_token.clone(), shop);
    Json(json!({"access_token": token, "scope": scope, "expires_in": 3600,
                "refresh_token": refresh_token, "refresh_token_expires_in": 7_776_000}))
    .into_response()
}

async fn graphql(
    State(state): State<Shared>,
    Path((shop, _version)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut shopify = state.lock().unwrap();
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if shopify.tokens.get(token) != Some(&shop) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"errors": "[API] Invalid API key or access token"})))
            .into_response();
    }
    let query = body["query"].as_str().unwrap_or_default();
    if query.contains("shop {") {
        let contact = shopify.contact_email.clone();
        let data = json!({"shop": {"name": "Test Shop", "contactEmail": contact}});
        return Json(json!({"data": data, "extensions": {"cost": cost(1990)}})).into_response();
    }
    if !query.contains("discountCodeBasicCreate") {
        return Json(json!({"errors": [{"message": "unsupported by the stand-in"}]})).into_response();
    }
    shopify.discount_calls += 1;
    match shopify.script.pop_front() {
        Some(Scripted::Throttled) => {
            let error = json!({"message": "Throttled", "extensions": {"code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits"}});
            return Json(json!({"errors": [error], "extensions": {"cost": cost(0)}})).into_response();
        }
        Some(Scripted::TooManyRequests) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "Exceeded 2 calls per second")
                .into_response();
        }
        Some(Scripted::ServerError) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
        }
        Some(Scripted::UserError(message)) => {
            let payload = json!({"codeDiscountNode": null,
                "userErrors": [{"field": ["basicCodeDiscount"], "message": message, "code": "INVALID"}]});
            return Json(json!({"data": {"discountCodeBasicCreate": payload}, "extensions": {"cost": cost(1980)}}))
                .into_response();
        }
        None => {}
    }
    let input = body["variables"]["basicCodeDiscount"].clone();
    let taken = shopify.discounts.iter().any(|(s, d)| *s == shop && d["code"] == input["code"]);
    let payload = if taken {
        json!({"codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "code"],
            "message": "Code must be unique. Please try a different code.", "code": "TAKEN"}]})
    } else {
        shopify.discounts.push((shop, input));
        let id = format!("gid://shopify/DiscountCodeNode/{}", shopify.discounts.len());
        json!({"codeDiscountNode": {"id": id}, "userErrors": []})
    };
    Json(json!({"data": {"discountCodeBasicCreate": payload}, "extensions": {"cost": cost(1980)}})).into_response()
}

impl ShopifyStandIn {
    /// Starts on a free local port, for an app with these credentials.
    pub async fn start(api_key: &str, api_secret: &str) -> Self {
        let state: Shared = Arc::new(Mutex::new(Shopify {
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            contact_email: "owner@test-shop.test".to_owned(),
            ..Shopify::default()
        }));
        let app = Router::new()
            .route("/shops/{shop}/admin/oauth/access_token", post(access_token))
            .route("/shops/{shop}/admin/api/{version}/graphql.json", post(graphql))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    /// Where it answers.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Issues an authorization code, as Shopify does when the merchant approves the install.
    pub fn issue_code(&self) -> String {
        let code = format!("{:032x}", fastrand::u128(..));
        self.state.lock().unwrap().issued_codes.insert(code.clone());
        code
    }

    /// The access tokens issued so far.
    pub fn tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().tokens.keys().cloned().collect()
    }

    /// How many refresh-token requests came in.
    pub fn refreshes(&self) -> usize {
        self.state.lock().unwrap().refreshes
    }

    /// Revokes every refresh token (as when the merchant uninstalls, or the client secret is
    /// rotated away).
    pub fn revoke_refresh_tokens(&self) {
        self.state.lock().unwrap().refresh_tokens.clear();
    }

    /// The shop's contact email, as `shop { contactEmail }` answers.
    pub fn contact_email(&self) -> String {
        self.state.lock().unwrap().contact_email.clone()
    }

    /// Scripts the next discount answers.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// The `DiscountCodeBasicInput`s of the discounts created.
    pub fn discounts(&self) -> Vec<Value> {
        self.state.lock().unwrap().discounts.iter().map(|(_, d)| d.clone()).collect()
    }

    /// How many `discountCodeBasicCreate` calls arrived, answered or not.
    pub fn discount_calls(&self) -> usize {
        self.state.lock().unwrap().discount_calls
    }
}
