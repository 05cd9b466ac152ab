//! # reclaim-local — the local stack
//!
//! Runs Reclaim on one machine with AWS emulated by moto, using the very same handlers and
//! adapters as the Lambda functions:
//!
//! - [`emulator`]: starts moto (from the project's venv) on a free port, tied to this process;
//! - [`stack`]: the SDK configuration for the emulator, the resources `template.yaml` declares
//!   (table, indexes, TTL, schedule group, sender identity), and the services built on them;
//! - [`local_stack`]: [`local_stack::LocalStack::start`], the one start-up of the stack (demo, `up`, tests);
//! - [`gateway`]: the functions' HTTP handlers behind axum on 127.0.0.1;
//! - [`pump`]: fires due EventBridge Scheduler schedules (moto stores them but never fires them),
//!   retrying a failed check as Lambda does and recording it in the failed-invocations queue;
//! - [`redrive`]: `reclaim redrive`, which re-submits what landed in that queue;
//! - [`storefront`]: a local test storefront and the app proxy, for the browser tests;
//! - [`outbox`]: reads what the emulator "sent" and writes each email to a file;
//! - [`demo`]: a demo store of shoppers replayed through the whole recovery flow;
//! - [`simulate`]: what-if of recovery settings over historical checkouts;
//! - [`classifier`]: training, evaluating and running the reply classifier from its files;
//! - [`coldstart`]: cold start and peak RSS of the function binaries against a local Lambda
//!   Runtime API.

pub mod classifier;
pub mod coldstart;
pub mod demo;
pub mod emulator;
pub mod fixtures;
pub mod gateway;
pub mod local_stack;
pub mod outbox;
pub mod pump;
pub mod redrive;
pub mod simulate;
pub mod stack;
pub mod storefront;
