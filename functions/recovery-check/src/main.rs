//! Lambda entry point of the `recovery-check` function (EventBridge Scheduler target).

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use reclaim_aws::{App, FromEnv, init_tracing};
use reclaim_core::ports::CheckInput;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<CheckInput>| async move {
        let outcome = reclaim_recovery_check::handle(app, &event.payload).await?;
        Ok::<_, Error>(serde_json::to_value(outcome)?)
    }))
    .await
}
