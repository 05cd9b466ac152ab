//! Lambda entry point of the `storefront-api` function (API Gateway HTTP API).

use lambda_http::{Body, Error, Request, run, service_fn};
use reclaim_aws::{App, FromEnv, init_tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        let body: &[u8] = match request.body() {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        let uri = request.uri();
        let reply = reclaim_storefront_api::handle(app, request.method(), uri.path(), uri.query(), body).await;
        Ok::<_, Error>(reply.into_http())
    }))
    .await
}
