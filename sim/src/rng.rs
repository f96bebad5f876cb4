//! Portable random streams.
//!
//! Each node (and each link) draws from its own stream, derived from the run's seed and the
//! node's id. Adding a node therefore does not shift the draws of the others, so two designs
//! that differ in one place can be compared with common random numbers. PCG is specified to the
//! bit, so the streams are the same on every platform.

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// One random stream.
#[derive(Clone, Debug)]
pub struct Stream(Pcg64Mcg);

impl Stream {
    /// The stream of `name` (a node or link id) under `seed`.
    pub fn new(seed: u64, name: &str) -> Self {
        let mut h = 0xcbf2_9ce4_8422_2325u64; // FNV-1a: stable across platforms and versions.
        for b in name.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Stream(Pcg64Mcg::seed_from_u64(splitmix64(seed ^ splitmix64(h))))
    }

    /// A uniform draw in `[0, 1)` with 53 bits of precision.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform draw in `(0, 1]`: safe to take the logarithm of.
    #[inline]
    pub fn uniform_open0(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// `true` with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        p >= 1.0 || (p > 0.0 && self.uniform() < p)
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<f64> = (0..4)
            .map({
                let mut s = Stream::new(7, "q");
                move |_| s.uniform()
            })
            .collect();
        let b: Vec<f64> = (0..4)
            .map({
                let mut s = Stream::new(7, "q");
                move |_| s.uniform()
            })
            .collect();
        let c: Vec<f64> = (0..4)
            .map({
                let mut s = Stream::new(7, "r");
                move |_| s.uniform()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn chance_respects_bounds() {
        let mut s = Stream::new(1, "x");
        assert!((0..1000).all(|_| s.chance(1.0)));
        assert!((0..1000).all(|_| !s.chance(0.0)));
        let hits = (0..100_000).filter(|_| s.chance(0.25)).count();
        assert!((24_000..26_000).contains(&hits), "{hits}");
    }
}
