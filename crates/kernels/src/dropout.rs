//! Dropout whose mask comes from a counter-based generator: every element's draw is a hash of
//! `(call seed, element index)`, so the mask is filled by all threads at once and is the same
//! on any number of threads. The call seed is one draw from the device's generator, so a run
//! that re-seeds the device (`Device::seed`) before a micro-batch gets the same masks again
//! (the contract of exact resume).

use burn::module::{Content, DisplaySettings, Flag, Module, ModuleDisplay, Param};
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};
use rayon::prelude::*;

/// Elements per parallel task: large enough that scheduling costs nothing next to hashing.
const CHUNK: usize = 1 << 14;

/// Zeroes each element with probability `prob` while training and scales the kept ones by
/// `1 / (1 − prob)` (the same values as `burn::nn::Dropout`, from another generator).
///
/// On the CPU (Flex) the mask is hashed in parallel ([`dropout_mask`]); on a GPU backend the
/// layer falls back to the backend's own Bernoulli draw, which stays on the device.
#[derive(Module, Debug)]
#[module(custom_display)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub prob: f64,
    /// Whether to behave as during training; cleared by `Module::freeze`.
    pub training: Param<Flag>,
}

/// Configuration of [`Dropout`].
#[derive(Config, Debug)]
pub struct DropoutConfig {
    /// Probability of zeroing an element, in `[0, 1)`.
    pub prob: f64,
}

impl DropoutConfig {
    /// Builds the layer.
    ///
    /// # Panics
    /// If `prob` is not finite or outside `[0, 1)` (configs are validated before this).
    pub fn init(&self) -> Dropout {
        assert!(
            self.prob.is_finite() && (0.0..1.0).contains(&self.prob),
            "dropout probability must be in [0, 1), got {}",
            self.prob
        );
        Dropout {
            prob: self.prob,
            training: Param::from_bool(true),
        }
    }
}

impl Dropout {
    /// Applies dropout on an autodiff device while training; the identity otherwise.
    ///
    /// # Shapes
    /// - input and output: any
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        let device = input.device();
        if !self.training.is_enabled() || !device.is_autodiff() || self.prob == 0.0 {
            return input;
        }
        let keep = 1.0 - self.prob;
        if !crate::is_flex(&device) {
            let random = input.random_like(Distribution::Bernoulli(keep));
            return input * random * (1.0 / keep);
        }
        let shape = input.shape();
        let mask = dropout_mask(call_seed(&device), shape.num_elements(), self.prob);
        let mask = Tensor::<D>::from_data(TensorData::new(mask, shape), &device);
        // Half-precision input (mixed precision): the multipliers in its dtype.
        let dtype = input.dtype();
        input * crate::cast_to(mask, dtype)
    }
}

impl ModuleDisplay for Dropout {
    fn custom_settings(&self) -> Option<DisplaySettings> {
        DisplaySettings::new()
            .with_new_line_after_attribute(false)
            .optional()
    }

    fn custom_content(&self, content: Content) -> Option<Content> {
        content.add("prob", &self.prob).optional()
    }
}

/// One 64-bit seed drawn from the device's generator: four 16-bit words, since integer
/// tensors may be 32-bit signed.
fn call_seed(device: &Device) -> u64 {
    Tensor::<1, Int>::random([4], Distribution::Uniform(0.0, 65_536.0), device)
        .into_data()
        .iter::<i64>()
        .fold(0u64, |seed, word| seed << 16 | (word as u64 & 0xFFFF))
}

/// The dropout multipliers of `len` elements: `0` with probability `prob`, else
/// `1 / (1 − prob)` (as `f32`). Element `i` keeps when the `i`-th 32-bit draw of
/// [`draw`]`(seed, i / 2)` is below `(1 − prob) · 2³²`: the result depends on
/// `(seed, len, prob)` only, never on the number of threads.
///
/// # Panics
/// If `prob` is outside `[0, 1)`.
pub fn dropout_mask(seed: u64, len: usize, prob: f64) -> Vec<f32> {
    assert!((0.0..1.0).contains(&prob), "dropout probability {prob}");
    let keep = 1.0 - prob;
    // keep ≤ 1 so the threshold fits in 33 bits; a u64 compare is exact.
    let threshold = (keep * 4_294_967_296.0).round() as u64;
    let scale = (1.0 / keep) as f32;
    let mut mask = vec![0.0f32; len];
    mask.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let first = (c * CHUNK / 2) as u64;
            for (j, pair) in chunk.chunks_mut(2).enumerate() {
                let bits = draw(seed, first + j as u64);
                for (k, m) in pair.iter_mut().enumerate() {
                    let word = (bits >> (32 * k)) & 0xFFFF_FFFF;
                    *m = if word < threshold { scale } else { 0.0 };
                }
            }
        });
    mask
}

/// The `counter`-th 64-bit draw of the stream `seed`: SplitMix64's output function, a
/// bijective mix of `seed + (counter + 1) · γ`.
pub fn draw(seed: u64, counter: u64) -> u64 {
    let mut z = seed.wrapping_add(counter.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition: element by element, one thread.
    fn reference_mask(seed: u64, len: usize, prob: f64) -> Vec<f32> {
        let keep = 1.0 - prob;
        let threshold = (keep * 4_294_967_296.0).round() as u64;
        (0..len)
            .map(|i| {
                let word = (draw(seed, (i / 2) as u64) >> (32 * (i % 2))) & 0xFFFF_FFFF;
                if word < threshold {
                    (1.0 / keep) as f32
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn parallel_mask_equals_the_element_by_element_definition() {
        // Odd lengths across chunk borders.
        for len in [0, 1, 7, CHUNK - 1, CHUNK + 1, 3 * CHUNK + 5] {
            assert_eq!(
                dropout_mask(9, len, 0.1),
                reference_mask(9, len, 0.1),
                "len {len}"
            );
        }
    }

    #[test]
    fn mask_is_the_same_on_one_and_two_threads() {
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| dropout_mask(3, 5 * CHUNK + 3, 0.25))
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn keep_rate_and_scale_match_the_probability() {
        let prob = 0.1;
        let mask = dropout_mask(42, 1_000_000, prob);
        let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.9).abs() < 0.002, "kept {kept}");
        assert!(mask
            .iter()
            .all(|&m| m == 0.0 || m == (1.0 / (1.0 - prob)) as f32));
        assert_ne!(dropout_mask(42, 64, prob), dropout_mask(43, 64, prob));
    }

    #[test]
    fn layer_is_the_identity_outside_training_and_reseeding_repeats_the_mask() {
        let device = Device::flex();
        let layer = DropoutConfig::new(0.5).init();
        let x = Tensor::<2>::ones([8, 33], &device);
        assert_eq!(
            layer.forward(x.clone()).into_data(),
            x.clone().into_data(),
            "no autodiff, no dropout"
        );
        let ad = device.autodiff();
        let x = Tensor::<2>::ones([8, 33], &ad);
        ad.seed(5);
        let a = layer.forward(x.clone()).into_data();
        ad.seed(5);
        let b = layer.forward(x.clone()).into_data();
        assert_eq!(a, b);
        let values = a.iter::<f32>().collect::<Vec<_>>();
        assert!(values.iter().all(|&v| v == 0.0 || v == 2.0));
        assert!(values.contains(&0.0) && values.contains(&2.0));
    }
}
