//! The `storefront-api` function, behind the Shopify app proxy (`https://{shop}/apps/reclaim/…`
//! is forwarded to `/proxy/…` with a signed query). `GET /proxy/settings` serves the widget's
//! settings (cacheable); `POST /proxy/capture` stores a consented contact for a cart. A forged or
//! stale signature is 401 and nothing is stored.
//!
//! It also serves `POST /push/devices`, where a merchant's app registers a shopper's device for
//! push with a request signed by the shop's registration key (see `reclaim_core::push`).

use reclaim_core::ports::{Contacts, PushSender, Quotas, Shops, Stats};
use reclaim_core::push::{SHOP_HEADER, SIGNATURE_HEADER};
use reclaim_core::usecases::checkouts::CheckoutPorts;
use reclaim_core::usecases::storefront::CaptureRequest;
use reclaim_core::usecases::{UseCaseError, push, storefront};
use reclaim_core::web::{Audience, HttpRequest, Reply, Route, error_reply, find_route, no_such_route};

pub const WIDGET_SETTINGS: Route = Route::new("GET", "/proxy/settings");
pub const CAPTURE: Route = Route::new("POST", "/proxy/capture");
pub const PUSH_DEVICES: Route = Route::new("POST", "/push/devices");

/// Every route this function serves.
pub const ROUTES: &[Route] = &[WIDGET_SETTINGS, CAPTURE, PUSH_DEVICES];

/// What the storefront API needs: checkouts, carts and captures; contacts and stats for push
/// devices; the scheduler; push registration. No email or SMS.
pub trait StorefrontPorts: CheckoutPorts<Store: Contacts + Shops + Stats + Quotas, Messenger: PushSender> {}
impl<P: CheckoutPorts<Store: Contacts + Shops + Stats + Quotas, Messenger: PushSender>> StorefrontPorts for P {}

/// Handles one request: a proxied one (its query is the one Shopify signed) or a push-device
/// registration.
pub async fn handle<P: StorefrontPorts>(ports: &P, request: HttpRequest) -> Reply {
    let Some((route, _)) = find_route(ROUTES, &request) else {
        return no_such_route();
    };
    respond(ports, *route, &request).await.unwrap_or_else(|error| error_reply(&error, Audience::Machine))
}

async fn respond<P: StorefrontPorts>(ports: &P, route: Route, request: &HttpRequest) -> Result<Reply, UseCaseError> {
    if route == PUSH_DEVICES {
        let (shop, registration) = push::verify_device_registration(
            ports,
            request.header(SHOP_HEADER),
            request.header(SIGNATURE_HEADER),
            &request.body,
        )
        .await?;
        return Ok(Reply::json(200, &push::register_device(ports, shop, registration).await?));
    }
    let shop = storefront::authenticate_proxy(ports, &request.query_pairs())?;
    Ok(match route {
        WIDGET_SETTINGS => {
            let mut reply = Reply::json(200, &storefront::widget_settings(ports, &shop).await?);
            reply.headers.retain(|(name, _)| *name != "cache-control");
            reply.headers.push(("cache-control", "public, max-age=300".into()));
            reply
        }
        CAPTURE => {
            let status = match storefront::capture(ports, &shop, CaptureRequest::from_json(&request.body)?).await? {
                storefront::CaptureOutcome::Captured => "captured",
                storefront::CaptureOutcome::AlreadyCaptured => "already_captured",
            };
            Reply::json(200, &serde_json::json!({ "status": status }))
        }
        _ => no_such_route(),
    })
}
