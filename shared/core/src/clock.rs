//! Clocks: the system clock for production and a manual clock that tests and the demo can move.
//! Each also hands out unique ids ([`Clock::unique_id`]).

use crate::ports::Clock;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// 128 random bits (seeded per thread from the OS), in hex.
    fn unique_id(&self) -> String {
        format!("{:032x}", fastrand::u128(..))
    }
}

/// A clock that only moves when told to; clones share the same time and the same id counter.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
    ids: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self { millis: Arc::new(AtomicI64::new(start.timestamp_millis())), ids: Arc::default() }
    }
    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.millis.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
    /// Moves the clock to `at` (forward only: an earlier time is ignored).
    pub fn set(&self, at: DateTime<Utc>) {
        self.millis.fetch_max(at.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.millis.load(Ordering::SeqCst)).expect("clock within range")
    }

    /// `id-1`, `id-2`, …: unique among the clones of this clock, and reproducible.
    fn unique_id(&self) -> String {
        format!("id-{}", self.ids.fetch_add(1, Ordering::SeqCst) + 1)
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

    fn unique_id(&self) -> String {
        match self {
            Self::System(c) => c.unique_id(),
            Self::Manual(c) => c.unique_id(),
        }
    }
}
