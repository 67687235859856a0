//! The GLUE metrics, in f64, with sklearn's and scipy's definitions (method §8; the reference
//! calls HF `glue_compute_metrics`, which calls `sklearn.metrics` and `scipy.stats`). Checked
//! against values sklearn 1.9 and scipy 1.17 computed (`tests/fixtures/metrics.json`, made by
//! `tools/glue_metrics/make_fixtures.py`).
//!
//! Degenerate inputs give 0, never NaN:
//! - [`matthews`] with constant predictions or constant gold labels: 0 (as sklearn).
//! - [`f1`] with no true positives: 0, also when there are no positives at all (as sklearn's
//!   default `zero_division`, which warns).
//! - [`pearson`] and [`spearman`] with a constant vector (or a single example): 0. **scipy
//!   returns NaN here.** 0 is what MCC, itself a correlation, gives in the same case; it keeps
//!   a degenerate model (one that predicts one value for everything) scored as "no
//!   correlation" instead of poisoning averages, JSON (which has no NaN) and best-checkpoint
//!   comparisons (`NaN > x` is always false).
//!
//! Non-finite scores give NaN; [`crate::TaskMetrics`] rejects them before they get here.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

fn check_lengths(predictions: usize, gold: usize) -> Result<()> {
    if predictions != gold {
        return Err(Error::LengthMismatch { predictions, gold });
    }
    if gold == 0 {
        return Err(Error::Empty);
    }
    Ok(())
}

/// The fraction of predictions equal to the gold label.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::Empty`].
pub fn accuracy(predictions: &[usize], gold: &[usize]) -> Result<f64> {
    check_lengths(predictions.len(), gold.len())?;
    let correct = predictions.iter().zip(gold).filter(|(p, g)| p == g).count();
    Ok(correct as f64 / gold.len() as f64)
}

