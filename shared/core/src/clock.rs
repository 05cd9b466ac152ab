//! Clocks: the system clock for production and a manual clock that tests and the demo can move.

use crate::ports::Clock;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self(Arc::new(AtomicI64::new(start.timestamp_millis())))
    }
    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.0.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
    /// Moves the clock to `at` (forward only: an earlier time is ignored).
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.fetch_max(at.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0.load(Ordering::SeqCst)).expect("clock within range")
    }
}

/// Either clock, so one stack can run on real or on test time.
#[derive(Debug, Clone)]
pub enum AnyClock {
    System(SystemClock),
    Manual(ManualClock),
}

impl Clock for AnyClock {
    fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System(c) => c.now(),
            Self::Manual(c) => c.now(),
        }
    }
}
