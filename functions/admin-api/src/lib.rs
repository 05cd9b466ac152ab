//! The `admin-api` function: the merchant's settings, preview and stats, behind the Shopify
//! session token. `GET`/`PUT /admin/settings`, `POST /admin/preview`, `GET /admin/stats?from=&to=`
//! (counters and sender health), `POST /admin/sender-health/resume` (acknowledge a pause),
//! `GET /admin/push-key` (the key that signs push-device registrations).
//! Every route acts on the shop of the verified token only.

use http::{HeaderMap, Method};
use reclaim_core::usecases::admin;
use reclaim_core::usecases::{Ports, UseCaseError};
use reclaim_core::web::{Audience, Reply, error_reply};
use std::collections::HashMap;

/// Handles one request. `query` is the raw query string.
pub async fn handle<P: Ports>(
    ports: &P,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let authorization = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let result = async {
        let shop = admin::authenticate(ports, authorization, query.get("shop").map(String::as_str))?;
        match (method, path.trim_end_matches('/')) {
            (&Method::GET, "/admin/settings") => Ok(Reply::json(200, &admin::get_settings(ports, &shop).await?)),
            (&Method::PUT, "/admin/settings") => Ok(Reply::json(200, &admin::put_settings(ports, &shop, body).await?)),
            (&Method::POST, "/admin/preview") => Ok(Reply::json(200, &admin::preview(ports, &shop, body).await?)),
            (&Method::GET, "/admin/stats") => {
                let counters = admin::stats(
                    ports,
                    &shop,
                    query.get("from").map(String::as_str),
                    query.get("to").map(String::as_str),
                )
                .await?;
                let sender_health = admin::sender_health(ports, &shop).await?;
                let body = serde_json::json!({
                    "shop": shop,
                    "counters": counters,
                    "sender_health": { "email_paused": sender_health.is_some(), "pause": sender_health },
                });
                Ok(Reply::json(200, &body))
            }
            (&Method::POST, "/admin/sender-health/resume") => {
                let resumed = admin::resume_email(ports, &shop).await?;
                Ok(Reply::json(200, &serde_json::json!({ "resumed": resumed })))
            }
            (&Method::GET, "/admin/push-key") => {
                let key = admin::push_registration_key(ports, &shop);
                Ok(Reply::json(200, &serde_json::json!({ "shop": shop, "key": key })))
            }
            _ => Ok(Reply::json(404, &serde_json::json!({ "error": "not_found", "message": "no such admin route" }))),
        }
    }
    .await;
    result.unwrap_or_else(|error: UseCaseError| error_reply(&error, Audience::Machine))
}
