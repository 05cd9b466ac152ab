//! The local gateway: the functions' own HTTP handlers behind axum on 127.0.0.1, on the routes
//! that `template.yaml` gives the HTTP API.

use crate::stack::LocalServices;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
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

async fn admin(State(services): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    respond(reclaim_admin_api::handle(services.as_ref(), &method, uri.path(), uri.query(), &headers, &body).await)
}

/// The routes of the HTTP API.
pub fn router(services: Shared) -> Router {
    Router::new()
        .route("/webhooks/{platform}", post(webhooks))
        .route("/r/{token}", get(links))
        .route("/u/{token}", get(links).post(links))
        .route("/admin/{*rest}", get(admin).put(admin).post(admin))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(links)
        .layer(DefaultBodyLimit::max(GATEWAY_BODY_LIMIT))
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

/// Serves the gateway on `listener` in the background.
pub fn serve(listener: tokio::net::TcpListener, services: Shared) -> anyhow::Result<Gateway> {
    let address = listener.local_addr()?;
    let app = router(services);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "gateway stopped");
        }
    });
    Ok(Gateway { address, task })
}
