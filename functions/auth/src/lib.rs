//! The `auth` function: installs the app on a shop.
//! - `GET /auth?shop=…` checks the shop domain and redirects to Shopify's consent screen with a
//!   fresh 32-byte `state`, kept in a signed, HttpOnly, Secure cookie.
//! - `GET /auth/callback?…` verifies the query HMAC, the timestamp and the state, exchanges the
//!   code once, stores the token sealed with KMS and redirects into the app. Every refusal is a
//!   clear page and stores nothing.
//! - `POST /auth/token-exchange` (embedded apps) exchanges the session token in
//!   `Authorization: Bearer …` for an offline token.

use http::{HeaderMap, Method};
use reclaim_core::platform::oauth::clear_state_cookie;
use reclaim_core::usecases::Ports;
use reclaim_core::usecases::install::{begin_install, complete_install, token_exchange};
use reclaim_core::web::{Audience, Reply, error_reply};

/// Handles one request. `query` is the raw query string.
pub async fn handle<P: Ports>(
    ports: &P,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Reply {
    let header = |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    match (method, path.trim_end_matches('/')) {
        (&Method::GET, "/auth") => {
            let shop = url_param(query, "shop");
            let mut nonce = [0u8; 32];
            if getrandom::getrandom(&mut nonce).is_err() {
                return Reply::page(503, "Please try again", "Reclaim could not start the installation.", "");
            }
            match begin_install(ports, shop.as_deref(), &nonce) {
                Ok(start) => {
                    let mut reply = Reply::redirect(&start.location);
                    reply.headers.push(("set-cookie", start.set_cookie));
                    reply
                }
                Err(error) => error_reply(&error, Audience::Person),
            }
        }
        (&Method::GET, "/auth/callback") => match complete_install(ports, query, header(http::header::COOKIE)).await {
            Ok(location) => {
                let mut reply = Reply::redirect(&location);
                reply.headers.push(("set-cookie", clear_state_cookie()));
                reply
            }
            Err(error) => error_reply(&error, Audience::Person),
        },
        (&Method::POST, "/auth/token-exchange") => {
            match token_exchange(ports, header(http::header::AUTHORIZATION)).await {
                Ok(installed) => Reply::json(200, &installed),
                Err(error) => error_reply(&error, Audience::Machine),
            }
        }
        _ => Reply::page(404, "Page not found", "There is nothing here.", ""),
    }
}

fn url_param(query: Option<&str>, name: &str) -> Option<String> {
    let pairs = reclaim_core::platform::oauth::query_pairs(query.unwrap_or_default());
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}