/// F1 of the positive class, class 1: `2·tp / (2·tp + fp + fn)`; every other class counts as
/// negative. 0 when there are no true positives (sklearn `f1_score`, binary average,
/// `zero_division` default).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::Empty`].
pub fn f1(predictions: &[usize], gold: &[usize]) -> Result<f64> {
    check_lengths(predictions.len(), gold.len())?;
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for (&p, &g) in predictions.iter().zip(gold) {
        match (p == 1, g == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    if tp == 0 {
        return Ok(0.0);
    }
    Ok(2.0 * tp as f64 / (2 * tp + fp + fn_) as f64)
}

/// Matthews correlation coefficient, in the multi-class form sklearn's `matthews_corrcoef`
/// uses (Gorodkin's R_K; for two classes the usual `(tp·tn − fp·fn)/√(…)`). 0 when either
/// the predictions or the gold labels are constant.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::Empty`].
pub fn matthews(predictions: &[usize], gold: &[usize]) -> Result<f64> {
    check_lengths(predictions.len(), gold.len())?;
    // class -> (times it is the gold label, times it is predicted)
    let mut counts: BTreeMap<usize, (i128, i128)> = BTreeMap::new();
    let mut correct: i128 = 0;
    for (&p, &g) in predictions.iter().zip(gold) {
        counts.entry(g).or_default().0 += 1;
        counts.entry(p).or_default().1 += 1;
        correct += i128::from(p == g);
    }
    let n = gold.len() as i128;
    let (mut t_dot_p, mut t_dot_t, mut p_dot_p) = (0i128, 0i128, 0i128);
    for &(t, p) in counts.values() {
        t_dot_p += t * p;
        t_dot_t += t * t;
        p_dot_p += p * p;
    }
    // Exact integer covariances (n ≤ 2^40 keeps these far inside i128).
    let cov_tp = correct * n - t_dot_p;
    let cov_tt = n * n - t_dot_t;
    let cov_pp = n * n - p_dot_p;
    if cov_tt == 0 || cov_pp == 0 {
        return Ok(0.0);
    }
    Ok(cov_tp as f64 / ((cov_tt as f64) * (cov_pp as f64)).sqrt())
}

/// Pearson correlation coefficient (two-pass, centred), clipped to `[-1, 1]`. 0 when either
/// vector is constant, including a single example (scipy: NaN; see the module docs).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::Empty`].
pub fn pearson(predictions: &[f64], gold: &[f64]) -> Result<f64> {
    check_lengths(predictions.len(), gold.len())?;
    if is_constant(predictions) || is_constant(gold) {
        return Ok(0.0);
    }
    let n = gold.len() as f64;
    let mean_p = predictions.iter().sum::<f64>() / n;
    let mean_g = gold.iter().sum::<f64>() / n;
    let (mut sp, mut sg, mut spg) = (0.0f64, 0.0f64, 0.0f64);
    for (&p, &g) in predictions.iter().zip(gold) {
        let (dp, dg) = (p - mean_p, g - mean_g);
        sp += dp * dp;
        sg += dg * dg;
        spg += dp * dg;
    }
    let denom = sp.sqrt() * sg.sqrt();
    if denom == 0.0 {
        return Ok(0.0);
    }
    Ok((spg / denom).clamp(-1.0, 1.0))
}

/// Spearman rank correlation: [`pearson`] of the 1-based ranks, tied values sharing their
/// average rank (scipy `spearmanr`). 0 when either vector is constant.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::Empty`].
pub fn spearman(predictions: &[f64], gold: &[f64]) -> Result<f64> {
    check_lengths(predictions.len(), gold.len())?;
    pearson(&average_ranks(predictions), &average_ranks(gold))
}

fn is_constant(values: &[f64]) -> bool {
    values.iter().all(|&v| v == values[0])
}

/// 1-based ranks; tied values get the mean of the ranks they span.
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start+1 ..= end, averaged.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-12;

    #[test]
    fn small_cases_by_hand() {
        let p = [1, 1, 0, 0, 1];
        let g = [1, 0, 0, 1, 1];
        assert!((accuracy(&p, &g).unwrap() - 0.6).abs() < EPS);
        // tp 2, fp 1, fn 1
        assert!((f1(&p, &g).unwrap() - 4.0 / 6.0).abs() < EPS);
        // tp 2 tn 1 fp 1 fn 1: (2 - 1) / sqrt(3·3·2·2)
        assert!((matthews(&p, &g).unwrap() - 1.0 / 6.0).abs() < EPS);
        assert!(
            (pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5]).unwrap() - 0.997_948_715_788_673_2).abs()
                < EPS
        );
        assert!((spearman(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5]).unwrap() - 1.0).abs() < EPS);
    }

    #[test]
    fn degenerate_cases_are_zero() {
        assert_eq!(matthews(&[1, 1, 1], &[0, 1, 0]).unwrap(), 0.0);
        assert_eq!(matthews(&[0, 1, 0], &[1, 1, 1]).unwrap(), 0.0);
        assert_eq!(f1(&[0, 0], &[0, 0]).unwrap(), 0.0);
        assert_eq!(f1(&[0, 0], &[1, 0]).unwrap(), 0.0);
        assert_eq!(pearson(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0]).unwrap(), 0.0);
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]).unwrap(), 0.0);
        assert_eq!(pearson(&[1.0], &[3.0]).unwrap(), 0.0);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0, 3.0]),
            [4.0, 1.0, 4.0, 2.0, 4.0]
        );
        assert_eq!(average_ranks(&[0.5, 0.5]), [1.5, 1.5]);
    }

    #[test]
    fn multiclass_matthews() {
        // sklearn.metrics.matthews_corrcoef([0,1,2,0,1,2], [0,2,1,0,0,2])
        let got = matthews(&[0, 2, 1, 0, 0, 2], &[0, 1, 2, 0, 1, 2]).unwrap();
        assert!((got - 0.261_116_483_933_546_75).abs() < EPS, "{got}");
    }

    #[test]
    fn length_and_empty_errors() {
        assert!(matches!(
            accuracy(&[1], &[1, 0]),
            Err(Error::LengthMismatch {
                predictions: 1,
                gold: 2
            })
        ));
        assert!(matches!(pearson(&[], &[]), Err(Error::Empty)));
    }
}
