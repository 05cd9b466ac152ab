//! The `auth` function: installs the app on a shop.
//! - `GET /auth?shop=…` checks the shop domain and redirects to Shopify's consent screen with a
//!   fresh 32-byte `state`, kept in a signed, HttpOnly, Secure cookie.
//! - `GET /auth/callback?…` verifies the query HMAC, the timestamp and the state, exchanges the
//!   code once, stores the token sealed with KMS and redirects into the app. Every refusal is a
//!   clear page and stores nothing.
//! - `POST /auth/token-exchange` (embedded apps) exchanges the session token in
//!   `Authorization: Bearer …` for an offline token.

use reclaim_core::platform::oauth::clear_state_cookie;
use reclaim_core::usecases::install::{
    InstallPorts, begin_install, complete_install, token_exchange, verify_install_callback, verify_session_token,
};
use reclaim_core::web::{Audience, HttpRequest, Reply, Route, error_reply, find_route};

pub const BEGIN: Route = Route::new("GET", "/auth");
pub const CALLBACK: Route = Route::new("GET", "/auth/callback");
pub const TOKEN_EXCHANGE: Route = Route::new("POST", "/auth/token-exchange");

/// Every route this function serves.
pub const ROUTES: &[Route] = &[BEGIN, CALLBACK, TOKEN_EXCHANGE];

/// Handles one request.
pub async fn handle<P: InstallPorts>(ports: &P, request: HttpRequest) -> Reply {
    let Some((route, _)) = find_route(ROUTES, &request) else {
        return Reply::page(404, "Page not found", "There is nothing here.", "");
    };
    match *route {
        BEGIN => {
            let mut nonce = [0u8; 32];
            if getrandom::getrandom(&mut nonce).is_err() {
                return Reply::page(503, "Please try again", "Reclaim could not start the installation.", "");
            }
            match begin_install(ports, request.query_param("shop").as_deref(), &nonce) {
                Ok(start) => {
                    let mut reply = Reply::redirect(&start.location);
                    reply.headers.push(("set-cookie", start.set_cookie));
                    reply
                }
                Err(error) => error_reply(&error, Audience::Person),
            }
        }
        CALLBACK => match async {
            let callback =
                verify_install_callback(ports, request.query.as_deref(), request.header(http::header::COOKIE))?;
            complete_install(ports, callback).await
        }
        .await
        {
            Ok(location) => {
                let mut reply = Reply::redirect(&location);
                reply.headers.push(("set-cookie", clear_state_cookie()));
                reply
            }
            Err(error) => error_reply(&error, Audience::Person),
        },
        _ => match async {
            token_exchange(ports, verify_session_token(ports, request.header(http::header::AUTHORIZATION))?).await
        }
        .await
        {
            Ok(installed) => Reply::json(200, &installed),
            Err(error) => error_reply(&error, Audience::Machine),
        },
    }
}
