//! The Lambda bootstrap every HTTP function shares: tracing, [`App::from_env`] once per cold
//! start, and the API Gateway event turned into a plain [`HttpRequest`] for the function's handler,
//! whose [`Reply`] becomes the response.

use crate::{App, FromEnv, init_tracing};
use lambda_http::{Body, Error, Request, RequestExt, run, service_fn};
use reclaim_core::web::Reply;
use std::future::Future;

/// An HTTP request, as the handlers need it.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: http::Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl HttpRequest {
    fn from_event(request: Request) -> Self {
        let path = request.raw_http_path().to_owned();
        let (parts, body) = request.into_parts();
        let body = match body {
            Body::Text(text) => text.into_bytes(),
            Body::Binary(bytes) => bytes,
            _ => Vec::new(),
        };
        Self { method: parts.method, path, query: parts.uri.query().map(str::to_owned), headers: parts.headers, body }
    }
}

/// Runs an HTTP function until the Lambda runtime stops it.
pub async fn run_http<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(&'static App, HttpRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Reply> + Send,
{
    init_tracing();
    // One application per cold start, alive for the whole process.
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    let handler = &handler;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(handler(app, HttpRequest::from_event(request)).await.into_http())
    }))
    .await
}
