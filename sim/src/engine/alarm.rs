//! The broker's memory alarm. RabbitMQ raises an alarm when its memory passes a high
//! watermark and blocks every publishing connection until consumers have caught up; a run here
//! does the same, counting memory in messages held. Producers' emissions are refused while the
//! alarm is on (counted as blocked, never produced), so an overloaded topology cannot take the
//! machine's memory, and the user sees why the producers went quiet.

use super::Engine;
use super::capture::LogKind;
use crate::time::Time;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MemoryAlarm {
    /// Messages held at which the alarm goes off (`u64::MAX`: never).
    pub watermark: u64,
    /// Whether it is on now.
    pub on: bool,
    /// Times it went off.
    pub raised: u64,
    /// Emissions refused while it was on, in all producers.
    pub blocked: u64,
    /// Simulated time spent with the alarm on, in nanoseconds (up to the last change).
    pub time_on: Time,
    /// A `refuse_publishes` fault holding the alarm on whatever the messages held (the fault).
    pub forced: Option<u32>,
    /// When it last went off.
    pub since: Time,
    /// Messages held past which the run stops (twice the watermark; see
    /// [`Overload`](super::Overload)): kept, as the engine compares it at every event.
    ceiling: u64,
}

impl MemoryAlarm {
    pub fn new(watermark: Option<u64>) -> Self {
        let watermark = watermark.unwrap_or(u64::MAX);
        MemoryAlarm {
            watermark,
            on: false,
            raised: 0,
            blocked: 0,
            time_on: 0,
            forced: None,
            since: 0,
            ceiling: watermark.saturating_mul(2),
        }
    }

    /// Below this many messages held, the alarm clears: 90% of the watermark, so that it does
    /// not flap on and off with every message.
    fn clear_below(&self) -> u64 {
        self.watermark - self.watermark / 10
    }

    /// Messages held past which even services' own publishes must stop the run (see
    /// [`Overload`](super::Overload)).
    #[inline]
    pub fn ceiling(&self) -> u64 {
        self.ceiling
    }

    /// Simulated time spent with the alarm on, up to `now`.
    pub fn seconds_on(&self, now: Time) -> f64 {
        let open = if self.on { now - self.since } else { 0 };
        crate::time::ns_to_s(self.time_on + open)
    }
}

impl Engine {
    /// Whether producer node `node` may emit now; raises or clears the alarm as the messages
    /// held cross the watermark, and logs each change at that producer.
    pub(super) fn may_emit(&mut self, node: u32) -> bool {
        self.update_alarm(node);
        if self.alarm.on {
            self.alarm.blocked += 1;
            if let Some(f) = self.alarm.forced {
                self.faults[f as usize].affected += 1;
            }
        }
        !self.alarm.on
    }

    /// Raises or clears the alarm as the messages held (or a fault forcing it) say, and logs
    /// each change at `node`.
    pub(super) fn update_alarm(&mut self, node: u32) {
        let held = self.msgs.live();
        let now = self.now;
        let a = &mut self.alarm;
        if !a.on && (held >= a.watermark || a.forced.is_some()) {
            a.on = true;
            a.raised += 1;
            a.since = now;
            self.log_event(node, LogKind::MemoryAlarm, 0);
        } else if a.on && held < a.clear_below() && a.forced.is_none() {
            a.on = false;
            a.time_on += now - a.since;
            self.log_event(node, LogKind::AlarmCleared, 0);
        }
    }
}
