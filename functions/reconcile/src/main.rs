//! Lambda entry point of the `reconcile` function (EventBridge rate rule). It builds only the
//! table and the scheduler.

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
        messenger: (),
        events: (),
        clock: SystemClock,
        vault: (),
        platform: (),
        jobs: (),
        config: env.config()?,
    };
    let app = &app;
    run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let report = reclaim_reconcile::handle(app).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
