//! Seeded epoch orders over a prepared split, and the batch position that resume restores.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where training stands in the data: the epoch and how many examples of its order have been
/// used. Part of the resume state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataPosition {
    /// 0-based epoch.
    pub epoch: u64,
    /// Examples of this epoch's order already used.
    pub offset: u64,
}

/// The example order of every epoch: a permutation of `0..len` drawn by Fisher–Yates (rand's
/// `shuffle`) from `ChaCha8Rng::seed_from_u64(seed)` on stream `epoch`, so each epoch's order
/// depends only on `(seed, epoch, len)`. Keeps the last permutation it made.
#[derive(Debug, Clone)]
pub struct EpochOrder {
    seed: u64,
    cached: Option<(u64, u64, Vec<u64>)>,
}

impl EpochOrder {
    /// Orders seeded by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { seed, cached: None }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The order of `epoch` over `len` examples.
    pub fn order(&self, epoch: u64, len: u64) -> Vec<u64> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(epoch);
        let mut order: Vec<u64> = (0..len).collect();
        order.shuffle(&mut rng);
        order
    }

    /// The example indices of the batch at `position`, and the position after it.
    ///
    /// Only full batches are drawn: when fewer than `batch_size` examples remain in an epoch,
    /// they are skipped and the batch is the start of the next epoch. The next position rolls
    /// over the same way, so it never points at an incomplete tail (and `epoch` counts
    /// completed epochs exactly). `len` must stay the same for a run; another `len` gives
    /// other orders.
    ///
    /// # Errors
    /// [`Error::InvalidBatch`] if `batch_size` is 0 or larger than `len`.
    pub fn batch_indices(
        &mut self,
        position: DataPosition,
        batch_size: usize,
        len: u64,
    ) -> Result<(Vec<u64>, DataPosition)> {
        let size = batch_size as u64;
        if size == 0 || size > len {
            return Err(Error::InvalidBatch { batch_size, len });
        }
        let position = roll_over(position, size, len);
        let order = self.cached_order(position.epoch, len);
        // `position.offset + size <= len == order.len()` after `roll_over`, and `order` is in
        // memory, so both bounds fit in `usize`.
        let start = position.offset as usize;
        let batch = order[start..start + batch_size].to_vec();
        let next = DataPosition {
            epoch: position.epoch,
            offset: position.offset + size,
        };
        Ok((batch, roll_over(next, size, len)))
    }

    fn cached_order(&mut self, epoch: u64, len: u64) -> &[u64] {
        if !matches!(&self.cached, Some((e, l, _)) if *e == epoch && *l == len) {
            self.cached = Some((epoch, len, self.order(epoch, len)));
        }
        self.cached.as_ref().map_or(&[], |(_, _, order)| order)
    }
}

/// The start of the next epoch when fewer than `size` examples remain.
fn roll_over(position: DataPosition, size: u64, len: u64) -> DataPosition {
    if position.offset.saturating_add(size) > len {
        DataPosition {
            epoch: position.epoch + 1,
            offset: 0,
        }
    } else {
        position
    }
}
