//! Rounds of a benchmark: `cargo xtask bench --rounds N` runs ours and PyTorch in turn N
//! times, so that each round's pair ran under the same load of a shared machine. This module
//! merges a measurement's rounds and pairs the rounds of two runners for their ratio.

use std::fmt;

use hashformer_report::median;

use crate::bench::Record;

/// Whether `a` and `b` are rounds of one measurement: the same implementation, backend,
/// config, bench, variant, precision and shape.
pub(crate) fn same_measurement(a: &Record, b: &Record) -> bool {
    a.implementation == b.implementation
        && a.backend == b.backend
        && a.config == b.config
        && a.bench == b.bench
        && a.variant == b.variant
        && a.precision == b.precision
        && a.batch_size == b.batch_size
        && a.seq_len == b.seq_len
}

/// One record per measurement, in first-seen order: the median of the rounds' seconds and
/// tokens per second, the highest peak RSS, and the timed passes of all rounds together.
pub(crate) fn merge(records: &[Record]) -> Vec<Record> {
    let mut merged: Vec<Record> = Vec::new();
    for r in records {
        if merged.iter().any(|m| same_measurement(m, r)) {
            continue;
        }
        let rounds: Vec<&Record> = records.iter().filter(|o| same_measurement(o, r)).collect();
        let peak = rounds
            .iter()
            .filter_map(|o| o.peak_rss_mib)
            .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))));
        merged.push(Record {
            seconds: median(&mut rounds.iter().map(|o| o.seconds).collect::<Vec<_>>()),
            tokens_per_s: median(&mut rounds.iter().map(|o| o.tokens_per_s).collect::<Vec<_>>()),
            peak_rss_mib: peak,
            iterations: rounds.iter().map(|o| o.iterations).sum(),
            ..r.clone()
        });
    }
    merged
}

/// How many times a reference's throughput one runner reaches, round by round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ratio {
    /// The median of the rounds' ratios.
    pub median: f64,
    /// The lowest round's ratio.
    pub low: f64,
    /// The highest round's ratio.
    pub high: f64,
    /// Rounds paired.
    pub rounds: usize,
}

/// The ratio of `ours` to `reference` (tokens per second), pairing the i-th round of one with
/// the i-th of the other (rounds without a partner are left out); `None` when either is empty.
pub(crate) fn ratio(ours: &[&Record], reference: &[&Record]) -> Option<Ratio> {
    let ratios: Vec<f64> = ours
        .iter()
        .zip(reference)
        .map(|(o, r)| o.tokens_per_s / r.tokens_per_s)
        .collect();
    if ratios.is_empty() {
        return None;
    }
    Some(Ratio {
        median: median(&mut ratios.clone()),
        low: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        high: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        rounds: ratios.len(),
    })
}

impl fmt::Display for Ratio {
    /// `1.02×` for one round, `1.02× (0.97–1.08)` with the range of several.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}×", self.median)?;
        if self.rounds > 1 {
            write!(f, " ({:.2}–{:.2})", self.low, self.high)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(implementation: &str, seconds: f64, peak: Option<f64>) -> Record {
        Record {
            implementation: implementation.into(),
            backend: "cpu".into(),
            device: "cpu".into(),
            config: "small".into(),
            threads: 2,
            bench: "train_step".into(),
            variant: "proj".into(),
            precision: "f32".into(),
            batch_size: 16,
            seq_len: 128,
            seconds,
            tokens_per_s: 2048.0 / seconds,
            peak_rss_mib: peak,
            iterations: 10,
        }
    }

    #[test]
    fn rounds_merge_into_their_median_and_highest_peak() {
        let records = [
            record("ours", 0.3, Some(100.0)),
            record("torch", 0.4, None),
            record("ours", 0.5, Some(120.0)),
            record("ours", 0.35, None),
        ];
        let merged = merge(&records);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].implementation, "ours");
        assert_eq!(merged[0].seconds, 0.35);
        assert_eq!(merged[0].tokens_per_s, 2048.0 / 0.35);
        assert_eq!(merged[0].peak_rss_mib, Some(120.0));
        assert_eq!(merged[0].iterations, 30);
        assert_eq!(merged[1], records[1]);
        // Another variant is another measurement.
        let other = Record {
            variant: "bpe".into(),
            ..records[0].clone()
        };
        assert_eq!(merge(&[records[0].clone(), other]).len(), 2);
        // So is another precision.
        let half = Record {
            precision: "bf16".into(),
            ..records[0].clone()
        };
        assert_eq!(merge(&[records[0].clone(), half]).len(), 2);
    }

    #[test]
    fn ratios_pair_rounds_in_order() {
        let ours = [record("ours", 1.0, None), record("ours", 2.0, None)];
        let torch = [record("torch", 2.0, None), record("torch", 2.0, None)];
        fn pairs(a: &[Record]) -> Vec<&Record> {
            a.iter().collect()
        }
        // Round 1: twice as fast; round 2: as fast. Not the ratio of the medians (1.33×).
        let r = ratio(&pairs(&ours), &pairs(&torch)).unwrap();
        assert_eq!((r.median, r.low, r.high, r.rounds), (1.5, 1.0, 2.0, 2));
        assert_eq!(r.to_string(), "1.50× (1.00–2.00)");
        let one = ratio(&pairs(&ours[..1]), &pairs(&torch)).unwrap();
        assert_eq!(one.to_string(), "2.00×");
        assert!(ratio(&pairs(&ours), &[]).is_none());
    }
}
