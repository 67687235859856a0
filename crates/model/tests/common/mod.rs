//! Helpers shared by the model integration tests.

pub mod parity_io;
