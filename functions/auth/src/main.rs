//! Lambda entry point of the `auth` function (API Gateway HTTP API).

use lambda_http::Error;
use reclaim_aws::lambda::{HttpRequest, run_http};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run_http(|app, request| async move {
        let HttpRequest { method, path, query, headers, .. } = request;
        reclaim_auth::handle(app, &method, &path, query.as_deref(), &headers).await
    })
    .await
}
