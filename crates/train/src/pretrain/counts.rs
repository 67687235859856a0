//! Counts of predictions per class, and what they give: accuracy, recall per Shuffle+Random
//! class, the majority rate and the class-prior loss.

use serde::Serialize;

/// Counts of a loss evaluation: per-class totals and hits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassCounts {
    /// Labelled positions per class (Shuffle+Random: original, shuffled, random).
    pub total: [u64; 3],
    /// Correct predictions per class.
    pub correct: [u64; 3],
    /// All labelled positions (masked LM: the masked tokens).
    pub all: u64,
    /// All correct predictions.
    pub all_correct: u64,
}

impl ClassCounts {
    pub(crate) fn add(&mut self, labels: &[i64], predictions: &[i64], per_class: bool) {
        for (&l, &p) in labels.iter().zip(predictions) {
            self.all += 1;
            self.all_correct += u64::from(l == p);
            if per_class {
                if let Ok(c) = usize::try_from(l) {
                    if c < 3 {
                        self.total[c] += 1;
                        self.correct[c] += u64::from(l == p);
                    }
                }
            }
        }
    }

    /// Accuracy over all labelled positions.
    pub fn accuracy(&self) -> f64 {
        ratio(self.all_correct, self.all)
    }

    /// Recall of class `c` (NaN if it never occurs).
    pub fn class_accuracy(&self, c: usize) -> f64 {
        ratio(self.correct[c], self.total[c])
    }

    /// Recall of each Shuffle+Random class.
    pub fn recall(&self) -> ClassRecall {
        ClassRecall {
            acc_original: self.class_accuracy(0),
            acc_shuffled: self.class_accuracy(1),
            acc_random: self.class_accuracy(2),
        }
    }

    /// Share of the most frequent class: the accuracy of always predicting it.
    pub fn majority_rate(&self) -> f64 {
        ratio(*self.total.iter().max().unwrap_or(&0), self.all)
    }

    /// Entropy (nats) of the class frequencies: the cross-entropy of predicting them.
    pub fn prior_entropy(&self) -> f64 {
        self.total
            .iter()
            .map(|&n| ratio(n, self.all))
            .filter(|&p| p > 0.0)
            .map(|p| -p * p.ln())
            .sum()
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Recall of each Shuffle+Random class (its JSON keys are the metrics log's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassRecall {
    /// Recall of original tokens.
    pub acc_original: f64,
    /// Recall of shuffled tokens.
    pub acc_shuffled: f64,
    /// Recall of random tokens.
    pub acc_random: f64,
}
