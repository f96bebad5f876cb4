//! Circuit breakers on call links: the state machine (closed, open, half-open) over a sliding
//! window of per-second buckets, and the engine's part (calls admitted or failed fast, results
//! learned when calls end, the open time running out, transitions logged).

use super::Engine;
use super::capture::LogKind;
use super::event::Ev;
use crate::time::{NS_PER_S, Time, s_to_ns};
use crate::topology::Breaker;

/// Where a breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// A breaker at run time.
#[derive(Clone, Debug)]
pub(crate) struct BreakerRt {
    spec: Breaker,
    /// (second, calls, failures) per second of the window, oldest overwritten.
    window: Vec<(u64, u32, u32)>,
    pub state: BreakerState,
    /// Half-open: probes let through, and how many of them succeeded.
    probes_sent: u32,
    probes_ok: u32,
    /// Bumped at each opening: a stale half-open timer is ignored.
    pub generation: u32,
    opened_at: Time,
    open_total: Time,
    pub transitions: u64,
    pub failed_fast: u64,
}

impl BreakerRt {
    pub fn new(spec: Breaker) -> Self {
        let seconds = spec.window_s.ceil().max(1.0) as usize;
        BreakerRt {
            spec,
            window: vec![(u64::MAX, 0, 0); seconds],
            state: BreakerState::Closed,
            probes_sent: 0,
            probes_ok: 0,
            generation: 0,
            opened_at: 0,
            open_total: 0,
            transitions: 0,
            failed_fast: 0,
        }
    }

    /// Whether a call may go through now (a half-open breaker lets its probes through).
    pub fn admit(&mut self) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open => {
                self.failed_fast += 1;
                false
            }
            BreakerState::HalfOpen if self.probes_sent < self.spec.probes => {
                self.probes_sent += 1;
                true
            }
            BreakerState::HalfOpen => {
                self.failed_fast += 1;
                false
            }
        }
    }

    /// A call ended at `now`; returns the new state if it changed.
    fn record(&mut self, now: Time, ok: bool) -> Option<BreakerState> {
        match self.state {
            BreakerState::Closed => {
                let second = now / NS_PER_S;
                let span = self.window.len() as u64;
                let slot = &mut self.window[(second % span) as usize];
                if slot.0 != second {
                    *slot = (second, 0, 0);
                }
                slot.1 += 1;
                slot.2 += u32::from(!ok);
                let (calls, failures) = self.counts(second);
                let tripped = calls >= self.spec.min_calls
                    && f64::from(failures) >= self.spec.failure_rate * f64::from(calls)
                    && failures > 0;
                tripped.then(|| self.open(now))
            }
            BreakerState::HalfOpen if !ok => Some(self.open(now)),
            BreakerState::HalfOpen => {
                self.probes_ok += 1;
                (self.probes_ok >= self.spec.probes).then(|| self.close(now))
            }
            // Calls that started before it opened: their ends change nothing.
            BreakerState::Open => None,
        }
    }

    /// Calls and failures over the window that ends with `second`.
    fn counts(&self, second: u64) -> (u32, u32) {
        let span = self.window.len() as u64;
        self.window
            .iter()
            .filter(|(s, _, _)| *s != u64::MAX && *s + span > second)
            .fold((0, 0), |(c, f), (_, calls, fails)| (c + calls, f + fails))
    }

    fn open(&mut self, now: Time) -> BreakerState {
        // Time open counts from leaving closed: half-open is not closed either.
        if self.state == BreakerState::Closed {
            self.opened_at = now;
        }
        self.state = BreakerState::Open;
        self.generation += 1;
        self.transitions += 1;
        BreakerState::Open
    }

    fn half_open(&mut self) {
        self.state = BreakerState::HalfOpen;
        self.probes_sent = 0;
        self.probes_ok = 0;
        self.transitions += 1;
    }

    fn close(&mut self, now: Time) -> BreakerState {
        self.state = BreakerState::Closed;
        self.window.iter_mut().for_each(|w| *w = (u64::MAX, 0, 0));
        self.open_total += now - self.opened_at;
        self.transitions += 1;
        BreakerState::Closed
    }

    /// Time spent open or half-open (not closed) up to `now`.
    pub fn time_open(&self, now: Time) -> Time {
        match self.state {
            BreakerState::Closed => self.open_total,
            _ => self.open_total + (now - self.opened_at),
        }
    }

    pub fn open_for(&self) -> Time {
        s_to_ns(self.spec.open_s)
    }
}

