//! `cargo xtask pretrain …` and `cargo xtask glue …`: run `hashformer pretrain` / `hashformer
//! glue` through cargo with the backend's cargo feature switched on, so `--backend wgpu` builds
//! the WGPU binary, `--backend vulkan` the Vulkan one and `--backend cuda` the CUDA one. xtask itself never links Burn (it stays
//! fast to build); every argument is passed on.
//!
//! ```text
//! cargo xtask pretrain --variant proj --scheme md5 --config small --steps 2000 \
//!     --backend cpu --out runs/proj-md5-small
//! cargo xtask glue --model runs/proj-md5-small/model --tasks cola,sst2 --seeds 3 --out runs/glue-proj
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The cargo feature `hashformer-cli` needs for the `--backend` in `args`, if any.
fn backend_feature(args: &[String]) -> Result<Option<&'static str>> {
    let mut backend = None;
    for (i, arg) in args.iter().enumerate() {
        if let Some(value) = arg.strip_prefix("--backend=") {
            backend = Some(value.to_string());
        } else if arg == "--backend" {
            match args.get(i + 1) {
                Some(value) => backend = Some(value.clone()),
                None => bail!("--backend needs a value: cpu, wgpu, vulkan or cuda"),
            }
        }
    }
    Ok(match backend.as_deref() {
        None | Some("cpu") => None,
        Some("wgpu") => Some("wgpu"),
        Some("vulkan") => Some("vulkan"),
        Some("cuda") => Some("cuda"),
        Some(other) => bail!("unknown backend {other:?}: use cpu, wgpu, vulkan or cuda"),
    })
}

/// The `cargo run` command line for `hashformer <subcommand> args…`, with the cargo feature of
/// the `--backend` in `args` (the binary finds the data directory as xtask does).
pub(crate) fn command(root: &Path, subcommand: &str, args: &[String]) -> Result<Command> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["run", "--quiet", "--package", "hashformer-cli"]);
    if let Some(feature) = backend_feature(args)? {
        cmd.args(["--features", feature]);
    }
    cmd.args(["--", subcommand]).args(args);
    Ok(cmd)
}

/// Builds the `hashformer` binary once (with the cargo feature of `backend`: `cpu`, `wgpu`,
/// `vulkan` or `cuda`) and returns its path, for commands that run it many times: later edits of the
/// sources cannot change or break a run halfway, and no `cargo run` sits inside a timing.
///
/// # Errors
/// An unknown backend, a failing build, or no binary in cargo's report.
pub(crate) fn build(root: &Path, backend: &str) -> Result<PathBuf> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root).args([
        "build",
        "--quiet",
        "--package",
        "hashformer-cli",
        "--message-format=json-render-diagnostics",
    ]);
    if let Some(feature) = backend_feature(&["--backend".into(), backend.into()])? {
        cmd.args(["--features", feature]);
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    if !out.status.success() {
        bail!("building hashformer for {backend} failed ({})", out.status);
    }
    executable(&String::from_utf8_lossy(&out.stdout))
        .context("cargo build reported no hashformer executable")
}

/// The `hashformer` executable in cargo's JSON messages.
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "hashformer")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// `binary <subcommand> args…`, run in the project root.
pub(crate) fn built_command(
    root: &Path,
    binary: &Path,
    subcommand: &str,
    args: &[String],
) -> Command {
    let mut cmd = Command::new(binary);
    cmd.current_dir(root).arg(subcommand).args(args);
    cmd
}

/// Runs `hashformer <subcommand>` with `args`.
pub fn run(root: &Path, subcommand: &str, args: &[String]) -> Result<()> {
    let status = command(root, subcommand, args)?
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("hashformer {subcommand} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn backend_feature_follows_the_flag() {
        for (list, feature) in [
            (&["--steps", "5"][..], None),
            (&["--backend", "cpu"][..], None),
            (&["--backend", "wgpu", "--steps", "5"][..], Some("wgpu")),
            (&["--backend=cuda"][..], Some("cuda")),
            (&["--backend", "vulkan"][..], Some("vulkan")),
        ] {
            assert_eq!(backend_feature(&args(list)).unwrap(), feature, "{list:?}");
        }
        assert!(backend_feature(&args(&["--backend", "tpu"])).is_err());
        assert!(backend_feature(&args(&["--backend"])).is_err());
    }

    #[test]
    fn the_executable_is_found_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"hashformer_model"},"executable":null}
not json
{"reason":"compiler-artifact","target":{"name":"hashformer"},"executable":"/t/debug/hashformer"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages),
            Some(PathBuf::from("/t/debug/hashformer"))
        );
        assert_eq!(executable(r#"{"reason":"build-finished"}"#), None);
    }

    #[test]
    fn command_passes_arguments_through() {
        let cmd = command(
            Path::new("/r"),
            "pretrain",
            &args(&["--backend", "wgpu", "--out", "x"]),
        )
        .unwrap();
        let line: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            line,
            args(&[
                "run",
                "--quiet",
                "--package",
                "hashformer-cli",
                "--features",
                "wgpu",
                "--",
                "pretrain",
                "--backend",
                "wgpu",
                "--out",
                "x"
            ])
        );
    }
}
