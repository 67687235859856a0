//! The process's allocator: mimalloc, set to keep freed memory for reuse.
//!
//! Tensors of several MiB are allocated and freed for every operation. glibc returns such
//! blocks to the kernel, and the next one is faulted in page by page; mimalloc reuses them.
//! By default mimalloc still *purges* memory that stayed free for a second (hands it back
//! with `madvise`), and at `base` size, where a training step takes seconds, most of a step's
//! tensors were purged between uses and faulted in again: the kernel's page zeroing was 14 %
//! of a step's samples. [`keep_freed_memory`] delays purging to ten minutes (a long run's
//! memory is then faulted in again once in ten minutes rather than every second), and
//! [`release_free_memory`] hands free memory back on demand.
//!
//! The one module of this binary with `unsafe`: mimalloc's option setter is a C function.

#![allow(unsafe_code)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the bindings name no constant for it): its place in
/// `mi_option_t` of the vendored `mimalloc.h`, 15 in both mimalloc 2 and 3.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long free memory stays committed before mimalloc purges it, in milliseconds. (A
/// negative value would never purge, but then nothing is scheduled for purging at all, and
/// [`release_free_memory`] could not hand anything back.)
const KEEP_MS: std::ffi::c_long = 600_000;

/// Delays mimalloc's purging of free memory to [`KEEP_MS`]. Call first in `main`, before
/// other threads.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` takes two integers, no pointers: it stores the value in
    // mimalloc's option table (a valid option id, from the bindings), which the allocator
    // reads when it next considers purging. Called before any other thread exists, so no
    // allocation runs concurrently with the store.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, KEEP_MS) }
}

/// Hands the free memory mimalloc keeps (scheduled for a purge) back to the kernel now.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes a flag, no pointers: it frees what mimalloc itself holds
    // (the calling thread's empty pages, and every purge already scheduled, forced) and never
    // touches a live allocation.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Option 15 is the purge delay: mimalloc 3's default for it, 1000 ms, until the call.
    #[test]
    fn the_purge_delay_is_set() {
        // SAFETY: `mi_option_get` reads one integer option; a valid option id, no pointers.
        let get = || unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(), 1000, "mimalloc 3's default purge delay");
        }
        keep_freed_memory();
        assert_eq!(get(), KEEP_MS);
        release_free_memory();
    }
}
