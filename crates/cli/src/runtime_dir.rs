//! A per-user runtime directory for processes started without `$XDG_RUNTIME_DIR` (a login over
//! `ssh -T`, `su`, containers, CI), where WGPU would otherwise print
//! `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` four times.
//!
//! The lines come from libwayland: Mesa's Vulkan device-selection layer
//! (`VK_LAYER_MESA_device_select`) looks for a Wayland compositor while the Vulkan instance
//! starts, and libwayland complains when it has no runtime directory to look in. The XDG Base
//! Directory specification asks applications in that case to "fall back to a replacement
//! directory with similar capabilities"; this is that directory: `$TMPDIR/hashformers-runtime-
//! UID`, owned by the user with mode 0700, which holds no compositor socket, so the layer finds
//! none, as before, now silently. Nothing else changes: the layer still orders the devices.

/// The variable the XDG Base Directory specification names.
const VAR: &str = "XDG_RUNTIME_DIR";

/// Sets `$XDG_RUNTIME_DIR` to a private replacement directory when it is missing or not an
/// absolute path, and leaves it alone otherwise or when no safe replacement can be made (a
/// directory of that name owned by someone else, or with wider permissions, is not used).
///
/// Must run before the process starts any thread (first thing in `main`): the environment is
/// not synchronised with other threads' reads of it.
#[cfg(unix)]
pub fn ensure() {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};

    let valid = std::env::var_os(VAR).is_some_and(|dir| std::path::Path::new(&dir).is_absolute());
    if valid {
        return;
    }
    // The owner of /proc/self is this process's user; elsewhere, the owner of a file we make.
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("hashformers-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let private = std::fs::symlink_metadata(&dir)
        .is_ok_and(|m| m.is_dir() && m.uid() == uid && m.permissions().mode() & 0o077 == 0);
    if private {
        std::env::set_var(VAR, &dir);
    }
}

/// No XDG runtime directory outside Unix.
#[cfg(not(unix))]
pub fn ensure() {}
