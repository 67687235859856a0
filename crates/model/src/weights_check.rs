//! Checks of a weights file against its config. Before anything is built, the safetensors
//! header alone says the width, the feed-forward width and the number of encoder layers the
//! file holds; they must be the config's, so a `config.json` asking for a huge model cannot
//! make us allocate it from a small file, and a config with fewer layers than its weights
//! does not load silently. Every `f32`/`f64` value must also be finite: a file with NaN
//! weights is refused instead of classifying everything as `positive NaN`.

use std::collections::BTreeSet;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use safetensors::{Dtype, SafeTensors};

use crate::config::HashformerConfig;
use crate::error::{Error, Result};

/// Parses `bytes` (the file at `path`) as safetensors.
///
/// # Errors
/// [`Error::Safetensors`] for a file that is not one.
pub(crate) fn parse<'a>(bytes: &'a [u8], path: &Path) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| Error::Safetensors {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The file's tensors in name order, so that the first problem reported is always the same.
fn sorted<'a>(file: &SafeTensors<'a>) -> Vec<(String, safetensors::tensor::TensorView<'a>)> {
    let mut tensors = file.tensors();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

/// The encoder layer of a reference tensor name (`….encoder.layer.3.…` → 3).
fn layer_index(name: &str) -> Option<usize> {
    let rest = name.split("encoder.layer.").nth(1)?;
    rest.split('.').next()?.parse().ok()
}

/// Checks the shapes the header declares against `config` (see the module docs).
///
/// # Errors
/// [`Error::Tensor`] naming the tensor, or the layer counts, that disagree.
pub(crate) fn check_shapes(
    file: &SafeTensors,
    path: &Path,
    config: &HashformerConfig,
) -> Result<()> {
    let mismatch = |message: String| Error::Tensor {
        path: path.to_owned(),
        message: format!("{message}; does config.json belong to these weights?"),
    };
    let mut layers = BTreeSet::new();
    for (name, view) in sorted(file) {
        layers.extend(layer_index(&name));
        let expected: Option<Vec<usize>> = if name.ends_with("embeddings.LayerNorm.weight") {
            Some(vec![config.hidden_size])
        } else if name.ends_with("intermediate.dense.weight") {
            Some(vec![config.intermediate_size, config.hidden_size])
        } else {
            None
        };
        if let Some(expected) = expected.filter(|e| e.as_slice() != view.shape()) {
            return Err(mismatch(format!(
                "tensor {name} has shape {:?}, the config needs {expected:?}",
                view.shape()
            )));
        }
    }
    if !layers.is_empty() && layers.len() != config.num_hidden_layers {
        return Err(mismatch(format!(
            "the file has {} encoder layers, the config {}",
            layers.len(),
            config.num_hidden_layers
        )));
    }
    Ok(())
}

/// Checks that every floating-point value in the file is finite.
///
/// # Errors
/// [`Error::Tensor`] naming the first tensor with a NaN or an infinity, and where.
pub(crate) fn check_finite(file: &SafeTensors, path: &Path) -> Result<()> {
    for (name, view) in sorted(file) {
        let data = view.data();
        let bad = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite()),
            Dtype::F64 => data.chunks_exact(8).position(|b| {
                !f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]).is_finite()
            }),
            _ => None,
        };
        if let Some(index) = bad {
            return Err(Error::Tensor {
                path: path.to_owned(),
                message: format!("tensor {name} holds a NaN or infinite value (element {index})"),
            });
        }
    }
    Ok(())
}

/// Whether every float parameter of `module` is finite: one reduction per parameter, on its
/// device (`x − x` is 0 for a finite `x` and NaN for a NaN or an infinity). Training checks it
/// before writing a checkpoint, so that an update that overflowed is never saved as good.
pub fn parameters_are_finite<M: Module>(module: &M) -> bool {
    struct Finite(bool);
    impl ModuleVisitor for Finite {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.0 {
                let x = param.val();
                let probe: f32 = (x.clone() - x).sum().into_scalar();
                self.0 = probe == 0.0;
            }
        }
    }
    let mut finite = Finite(true);
    module.visit(&mut finite);
    finite.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hashformer_embeddings::Variant;
    use hashformer_hashing::HashKind;
    use safetensors::tensor::TensorView;

    fn file(tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
        let bytes: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
            .collect();
        let views: Vec<(String, TensorView)> = tensors
            .iter()
            .zip(&bytes)
            .map(|((n, s, _), b)| {
                (
                    (*n).to_owned(),
                    TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
                )
            })
            .collect();
        safetensors::serialize(views, None).unwrap()
    }

    #[test]
    fn widths_and_layer_counts_must_be_the_configs() {
        let config = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
        let (h, f) = (config.hidden_size, config.intermediate_size);
        let layer = |i: usize| {
            (
                format!("roberta.encoder.layer.{i}.intermediate.dense.weight"),
                vec![f, h],
                vec![0.5; f * h],
            )
        };
        let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> =
            (0..config.num_hidden_layers).map(layer).collect();
        tensors.push((
            "roberta.embeddings.LayerNorm.weight".into(),
            vec![h],
            vec![1.0; h],
        ));
        let as_refs = |t: &[(String, Vec<usize>, Vec<f32>)]| -> Vec<u8> {
            let r: Vec<(&str, Vec<usize>, Vec<f32>)> = t
                .iter()
                .map(|(n, s, v)| (n.as_str(), s.clone(), v.clone()))
                .collect();
            file(&r)
        };
        let path = Path::new("m.safetensors");
        let good = as_refs(&tensors);
        check_shapes(&parse(&good, path).unwrap(), path, &config).unwrap();
        check_finite(&parse(&good, path).unwrap(), path).unwrap();

        // A config asking for a wider model than the file holds.
        let wide = HashformerConfig {
            hidden_size: 4096,
            ..config.clone()
        };
        let err = check_shapes(&parse(&good, path).unwrap(), path, &wide).unwrap_err();
        assert!(
            err.to_string().contains("LayerNorm.weight has shape"),
            "{err}"
        );
        // A config with fewer layers than the file.
        let mut more = tensors.clone();
        more.push(layer(config.num_hidden_layers));
        let bytes = as_refs(&more);
        let err = check_shapes(&parse(&bytes, path).unwrap(), path, &config).unwrap_err();
        assert!(err.to_string().contains("encoder layers"), "{err}");
    }

    #[test]
    fn non_finite_parameters_are_found() {
        let device = Device::flex();
        let config = HashformerConfig::tiny(Variant::Proj(HashKind::Md5));
        let model = config.init_classification(&device);
        assert!(parameters_are_finite(&model));
        let mut bad = model.clone();
        let bias = bad.classifier.dense.bias.take().unwrap();
        let inf = bias.val().mul_scalar(0.0).add_scalar(f32::INFINITY);
        bad.classifier.dense.bias = Some(Param::from_tensor(inf));
        assert!(!parameters_are_finite(&bad));
    }

    #[test]
    fn non_finite_values_are_named() {
        let bytes = file(&[
            ("a", vec![2], vec![1.0, 2.0]),
            ("b", vec![3], vec![0.0, f32::NAN, 1.0]),
        ]);
        let path = Path::new("m.safetensors");
        let err = check_finite(&parse(&bytes, path).unwrap(), path).unwrap_err();
        assert!(err.to_string().contains("tensor b holds a NaN"), "{err}");
        assert!(err.to_string().contains("element 1"), "{err}");
    }
}
