//! Lambda entry point of the `recovery-check` function (EventBridge Scheduler target). A check
//! can do nearly everything (every channel, discount codes), so it builds every adapter but the
//! job queue.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use reclaim_aws::{Environment, init_tracing};
use reclaim_core::clock::SystemClock;
use reclaim_core::ports::CheckInput;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let env = Environment::from_process().await?;
    let app = reclaim_core::usecases::Services {
        store: env.store()?,
        scheduler: env.scheduler()?,
        messenger: env.messenger(),
        events: env.events(),
        clock: SystemClock,
        vault: env.vault()?,
        platform: env.platform(reclaim_aws::RetryPolicy::default())?,
        jobs: (),
        config: env.config()?,
    };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<CheckInput>| async move {
        let outcome = reclaim_recovery_check::handle(app, &event.payload).await?;
        Ok::<_, Error>(serde_json::to_value(outcome)?)
    }))
    .await
}
