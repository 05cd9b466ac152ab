//! Lambda entry point of the `storefront-api` function (API Gateway HTTP API).

use lambda_http::Error;
use reclaim_aws::lambda::{HttpRequest, run_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run_http(|app, request| async move {
        let HttpRequest { method, path, query, headers, body } = request;
        reclaim_storefront_api::handle(app, &method, &path, query.as_deref(), &headers, &body).await
    })
    .await
}
