//! Time distributions, as the topology file writes them, and their sampling.
//!
//! Sampling uses `libm` rather than the platform's maths library so that a draw is the same
//! bit pattern natively and in wasm32: determinism "on any machine" includes the browser.

use serde::{Deserialize, Serialize};

use crate::rng::Stream;
use crate::time::{Time, ms_to_ns};

/// A distribution of durations in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase")]
pub enum Dist {
    Constant {
        ms: f64,
    },
    Exponential {
        mean_ms: f64,
    },
    Uniform {
        min_ms: f64,
        max_ms: f64,
    },
    /// Truncated at 0: negative draws are drawn again.
    Normal {
        mean_ms: f64,
        stddev_ms: f64,
    },
    /// `mean_ms` and `stddev_ms` are those of the resulting times, not of the logarithm.
    Lognormal {
        mean_ms: f64,
        stddev_ms: f64,
    },
}

/// The names the file accepts, in the order error messages list them.
pub const DIST_NAMES: &[&str] = &["constant", "exponential", "uniform", "normal", "lognormal"];

impl Dist {
    pub fn constant(ms: f64) -> Self {
        Dist::Constant { ms }
    }

    /// The distribution's mean in milliseconds (of the truncated normal: its untruncated mean).
    pub fn mean_ms(&self) -> f64 {
        match *self {
            Dist::Constant { ms } => ms,
            Dist::Exponential { mean_ms } => mean_ms,
            Dist::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
            Dist::Normal { mean_ms, .. } | Dist::Lognormal { mean_ms, .. } => mean_ms,
        }
    }

    /// Whether every draw is zero: such a step needs no scheduled event.
    pub fn is_zero(&self) -> bool {
        matches!(*self, Dist::Constant { ms } if ms <= 0.0)
    }

    /// One draw, in milliseconds.
    pub fn sample_ms(&self, rng: &mut Stream) -> f64 {
        match *self {
            Dist::Constant { ms } => ms,
            Dist::Exponential { mean_ms } => -mean_ms * libm::log(rng.uniform_open0()),
            Dist::Uniform { min_ms, max_ms } => min_ms + (max_ms - min_ms) * rng.uniform(),
            Dist::Normal { mean_ms, stddev_ms } => {
                // Truncation by rejection; after 64 misses (a mean far below zero) give 0.
                for _ in 0..64 {
                    let x = mean_ms + stddev_ms * standard_normal(rng);
                    if x >= 0.0 {
                        return x;
                    }
                }
                0.0
            }
            Dist::Lognormal { mean_ms, stddev_ms } => {
                if mean_ms <= 0.0 {
                    return 0.0;
                }
                let s2 = libm::log(1.0 + (stddev_ms * stddev_ms) / (mean_ms * mean_ms));
                let mu = libm::log(mean_ms) - s2 / 2.0;
                libm::exp(mu + libm::sqrt(s2) * standard_normal(rng))
            }
        }
    }

    /// One draw, in nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> Time {
        match *self {
            Dist::Constant { ms } => ms_to_ns(ms),
            _ => ms_to_ns(self.sample_ms(rng)),
        }
    }
}

/// Box–Muller; one of the pair is discarded so that each draw uses exactly two uniforms.
fn standard_normal(rng: &mut Stream) -> f64 {
    let u1 = rng.uniform_open0();
    let u2 = rng.uniform();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = Stream::new(3, "d");
        let xs: Vec<f64> = (0..n).map(|_| d.sample_ms(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn sample_moments_match_parameters() {
        let n = 400_000;
        let (m, s) = moments(&Dist::Exponential { mean_ms: 250.0 }, n);
        assert!((m - 250.0).abs() < 2.5 && (s - 250.0).abs() < 5.0, "{m} {s}");
        let (m, _) = moments(&Dist::Uniform { min_ms: 10.0, max_ms: 30.0 }, n);
        assert!((m - 20.0).abs() < 0.1, "{m}");
        let (m, s) = moments(&Dist::Normal { mean_ms: 100.0, stddev_ms: 20.0 }, n);
        assert!((m - 100.0).abs() < 0.2 && (s - 20.0).abs() < 0.2, "{m} {s}");
        let (m, s) = moments(&Dist::Lognormal { mean_ms: 100.0, stddev_ms: 50.0 }, n);
        assert!((m - 100.0).abs() < 0.5 && (s - 50.0).abs() < 1.0, "{m} {s}");
        assert_eq!(moments(&Dist::constant(5.0), 10), (5.0, 0.0));
    }

    #[test]
    fn normal_is_truncated_at_zero() {
        let mut rng = Stream::new(1, "n");
        let d = Dist::Normal { mean_ms: 1.0, stddev_ms: 50.0 };
        assert!((0..10_000).all(|_| d.sample_ms(&mut rng) >= 0.0));
    }
}
