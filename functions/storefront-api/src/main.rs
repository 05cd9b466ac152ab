//! Lambda entry point of the `storefront-api` function (API Gateway HTTP API, behind the app proxy). It builds only the adapters its
//! handler uses: the table, the scheduler and SNS push.

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
        scheduler: env.scheduler()?,
        messenger: env.push(),
        events: (),
        vault: (),
        platform: (),
        jobs: (),
        clock: SystemClock,
        config: env.config()?,
    };
    run_http(app, reclaim_storefront_api::handle).await
}
