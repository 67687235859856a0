//! Helpers shared by the model integration tests.

pub mod parity_io;

use std::path::PathBuf;

use burn::prelude::*;

/// The PyTorch/Burn tolerance of the parity fixtures' outputs.
pub const ATOL: f32 = 1e-4;

/// The parity fixture directory `name` (see [`parity_io::FIXTURES`]).
pub fn fixture(name: &str) -> PathBuf {
    hashformer_testkit::manifest_dir!()
        .join("tests/fixtures/parity")
        .join(name)
}

/// `got` has `want`'s shape and lies within [`ATOL`] of it; `name` and `what` name the
/// fixture and the output in the failure.
pub fn assert_close<const D: usize>(name: &str, what: &str, got: Tensor<D>, want: Tensor<D>) {
    let diff = max_diff(name, what, got, want);
    assert!(diff <= ATOL, "{name} {what}: max |diff| {diff} > {ATOL}");
}

/// The largest absolute difference of two tensors of one shape.
pub fn max_diff<const D: usize>(name: &str, what: &str, got: Tensor<D>, want: Tensor<D>) -> f32 {
    assert_eq!(got.dims(), want.dims(), "{name} {what} shape");
    (got - want).abs().max().into_scalar()
}
