//! The batched forward pass behind classification and embedding: texts are encoded once,
//! run in length-sorted batches padded only to their longest text, and read back one vector
//! per text in input order, so results do not depend on the batch size.

use burn::prelude::*;
use hashformer_embeddings::EmbeddingInput;
use hashformer_hashing::TextInput;
use hashformer_model::{HashformerModel, TextEncoder};

use crate::error::{Error, Result};

/// A model's forward pass and how to read one text's vector off its output.
pub(crate) trait PerText<const D: usize> {
    /// The output of a batch.
    fn forward(&self, input: EmbeddingInput) -> Tensor<D>;
    /// The vector of the batch's `row`-th text from the output `values` of shape `dims`;
    /// `length` is the text's real length in tokens.
    fn read(&self, values: &[f32], dims: [usize; D], row: usize, length: usize) -> Vec<f32>;
}

/// Runs `task` over `inputs`; `model` is the encoder it runs on (checked against the batch).
pub(crate) fn per_text<const D: usize>(
    model: &HashformerModel,
    encoder: &TextEncoder,
    inputs: &[TextInput<'_>],
    batch_size: usize,
    device: &Device,
    task: &impl PerText<D>,
) -> Result<Vec<Vec<f32>>> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let encoded = encoder.encode(inputs).map_err(Error::running)?;
    model.check_input(&encoded).map_err(Error::running)?;
    let lengths = encoded.lengths();
    let mut out = vec![Vec::new(); inputs.len()];
    for chunk in encoded.length_sorted_chunks(batch_size) {
        let output = task.forward(encoded.select(&chunk).to_input(device));
        let dims = output.dims();
        let values: Vec<f32> = output
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .expect("converted to f32 just before");
        for (row, &i) in chunk.iter().enumerate() {
            out[i] = task.read(&values, dims, row, lengths[i]);
        }
    }
    Ok(out)
}
