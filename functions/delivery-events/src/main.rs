//! Lambda entry point of the `delivery-events` function (SNS subscription).

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use reclaim_aws::{App, FromEnv, init_tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let outcomes = reclaim_delivery_events::handle(app, &event.payload).await?;
        Ok::<_, Error>(serde_json::to_value(outcomes)?)
    }))
    .await
}
