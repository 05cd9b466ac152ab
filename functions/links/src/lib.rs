//! The `links` function: `GET /r/{token}` (restore the cart: record the click, 302 to the shop),
//! `GET /u/{token}` (unsubscribe confirmation page) and `POST /u/{token}` (RFC 8058 one-click
//! unsubscribe, also what the confirmation page's button sends).

use http::Method;
use reclaim_core::usecases::{Ports, follow_restore_link, unsubscribe, verify_unsubscribe};
use reclaim_core::web::{Audience, Reply, error_reply};

/// Handles one request for `path` (`/r/…` or `/u/…`).
pub async fn handle<P: Ports>(ports: &P, method: &Method, path: &str) -> Reply {
    let (kind, token) = match path.trim_start_matches('/').split_once('/') {
        Some((kind, token)) if !token.is_empty() && !token.contains('/') => (kind, token),
        _ => return not_found(),
    };
    let result = match (kind, method) {
        ("r", &Method::GET) => follow_restore_link(ports, token).await.map(|target| Reply::redirect(&target.location)),
        ("u", &Method::GET) => verify_unsubscribe(ports, token).map(|_| confirmation_page()),
        ("u", &Method::POST) => unsubscribe(ports, token).await.map(|_| {
            Reply::page(200, "You are unsubscribed", "You will not get any more cart reminders from this shop.", "")
        }),
        _ => return not_found(),
    };
    result.unwrap_or_else(|error| error_reply(&error, Audience::Person))
}

fn not_found() -> Reply {
    Reply::page(404, "Page not found", "There is nothing here.", "")
}

/// The GET page: nothing changes until the shopper presses the button (link scanners only GET).
fn confirmation_page() -> Reply {
    Reply::page(
        200,
        "Unsubscribe from cart reminders?",
        "Press the button to stop reminder emails from this shop.",
        "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\" style=\"padding:.6rem 1.2rem;font-size:1rem\">Unsubscribe</button></form>",
    )
}
