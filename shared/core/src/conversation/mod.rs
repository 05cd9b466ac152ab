//! Recovery conversations: what a shopper's reply says ([`classifier`]). Pure: the model is
//! trained and evaluated here, and embedded in the binary; the CLI reads and writes its files.

pub mod classifier;
