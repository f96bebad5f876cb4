//! CPU: a message's CPU work runs before its waiting time, on its replica's cores. The tasks of
//! a replica share its limit (processor sharing), each using at most one core: under the limit
//! every task runs at full speed, past it every task slows. One completion event per replica is
//! pending at a time; it is rescheduled whenever a task starts or ends.

use super::Engine;
use super::event::{Ev, Outcome};
use super::runtime::CpuTask;
use crate::time::Time;

impl Engine {
    /// The speed of each of `n` tasks sharing `limit` cores, in cores.
    fn share(limit: f64, n: usize) -> f64 {
        if n == 0 { 0.0 } else { (limit / n as f64).min(1.0) }
    }

    /// Brings the remaining work of replica (s, r)'s tasks up to now.
    fn cpu_advance(&mut self, s: u32, r: u32) {
        let now = self.now;
        let svc = &mut self.services[s as usize];
        let limit = svc.cpu_limit;
        let rep = &mut svc.replicas[r as usize];
        let speed = Self::share(limit, rep.cpu.len());
        let done = (now - rep.cpu_at) as f64 * speed;
        for t in &mut rep.cpu {
            t.left -= done;
        }
        rep.cpu_at = now;
    }

    /// Plans the earliest completion of replica (s, r)'s tasks, and records its CPU use.
    fn cpu_reschedule(&mut self, s: u32, r: u32) {
        let now = self.now;
        let svc = &mut self.services[s as usize];
        let limit = svc.cpu_limit;
        let rep = &mut svc.replicas[r as usize];
        rep.cpu_gen = rep.cpu_gen.wrapping_add(1);
        let n = rep.cpu.len();
        let speed = Self::share(limit, n);
        let use_m = (n as f64 * speed * 1000.0).round() as u64;
        let delta = use_m as i64 - rep.cpu_m as i64;
        rep.cpu_m = use_m;
        let (epoch, generation) = (rep.epoch, rep.cpu_gen);
        let first = rep.cpu.iter().map(|t| t.left).fold(f64::INFINITY, f64::min);
        svc.cpu_use.add(now, delta);
        if n > 0 {
            let at = now.saturating_add((first.max(0.0) / speed).ceil() as Time);
            self.events.push(at, Ev::CpuDone { service: s, replica: r, epoch, generation });
        }
    }

    /// Starts message `m`'s CPU work (`work` core-nanoseconds) at replica (s, r); then it waits
    /// `then` and ends with `outcome`.
    pub(super) fn cpu_start(&mut self, m: u32, s: u32, r: u32, work: Time, then: Time, outcome: Outcome) {
        self.cpu_advance(s, r);
        let task = CpuTask { msg: m, left: work as f64, then, outcome };
        self.services[s as usize].replicas[r as usize].cpu.push(task);
        self.cpu_reschedule(s, r);
    }

    pub(super) fn on_cpu_done(&mut self, s: u32, r: u32, epoch: u32, generation: u32) {
        self.n_events += 1;
        let rep = &self.services[s as usize].replicas[r as usize];
        if rep.epoch != epoch || rep.cpu_gen != generation {
            return; // rescheduled since, or the replica went down
        }
        self.cpu_advance(s, r);
        let now = self.now;
        let rep = &mut self.services[s as usize].replicas[r as usize];
        // Within a nanosecond of done is done (the event time was rounded up).
        let mut i = 0;
        while i < rep.cpu.len() {
            if rep.cpu[i].left <= 1.0 {
                let t = rep.cpu.swap_remove(i);
                let at = now.saturating_add(t.then);
                self.events.push(at, Ev::Done { msg: t.msg, service: s, replica: r, epoch, outcome: t.outcome });
            } else {
                i += 1;
            }
        }
        self.cpu_reschedule(s, r);
    }

    /// A replica going down drops its CPU work (its messages are redelivered).
    pub(super) fn cpu_clear(&mut self, s: u32, r: u32) {
        self.services[s as usize].replicas[r as usize].cpu.clear();
        self.cpu_reschedule(s, r);
    }
}
