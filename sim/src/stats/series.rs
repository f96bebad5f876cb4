//! Per-second time series for the live charts: a bounded ring of points per node, and the
//! samples of the current second from which a point's percentiles are taken.

use serde::{Deserialize, Serialize};

/// One simulated second of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The end of the second, in simulated seconds.
    pub t_s: u64,
    /// Messages in per second (enqueued; processing started; routed; calls).
    pub in_per_s: u32,
    /// Messages out per second (delivered; processed successfully; emitted by a producer).
    pub out_per_s: u32,
    /// Time-weighted mean depth (queues) or busy workers (services) over the second.
    pub level: f32,
    /// Level at the end of the second.
    pub level_end: u32,
    pub p50_ms: f32,
    pub p95_ms: f32,
    pub p99_ms: f32,
    pub errors: u32,
    pub dead_letters: u32,
    pub dropped: u32,
    /// Millicores in use, time-weighted mean over the second (services with CPU work).
    #[serde(default)]
    pub cpu_m: f32,
    /// Retries made per second (services and clients).
    #[serde(default)]
    pub retries: u32,
    /// Faults that struck the node during the second.
    #[serde(default)]
    pub faults: u32,
}

impl Point {
    /// The fields a walkthrough's claims may read, by name.
    pub const FIELDS: [&'static str; 13] = [
        "in_per_s",
        "out_per_s",
        "level",
        "level_end",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "errors",
        "dead_letters",
        "dropped",
        "cpu_m",
        "retries",
        "faults",
    ];

    /// The field `name` as a number.
    pub fn field(&self, name: &str) -> Option<f64> {
        Some(match name {
            "in_per_s" => f64::from(self.in_per_s),
            "out_per_s" => f64::from(self.out_per_s),
            "level" => f64::from(self.level),
            "level_end" => f64::from(self.level_end),
            "p50_ms" => f64::from(self.p50_ms),
            "p95_ms" => f64::from(self.p95_ms),
            "p99_ms" => f64::from(self.p99_ms),
            "errors" => f64::from(self.errors),
            "dead_letters" => f64::from(self.dead_letters),
            "dropped" => f64::from(self.dropped),
            "cpu_m" => f64::from(self.cpu_m),
            "retries" => f64::from(self.retries),
            "faults" => f64::from(self.faults),
            _ => return None,
        })
    }
}

/// A fixed-capacity ring buffer: old points fall off, memory never grows.
#[derive(Clone, Debug)]
pub struct Ring<T> {
    buf: Vec<T>,
    cap: usize,
    head: usize,
}

impl<T: Copy> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Ring { buf: Vec::with_capacity(cap), cap, head: 0 }
    }

    pub fn push(&mut self, x: T) {
        if self.cap == 0 {
            return;
        }
        if self.buf.len() < self.cap {
            self.buf.push(x);
        } else {
            self.buf[self.head] = x;
            self.head = (self.head + 1) % self.cap;
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.buf[self.head..].iter().chain(&self.buf[..self.head])
    }

    pub fn last(&self) -> Option<&T> {
        if self.buf.is_empty() { None } else { Some(&self.buf[(self.head + self.buf.len() - 1) % self.buf.len()]) }
    }
}

const SAMPLE_CAP: usize = 1024;

/// Latency samples of the current second, a uniform reservoir of at most 1024, in fixed memory.
#[derive(Clone, Debug, Default)]
pub struct SecondSamples {
    samples: Vec<f32>,
    seen: u64,
}

impl SecondSamples {
    #[inline]
    pub fn add(&mut self, ms: f32) {
        self.seen += 1;
        if self.samples.len() < SAMPLE_CAP {
            self.samples.push(ms);
        } else {
            // Reservoir sampling with a hash of the count: deterministic, and it leaves the
            // simulation's random streams alone.
            let j = (self.seen.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) % self.seen;
            if (j as usize) < SAMPLE_CAP {
                self.samples[j as usize] = ms;
            }
        }
    }

    /// p50, p95, p99 of the second, and clears it for the next.
    pub fn take_percentiles(&mut self) -> [f32; 3] {
        let n = self.samples.len();
        if n == 0 {
            return [0.0; 3];
        }
        let mut out = [0.0; 3];
        // Each selection leaves the larger values after the chosen one, so the next (higher)
        // percentile is selected from that tail only.
        let mut from = 0;
        for (o, p) in out.iter_mut().zip([0.50, 0.95, 0.99]) {
            let k = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            let k = k.max(from);
            let (_, v, _) = self.samples[from..].select_nth_unstable_by(k - from, f32::total_cmp);
            *o = *v;
            from = k;
        }
        self.samples.clear();
        self.seen = 0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest() {
        let mut r = Ring::new(3);
        (1..=5).for_each(|i| r.push(i));
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(r.last(), Some(&5));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn second_percentiles() {
        let mut s = SecondSamples::default();
        (1..=100).for_each(|i| s.add(i as f32));
        assert_eq!(s.take_percentiles(), [50.0, 95.0, 99.0]);
        assert_eq!(s.take_percentiles(), [0.0; 3]);
        (0..100_000).for_each(|i| s.add((i % 1000) as f32));
        let [p50, ..] = s.take_percentiles();
        assert!((400.0..600.0).contains(&p50), "{p50}");
    }
}
