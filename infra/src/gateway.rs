//! The local gateway: the functions' own HTTP handlers behind axum on 127.0.0.1, on the routes
//! that `template.yaml` gives the HTTP API.

use crate::stack::LocalServices;
use crate::storefront::{self, LocalStorefront};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, get, post};
use reclaim_core::web::{HttpRequest, Reply, Route};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// The HTTP API's own payload limit (API Gateway refuses larger bodies before a function runs).
const GATEWAY_BODY_LIMIT: usize = 10 * 1024 * 1024;

type Shared = Arc<LocalServices>;

fn respond(reply: Reply) -> Response {
    reply.into_http().map(Body::from)
}

/// The request a function's handler takes, from axum's parts.
fn request_of(method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> HttpRequest {
    HttpRequest {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body: body.to_vec(),
    }
}

/// Serves one function's route table with its handler, exactly as `template.yaml` routes the HTTP
/// API to it (a test holds the tables and the template equal).
fn function_routes<F, Fut>(router: Router<Shared>, routes: &'static [Route], handler: F) -> Router<Shared>
where
    F: Fn(Shared, HttpRequest) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let mut by_path: BTreeMap<&str, MethodRouter<Shared>> = BTreeMap::new();
    for route in routes {
        let method = Method::from_bytes(route.method.as_bytes()).expect("route methods are valid");
        let filter = MethodFilter::try_from(method).expect("route methods are standard");
        let handler = handler.clone();
        let serve = move |State(services): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let handler = handler.clone();
            async move { respond(handler(services, request_of(method, &uri, headers, body)).await) }
        };
        let methods = by_path.remove(route.path).unwrap_or_default();
        by_path.insert(route.path, methods.on(filter, serve));
    }
    by_path.into_iter().fold(router, |router, (path, methods)| router.route(path, methods))
}

/// What API Gateway's HTTP API answers when no route matches (the method included).
async fn no_route() -> Response {
    respond(Reply::json(404, &serde_json::json!({ "message": "Not Found" })))
}

/// Every HTTP function's routes.
fn api_routes() -> Router<Shared> {
    let router = Router::new();
    let router = function_routes(router, reclaim_webhooks::ROUTES, |s: Shared, r| async move {
        reclaim_webhooks::handle(s.as_ref(), r).await
    });
    let router = function_routes(router, reclaim_links::ROUTES, |s: Shared, r| async move {
        reclaim_links::handle(s.as_ref(), r).await
    });
    let router = function_routes(router, reclaim_admin_api::ROUTES, |s: Shared, r| async move {
        reclaim_admin_api::handle(s.as_ref(), r).await
    });
    let router = function_routes(router, reclaim_auth::ROUTES, |s: Shared, r| async move {
        reclaim_auth::handle(s.as_ref(), r).await
    });
    function_routes(router, reclaim_storefront_api::ROUTES, |s: Shared, r| async move {
        reclaim_storefront_api::handle(s.as_ref(), r).await
    })
}

type Shop = Extension<Arc<LocalStorefront>>;

/// The app proxy as Shopify runs it: `/apps/reclaim/x?q` reaches `/proxy/x?q&shop=…&signature=…`.
async fn app_proxy(
    State(services): State<Shared>,
    Extension(shop): Shop,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use reclaim_core::ports::Clock;
    let rest = uri.path().trim_start_matches("/apps/reclaim");
    let query = shop.proxied_query(uri.query(), services.clock.now());
    let request =
        HttpRequest { method, path: format!("/proxy{rest}"), query: Some(query), headers, body: body.to_vec() };
    respond(reclaim_storefront_api::handle(services.as_ref(), request).await)
}

/// The shopper's cart cookie, and a `Set-Cookie` when a new one is made.
fn cart_cookie(headers: &HeaderMap) -> (String, Option<String>) {
    let existing = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("cart=").map(str::to_owned));
    match existing {
        Some(token) => (token, None),
        None => {
            let token = format!("c{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
            let cookie = format!("cart={token}; Path=/; SameSite=Lax");
            (token, Some(cookie))
        }
    }
}

fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(value) = cookie.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(axum::http::header::SET_COOKIE, value);
    }
    response
}

fn html(body: String) -> Response {
    Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(Body::from(body))
        .expect("valid response")
}

fn idle_of(uri: &Uri) -> Option<u32> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "idle")
        .and_then(|(_, v)| v.parse().ok())
}

/// The other origin: the same server under `localhost` instead of `127.0.0.1`.
fn external_url(headers: &HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let port = host.rsplit(':').next().unwrap_or("80");
    format!("http://localhost:{port}/store/elsewhere")
}

async fn store_page(headers: HeaderMap, uri: Uri) -> Response {
    let external = external_url(&headers);
    let page = match uri.path() {
        "/store/cart" => storefront::cart_page(idle_of(&uri)),
        "/store/elsewhere" => storefront::page("Another site", "<p>This page is on another origin.</p>", None),
        "/checkout" => storefront::page("Checkout", "<p>Checkout.</p>", None),
        _ => storefront::product_page(idle_of(&uri)),
    };
    html(page.replace("{EXTERNAL}", &external))
}

