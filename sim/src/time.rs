//! Simulated time.
//!
//! Time is an integer count of nanoseconds since the start of the run. Integers, not floats,
//! so that ordering and sums are exact and identical on every machine and in wasm32. A `u64` of
//! nanoseconds covers 584 years of simulated time.

/// A point in simulated time, or a duration, in nanoseconds.
pub type Time = u64;

pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_S: u64 = 1_000_000_000;

/// Milliseconds (as the topology file writes them) to nanoseconds, rounded, saturating.
pub fn ms_to_ns(ms: f64) -> Time {
    if ms.is_nan() || ms <= 0.0 {
        0
    } else {
        let ns = libm::round(ms * NS_PER_MS as f64);
        if ns >= u64::MAX as f64 { u64::MAX } else { ns as u64 }
    }
}

/// Seconds (as the CLI and schedules write them) to nanoseconds, rounded, saturating.
pub fn s_to_ns(s: f64) -> Time {
    ms_to_ns(s * 1000.0)
}

pub fn ns_to_ms(ns: Time) -> f64 {
    ns as f64 / NS_PER_MS as f64
}

pub fn ns_to_s(ns: Time) -> f64 {
    ns as f64 / NS_PER_S as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_and_saturate() {
        assert_eq!(ms_to_ns(1.5), 1_500_000);
        assert_eq!(ms_to_ns(-3.0), 0);
        assert_eq!(ms_to_ns(f64::NAN), 0);
        assert_eq!(ms_to_ns(1e300), u64::MAX);
        assert_eq!(s_to_ns(2.0), 2 * NS_PER_S);
        assert_eq!(ns_to_ms(2_500_000), 2.5);
    }
}
