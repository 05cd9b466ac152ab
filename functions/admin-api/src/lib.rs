//! The `admin-api` function: the merchant's settings, preview and stats, behind the Shopify
//! session token. `GET`/`PUT /admin/settings`, `POST /admin/preview`, `GET /admin/stats?from=&to=`
//! (counters and sender health), `POST /admin/sender-health/resume` (acknowledge a pause),
//! `POST /admin/message-preview` (a step's email, SMS and push for an example shopper),
//! `GET /admin/onboarding` (the first-open checklist, read live),
//! `GET /admin/push-key` (the key that signs push-device registrations).
//! Every route acts on the shop of the verified token only, except the embedded app's page and
//! assets (`GET /app`, `GET /app/assets/{file}`, see [`app`]), which carry nothing of any shop.

pub mod app;

use reclaim_core::ports::{Checkouts, EmailSender, SenderIdentity, SettingsStore, Shops, Stats};
use reclaim_core::usecases::admin::{self, PreviewRequest, SettingsUpdate};
use reclaim_core::usecases::messages;
use reclaim_core::usecases::{Ports, UseCaseError};
use reclaim_core::web::{Audience, HttpRequest, Reply, Route, error_reply, find_route, no_such_route};
use serde_json::json;

pub const GET_SETTINGS: Route = Route::new("GET", "/admin/settings");
pub const PUT_SETTINGS: Route = Route::new("PUT", "/admin/settings");
pub const PREVIEW: Route = Route::new("POST", "/admin/preview");
pub const STATS: Route = Route::new("GET", "/admin/stats");
pub const RESUME_EMAIL: Route = Route::new("POST", "/admin/sender-health/resume");
pub const PUSH_KEY: Route = Route::new("GET", "/admin/push-key");
pub const ROTATE_PUSH_KEY: Route = Route::new("POST", "/admin/push-key/rotate");
pub const WHAT_IF: Route = Route::new("POST", "/admin/what-if");
pub const STATS_CSV: Route = Route::new("GET", "/admin/stats.csv");
pub const TEST_EMAIL: Route = Route::new("POST", "/admin/test-email");
pub const MESSAGE_PREVIEW: Route = Route::new("POST", "/admin/message-preview");
pub const ONBOARDING: Route = Route::new("GET", "/admin/onboarding");
pub const APP: Route = Route::new("GET", "/app");
pub const APP_ASSET: Route = Route::new("GET", "/app/assets/{file}");

/// Every route this function serves.
pub const ROUTES: &[Route] = &[
    GET_SETTINGS,
    PUT_SETTINGS,
    PREVIEW,
    STATS,
    STATS_CSV,
    RESUME_EMAIL,
    PUSH_KEY,
    ROTATE_PUSH_KEY,
    WHAT_IF,
    TEST_EMAIL,
    MESSAGE_PREVIEW,
    ONBOARDING,
    APP,
    APP_ASSET,
];

/// What the admin API reads and writes: settings, the shop's state and its stats.
pub trait AdminPorts:
    Ports<Store: SettingsStore + Shops + Stats + Checkouts, Messenger: EmailSender + SenderIdentity>
{
}
impl<P: Ports<Store: SettingsStore + Shops + Stats + Checkouts, Messenger: EmailSender + SenderIdentity>> AdminPorts
    for P
{
}

/// Handles one request.
pub async fn handle<P: AdminPorts>(ports: &P, request: HttpRequest) -> Reply {
    let Some((route, _)) = find_route(ROUTES, &request) else {
        return no_such_route();
    };
    match *route {
        APP => return app::page(&request, &ports.config().shopify_api_key, &ports.config().app_bridge_url),
        APP_ASSET => return app::asset(&request),
        _ => {}
    }
    respond(ports, *route, &request).await.unwrap_or_else(|error| error_reply(&error, Audience::Machine))
}

async fn respond<P: AdminPorts>(ports: &P, route: Route, request: &HttpRequest) -> Result<Reply, UseCaseError> {
    let shop = admin::authenticate(
        ports,
        request.header(http::header::AUTHORIZATION),
        request.query_param("shop").as_deref(),
    )?;
    Ok(match route {
        GET_SETTINGS => Reply::json(200, &admin::get_settings(ports, &shop).await?),
        PUT_SETTINGS => {
            Reply::json(200, &admin::put_settings(ports, &shop, SettingsUpdate::from_json(&request.body)?).await?)
        }
        PREVIEW => Reply::json(200, &admin::preview(ports, &shop, PreviewRequest::from_json(&request.body)?).await?),
        STATS => {
            let (from, to) = (request.query_param("from"), request.query_param("to"));
            let counters = admin::stats(ports, &shop, from.as_deref(), to.as_deref()).await?;
            let pause = admin::sender_health(ports, &shop).await?;
            Reply::json(
                200,
                &json!({
                    "shop": shop,
                    "lift": reclaim_core::rules::lift::estimate(&counters),
                    "counters": counters,
                    "sender_health": { "email_paused": pause.is_some(), "pause": pause },
                    "needs_reauthorisation": admin::needs_reauthorisation(ports, &shop).await?,
                }),
            )
        }
        RESUME_EMAIL => Reply::json(200, &json!({ "resumed": admin::resume_email(ports, &shop).await? })),
        PUSH_KEY => {
            Reply::json(200, &json!({ "shop": shop, "key": admin::push_registration_key(ports, &shop).await? }))
        }
        STATS_CSV => {
            let (from, to) = (request.query_param("from"), request.query_param("to"));
            let body = admin::stats_csv(ports, &shop, from.as_deref(), to.as_deref()).await?;
            Reply {
                status: 200,
                headers: vec![
                    ("content-type", "text/csv; charset=utf-8".into()),
                    ("content-disposition", "attachment; filename=\"reclaim-stats.csv\"".into()),
                    ("cache-control", "no-store".into()),
                ],
                body,
            }
        }
        TEST_EMAIL => {
            let request = messages::MessagePreviewRequest::from_json(&request.body)?;
            Reply::json(200, &json!({ "sent_to": messages::send_test_email(ports, &shop, request).await? }))
        }
        ONBOARDING => Reply::json(200, &json!({ "checklist": admin::onboarding(ports, &shop).await? })),
        MESSAGE_PREVIEW => {
            let request = messages::MessagePreviewRequest::from_json(&request.body)?;
            Reply::json(200, &messages::preview_messages(ports, &shop, request).await?)
        }
        WHAT_IF => {
            let draft = admin::SettingsUpdate::draft_from_json(&request.body)?;
            Reply::json(200, &admin::what_if(ports, &shop, draft).await?)
        }
        ROTATE_PUSH_KEY => {
            Reply::json(200, &json!({ "shop": shop, "key": admin::rotate_push_key(ports, &shop).await? }))
        }
        _ => no_such_route(),
    })
}
