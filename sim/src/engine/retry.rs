//! Retry decisions, shared by consumers and clients: give up, retry at once, or retry after an
//! exponential back-off; and the retry budget that may refuse a retry.

use crate::rng::Stream;
use crate::time::{NS_PER_S, Time, ms_to_ns};
use crate::topology::{RetryBudget, RetryPolicy};

/// What follows a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// The attempts are spent: the error queue (a client gives up).
    GiveUp,
    /// The budget has no token for this retry.
    Refused,
    /// Retry at once.
    Immediate,
    /// Retry after this back-off.
    After(Time),
}

/// A retry budget's token bucket.
#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    spec: RetryBudget,
    tokens: f64,
    last: Time,
}

impl Bucket {
    /// A full bucket.
    pub fn new(spec: RetryBudget) -> Self {
        Bucket { tokens: spec.burst, spec, last: 0 }
    }

    /// A first attempt was made: it earns `ratio` of a retry.
    pub fn deposit(&mut self) {
        self.tokens = (self.tokens + self.spec.ratio).min(self.spec.burst);
    }

    /// Takes a token for a retry now, if there is one.
    fn withdraw(&mut self, now: Time) -> bool {
        let elapsed = now.saturating_sub(self.last) as f64 / NS_PER_S as f64;
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.spec.min_per_s).min(self.spec.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// After `failed` failed attempts (this one included), what `policy` does next.
pub(crate) fn next(
    policy: &RetryPolicy,
    failed: u32,
    bucket: Option<&mut Bucket>,
    now: Time,
    rng: &mut Stream,
) -> Next {
    if failed >= policy.max_attempts {
        return Next::GiveUp;
    }
    if let Some(b) = bucket
        && !b.withdraw(now)
    {
        return Next::Refused;
    }
    if failed <= policy.immediate {
        return Next::Immediate;
    }
    Next::After(backoff(policy, failed - policy.immediate - 1, rng))
}

/// The `k`-th back-off (from 0): `backoff_ms × multiplier^k`, spread uniformly by ± `jitter`.
pub(crate) fn backoff(policy: &RetryPolicy, k: u32, rng: &mut Stream) -> Time {
    let base = policy.backoff_ms * libm::pow(policy.multiplier, f64::from(k));
    let spread = if policy.jitter > 0.0 { 1.0 + policy.jitter * (2.0 * rng.uniform() - 1.0) } else { 1.0 };
    ms_to_ns(base * spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy { max_attempts: 5, backoff_ms: 100.0, multiplier: 2.0, jitter: 0.0, immediate: 1, budget: None }
    }

    #[test]
    fn immediate_then_exponential_then_give_up() {
        let mut rng = Stream::new(1, "retry");
        let p = policy();
        let steps: Vec<Next> = (1..=5).map(|f| next(&p, f, None, 0, &mut rng)).collect();
        let ms = |x: f64| Next::After(ms_to_ns(x));
        assert_eq!(steps, vec![Next::Immediate, ms(100.0), ms(200.0), ms(400.0), Next::GiveUp]);
    }

    #[test]
    fn the_budget_allows_a_fraction_of_first_attempts() {
        let mut rng = Stream::new(1, "retry");
        let p = policy();
        let mut b = Bucket::new(RetryBudget { ratio: 0.25, min_per_s: 0.0, burst: 2.0 });
        // The full bucket allows two retries, then one per four first attempts.
        assert_ne!(next(&p, 1, Some(&mut b), 0, &mut rng), Next::Refused);
        assert_ne!(next(&p, 1, Some(&mut b), 0, &mut rng), Next::Refused);
        assert_eq!(next(&p, 1, Some(&mut b), 0, &mut rng), Next::Refused);
        for _ in 0..4 {
            b.deposit();
        }
        assert_ne!(next(&p, 1, Some(&mut b), 0, &mut rng), Next::Refused);
        assert_eq!(next(&p, 1, Some(&mut b), 0, &mut rng), Next::Refused);
        // min_per_s refills with time.
        let mut b = Bucket::new(RetryBudget { ratio: 0.0, min_per_s: 2.0, burst: 1.0 });
        assert_ne!(next(&p, 1, Some(&mut b), 0, &mut rng), Next::Refused);
        assert_eq!(next(&p, 1, Some(&mut b), NS_PER_S / 4, &mut rng), Next::Refused);
        assert_ne!(next(&p, 1, Some(&mut b), NS_PER_S, &mut rng), Next::Refused);
    }
}
