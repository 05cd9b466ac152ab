//! [`PlatformApi`] over HTTPS: Shopify's OAuth token endpoint and the GraphQL Admin API.
//!
//! Follows Shopify's documentation for the `2026-07` Admin API:
//! - `POST https://{shop}/admin/oauth/access_token`: the authorization code grant
//!   (`client_id`, `client_secret`, `code`) and the token exchange grant for embedded apps
//!   (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, the session token as
//!   `subject_token`, `requested_token_type=urn:shopify:params:oauth:token-type:offline-access-token`);
//! - `POST https://{shop}/admin/api/2026-07/graphql.json` with `X-Shopify-Access-Token`:
//!   `shop { name contactEmail }` and `discountCodeBasicCreate` (its `userErrors`).
//!
//! Rate limits, as documented: a GraphQL response whose `errors` say `THROTTLED` waits until the
//! bucket (`extensions.cost.throttleStatus`) has restored the query's cost; HTTP 429 waits for
//! `Retry-After`; 5xx and network failures back off exponentially. Every wait is capped and the
//! attempts are bounded, so a check never hangs on Shopify.

use reclaim_core::model::ShopDomain;
use reclaim_core::ports::{
    AccessGrant, DiscountApi, DiscountOutcome, DiscountRequest, PlatformAuth, PortError, PortResult, ShopProfile,
};
use serde_json::{Value, json};
use std::time::Duration;

/// The Admin API version Reclaim speaks.
pub const ADMIN_API_VERSION: &str = "2026-07";

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first backoff after a 5xx; doubled each time.
    pub base_delay: Duration,
    /// No single wait is longer.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 4, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(4) }
    }
}

/// The Shopify client. Its HTTPS client (TLS roots, connection pool) is built on the first call,
/// not at cold start: most invocations of a function never reach Shopify.
#[derive(Debug, Clone)]
pub struct ShopifyHttp {
    http: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    api_key: String,
    api_secret: String,
    /// Replaces `https://{shop}` with `{endpoint}/shops/{shop}` (the local stand-in).
    endpoint: Option<String>,
    retry: RetryPolicy,
}

impl ShopifyHttp {
    pub fn new(api_key: String, api_secret: String, endpoint: Option<String>, retry: RetryPolicy) -> Self {
        Self { http: Default::default(), api_key, api_secret, endpoint, retry }
    }

    /// The HTTPS client, built once.
    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            crate::install_tls_provider();
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .user_agent("reclaim (+https://github.com/reclaim)")
                .build()
                .expect("the HTTP client builds")
        })
    }

    fn base(&self, shop: &ShopDomain) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{}/shops/{shop}", endpoint.trim_end_matches('/')),
            None => format!("https://{shop}"),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        (self.retry.base_delay * 2u32.saturating_pow(attempt)).min(self.retry.max_delay)
    }

    /// POSTs JSON, retrying 429 (after `Retry-After`), 5xx and network failures within the policy.
    async fn post(&self, url: &str, token: Option<&str>, body: &Value) -> PortResult<(u16, Value)> {
        let mut last = String::new();
        for attempt in 0..self.retry.attempts {
            let mut request = self.http().post(url).json(body);
            if let Some(token) = token {
                request = request.header("X-Shopify-Access-Token", token);
            }
            let wait = match request.send().await {
                Ok(response) if response.status().as_u16() == 429 => {
                    let seconds = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .unwrap_or(1.0);
                    last = "429 Too Many Requests".into();
                    Duration::from_secs_f64(seconds.max(0.0)).min(self.retry.max_delay)
                }
                Ok(response) if response.status().is_server_error() => {
                    last = format!("HTTP {}", response.status().as_u16());
                    self.backoff(attempt)
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.json::<Value>().await.unwrap_or(Value::Null);
                    return Ok((status, body));
                }
                Err(error) => {
                    last = if error.is_timeout() { "timeout".into() } else { "connection failed".into() };
                    self.backoff(attempt)
                }
            };
            tracing::info!(attempt, reason = %last, "Shopify request will be retried");
            if attempt + 1 < self.retry.attempts {
                tokio::time::sleep(wait).await;
            }
        }
        Err(PortError::Unavailable(format!("Shopify: {last} after {} attempts", self.retry.attempts)))
    }

    /// A GraphQL call; waits out `THROTTLED` responses within the policy; returns `data`.
    async fn graphql(&self, shop: &ShopDomain, token: &str, query: &str, variables: Value) -> PortResult<Value> {
        let url = format!("{}/admin/api/{ADMIN_API_VERSION}/graphql.json", self.base(shop));
        let body = json!({ "query": query, "variables": variables });
        for attempt in 0..self.retry.attempts {
            let (status, response) = self.post(&url, Some(token), &body).await?;
            if status == 401 || status == 403 {
                return Err(PortError::Rejected(format!("Shopify refused the access token (HTTP {status})")));
            }
            let errors = response["errors"].as_array().cloned().unwrap_or_default();
            let throttled = errors.iter().any(|e| e["extensions"]["code"] == "THROTTLED");
            if throttled {
                let wait = throttle_wait(&response["extensions"]["cost"]).min(self.retry.max_delay);
                tracing::info!(attempt, wait_ms = wait.as_millis() as u64, "Shopify GraphQL throttled");
                if attempt + 1 < self.retry.attempts {
                    tokio::time::sleep(wait).await;
                }
                continue;
            }
            if let Some(first) = errors.first() {
                return Err(PortError::Rejected(format!("Shopify GraphQL error: {}", first["message"])));
            }
            if !(200..300).contains(&status) {
                return Err(PortError::Rejected(format!("Shopify answered HTTP {status}")));
            }
            return Ok(response["data"].clone());
        }
        Err(PortError::Unavailable(format!("Shopify GraphQL still throttled after {} attempts", self.retry.attempts)))
    }

    async fn token_request(&self, shop: &ShopDomain, mut body: Value) -> PortResult<AccessGrant> {
        body["client_id"] = json!(self.api_key);
        body["client_secret"] = json!(self.api_secret);
        let url = format!("{}/admin/oauth/access_token", self.base(shop));
        let (status, response) = self.post(&url, None, &body).await?;
        let token = response["access_token"].as_str().filter(|_| status == 200);
        let Some(token) = token else {
            let reason = response["error_description"].as_str().or(response["error"].as_str()).unwrap_or("refused");
            return Err(PortError::Rejected(format!("Shopify refused the token request (HTTP {status}): {reason}")));
        };
        let scopes = response["scope"].as_str().unwrap_or_default();
        Ok(AccessGrant {
            access_token: token.to_owned(),
            scopes: scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            expires_in: response["expires_in"].as_i64(),
            refresh_token: response["refresh_token"].as_str().map(str::to_owned),
            refresh_token_expires_in: response["refresh_token_expires_in"].as_i64(),
        })
    }
}

