//! The `storefront-api` function, behind the Shopify app proxy (`https://{shop}/apps/reclaim/…`
//! is forwarded to `/proxy/…` with a signed query). `GET /proxy/settings` serves the widget's
//! settings (cacheable); `POST /proxy/capture` stores a consented contact for a cart. A forged or
//! stale signature is 401 and nothing is stored.

use http::Method;
use reclaim_core::usecases::storefront;
use reclaim_core::usecases::{Ports, UseCaseError};
use reclaim_core::web::{Audience, Reply, error_reply};

/// Handles one proxied request. `query` is the raw query string Shopify signed.
pub async fn handle<P: Ports>(ports: &P, method: &Method, path: &str, query: Option<&str>, body: &[u8]) -> Reply {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let result = async {
        let shop = storefront::authenticate_proxy(ports, &pairs)?;
        match (method, path.trim_end_matches('/')) {
            (&Method::GET, "/proxy/settings") => {
                let mut reply = Reply::json(200, &storefront::widget_settings(ports, &shop).await?);
                reply.headers.retain(|(name, _)| *name != "cache-control");
                reply.headers.push(("cache-control", "public, max-age=300".into()));
                Ok(reply)
            }
            (&Method::POST, "/proxy/capture") => {
                storefront::capture(ports, &shop, body).await?;
                Ok(Reply::json(200, &serde_json::json!({ "status": "captured" })))
            }
            _ => Ok(Reply::json(404, &serde_json::json!({ "error": "not_found", "message": "no such proxy route" }))),
        }
    }
    .await;
    result.unwrap_or_else(|error: UseCaseError| error_reply(&error, Audience::Machine))
}