impl Engine {
    /// A call over `link` ended: its breaker learns the result.
    pub(super) fn on_call_ended(&mut self, link: u32, ok: bool) {
        self.n_events += 1;
        let now = self.now;
        let node = self.links[link as usize].from;
        let Some(b) = self.links[link as usize].breaker.as_mut() else { return };
        match b.record(now, ok) {
            Some(BreakerState::Open) => {
                let (at, generation) = (now.saturating_add(b.open_for()), b.generation);
                self.events.push(at, Ev::BreakerHalfOpen { link, generation });
                self.log_event(node, LogKind::BreakerOpened, 0);
            }
            Some(_) => self.log_event(node, LogKind::BreakerClosed, 0),
            None => {}
        }
    }

    pub(super) fn on_breaker_half_open(&mut self, link: u32, generation: u32) {
        self.n_events += 1;
        let node = self.links[link as usize].from;
        let Some(b) = self.links[link as usize].breaker.as_mut() else { return };
        if b.state == BreakerState::Open && b.generation == generation {
            b.half_open();
            self.log_event(node, LogKind::BreakerHalfOpen, 0);
        }
    }

    /// Each call link's breaker: (the calling node, the store node, its state).
    pub fn breakers(&self) -> impl Iterator<Item = (usize, usize, BreakerState)> + '_ {
        self.links.iter().filter_map(|l| l.breaker.as_ref().map(|b| (l.from as usize, l.to as usize, b.state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Breaker {
        Breaker { failure_rate: 0.5, window_s: 10.0, min_calls: 4, open_s: 5.0, probes: 2 }
    }

    #[test]
    fn opens_on_the_failure_rate_and_closes_after_good_probes() {
        let mut b = BreakerRt::new(spec());
        let s = NS_PER_S;
        assert_eq!(b.record(0, true), None);
        assert_eq!(b.record(s, false), None);
        assert_eq!(b.record(2 * s, true), None);
        // Four calls, two failed: 50%.
        assert_eq!(b.record(3 * s, false), Some(BreakerState::Open));
        assert!(!b.admit(), "open: fails fast");
        b.half_open();
        assert!(b.admit() && b.admit() && !b.admit(), "two probes, then fast failures");
        assert_eq!(b.record(9 * s, true), None);
        assert_eq!(b.record(9 * s, true), Some(BreakerState::Closed));
        assert_eq!(b.time_open(20 * s), 6 * s);
        assert_eq!(b.transitions, 3);
        assert_eq!(b.failed_fast, 2);
    }

    #[test]
    fn old_failures_leave_the_window_and_a_failed_probe_reopens() {
        let mut b = BreakerRt::new(spec());
        let s = NS_PER_S;
        for t in 0..3 {
            assert_eq!(b.record(t * s, false), None, "fewer than min_calls");
        }
        // Twelve seconds later the three failures are out of the window.
        for t in 0..3 {
            assert_eq!(b.record((15 + t) * s, true), None);
        }
        assert_eq!(b.record(18 * s, false), None, "1 of 4 failed");
        b.open(19 * s);
        b.half_open();
        assert!(b.admit());
        assert_eq!(b.record(25 * s, false), Some(BreakerState::Open));
        b.half_open();
        assert!(b.admit());
        assert_eq!(b.record(31 * s, true), None, "one of two probes");
        assert!(b.admit());
        assert_eq!(b.record(31 * s, true), Some(BreakerState::Closed));
        assert_eq!(b.time_open(40 * s), 12 * s, "open and half-open from 19 s to 31 s");
    }
}
