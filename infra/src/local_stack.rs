//! [`LocalStack::start`]: the one way the local stack comes up, for `reclaim up`, `reclaim demo`
//! and the test harness: a gateway listener, the configuration (tuned by the caller), the
//! resources `template.yaml` declares on the emulator, the services on them, the gateway serving
//! the functions' route tables, and optionally the scheduler pump.

use crate::gateway::{self, Gateway};
use crate::pump;
use crate::redrive::FailedInvocations;
use crate::stack::{self, LocalConfig, LocalServices};
use reclaim_core::clock::AnyClock;
use std::sync::Arc;

/// How to start a stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The gateway's port on 127.0.0.1 (0: a free one).
    pub port: u16,
    /// Real time (the demo, `reclaim up`) or a manual clock (tests).
    pub clock: AnyClock,
    /// The shop of the local test storefront.
    pub shop: String,
    /// Fire due schedules this often in the background (`None`: the caller pumps).
    pub pump_every: Option<std::time::Duration>,
}

/// A running local stack. Dropping it (or its parts) stops the gateway and the pump.
pub struct LocalStack {
    pub config: LocalConfig,
    pub services: Arc<LocalServices>,
    pub gateway: Gateway,
    pub pump: Option<BackgroundPump>,
    /// Where checks that failed every retry go (`reclaim redrive` drains it).
    pub failed_invocations: FailedInvocations,
}

/// The scheduler pump running in the background; dropped, it stops.
pub struct BackgroundPump(tokio::task::JoinHandle<()>);

impl Drop for BackgroundPump {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl LocalStack {
    /// Starts a stack on the emulator at `endpoint`; `tune` adjusts the configuration (table
    /// names, the Shopify stand-in) before anything is created.
    pub async fn start(
        endpoint: &str,
        options: StackOptions,
        tune: impl FnOnce(&mut LocalConfig),
    ) -> anyhow::Result<Self> {
        let listener = gateway::bind(options.port).await?;
        let mut config = LocalConfig::new(endpoint, &format!("http://{}", listener.local_addr()?));
        tune(&mut config);
        stack::create_resources(&stack::sdk_config(&config.endpoint).await, &config).await?;
        let services = Arc::new(stack::services(&config, options.clock).await);
        let failed_invocations = stack::failed_invocations(&config).await?;
        let gateway = gateway::serve(listener, services.clone(), &options.shop)?;
        let pump = options
            .pump_every
            .map(|every| BackgroundPump(pump::spawn(services.clone(), failed_invocations.clone(), every)));
        Ok(Self { config, services, gateway, pump, failed_invocations })
    }

    /// Stops the background pump (nothing fires after this).
    pub fn stop_pump(&mut self) {
        self.pump = None;
    }
}
