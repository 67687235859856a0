#![doc = include_str!("../README.md")]

mod atomic;
mod cache_dir;
mod data_dir;
mod digest;
mod lock;

pub use atomic::{sync_dir, write_atomic};
pub use cache_dir::{cache_root, CacheRootError, CACHE_VAR};
pub use data_dir::{data_root, DataRoot, DataRootError, DataSource, DATA_VAR};
pub use digest::{hex, HashSink};
pub use lock::{DirLock, LockError};
