//! # reclaim-core — the pure heart of Reclaim
//!
//! Everything that decides what happens to a cart lives here, free of AWS, I/O and any async
//! runtime, so that it can be tested with plain tables, property tests and in-memory fakes:
//!
//! - [`model`]: shops, checkouts, orders, contacts and money as validated types;
//! - [`platform`]: verifying and parsing a platform's signed webhooks into [`platform::PlatformEvent`];
//! - [`rules`]: recovery settings and [`rules::decide`], the one function that says send, wait or stop;
//! - [`render`]: the recovery message templates;
//! - [`links`]: signed, expiring restore and unsubscribe tokens;
//! - [`session`]: Shopify session tokens (the admin API's authentication);
//! - [`ports`]: the traits the use cases need from the outside world (store, scheduler, mailer, clock);
//! - [`usecases`]: ingest a webhook, run a check, record an order, follow a link, unsubscribe;
//! - [`web`]: the framework-neutral request/response pair and the one error-to-response mapping.

pub mod clock;
pub mod links;
pub mod model;
pub mod platform;
pub mod ports;
pub mod push;
pub mod render;
pub mod rules;
pub mod session;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod usecases;
pub mod web;
