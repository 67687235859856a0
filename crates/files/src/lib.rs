#![doc = include_str!("../README.md")]

mod atomic;
mod data_dir;
mod lock;

pub use atomic::{sync_dir, write_atomic};
pub use data_dir::{data_root, DataRoot, DataRootError, DataSource, DATA_VAR};
pub use lock::{DirLock, LockError};
