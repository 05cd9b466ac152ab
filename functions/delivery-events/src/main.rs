//! Lambda entry point of the `delivery-events` function (SNS subscription). It builds only the
//! table and SNS for SMS (STOP confirmations and HELP answers).

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
        scheduler: (),
        messenger: env.sms(),
        events: (),
        clock: SystemClock,
        vault: (),
        platform: (),
        jobs: (),
        config: env.config()?,
    };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let outcomes = reclaim_delivery_events::handle(app, &event.payload).await?;
        Ok::<_, Error>(serde_json::to_value(outcomes)?)
    }))
    .await
}
