//! A time-weighted gauge (queue depth, busy workers): its area under the curve is exact
//! (integer nanoseconds times integer value), so means are identical on every machine.

use crate::time::Time;

#[derive(Clone, Debug, Default)]
pub struct Gauge {
    value: u64,
    max: u64,
    since: Time,
    area: u128,
    /// Area and time at the warm-up mark; means are taken from there.
    mark_area: u128,
    mark_time: Time,
}

impl Gauge {
    #[inline]
    fn advance(&mut self, now: Time) {
        self.area += u128::from(self.value) * u128::from(now - self.since);
        self.since = now;
    }

    #[inline]
    pub fn set(&mut self, now: Time, value: u64) {
        self.advance(now);
        self.value = value;
        if value > self.max && now >= self.mark_time {
            self.max = value;
        }
    }

    #[inline]
    pub fn add(&mut self, now: Time, delta: i64) {
        let v = self.value.saturating_add_signed(delta);
        self.set(now, v);
    }

    pub fn value(&self) -> u64 {
        self.value
    }

    /// The largest value seen since the mark.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The area up to `now`.
    pub fn area_at(&self, now: Time) -> u128 {
        self.area + u128::from(self.value) * u128::from(now.saturating_sub(self.since))
    }

    /// Starts the measured period (the end of warm-up).
    pub fn mark(&mut self, now: Time) {
        self.advance(now);
        self.mark_area = self.area;
        self.mark_time = now;
        self.max = self.value;
    }

    /// The time-weighted mean from the mark to `now`.
    pub fn mean(&self, now: Time) -> Option<f64> {
        let span = now.checked_sub(self.mark_time).filter(|s| *s > 0)?;
        Some((self.area_at(now) - self.mark_area) as f64 / span as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_is_time_weighted_from_the_mark() {
        let mut g = Gauge::default();
        g.set(0, 10);
        g.set(100, 0);
        g.mark(100);
        g.set(150, 4);
        assert_eq!(g.mean(200), Some(2.0));
        assert_eq!(g.max(), 4);
        g.add(200, -1);
        assert_eq!(g.value(), 3);
    }
}
