//! `--backend`: the device a command runs on. GPU backends exist only when the binary is built
//! with their cargo feature (`wgpu`, `vulkan`, `cuda`); asking for a missing one is a clear
//! error. `--precision`: the dtype its encoder computes in.

use anyhow::{bail, Result};
use burn::prelude::Device;
use clap::ValueEnum;
use hashformer_model::Precision;

/// `--precision`: the encoder's compute dtype (weights and optimizer stay `f32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// `f32` throughout (exact: the parity and resume guarantees hold).
    F32,
    /// bfloat16 activations; LayerNorm and softmax in `f32`.
    Bf16,
    /// IEEE half activations, with dynamic loss scaling when training.
    F16,
}

impl From<PrecisionArg> for Precision {
    fn from(arg: PrecisionArg) -> Self {
        match arg {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::Bf16 => Precision::Bf16,
            PrecisionArg::F16 => Precision::F16,
        }
    }
}

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (Flex).
    Cpu,
    /// WGPU (Vulkan, Metal, DX12; Mesa's lavapipe without a GPU). Needs `--features wgpu`.
    Wgpu,
    /// WGPU pinned to Vulkan, its kernels compiled to SPIR-V rather than WGSL. Needs
    /// `--features vulkan`.
    Vulkan,
    /// CUDA, GPU 0. Needs `--features cuda`.
    Cuda,
}

impl Backend {
    /// `count` devices for data parallelism: GPUs `0..count` (WGPU: discrete GPUs; one GPU
    /// means the default adapter), or `count` handles on the CPU (for testing the mechanics).
    ///
    /// # Errors
    /// As [`Self::device`]; `count` = 0.
    pub fn devices(self, count: usize) -> Result<Vec<Device>> {
        if count == 0 {
            bail!("--devices must be at least 1");
        }
        if count == 1 {
            return Ok(vec![self.device()?]);
        }
        match self {
            Self::Cpu => Ok(vec![Device::flex(); count]),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Ok((0..count)
                .map(|i| Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(i)))
                .collect()),
            #[cfg(feature = "vulkan")]
            Self::Vulkan => Ok((0..count)
                .map(|i| Device::vulkan(burn::tensor::DeviceKind::DiscreteGpu(i)))
                .collect()),
            #[cfg(feature = "cuda")]
            Self::Cuda => Ok((0..count).map(Device::cuda).collect()),
            #[allow(unreachable_patterns)]
            _ => self.device().map(|d| vec![d]),
        }
    }

    /// The device, never `Device::default()`.
    ///
    /// # Errors
    /// If the binary was built without the backend's feature.
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => started(
                Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
                "WGPU found no adapter: it needs the Vulkan loader (libvulkan1) and a Vulkan \
                 driver (a GPU's, or Mesa's lavapipe: mesa-vulkan-drivers)",
            ),
            #[cfg(not(feature = "wgpu"))]
            Self::Wgpu => bail!(
                "this binary was built without WGPU: rebuild with `--features wgpu` \
                 (e.g. cargo run -p hashformer-cli --features wgpu -- …)"
            ),
            #[cfg(feature = "vulkan")]
            Self::Vulkan => started(
                Device::vulkan(burn::tensor::DeviceKind::DefaultDevice),
                "Vulkan found no adapter: it needs the Vulkan loader (libvulkan1) and a GPU's \
                 Vulkan driver (Mesa's lavapipe crashes on the SPIR-V kernels: use --backend wgpu \
                 without the vulkan feature there)",
            ),
            #[cfg(not(feature = "vulkan"))]
            Self::Vulkan => bail!(
                "this binary was built without Vulkan: rebuild with `--features vulkan` \
                 (e.g. cargo run -p hashformer-cli --features vulkan -- …)"
            ),
            #[cfg(feature = "cuda")]
            Self::Cuda => started(
                Device::cuda(0),
                "CUDA did not start: it needs an NVIDIA GPU with its driver (libcuda) and NVRTC",
            ),
            #[cfg(not(feature = "cuda"))]
            Self::Cuda => bail!(
                "this binary was built without CUDA: rebuild with `--features cuda` \
                 (see docs/backends.md: tools/cuda/install-llvm.sh installs the LLVM it links)"
            ),
        }
    }
}

/// `device` once a one-element tensor has been made and read on it: the GPU backends start
/// lazily and panic when their driver or adapter is missing, which becomes this error.
///
/// # Errors
/// `what` when the backend does not start.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn started(device: Device, what: &str) -> Result<Device> {
    use burn::prelude::Tensor;
    let probe = device.clone();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ok = std::panic::catch_unwind(move || {
        Tensor::<1>::zeros([1], &probe).into_data();
    });
    std::panic::set_hook(hook);
    match ok {
        Ok(()) => Ok(device),
        Err(_) => bail!("{what}"),
    }
}
