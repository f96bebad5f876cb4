//! Services: replicas with workers and prefetch, processing with store calls and dedup,
//! acknowledgement, failure handling (reject, requeue, retry with back-off and jitter),
//! publishing what they produce, and crashes that redeliver what was in hand.

use super::Engine;
use super::accounting::Consumed;
use super::capture::LogKind;
use super::event::{Ev, Outcome};
use super::faults::failure_chance;
use super::message::{NO_KEY, NONE, Where};
use super::queue::DeadReason;
use crate::time::{Time, ms_to_ns};
use crate::topology::{MessageId, OnFailure, When};

impl Engine {
    /// A delivered message reaches its replica: a free worker takes it, or it waits there.
    pub(super) fn at_replica(&mut self, m: u32, s: u32, r: u32, epoch: u32) {
        self.n_events += 1;
        if self.services[s as usize].replicas[r as usize].epoch != epoch {
            // The replica went down while the message was on its way: the broker saw the
            // connection close and put the message back.
            self.release_queue_only(m);
            self.requeue(m);
            return;
        }
        self.work_or_hold(m, s, r, false);
    }

    /// A free worker of (s, r) takes `m`, or `m` waits at the replica (a retry ahead of what
    /// was merely prefetched).
    fn work_or_hold(&mut self, m: u32, s: u32, r: u32, retry: bool) {
        let svc = &mut self.services[s as usize];
        let rep = &mut svc.replicas[r as usize];
        if rep.busy < svc.concurrency {
            self.start(m, s, r);
            return;
        }
        if retry {
            rep.prefetched.push_front(m);
        } else {
            rep.prefetched.push_back(m);
        }
        self.msgs[m].at = Where::Prefetched;
    }

    /// Starts a processing attempt. Its outcome and duration are drawn now: a dedup check,
    /// then the processing time, then each store call, in the service's own random stream.
    fn start(&mut self, m: u32, s: u32, r: u32) {
        let now = self.now;
        let svc = &mut self.services[s as usize];
        svc.started += 1;
        svc.busy.add(now, 1);
        let rep = &mut svc.replicas[r as usize];
        rep.busy += 1;
        let epoch = rep.epoch;
        let node = svc.node;
        self.last_node = node;
        self.nodes[node as usize].second.inflow += 1;
        let msg = &mut self.msgs[m];
        msg.at = Where::Processing;
        msg.started = now;
        let key = msg.key;

        let mut duration: Time = 0;
        let mut outcome = Outcome::Success;
        if let Some((store, link)) = svc.dedup {
            duration += self.store_call(store, link);
            let st = &mut self.stores[store as usize];
            if duration == Time::MAX {
                outcome = Outcome::Failure;
                duration = 0;
            } else if st.has_seen(now, s, key) {
                st.hits += 1;
                outcome = Outcome::Duplicate;
            }
        }
        if outcome == Outcome::Success {
            let svc = &mut self.services[s as usize];
            let mut took = svc.processing.sample(&mut svc.rng);
            if let Some((factor, add, f)) = svc.slow {
                took = ((took as f64 * factor) as Time).saturating_add(add);
                self.faults[f as usize].affected += 1;
            }
            duration = duration.saturating_add(took);
            let failure_rate = failure_chance(&mut self.faults, svc.fault_failure, svc.failure_rate);
            if svc.rng.chance(failure_rate) {
                outcome = Outcome::Failure;
            }
            for i in 0..self.services[s as usize].calls.len() {
                let (store, link) = self.services[s as usize].calls[i];
                let t = self.store_call(store, link);
                if t == Time::MAX {
                    outcome = Outcome::Failure;
                } else {
                    duration = duration.saturating_add(t);
                }
            }
        }
        // CPU work first (shared with the replica's other tasks), then the waiting.
        let svc = &mut self.services[s as usize];
        let work = match (&svc.cpu_work, outcome) {
            (Some(d), Outcome::Success | Outcome::Failure) => d.sample(&mut svc.rng),
            _ => 0,
        };
        if work > 0 {
            self.cpu_start(m, s, r, work, duration, outcome);
        } else {
            self.events.push(now.saturating_add(duration), Ev::Done { msg: m, service: s, replica: r, epoch, outcome });
        }
    }

    /// One call to a store: its latency (link plus store), or `Time::MAX` if the call fails.
    fn store_call(&mut self, store: u32, link: u32) -> Time {
        let l = &mut self.links[link as usize];
        let net = l.latency.as_ref().map_or(0, |d| d.sample(&mut l.rng));
        let st = &mut self.stores[store as usize];
        st.calls += 1;
        self.nodes[st.node as usize].second.inflow += 1;
        if let Some(f) = st.down {
            // Down: the call fails at once (connection refused).
            st.failures += 1;
            self.nodes[st.node as usize].second.errors += 1;
            self.faults[f as usize].affected += 1;
            return Time::MAX;
        }
        let t = net.saturating_add(st.latency.sample(&mut st.rng));
        let failure_rate = failure_chance(&mut self.faults, st.fault_failure, st.failure_rate);
        if st.rng.chance(failure_rate) {
            st.failures += 1;
            self.nodes[st.node as usize].second.errors += 1;
            return Time::MAX;
        }
        t
    }

