//! A latency statistic: exact mean, percentiles from an HDR histogram (at most 1% relative
//! error), and a batch-means confidence half-width.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::batch::BatchMeans;
use crate::time::{NS_PER_MS, Time};

#[derive(Clone, Debug)]
pub struct LatencyStat {
    n: u64,
    sum_ns: u128,
    /// Microseconds, two significant digits.
    hist: Histogram<u64>,
    batches: BatchMeans,
}

impl Default for LatencyStat {
    fn default() -> Self {
        LatencyStat {
            n: 0,
            sum_ns: 0,
            // 1 µs to about 11.5 days: anything longer is clamped to the top.
            hist: Histogram::new_with_bounds(1, 1_000_000_000_000, 2).expect("valid histogram bounds"),
            batches: BatchMeans::default(),
        }
    }
}

/// What the report says of a latency, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    /// 95% confidence half-width of the mean (batch means); absent with too few samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95: Option<f64>,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub count: u64,
}

impl LatencyStat {
    #[inline]
    pub fn record(&mut self, ns: Time) {
        self.n += 1;
        self.sum_ns += u128::from(ns);
        self.hist.saturating_record(ns / 1_000);
        self.batches.add(ns as f64);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    /// The samples at or below each of `bounds_s` (seconds, ascending), the count and the sum in
    /// seconds: a Prometheus histogram's buckets, read from the HDR histogram (each bucket
    /// within its 1% precision).
    pub fn cumulative(&self, bounds_s: &[f64]) -> (Vec<u64>, u64, f64) {
        let buckets = bounds_s
            .iter()
            .map(|&b| {
                let us = (b * 1e6) as u64;
                if us == 0 { 0 } else { self.hist.count_between(0, us) }
            })
            .collect();
        (buckets, self.n, self.sum_ns as f64 / 1e9)
    }

    pub fn summary(&self) -> Option<Summary> {
        if self.n == 0 {
            return None;
        }
        let ms = |us: u64| us as f64 / 1_000.0;
        // The histogram reports the top of a value's bucket; report its middle instead, which
        // halves the error and keeps a constant latency exact.
        let q = |p: f64| ms(self.hist.median_equivalent(self.hist.value_at_quantile(p)));
        Some(Summary {
            mean: self.sum_ns as f64 / self.n as f64 / NS_PER_MS as f64,
            ci95: self.batches.half_width().map(|h| h / NS_PER_MS as f64),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            max: ms(self.hist.max()),
            count: self.n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_latency_is_exact_and_percentiles_ordered() {
        let mut s = LatencyStat::default();
        for _ in 0..1000 {
            s.record(250 * NS_PER_MS);
        }
        let sum = s.summary().unwrap();
        assert_eq!(sum.mean, 250.0);
        assert!((sum.p50 - 250.0).abs() / 250.0 < 0.01, "{}", sum.p50);
        let mut s = LatencyStat::default();
        for i in 1..=10_000u64 {
            s.record(i * NS_PER_MS);
        }
        let sum = s.summary().unwrap();
        assert!((sum.p95 - 9500.0).abs() / 9500.0 < 0.01, "{}", sum.p95);
        assert!(sum.p50 <= sum.p95 && sum.p95 <= sum.p99 && sum.p99 <= sum.max);
        assert!(LatencyStat::default().summary().is_none());
    }
}
