//! Progress bars for hashing, copying and downloading (drawn on stderr, hidden when it is not
//! a terminal, so tests and logs stay clean).

use indicatif::{ProgressBar, ProgressStyle};

/// Files at least this big get a bar when hashed or copied; smaller ones finish too fast to need one.
pub const BAR_MIN_BYTES: u64 = 4 << 20;

/// A byte-counting bar of `len` bytes labelled `msg`.
pub fn bytes(len: u64, msg: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    // The template is a constant; if it ever failed to parse, the default style is fine.
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:40!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(msg.to_string());
    bar
}

/// A bar for `len` bytes when that is at least [`BAR_MIN_BYTES`], else a hidden one.
pub fn bytes_if_big(len: u64, msg: &str) -> ProgressBar {
    if len >= BAR_MIN_BYTES {
        bytes(len, msg)
    } else {
        ProgressBar::hidden()
    }
}
