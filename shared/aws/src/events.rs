//! [`EventBus`] on Amazon EventBridge: each domain event becomes one `PutEvents` entry with source
//! `reclaim`, the event's name as detail type and its JSON as detail.

use crate::error::unavailable;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use reclaim_core::ports::{DomainEvent, EventBus, PortError, PortResult};

/// The `source` of every event Reclaim publishes.
pub const EVENT_SOURCE: &str = "reclaim";

/// EventBridge adapter.
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus_name: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        Self { client, bus_name: bus_name.into() }
    }
}

impl EventBus for EventBridgeBus {
    async fn publish(&self, event: &DomainEvent) -> PortResult<()> {
        let detail = serde_json::to_string(event).map_err(|e| PortError::Rejected(e.to_string()))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(EVENT_SOURCE)
            .detail_type(event.name())
            .detail(detail)
            .build();
        let output = self.client.put_events().entries(entry).send().await.map_err(|e| unavailable("PutEvents", e))?;
        if output.failed_entry_count > 0 {
            let code = output.entries().first().and_then(|e| e.error_code()).unwrap_or("unknown").to_owned();
            return Err(PortError::Rejected(format!("PutEvents entry failed: {code}")));
        }
        Ok(())
    }
}
