//! The data thread: reads, hashes and collates the micro-batches of each step in step order,
//! ahead of the training loop, from the run's data position.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use hashformer_corpus::{ChunkFile, DataPosition, EpochOrder};
use hashformer_hashing::TextInput;
use hashformer_model::{EncodedBatch, TextEncoder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::collator::Labels;
use crate::error::{Error, Result};
use crate::pretrain::config::PretrainConfig;
use crate::pretrain::objective::Collator;
use crate::seed::{derived_seed, SEED_COLLATE};

/// One collated micro-batch.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) encoded: EncodedBatch,
    pub(crate) labels: Labels,
    /// Data position after this micro-batch.
    pub(crate) next: DataPosition,
}

/// Background producer of collated micro-batches, in step order.
pub(crate) struct Producer {
    rx: Receiver<Result<Prepared>>,
    handle: Option<JoinHandle<()>>,
}

impl Producer {
    pub(crate) fn spawn(
        mut file: ChunkFile,
        encoder: Arc<TextEncoder>,
        collator: Collator,
        config: &PretrainConfig,
        start_step: u64,
        start: DataPosition,
    ) -> Self {
        let (tx, rx) = sync_channel(4);
        let (seed, batch_size, accum) = (config.seed, config.batch_size, config.grad_accum);
        let handle = std::thread::spawn(move || {
            let mut order = EpochOrder::new(seed);
            let mut position = start;
            let len = file.len();
            for step in start_step.. {
                for micro in 0..accum {
                    let result = (|| -> Result<Prepared> {
                        let (indices, next) = order.batch_indices(position, batch_size, len)?;
                        let texts = file.get_many(&indices)?;
                        let inputs: Vec<TextInput<'_>> =
                            texts.iter().map(|t| TextInput::single(t)).collect();
                        let mut encoded = encoder.encode(&inputs)?;
                        let mut rng = ChaCha8Rng::seed_from_u64(derived_seed(
                            seed,
                            SEED_COLLATE,
                            step,
                            micro as u64,
                        ));
                        let labels = collator.apply(&mut encoded, &mut rng);
                        Ok(Prepared {
                            encoded,
                            labels,
                            next,
                        })
                    })();
                    let failed = result.is_err();
                    if let Ok(p) = &result {
                        position = p.next;
                    }
                    if tx.send(result).is_err() || failed {
                        return;
                    }
                }
            }
        });
        Self {
            rx,
            handle: Some(handle),
        }
    }

    pub(crate) fn next(&self) -> Result<Prepared> {
        self.rx.recv().map_err(|_| Error::DataThread)?
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        // Unblock the thread (its next send fails) and wait for it.
        let (_, dummy) = sync_channel(0);
        self.rx = dummy;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
