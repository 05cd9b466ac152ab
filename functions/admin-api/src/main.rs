//! Lambda entry point of the `admin-api` function (API Gateway HTTP API). It builds only the adapters its
//! handler uses: the table, and SES for "send me a test".

use lambda_http::Error;
use reclaim_aws::lambda::run_http;
use reclaim_aws::{Environment, init_tracing};
use reclaim_core::clock::SystemClock;
use reclaim_core::usecases::Services;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let env = Environment::from_process().await?;
    let app = Services {
        store: env.store()?,
        scheduler: (),
        messenger: env.mailer(),
        events: (),
        vault: (),
        platform: (),
        jobs: (),
        clock: SystemClock,
        config: env.config()?,
    };
    run_http(app, reclaim_admin_api::handle).await
}
