//! Lambda entry point of the `webhooks` function (API Gateway HTTP API).

use lambda_http::Error;
use reclaim_aws::lambda::run_http;

#[tokio::main]
async fn main() -> Result<(), Error> {
    run_http(|app, request| async move {
        let platform = request.path.rsplit('/').next().unwrap_or_default().to_owned();
        reclaim_webhooks::handle(app, &platform, &request.headers, &request.body).await
    })
    .await
}
