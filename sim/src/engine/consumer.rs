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
use super::retry::{self, Next};
use super::runtime::KindRef;
use crate::time::{NS_PER_S, Time};
use crate::topology::{MessageId, OnFailure, When};

/// How long a call to a host that does not answer waits without a timeout of its own: Linux's
/// default TCP connect timeout (six SYN retries, 127 s).
const HANG: Time = 127 * NS_PER_S;

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

    /// A delivered message reached its replica after crossing its consume link (an event, not
    /// inside a queue's dispatch loop): if it was shed, its queue may deliver the next.
    pub(super) fn on_at_replica(&mut self, m: u32, s: u32, r: u32, epoch: u32) {
        let (q, shed) = (self.msgs[m].queue, self.services[s as usize].patterns.shed);
        self.at_replica(m, s, r, epoch);
        if self.services[s as usize].patterns.shed != shed {
            self.dispatch(q);
        }
    }

    /// A free worker of (s, r) takes `m`, or `m` waits at the replica (a retry ahead of what
    /// was merely prefetched).
    fn work_or_hold(&mut self, m: u32, s: u32, r: u32, retry: bool) {
        let svc = &mut self.services[s as usize];
        let rep = &mut svc.replicas[r as usize];
        if rep.busy < svc.concurrency {
            if !self.shed_if_late(m, s) {
                self.start(m, s, r);
            }
            return;
        }
        if retry {
            rep.prefetched.push_front(m);
        } else {
            rep.prefetched.push_back(m);
        }
        self.msgs[m].at = Where::Prefetched;
    }

    /// Load shedding: a message older than the service's `shed_after` when a worker would take
    /// it is acknowledged and dropped unprocessed. Returns whether it was.
    fn shed_if_late(&mut self, m: u32, s: u32) -> bool {
        let p = &self.services[s as usize].patterns;
        let late = p.shed_after.is_some_and(|d| self.now.saturating_sub(self.msgs[m].origin) > d);
        if late {
            self.services[s as usize].patterns.shed += 1;
            let node = self.services[s as usize].node;
            self.release(m);
            self.drop_message(m, node, super::accounting::DropReason::Shed);
        }
        late
    }

    /// Starts a processing attempt. Its outcome and duration are drawn now: a dedup check,
    /// then the processing time, then each store call (the first that fails ends the attempt),
    /// in the service's own random stream.
    fn start(&mut self, m: u32, s: u32, r: u32) {
        let now = self.now;
        let svc = &mut self.services[s as usize];
        svc.started += 1;
        if self.msgs[m].attempts > 0 {
            // A retry made now: what the charts count (when it hits, not when it was planned).
            self.nodes[svc.node as usize].second.retries += 1;
        } else if let Some(b) = svc.patterns.budget.as_mut() {
            b.deposit();
        }
        if let Some(f) = svc.patterns.poison_next.take() {
            self.msgs[m].poison = f;
        }
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
            let (took, ok) = self.store_call(store, link);
            duration += took;
            let st = &mut self.stores[store as usize];
            if !ok {
                outcome = Outcome::Failure;
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
            let poison = self.msgs[m].poison;
            if poison != NONE && self.nodes[self.faults[poison as usize].node as usize].kind == KindRef::Service(s) {
                // A poison message: it fails here, every time.
                self.faults[poison as usize].affected += 1;
                outcome = Outcome::Failure;
            }
            for i in 0..self.services[s as usize].calls.len() {
                let (store, link) = self.services[s as usize].calls[i];
                let (took, ok) = self.store_call(store, link);
                duration = duration.saturating_add(took);
                if !ok {
                    outcome = Outcome::Failure;
                    break;
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

    /// One call to a store over `link`: how long the caller waits, and whether the call
    /// succeeded. An open breaker fails it at once; a store that is down refuses it at once, or
    /// lets it hang; the caller's timeout cuts a wait short (an answer after it comes too late).
    pub(super) fn store_call(&mut self, store: u32, link: u32) -> (Time, bool) {
        let l = &mut self.links[link as usize];
        if let Some(b) = l.breaker.as_mut()
            && !b.admit()
        {
            return (0, false);
        }
        let mut net = l.latency.as_ref().map_or(0, |d| d.sample(&mut l.rng));
        if l.slow.is_some() {
            net = self.slowed(link, net);
        }
        let l = &mut self.links[link as usize];
        // A partition: no answer comes. A lossy link: the call fails (the connection resets).
        let cut = l.partitioned;
        let reset = match l.loss {
            Some((rate, f)) if l.rng.chance(rate) => Some(f),
            _ => None,
        };
        let st = &mut self.stores[store as usize];
        st.calls += 1;
        self.nodes[st.node as usize].second.inflow += 1;
        // (time to the answer, whether it succeeds, whether an answer comes at all)
        let (mut took, mut ok, answers) = if let Some(f) = cut {
            self.faults[f as usize].affected += 1;
            (HANG, false, false)
        } else if let Some(f) = reset {
            self.faults[f as usize].affected += 1;
            (net, false, true)
        } else {
            match st.down {
                Some((f, hang)) => {
                    self.faults[f as usize].affected += 1;
                    if hang { (HANG, false, false) } else { (net, false, true) }
                }
                None => {
                    let mut t = st.latency.sample(&mut st.rng);
                    if let Some((factor, add, f)) = st.slow {
                        t = ((t as f64 * factor) as Time).saturating_add(add);
                        self.faults[f as usize].affected += 1;
                    }
                    let failure_rate = failure_chance(&mut self.faults, st.fault_failure, st.failure_rate);
                    (net.saturating_add(t), !st.rng.chance(failure_rate), true)
                }
            }
        };
        let l = &mut self.links[link as usize];
        if let Some(timeout) = l.timeout
            && took > timeout
        {
            l.timeouts += 1;
            l.late_answers += u64::from(answers);
            took = timeout;
            ok = false;
        }
        if !ok {
            st.failures += 1;
            self.nodes[st.node as usize].second.errors += 1;
        }
        if l.breaker.is_some() {
            self.events.push(self.now.saturating_add(took), Ev::CallEnded { link, ok });
        }
        (took, ok)
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
                let since = now - self.msgs[m].origin;
                if counted {
                    svc.since_origin.record(since);
                }
                if let Some(d) = svc.patterns.deadline {
                    if since <= d {
                        svc.patterns.in_time += 1;
                    } else {
                        svc.patterns.late += 1;
                    }
                }
                let dedup = svc.dedup;
                if self.msgs[m].effects_done {
                    svc.patterns.duplicates_processed += 1;
                    self.log(node, m, LogKind::DuplicateProcessed);
                }
                self.msgs[m].effects_done = true;
                self.nodes[node as usize].second.outflow += 1;
                if let Some((store, _)) = dedup {
                    self.stores[store as usize].remember(now, s, self.msgs[m].key);
                }
                // The commit is done (with the outbox's rows, if it has one).
                let rows =
                    if self.services[s as usize].outbox.is_some() { Some(self.outbox_write(m, s)) } else { None };
                if self.services[s as usize].crash_after_commit.is_some() && self.crash_after_commit(s, r) {
                    return;
                }
                let published = if let Some(rows) = rows {
                    rows
                } else if self.services[s as usize].saga.is_some() {
                    self.saga_on_message(m, s)
                } else {
                    if !self.saga_effects.is_empty() && self.saga_effect(m) {
                        // Refused after its compensation: it answers with the step's failure.
                        self.saga_failure_reply(m, s)
                    } else {
                        self.publish_onwards(m, s)
                    }
                };
                if answers {
                    self.answered(m, true);
                }
                self.follow_processed(s, m);
                if self.services[s as usize].order.is_some() {
                    self.check_order(m, s);
                }
                let ack = self.services[s as usize].patterns.ack;
                if ack > 0 {
                    // The effects are done; the ack is on its way. A crash now redelivers it.
                    self.msgs[m].at = Where::Acking;
                    let (service, replica, forwarded) = (s, r, published > 0);
                    let at = now.saturating_add(ack);
                    self.events.push(at, Ev::Acked { msg: m, service, replica, epoch, forwarded });
                } else {
                    self.release(m);
                    self.end_consumed(m, if published > 0 { Consumed::Forwarded } else { Consumed::Completed });
                }
            }
            Outcome::Failure => {
                svc.failed += 1;
                self.nodes[node as usize].second.errors += 1;
                self.log(node, m, LogKind::Failed);
                let published = self.publish_from(m, s, When::Failure);
                // Rejected for good, or handled: the API answers 500 (requeues and retries keep
                // it waiting).
                if answers && matches!(self.services[s as usize].on_failure, OnFailure::Reject | OnFailure::Ack) {
                    self.answered(m, false);
                }
                self.fail(m, s, r, published);
            }
        }
        self.next_work(s, r);
    }

    /// A handler's ack reached the broker: the message is settled.
    pub(super) fn on_acked(&mut self, m: u32, s: u32, r: u32, epoch: u32, forwarded: bool) {
        self.n_events += 1;
        if self.services[s as usize].replicas[r as usize].epoch != epoch {
            return; // the replica crashed first: the message was redelivered
        }
        self.last_node = self.services[s as usize].node;
        self.release(m);
        self.end_consumed(m, if forwarded { Consumed::Forwarded } else { Consumed::Completed });
    }

    /// Publishes what a success leads to: its success links, or for a redrive-bounded handler
    /// its parked links once the message has been redriven `max` times.
    fn publish_onwards(&mut self, m: u32, s: u32) -> u32 {
        let Some(max) = self.services[s as usize].patterns.redrive else {
            return self.publish_from(m, s, When::Success);
        };
        let p = &mut self.services[s as usize].patterns;
        if self.msgs[m].redrives >= max {
            p.parked += 1;
            let node = self.services[s as usize].node;
            self.log(node, m, LogKind::Parked);
            self.publish_from(m, s, When::Parked)
        } else {
            p.redriven += 1;
            self.publish_from(m, s, When::Success)
        }
    }

    /// `m` failed for good at service `s`: a saga command is answered with its failure, and the
    /// message is rejected without requeue (dead-lettered, or dropped).
    fn reject_for_good(&mut self, m: u32, s: u32) {
        self.saga_failure_reply(m, s);
        self.release(m);
        self.dead_letter(m, self.msgs[m].queue, DeadReason::Rejected);
    }

    /// What a failed attempt leads to, by the service's policy (`published`: what its failure
    /// links sent).
    fn fail(&mut self, m: u32, s: u32, r: u32, published: u32) {
        let policy = self.services[s as usize].on_failure.clone();
        match policy {
            OnFailure::Ack => {
                let replied = self.saga_failure_reply(m, s);
                self.release(m);
                self.end_consumed(m, if published + replied > 0 { Consumed::Forwarded } else { Consumed::Completed });
            }
            OnFailure::Reject => self.reject_for_good(m, s),
            OnFailure::Requeue => {
                self.release(m);
                self.requeue(m);
            }
            OnFailure::Retry(p) => {
                let now = self.now;
                let svc = &mut self.services[s as usize];
                let node = svc.node;
                self.msgs[m].attempts += 1;
                let next = retry::next(&p, self.msgs[m].attempts, svc.patterns.budget.as_mut(), now, &mut svc.rng);
                let wait = match next {
                    Next::GiveUp | Next::Refused => {
                        if next == Next::Refused {
                            svc.patterns.budget_refused += 1;
                            self.log(node, m, LogKind::BudgetRefused);
                        }
                        self.reject_for_good(m, s);
                        return;
                    }
                    Next::Immediate => None,
                    Next::After(wait) => Some(wait),
                };
                svc.retries += 1;
                let retry_link = svc.patterns.retry_link;
                match wait {
                    None => svc.patterns.retries_immediate += 1,
                    Some(_) => svc.patterns.retries_delayed += 1,
                }
                self.log(node, m, LogKind::Retry);
                match (wait, retry_link) {
                    (None, _) => {
                        self.work_or_hold(m, s, r, true);
                    }
                    (Some(wait), Some(link)) => {
                        // Acked here, republished to the delay queue with the back-off as its
                        // expiration; the delay queue dead-letters it back to the work queue.
                        self.release(m);
                        let msg = &mut self.msgs[m];
                        msg.ttl = wait;
                        msg.retrying = true;
                        self.send(m, link);
                    }
                    (Some(wait), None) => {
                        self.msgs[m].at = Where::Backoff;
                        let epoch = self.services[s as usize].replicas[r as usize].epoch;
                        let at = now.saturating_add(wait);
                        self.events.push(at, Ev::RetryReady { msg: m, service: s, replica: r, epoch });
                    }
                }
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
        if self.services[s as usize].order.is_some() {
            self.poll_partitions(s, r);
        }
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
            if !self.shed_if_late(next, s) {
                self.start(next, s, r);
            }
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
        let qr = &mut self.queues[q as usize];
        qr.unacked -= 1;
        if let Some(part) = qr.part.as_mut()
            && part.inflight == m
        {
            // Committed (or back to the partition's head): the next may go.
            part.inflight = NONE;
        }
    }

    /// Publishes what a success leads to on the service's links for `when`; returns how many
    /// messages went out.
    fn publish_from(&mut self, m: u32, s: u32, when: When) -> u32 {
        // A saga participant answers a command with the step's reply.
        let answer = if when == When::Success { self.saga_reply(self.msgs[m].event, true) } else { NONE };
        self.publish_as(m, s, when, answer)
    }

    /// Publishes on the service's links for `when`; a link that sets no event gives what it
    /// publishes the event `answer` (`NONE`: the consumed message's). Returns how many
    /// messages went out.
    pub(super) fn publish_as(&mut self, m: u32, s: u32, when: When, answer: u32) -> u32 {
        let mut n = 0;
        let redrives = self.services[s as usize].patterns.redrive.is_some();
        for i in 0..self.services[s as usize].publishes.len() {
            let link = self.services[s as usize].publishes[i];
            let l = &self.links[link as usize];
            if l.when != when {
                continue;
            }
            let (p, event, id_mode) = (l.probability, l.event, l.message_id);
            let svc = &mut self.services[s as usize];
            if !svc.rng.chance(p) {
                continue;
            }
            let src = self.msgs[m];
            self.publish_new(link, |msg| {
                msg.root = src.root;
                msg.origin = src.origin;
                msg.key = match id_mode {
                    MessageId::New => msg.id,
                    MessageId::Keep => src.key,
                    MessageId::None => NO_KEY,
                };
                msg.event = event.unwrap_or(if answer == NONE { src.event } else { answer });
                // The body and headers it carries on: a poison body stays poison; a redrive
                // count goes up at each redrive.
                msg.poison = src.poison;
                msg.pkey = src.pkey;
                msg.seq = src.seq;
                msg.redrives = src.redrives + u32::from(when == When::Success && redrives);
            });
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
                    && matches!(msg.at, Where::Prefetched | Where::Processing | Where::Backoff | Where::Acking)
            })
            .map(|(i, msg)| (msg.id, i))
            .collect();
        // Back to the head in their original order: the last pushed to the front goes first.
        held.sort_unstable();
        for &(_, m) in held.iter().rev() {
            self.release_queue_only(m);
            self.requeue(m);
        }
        if self.services[s as usize].saga.is_some() {
            self.saga_replica_down(s);
        }
        if self.services[s as usize].order.is_some() {
            self.rebalance(s);
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
        if svc.saga.is_some() {
            self.saga_replica_up(s);
        }
        if self.services[s as usize].order.is_some() {
            self.rebalance(s);
        }
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
