//! The integration tests against the emulator, in one test binary: one link of the AWS SDK and
//! one moto for all of them (each test still gets its own table, schedule group, gateway and
//! clock, so they run in parallel). The tests that need Node are binaries of their own
//! (`shopify_conformance`, `storefront`), and so is `demo`, which starts its own emulator and is
//! kept apart from this binary's load.

mod app_lifecycle;
mod delivery_events;
mod events;
mod faults;
mod hostile;
mod incentives;
mod links_and_orders;
mod recovery_flow;
mod replay;
mod routes;
mod rules_and_admin;
mod secrets;
mod simulate;
mod sms_and_push;
mod store_contract;
mod webhooks;