async fn cart_js(Extension(shop): Shop, headers: HeaderMap) -> Response {
    let (token, cookie) = cart_cookie(&headers);
    with_cookie(respond(Reply::json(200, &shop.cart_json(&token))), cookie)
}

async fn cart_add(State(services): State<Shared>, Extension(shop): Shop, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(line) = serde_json::from_slice::<storefront::AddToCart>(&body) else {
        return respond(Reply::json(
            400,
            &serde_json::json!({ "error": "bad_request", "message": "expected {id, quantity}" }),
        ));
    };
    let (token, cookie) = cart_cookie(&headers);
    shop.add(&token, &line);
    // As Shopify does, the cart change goes to the app as a signed `carts/update` webhook.
    use reclaim_core::ports::Clock;
    let (signed, body) = shop.cart_webhook(&token, services.clock.now());
    let mut headers = HeaderMap::new();
    for (name, value) in signed {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    let request = HttpRequest { method: Method::POST, path: "/webhooks/shopify".into(), query: None, headers, body };
    let reply = reclaim_webhooks::handle(services.as_ref(), request).await;
    if reply.status != 200 {
        tracing::warn!(status = reply.status, "the local storefront's cart webhook was refused");
    }
    with_cookie(respond(Reply::json(200, &shop.cart_json(&token))), cookie)
}

async fn cart_clear(Extension(shop): Shop, headers: HeaderMap) -> Response {
    let (token, cookie) = cart_cookie(&headers);
    shop.clear(&token);
    with_cookie(respond(Reply::json(200, &shop.cart_json(&token))), cookie)
}

async fn script() -> Response {
    Response::builder()
        .header("content-type", "text/javascript; charset=utf-8")
        .body(Body::from(storefront::SCRIPT))
        .expect("valid response")
}

/// Where the local stack serves its App Bridge stand-in (the embedded app's page loads it first).
pub const APP_BRIDGE_STAND_IN: &str = "/local/app-bridge.js";

async fn app_bridge_stand_in() -> Response {
    Response::builder()
        .header("content-type", "text/javascript; charset=utf-8")
        .body(Body::from(include_str!("app_bridge_stand_in.js")))
        .expect("valid response")
}

/// An ID token for the gateway's own shop, signed as Shopify signs them (one minute), for the
/// App Bridge stand-in.
async fn id_token(State(services): State<Shared>, Extension(shop): Shop) -> Response {
    use reclaim_core::ports::Clock;
    let Ok(domain) = reclaim_core::model::ShopDomain::parse(&shop.shop) else {
        return respond(Reply::json(500, &serde_json::json!({ "error": "the local shop is not a shop domain" })));
    };
    let token = reclaim_core::session::sign_session_token(
        &domain,
        &services.config.shopify_api_key,
        &services.config.shopify_api_secret,
        services.clock.now(),
        60,
    );
    Response::builder()
        .header("content-type", "text/plain")
        .header("cache-control", "no-store")
        .body(Body::from(token))
        .expect("valid response")
}

/// The local storefront's routes (not part of the deployed API).
fn storefront_routes() -> Router<Shared> {
    Router::new()
        .route("/store/{*page}", get(store_page))
        .route("/checkout", get(store_page))
        .route("/cart.js", get(cart_js))
        .route("/cart/add.js", post(cart_add))
        .route("/cart/clear.js", post(cart_clear))
        .route("/assets/reclaim.js", get(script))
        .route("/apps/reclaim/{*rest}", get(app_proxy).post(app_proxy))
        .route(APP_BRIDGE_STAND_IN, get(app_bridge_stand_in))
        .route("/local/id-token", get(id_token))
}

/// The routes of the HTTP API, plus the local storefront of `shop`.
pub fn router(services: Shared, shop: &str) -> Router {
    let secret = String::from_utf8_lossy(&services.config.shopify_api_secret).into_owned();
    let local = Arc::new(LocalStorefront::new(shop, &secret));
    api_routes()
        .merge(storefront_routes())
        .route("/healthz", get(|| async { "ok" }))
        .fallback(no_route)
        .method_not_allowed_fallback(no_route)
        .layer(DefaultBodyLimit::max(GATEWAY_BODY_LIMIT))
        .layer(Extension(local))
        .with_state(services)
}

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// The base URL, e.g. `http://127.0.0.1:4000`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds a listener on 127.0.0.1 (`port` 0 picks a free one).
pub async fn bind(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    Ok(tokio::net::TcpListener::bind(("127.0.0.1", port)).await?)
}

/// Serves the gateway (and the local storefront of `shop`) on `listener` in the background.
pub fn serve(listener: tokio::net::TcpListener, services: Shared, shop: &str) -> anyhow::Result<Gateway> {
    let address = listener.local_addr()?;
    let app = router(services, shop);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "gateway stopped");
        }
    });
    Ok(Gateway { address, task })
}
