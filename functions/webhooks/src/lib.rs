//! The `webhooks` function: `POST /webhooks/{platform}`. Maps the HTTP request to
//! [`ingest_webhook`] and its result to a JSON response; everything else happens in the use case.

use http::HeaderMap;
use reclaim_core::usecases::{Ports, ingest_webhook};
use reclaim_core::web::{Audience, Reply, error_reply};

/// Handles one delivery.
pub async fn handle<P: Ports>(ports: &P, platform: &str, headers: &HeaderMap, body: &[u8]) -> Reply {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match ingest_webhook(ports, platform, header, body).await {
        Ok(outcome) => Reply::json(200, &outcome),
        Err(error) => error_reply(&error, Audience::Machine),
    }
}