/// How long until a throttled query's cost is restored: (requested − available) / restore rate.
pub fn throttle_wait(cost: &Value) -> Duration {
    let requested = cost["requestedQueryCost"].as_f64().unwrap_or(50.0);
    let status = &cost["throttleStatus"];
    let available = status["currentlyAvailable"].as_f64().unwrap_or(0.0);
    let rate = status["restoreRate"].as_f64().filter(|r| *r > 0.0).unwrap_or(50.0);
    Duration::from_secs_f64(((requested - available) / rate).max(0.0))
}

const DISCOUNT_MUTATION: &str = "mutation discountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}";

/// The `DiscountCodeBasicInput` of a request: single use, once per customer, all buyers.
pub fn discount_input(discount: &DiscountRequest) -> Value {
    let mut input = json!({
        "title": discount.title,
        "code": discount.code,
        "startsAt": discount.starts_at.to_rfc3339(),
        "endsAt": discount.ends_at.to_rfc3339(),
        "usageLimit": 1,
        "appliesOncePerCustomer": true,
        "context": { "all": "ALL" },
        "customerGets": { "value": { "percentage": f64::from(discount.percent) / 100.0 }, "items": { "all": true } },
        "combinesWith": {
            "orderDiscounts": discount.combines_with_order_discounts,
            "productDiscounts": discount.combines_with_product_discounts,
            "shippingDiscounts": discount.combines_with_shipping_discounts,
        },
    });
    if let Some(minimum) = &discount.minimum_subtotal {
        let amount = minimum.display();
        let amount = amount.split_once(' ').map_or(amount.as_str(), |(_, number)| number).to_owned();
        input["minimumRequirement"] = json!({ "subtotal": { "greaterThanOrEqualToSubtotal": amount } });
    }
    input
}

impl PlatformAuth for ShopifyHttp {
    /// Always an expiring offline token (required of public apps from 2027-01-01).
    async fn exchange_code(&self, shop: &ShopDomain, code: &str) -> PortResult<AccessGrant> {
        self.token_request(shop, json!({ "code": code, "expiring": "1" })).await
    }

    async fn refresh_token(&self, shop: &ShopDomain, refresh_token: &str) -> PortResult<AccessGrant> {
        self.token_request(shop, json!({ "grant_type": "refresh_token", "refresh_token": refresh_token })).await
    }

    async fn exchange_session_token(&self, shop: &ShopDomain, session_token: &str) -> PortResult<AccessGrant> {
        let body = json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": session_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "expiring": "1",
        });
        self.token_request(shop, body).await
    }

    async fn shop_profile(&self, shop: &ShopDomain, access_token: &str) -> PortResult<ShopProfile> {
        let data = self.graphql(shop, access_token, "query { shop { name contactEmail } }", json!({})).await?;
        Ok(ShopProfile {
            name: data["shop"]["name"].as_str().map(str::to_owned),
            contact_email: data["shop"]["contactEmail"].as_str().map(str::to_owned),
        })
    }
}

impl DiscountApi for ShopifyHttp {
    async fn create_discount(
        &self,
        shop: &ShopDomain,
        access_token: &str,
        discount: &DiscountRequest,
    ) -> PortResult<DiscountOutcome> {
        let variables = json!({ "basicCodeDiscount": discount_input(discount) });
        let data = self.graphql(shop, access_token, DISCOUNT_MUTATION, variables).await?;
        let payload = &data["discountCodeBasicCreate"];
        let errors = payload["userErrors"].as_array().cloned().unwrap_or_default();
        if errors.iter().any(|e| e["code"] == "TAKEN") {
            return Ok(DiscountOutcome::AlreadyExists);
        }
        if !errors.is_empty() {
            let messages: Vec<String> =
                errors.iter().filter_map(|e| e["message"].as_str().map(str::to_owned)).collect();
            return Ok(DiscountOutcome::Refused(messages.join("; ")));
        }
        match payload["codeDiscountNode"]["id"].as_str() {
            Some(id) => Ok(DiscountOutcome::Created(id.to_owned())),
            None => Err(PortError::Unavailable("discountCodeBasicCreate returned no discount".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_waits_for_the_cost_to_restore() {
        let cost = json!({"requestedQueryCost": 110, "throttleStatus": {"currentlyAvailable": 10, "restoreRate": 50}});
        assert_eq!(throttle_wait(&cost), Duration::from_secs(2));
        assert_eq!(
            throttle_wait(
                &json!({"requestedQueryCost": 10, "throttleStatus": {"currentlyAvailable": 100, "restoreRate": 50}})
            ),
            Duration::ZERO
        );
    }
}
