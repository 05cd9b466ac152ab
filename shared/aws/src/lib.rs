//! # reclaim-aws — Reclaim's ports on AWS
//!
//! The adapters behind [`reclaim_core::ports`]: [`DynamoStore`] (one DynamoDB table, keys as in
//! `docs/architecture.md`), [`AwsScheduler`] (EventBridge Scheduler one-time schedules),
//! [`AwsMessenger`] (email through [`SesMailer`], SES v2 raw MIME with one-click unsubscribe
//! headers; SMS and mobile push through SNS) and [`EventBridgeBus`] (domain events on EventBridge). [`App::from_env`] builds
//! every client once per cold start from the environment that `template.yaml` sets; pointing
//! `AWS_ENDPOINT_URL` at an emulator is the only difference between AWS and the local stack.

mod app;
mod dynamo;
mod error;
mod events;
pub mod lambda;
mod messenger;
mod scheduler;
mod ses;

pub use app::{
    App, AwsServices, FromEnv, MissingVariable, Settings, build_services, init_tracing, init_tracing_with_default,
    services_from_config,
};
pub use dynamo::DynamoStore;
pub use events::{EVENT_SOURCE, EventBridgeBus};
pub use messenger::{AwsMessenger, PushApplications, push_payload};
pub use scheduler::{AwsScheduler, SchedulerTarget};
pub use ses::{SesMailer, build_mime};
