//! A graceful stop for long runs: the first Ctrl-C (SIGINT) or SIGTERM asks the run to stop
//! after the step under way, with a checkpoint that `--resume` continues from; a second one
//! exits at once (status 130), as an impatient user expects.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// A flag that the first SIGINT or SIGTERM sets; the process exits on the next one.
///
/// # Errors
/// If a handler cannot be installed.
pub fn stop_on_signal() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as the previous signal left it: unset on the
        // first signal (no exit), set on the second (exit).
        flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .with_context(|| format!("installing the handler of signal {signal}"))?;
        flag::register(signal, Arc::clone(&stop))
            .with_context(|| format!("installing the handler of signal {signal}"))?;
    }
    Ok(stop)
}
