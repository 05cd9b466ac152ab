//! Lambda entry point of the `jobs` function (SQS event source). It builds the table, the
//! scheduler, SES and SNS (exports, push endpoints) and the jobs queue.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
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
        messenger: env.messenger(),
        events: (),
        clock: SystemClock,
        vault: (),
        platform: (),
        jobs: env.jobs()?,
        config: env.config()?,
    };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let runs = reclaim_jobs::handle(app, &event.payload).await?;
        Ok::<_, Error>(serde_json::to_value(runs)?)
    }))
    .await
}
