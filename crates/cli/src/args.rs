//! Parsers for options. Every number is checked where it is parsed, and a value out of range
//! is refused with the range in the message (clap prints it with the flag), instead of a
//! panic, an allocation of hundreds of GB, or a run that trains backwards.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;

/// Longest sequence, `<s>` and `</s>` included: RoBERTa's 514 position rows less the padding
/// offset of 2, which every preset and pre-trained model here has.
pub const MAX_SEQUENCE: usize = 512;

/// `LABEL=PATH`: a labelled directory or file (`glue-compare --model`, `pretrain-compare
/// --run`); the label is trimmed and neither part may be empty.
pub fn labelled_path(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((label, path)) if !label.trim().is_empty() && !path.is_empty() => {
            Ok((label.trim().to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("expected LABEL=DIR, got {s:?}")),
    }
}

/// An integer in `range`.
fn integer<T>(s: &str, range: RangeInclusive<T>, what: &str) -> Result<T, String>
where
    T: FromStr + PartialOrd + Display + Copy,
{
    let v: T = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number; {what} is {}", span(&range)))?;
    if !range.contains(&v) {
        return Err(format!("{v} is out of range; {what} is {}", span(&range)));
    }
    Ok(v)
}

/// `from 1 to 512`.
fn span<T: Display>(range: &RangeInclusive<T>) -> String {
    format!("from {} to {}", range.start(), range.end())
}

/// A finite number in `range` (`low < v <= high` when `open_low`).
fn real(s: &str, range: RangeInclusive<f64>, open_low: bool, what: &str) -> Result<f64, String> {
    let (low, high) = (*range.start(), *range.end());
    let bound = if open_low {
        format!("above {low} and at most {high}")
    } else {
        format!("from {low} to {high}")
    };
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number; {what} is {bound}"))?;
    let inside = v.is_finite() && (if open_low { v > low } else { v >= low }) && v <= high;
    if !inside {
        return Err(format!("{v} is out of range; {what} is {bound}"));
    }
    Ok(v)
}

/// A sequence length: 2 (`<s>` and `</s>`) to [`MAX_SEQUENCE`].
pub fn max_length(s: &str) -> Result<usize, String> {
    integer(s, 2..=MAX_SEQUENCE, "a sequence length")
}

/// A count that must be at least one (examples per batch, seeds, epochs, steps); at most a
/// million, which no run here needs and which keeps allocations bounded.
pub fn count(s: &str) -> Result<usize, String> {
    integer(s, 1..=1_000_000, "a count")
}

/// [`count`] as a `u64`.
pub fn count_u64(s: &str) -> Result<u64, String> {
    count(s).map(|n| n as u64)
}

/// A model width (hidden or feed-forward size): 1 to 65,536.
pub fn width(s: &str) -> Result<usize, String> {
    integer(s, 1..=65_536, "a width")
}

/// A number of hash buckets: 1 to 2²⁴.
pub fn buckets(s: &str) -> Result<usize, String> {
    integer(s, 1..=1 << 24, "a bucket count")
}

/// A learning rate: above 0, at most 1.
pub fn learning_rate(s: &str) -> Result<f64, String> {
    real(s, 0.0..=1.0, true, "a learning rate")
}

/// A time budget in minutes: above 0, at most a year.
pub fn minutes(s: &str) -> Result<f64, String> {
    real(s, 0.0..=525_600.0, true, "a time budget in minutes")
}

/// A probability: from 0 to 1.
pub fn probability(s: &str) -> Result<f64, String> {
    real(s, 0.0..=1.0, false, "a probability")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_lengths_stay_within_the_position_table() {
        assert_eq!(max_length("128"), Ok(128));
        assert_eq!(max_length("512"), Ok(512));
        for bad in ["513", "1", "18446744073709551615", "1e10", "-3", ""] {
            let err = max_length(bad).unwrap_err();
            assert!(err.contains("from 2 to 512"), "{bad}: {err}");
        }
    }

    #[test]
    fn reals_are_finite_and_in_range() {
        assert_eq!(learning_rate("5e-4"), Ok(5e-4));
        for bad in ["0", "-1", "nan", "inf", "2", "x"] {
            let err = learning_rate(bad).unwrap_err();
            assert!(err.contains("above 0 and at most 1"), "{bad}: {err}");
        }
        assert_eq!(minutes("0.5"), Ok(0.5));
        for bad in ["nan", "-1", "1e300", "0"] {
            assert!(minutes(bad).is_err(), "{bad}");
        }
        assert_eq!(probability("0"), Ok(0.0));
        assert!(probability("1.5").is_err());
    }

    #[test]
    fn counts_start_at_one() {
        assert_eq!(count("3"), Ok(3));
        assert_eq!(count_u64("3"), Ok(3));
        for bad in ["0", "-1", "1000001", "two"] {
            assert!(
                count(bad).unwrap_err().contains("from 1 to 1000000"),
                "{bad}"
            );
        }
    }
}