    pub(super) fn on_done(&mut self, m: u32, s: u32, r: u32, epoch: u32, outcome: Outcome) {
        self.n_events += 1;
        let now = self.now;
        let svc = &mut self.services[s as usize];
        if svc.replicas[r as usize].epoch != epoch {
            return; // the replica crashed meanwhile; its messages were requeued then.
        }
        svc.busy.add(now, -1);
        svc.replicas[r as usize].busy -= 1;
        let node = svc.node;
        self.last_node = node;
        let counted = self.msgs[m].origin >= self.warmup;
        if counted {
            let took = now - self.msgs[m].started;
            svc.processing_stat.record(took);
            self.nodes[node as usize].second.latency.add(crate::time::ns_to_ms(took) as f32);
        }
        // A request from a gateway's queue is answered when it is settled.
        let answers = self.queues[self.msgs[m].queue as usize].answers;
        match outcome {
            Outcome::Duplicate => {
                svc.duplicates += 1;
                // An idempotent repeat: the API answers as it did the first time.
                if answers {
                    self.answered(m, true);
                }
                self.log(node, m, LogKind::Duplicate);
                self.release(m);
                self.end_consumed(m, Consumed::Duplicate);
            }
            Outcome::Success => {
                svc.processed += 1;
                if counted {
                    svc.since_origin.record(now - self.msgs[m].origin);
                }
                self.nodes[node as usize].second.outflow += 1;
                if let Some((store, _)) = svc.dedup {
                    self.stores[store as usize].remember(now, s, self.msgs[m].key);
                }
                let published = self.publish_from(m, s, When::Success);
                if answers {
                    self.answered(m, true);
                }
                self.follow_processed(s, m);
                self.release(m);
                self.end_consumed(m, if published > 0 { Consumed::Forwarded } else { Consumed::Completed });
            }
            Outcome::Failure => {
                svc.failed += 1;
                self.nodes[node as usize].second.errors += 1;
                self.log(node, m, LogKind::Failed);
                self.publish_from(m, s, When::Failure);
                // Rejected for good: the API answers 500 (requeues and retries keep it waiting).
                if answers && matches!(self.services[s as usize].on_failure, crate::topology::OnFailure::Reject) {
                    self.answered(m, false);
                }
                self.fail(m, s, r);
            }
        }
        self.next_work(s, r);
    }

    /// What a failed attempt leads to, by the service's policy.
    fn fail(&mut self, m: u32, s: u32, r: u32) {
        let policy = self.services[s as usize].on_failure.clone();
        match policy {
            OnFailure::Reject => {
                self.release(m);
                self.dead_letter(m, self.msgs[m].queue, DeadReason::Rejected);
            }
            OnFailure::Requeue => {
                self.release(m);
                self.requeue(m);
            }
            OnFailure::Retry(p) => {
                let svc = &mut self.services[s as usize];
                let msg = &mut self.msgs[m];
                msg.attempts += 1;
                if msg.attempts >= p.max_attempts {
                    self.release(m);
                    self.dead_letter(m, self.msgs[m].queue, DeadReason::Rejected);
                    return;
                }
                let base = p.backoff_ms * libm::pow(p.multiplier, f64::from(msg.attempts - 1));
                let jitter = if p.jitter > 0.0 { 1.0 + p.jitter * (2.0 * svc.rng.uniform() - 1.0) } else { 1.0 };
                let wait = ms_to_ns(base * jitter);
                svc.retries += 1;
                msg.at = Where::Backoff;
                let epoch = svc.replicas[r as usize].epoch;
                let node = svc.node;
                self.log(node, m, LogKind::Retry);
                self.events
                    .push(self.now.saturating_add(wait), Ev::RetryReady { msg: m, service: s, replica: r, epoch });
            }
        }
    }

    pub(super) fn on_retry_ready(&mut self, m: u32, s: u32, r: u32, epoch: u32) {
        self.n_events += 1;
        if self.services[s as usize].replicas[r as usize].epoch == epoch {
            self.work_or_hold(m, s, r, true);
        }
    }

    /// A worker of (s, r) is free: it takes a prefetched message; a free prefetch slot lets the
    /// service's queues deliver again.
    fn next_work(&mut self, s: u32, r: u32) {
        self.fill_workers(s, r);
        for i in 0..self.services[s as usize].inputs.len() {
            let q = self.services[s as usize].inputs[i];
            self.dispatch(q);
        }
    }

