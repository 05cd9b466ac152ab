//! The `webhooks` function: `POST /webhooks/{platform}`. Verifies and parses the delivery at the
//! edge ([`verify_webhook`]), hands the typed delivery to [`ingest_webhook`] and maps the result
//! to a JSON response; everything else happens in the use case.

use reclaim_core::usecases::{IngestPorts, ingest_webhook, verify_webhook};
use reclaim_core::web::{Audience, HttpRequest, Reply, Route, error_reply, find_route, no_such_route};

/// A platform's signed webhook delivery.
pub const DELIVERY: Route = Route::new("POST", "/webhooks/{platform}");

/// Every route this function serves.
pub const ROUTES: &[Route] = &[DELIVERY];

/// Handles one request.
pub async fn handle<P: IngestPorts>(ports: &P, request: HttpRequest) -> Reply {
    let Some((&DELIVERY, params)) = find_route(ROUTES, &request) else {
        return no_such_route();
    };
    let header = |name: &str| request.header(name);
    let result = match verify_webhook(ports.config(), params[0], header, &request.body) {
        Ok(delivery) => ingest_webhook(ports, delivery).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(outcome) => Reply::json(200, &outcome),
        Err(error) => error_reply(&error, Audience::Machine),
    }
}
