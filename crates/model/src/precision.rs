//! The precision an encoder computes in: `f32` throughout, or its layers in `bf16` / `f16`
//! with `f32` weights.

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;
use burn::tensor::DType;
use hashformer_kernels::cast_to;

/// The dtype of an encoder's activations between its embeddings and its output.
///
/// - [`Precision::F32`]: everything in `f32` (the default, and the only exact one: the
///   parity tests, bit-exact resumes and batch-size independence hold for it).
/// - [`Precision::Bf16`] / [`Precision::F16`]: mixed precision. Weights stay `f32` (the
///   optimizer updates `f32` master weights); the embeddings are computed in `f32` and cast,
///   then every encoder layer runs its products, GELU inputs and residual stream in the half
///   type, casting each weight to it as it is used (the cast is part of the autodiff graph,
///   so gradients reach the `f32` weights). LayerNorm and the attention softmax compute in
///   `f32` and cast their result back; the encoder's output is cast to `f32`, so heads,
///   losses and predictions see `f32`. `f16` training needs loss scaling (the trainers do
///   it); `bf16` has `f32`'s range and needs none.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// `f32` throughout.
    #[default]
    F32,
    /// bfloat16 activations, `f32` weights, LayerNorm and softmax.
    Bf16,
    /// IEEE half activations, `f32` weights, LayerNorm and softmax.
    F16,
}

impl Precision {
    /// Every precision, in the order the CLI lists them.
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::Bf16, Precision::F16];

    /// The activations' dtype.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::F16 => DType::F16,
        }
    }

    /// Whether training in this precision needs loss scaling (`f16`: its largest value is
    /// 65,504 and its smallest normal 6.1e-5, so small gradients flush to zero unscaled).
    pub fn needs_loss_scaling(self) -> bool {
        self == Precision::F16
    }

    /// The name the CLI and `run.json` use: `f32`, `bf16` or `f16`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
        }
    }

    /// Checks that `device` computes in this precision (Burn's `supports_dtype`: storage,
    /// conversion and arithmetic). Flex does all three; a GPU may lack `f16` or `bf16`.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) on the field `precision`, naming the device.
    pub fn check_device(self, device: &Device) -> crate::Result<()> {
        if device.supports_dtype(self.dtype()) {
            return Ok(());
        }
        Err(crate::Error::Config {
            field: "precision".into(),
            reason: format!(
                "the device {device:?} does not compute in {self}; use f32{}",
                match self {
                    Precision::Bf16 => " or f16",
                    _ => " or bf16",
                }
            ),
        })
    }

    /// `x` in this precision's activation dtype (unchanged when it already is).
    pub fn cast<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        cast_to(x, self.dtype())
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A precision name that is not `f32`, `bf16` or `f16`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown precision {0:?} (expected f32, bf16 or f16)")]
pub struct UnknownPrecision(pub String);

impl FromStr for Precision {
    type Err = UnknownPrecision;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPrecision(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Precision::ALL {
            assert_eq!(p.name().parse::<Precision>(), Ok(p));
            assert_eq!(p.to_string(), p.name());
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<Precision>(&json).unwrap(), p);
        }
        assert_eq!(
            "fp16".parse::<Precision>(),
            Err(UnknownPrecision("fp16".into()))
        );
        assert!(Precision::F16.needs_loss_scaling() && !Precision::Bf16.needs_loss_scaling());
    }

    #[test]
    fn flex_computes_in_every_precision() {
        for p in Precision::ALL {
            p.check_device(&Device::flex()).unwrap();
        }
    }

    #[test]
    fn cast_changes_the_dtype_only_when_needed() {
        let device = Device::flex();
        let x = Tensor::<2>::from_floats([[1.0, -2.5], [0.25, 3.0]], &device);
        assert_eq!(Precision::F32.cast(x.clone()).dtype(), DType::F32);
        for p in [Precision::Bf16, Precision::F16] {
            let half = p.cast(x.clone());
            assert_eq!(half.dtype(), p.dtype());
            // These values are exact in both half types.
            let back = cast_to(half, DType::F32)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert_eq!(back, vec![1.0, -2.5, 0.25, 3.0]);
        }
    }
}
