//! # reclaim-aws — Reclaim's ports on AWS
//!
//! The adapters behind [`reclaim_core::ports`]: [`DynamoStore`] (one DynamoDB table, keys as in
//! `docs/architecture.md`), [`AwsScheduler`] (EventBridge Scheduler one-time schedules),
//! [`SesMailer`] (SES v2 raw MIME with one-click unsubscribe headers), [`SnsSms`] and [`SnsPush`]
//! (SMS and mobile push through SNS) and [`AwsMessenger`] (all three), [`KmsVault`] (KMS envelope encryption of access
//! tokens), [`ShopifyHttp`] (Shopify's OAuth token endpoint and GraphQL Admin API, with its rate
//! limits), [`EventBridgeBus`] (domain events on EventBridge) and [`SqsJobQueue`] (privacy jobs
//! on SQS). [`Environment`] builds each
//! adapter a function uses, once per cold start, from the variables `template.yaml` sets;
//! pointing `AWS_ENDPOINT_URL` at an emulator is the only difference between AWS and the local
//! stack.

mod app;
pub mod dynamo;
mod error;
mod events;
mod jobs;
pub mod lambda;
mod messenger;
mod scheduler;
mod ses;
mod shopify;
mod vault;

pub use app::{
    App, AwsServices, Environment, MissingVariable, SECRETS, SecretsError, init_tracing, init_tracing_with_default,
};
pub use dynamo::DynamoStore;
pub use events::{EVENT_SOURCE, EventBridgeBus};
pub use jobs::SqsJobQueue;
pub use messenger::{AwsMessenger, PushApplications, SnsPush, SnsSms, push_payload};
pub use scheduler::{AwsScheduler, SchedulerTarget};
pub use ses::{SesMailer, build_mime};
pub use shopify::{ADMIN_API_VERSION, RetryPolicy, ShopifyHttp, discount_input, throttle_wait};
pub use vault::KmsVault;

/// Makes aws-lc-rs (the crypto the AWS SDK already uses) the process's TLS crypto provider, so
/// that the HTTPS client for Shopify does not bring a second one. Idempotent; call it before
/// building any `reqwest` client.
pub fn install_tls_provider() {
    // An error means a provider is installed already, which is just as good.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
