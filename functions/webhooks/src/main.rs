//! Lambda entry point of the `webhooks` function (API Gateway HTTP API).

use lambda_http::{Body, Error, Request, RequestExt, run, service_fn};
use reclaim_aws::{App, FromEnv, init_tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        let platform = request.path_parameters_ref().and_then(|p| p.first("platform")).unwrap_or_default().to_owned();
        let body: &[u8] = match request.body() {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        let reply = reclaim_webhooks::handle(app, &platform, request.headers(), body).await;
        Ok::<_, Error>(reply.into_http())
    }))
    .await
}
