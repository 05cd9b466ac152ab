//! The `links` function: `GET /r/{token}` (restore the cart: record the click, 302 to the shop),
//! `GET /s/{code}` (the short form sent in SMS), `GET /u/{token}` (unsubscribe confirmation page),
//! `POST /u/{token}` (RFC 8058 one-click unsubscribe from email, also the page's first button) and
//! `POST /ua/{token}` (the page's "stop all messages from this shop").

use reclaim_core::usecases::{
    LinkPorts, UnsubscribeScope, follow_restore_link, follow_short_link, unsubscribe, verify_unsubscribe,
};
use reclaim_core::web::{Audience, HttpRequest, Reply, Route, error_reply, find_route};

pub const RESTORE: Route = Route::new("GET", "/r/{token}");
pub const SHORT_LINK: Route = Route::new("GET", "/s/{code}");
pub const UNSUBSCRIBE_PAGE: Route = Route::new("GET", "/u/{token}");
pub const UNSUBSCRIBE: Route = Route::new("POST", "/u/{token}");
pub const UNSUBSCRIBE_ALL: Route = Route::new("POST", "/ua/{token}");

/// Every route this function serves.
pub const ROUTES: &[Route] = &[RESTORE, SHORT_LINK, UNSUBSCRIBE_PAGE, UNSUBSCRIBE, UNSUBSCRIBE_ALL];

/// Handles one request.
pub async fn handle<P: LinkPorts>(ports: &P, request: HttpRequest) -> Reply {
    let Some((route, params)) = find_route(ROUTES, &request) else {
        return not_found();
    };
    let token = params[0];
    let result = match *route {
        RESTORE => follow_restore_link(ports, token).await.map(|target| Reply::redirect(&target.location)),
        SHORT_LINK => follow_short_link(ports, token).await.map(|target| Reply::redirect(&target.location)),
        UNSUBSCRIBE_PAGE => verify_unsubscribe(ports, token).map(|_| confirmation_page(token)),
        UNSUBSCRIBE => unsubscribe(ports, token, UnsubscribeScope::Email).await.map(|_| {
            Reply::page(200, "You are unsubscribed", "You will not get any more reminder emails from this shop.", "")
        }),
        UNSUBSCRIBE_ALL => unsubscribe(ports, token, UnsubscribeScope::All).await.map(|_| {
            Reply::page(
                200,
                "You are unsubscribed from everything",
                "This shop will not send you any more emails, texts or notifications about your carts.",
                "",
            )
        }),
        _ => return not_found(),
    };
    result.unwrap_or_else(|error| error_reply(&error, Audience::Person))
}

fn not_found() -> Reply {
    Reply::page(404, "Page not found", "There is nothing here.", "")
}

/// The GET page: nothing changes until the shopper presses a button (link scanners only GET).
/// One button stops reminder email; the other stops every message from this shop.
fn confirmation_page(token: &str) -> Reply {
    let button = "padding:.6rem 1.2rem;font-size:1rem;margin:.3rem 0";
    Reply::page(
        200,
        "Unsubscribe from cart reminders?",
        "Choose what to stop. It takes effect at once.",
        &format!(
            "<form method=\"post\" action=\"{token}\"><input type=\"hidden\" name=\"List-Unsubscribe\" \
             value=\"One-Click\"><button type=\"submit\" style=\"{button}\">Stop reminder emails</button></form>\
             <form method=\"post\" action=\"../ua/{token}\"><button type=\"submit\" style=\"{button}\">\
             Stop all messages from this shop</button></form>"
        ),
    )
}
