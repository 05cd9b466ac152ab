//! Lambda entry point of the `links` function (API Gateway HTTP API).

use lambda_http::{Error, Request, run, service_fn};
use reclaim_aws::{App, FromEnv, init_tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        let reply = reclaim_links::handle(app, request.method(), request.uri().path()).await;
        Ok::<_, Error>(reply.into_http())
    }))
    .await
}
