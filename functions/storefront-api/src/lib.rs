//! The `storefront-api` function, behind the Shopify app proxy (`https://{shop}/apps/reclaim/…`
//! is forwarded to `/proxy/…` with a signed query). `GET /proxy/settings` serves the widget's
//! settings (cacheable); `POST /proxy/capture` stores a consented contact for a cart. A forged or
//! stale signature is 401 and nothing is stored.
//!
//! It also serves `POST /push/devices`, where a merchant's app registers a shopper's device for
//! push with a request signed by the shop's registration key (see `reclaim_core::push`).

use http::{HeaderMap, Method};
use reclaim_core::push::{SHOP_HEADER, SIGNATURE_HEADER};
use reclaim_core::usecases::{Ports, UseCaseError};
use reclaim_core::usecases::{push, storefront};
use reclaim_core::web::{Audience, Reply, error_reply};

/// Handles `POST /push/devices`: a push-device registration signed with the shop's key.
async fn register_device<P: Ports>(ports: &P, headers: &HeaderMap, body: &[u8]) -> Reply {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match push::register_device(ports, header(SHOP_HEADER), header(SIGNATURE_HEADER), body).await {
        Ok(registered) => Reply::json(200, &registered),
        Err(error) => error_reply(&error, Audience::Machine),
    }
}

/// Handles one request: a proxied one (`query` is the raw query string Shopify signed) or a
/// push-device registration.
pub async fn handle<P: Ports>(
    ports: &P,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    if method == Method::POST && path.trim_end_matches('/') == "/push/devices" {
        return register_device(ports, headers, body).await;
    }
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
