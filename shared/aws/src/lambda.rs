//! The Lambda bootstrap every HTTP function shares: the API Gateway event turned into a plain
//! [`HttpRequest`] for the function's handler, whose [`Reply`] becomes the response. The function
//! builds its own adapters (only those it uses) and hands them over once per cold start.

use lambda_http::{Body, Error, Request, RequestExt, run, service_fn};
use reclaim_core::web::{HttpRequest, Reply};
use std::future::Future;

/// The handler's view of an API Gateway request.
fn request_of(event: Request) -> HttpRequest {
    let path = event.raw_http_path().to_owned();
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Text(text) => text.into_bytes(),
        Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    HttpRequest {
        method: parts.method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    }
}

/// Runs an HTTP function on `app` until the Lambda runtime stops it.
pub async fn run_http<A, F, Fut>(app: A, handler: F) -> Result<(), Error>
where
    A: Send + Sync + 'static,
    F: Fn(&'static A, HttpRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Reply> + Send,
{
    // One application per cold start, alive for the whole process.
    let app: &'static A = Box::leak(Box::new(app));
    let handler = &handler;
    run(service_fn(
        move |event: Request| async move { Ok::<_, Error>(handler(app, request_of(event)).await.into_http()) },
    ))
    .await
}
