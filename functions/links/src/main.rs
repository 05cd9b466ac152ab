//! Lambda entry point of the `links` function (API Gateway HTTP API).

use lambda_http::Error;
use reclaim_aws::lambda::run_http;

#[tokio::main]
async fn main() -> Result<(), Error> {
    run_http(|app, request| async move { reclaim_links::handle(app, &request.method, &request.path).await }).await
}