    /// Free workers of (s, r) take prefetched messages.
    pub(super) fn fill_workers(&mut self, s: u32, r: u32) {
        loop {
            let svc = &mut self.services[s as usize];
            let rep = &mut svc.replicas[r as usize];
            if !rep.up || rep.busy >= svc.concurrency {
                return;
            }
            let Some(next) = rep.prefetched.pop_front() else { return };
            self.start(next, s, r);
        }
    }

    /// Acknowledges (or rejects or requeues: anything that settles it) a message: its replica
    /// and its queue no longer hold it.
    fn release(&mut self, m: u32) {
        let msg = &self.msgs[m];
        let rep = &mut self.services[msg.service as usize].replicas[msg.replica as usize];
        rep.unacked -= 1;
        self.release_queue_only(m);
    }

    fn release_queue_only(&mut self, m: u32) {
        let q = self.msgs[m].queue;
        self.queues[q as usize].unacked -= 1;
    }

    /// Publishes on the service's links for `when`; returns how many messages went out.
    fn publish_from(&mut self, m: u32, s: u32, when: When) -> u32 {
        let mut n = 0;
        for i in 0..self.services[s as usize].publishes.len() {
            let link = self.services[s as usize].publishes[i];
            let l = &self.links[link as usize];
            if l.when != when {
                continue;
            }
            let (p, event, rk, id_mode) = (l.probability, l.event, l.routing_key, l.message_id);
            let svc = &mut self.services[s as usize];
            if !svc.rng.chance(p) {
                continue;
            }
            let out = self.new_message();
            self.ledger.published += 1;
            let src = self.msgs[m];
            let key = match id_mode {
                MessageId::New => self.msgs[out].id,
                MessageId::Keep => src.key,
                MessageId::None => NO_KEY,
            };
            let msg = &mut self.msgs[out];
            msg.root = src.root;
            msg.origin = src.origin;
            msg.key = key;
            msg.event = event.unwrap_or(src.event);
            msg.routing_key = rk.unwrap_or(0);
            msg.headers = if self.links[link as usize].headers.is_empty() { NONE } else { link };
            self.send(out, link);
            n += 1;
        }
        n
    }

    /// Takes replica `r` of service `s` down (a crash, or a scale-down): everything it held
    /// goes back to its queues as redelivered, and events already scheduled for it lapse.
    /// Returns how many messages it held.
    pub(super) fn replica_down(&mut self, s: u32, r: u32) -> u32 {
        let now = self.now;
        let svc = &mut self.services[s as usize];
        let pool = svc.pool() as i64;
        let rep = &mut svc.replicas[r as usize];
        if !rep.up {
            return 0;
        }
        rep.up = false;
        rep.epoch += 1;
        svc.busy.add(now, -i64::from(rep.busy));
        svc.workers.add(now, -pool);
        svc.up.add(now, -1);
        if let Some(a) = svc.autoscale.as_mut() {
            a.lowest = a.lowest.min(svc.up.value());
        }
        rep.busy = 0;
        rep.unacked = 0;
        rep.prefetched.clear();
        self.cpu_clear(s, r);
        let mut held: Vec<(u64, u32)> = self
            .msgs
            .iter_live()
            .filter(|(_, msg)| {
                msg.service == s
                    && msg.replica == r
                    && matches!(msg.at, Where::Prefetched | Where::Processing | Where::Backoff)
            })
            .map(|(i, msg)| (msg.id, i))
            .collect();
        // Back to the head in their original order: the last pushed to the front goes first.
        held.sort_unstable();
        for &(_, m) in held.iter().rev() {
            self.release_queue_only(m);
            self.requeue(m);
        }
        held.len() as u32
    }

    /// Brings a replica of `s` up (`which`, or the first that is down, or a new one) and lets
    /// it consume.
    pub(super) fn replica_up(&mut self, s: u32, which: Option<u32>) {
        let now = self.now;
        let svc = &mut self.services[s as usize];
        let down = match which {
            Some(r) => svc.replicas.get_mut(r as usize).filter(|rep| !rep.up),
            None => svc.replicas.iter_mut().find(|r| !r.up),
        };
        match down {
            Some(rep) => rep.up = true,
            None if which.is_some() => return,
            None => svc.replicas.push(super::runtime::Replica::new()),
        }
        svc.workers.add(now, svc.pool() as i64);
        svc.up.add(now, 1);
        for i in 0..self.services[s as usize].inputs.len() {
            let q = self.services[s as usize].inputs[i];
            self.dispatch(q);
        }
    }

    /// A crashed replica's restart is due: up again, unless it was brought up (or crashed again)
    /// since.
    pub(super) fn on_restart(&mut self, s: u32, r: u32, epoch: u32) {
        self.n_events += 1;
        let rep = &self.services[s as usize].replicas[r as usize];
        if rep.up || rep.epoch != epoch {
            return;
        }
        self.replica_up(s, Some(r));
        let node = self.services[s as usize].node;
        self.log_event(node, super::capture::LogKind::Restarted, 0);
    }
}
