//! The demo store (written next).
