//! The local gateway: the functions' own HTTP handlers behind axum on 127.0.0.1, on the routes
//! that `template.yaml` gives the HTTP API.

use crate::stack::LocalServices;
use crate::storefront::{self, LocalStorefront};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use reclaim_core::web::Reply;
use std::net::SocketAddr;
use std::sync::Arc;

/// The HTTP API's own payload limit (API Gateway refuses larger bodies before a function runs).
const GATEWAY_BODY_LIMIT: usize = 10 * 1024 * 1024;

type Shared = Arc<LocalServices>;

fn respond(reply: Reply) -> Response {
    reply.into_http().map(Body::from)
}

async fn webhooks(
    State(services): State<Shared>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(reclaim_webhooks::handle(services.as_ref(), &platform, &headers, &body).await)
}

async fn links(State(services): State<Shared>, method: Method, uri: Uri) -> Response {
    respond(reclaim_links::handle(services.as_ref(), &method, uri.path()).await)
}

async fn auth(State(services): State<Shared>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    respond(reclaim_auth::handle(services.as_ref(), &method, uri.path(), uri.query(), &headers).await)
}

async fn admin(State(services): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    respond(reclaim_admin_api::handle(services.as_ref(), &method, uri.path(), uri.query(), &headers, &body).await)
}

async fn proxied(
    State(services): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(reclaim_storefront_api::handle(services.as_ref(), &method, uri.path(), uri.query(), &headers, &body).await)
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
    respond(
        reclaim_storefront_api::handle(
            services.as_ref(),
            &method,
            &format!("/proxy{rest}"),
            Some(&query),
            &headers,
            &body,
        )
        .await,
    )
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

async fn cart_add(Extension(shop): Shop, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(line) = serde_json::from_slice::<storefront::AddToCart>(&body) else {
        return respond(Reply::json(
            400,
            &serde_json::json!({ "error": "bad_request", "message": "expected {id, quantity}" }),
        ));
    };
    let (token, cookie) = cart_cookie(&headers);
    shop.add(&token, &line);
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
}

/// The routes of the HTTP API, plus the local storefront of `shop`.
pub fn router(services: Shared, shop: &str) -> Router {
    let secret = String::from_utf8_lossy(&services.config.shopify_api_secret).into_owned();
    let local = Arc::new(LocalStorefront::new(shop, &secret));
    Router::new()
        .route("/webhooks/{platform}", post(webhooks))
        .route("/r/{token}", get(links))
        .route("/s/{code}", get(links))
        .route("/u/{token}", get(links).post(links))
        .route("/ua/{token}", post(links))
        .route("/admin/{*rest}", get(admin).put(admin).post(admin))
        .route("/auth", get(auth))
        .route("/auth/callback", get(auth))
        .route("/auth/token-exchange", post(auth))
        .route("/proxy/{*rest}", get(proxied).post(proxied))
        .route("/push/devices", post(proxied))
        .merge(storefront_routes())
        .route("/healthz", get(|| async { "ok" }))
        .fallback(links)
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
