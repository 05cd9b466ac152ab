//! # reclaim-core — the pure heart of Reclaim
//!
//! Everything that decides what happens to a cart lives here, free of AWS, I/O and any async
//! runtime, so that it can be tested with plain tables, property tests and in-memory fakes:
//!
//! - [`model`]: shops, checkouts, orders, contacts and money as validated types;
//! - [`platform`]: verifying and parsing a platform's signed webhooks into [`platform::PlatformEvent`];
//! - [`rules`]: recovery settings and [`rules::decide`], the one function that says send, wait or stop;
//! - [`render`]: the recovery messages (copy per language, email, SMS, push);
//! - [`conversation`]: what a shopper's reply is about (the intent classifier);
//! - [`links`]: signed, expiring restore and unsubscribe tokens;
//! - [`session`]: Shopify session tokens (the admin API's authentication);
//! - [`ports`]: the traits the use cases need, by role (storage roles, one messaging role per
//!   channel, the platform's OAuth and discounts, scheduler, events, vault, clock);
//! - [`usecases`]: ingest a webhook, run a check, record an order, follow a link, unsubscribe,
//!   install, privacy, storefront captures; each bounded by the roles it uses;
//! - [`web`]: the HTTP request, route tables and response, and the one error-to-response mapping;
//! - `testing` (feature `testing`): in-memory adapters and the storage contract both adapters pass.

pub mod clock;
pub mod conversation;
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
