//! The broker: links crossed, exchanges routing, queues enqueuing with their overflow policies,
//! TTL expiry, dead-lettering, requeues, and round-robin delivery to consumers with prefetch.

use super::Engine;
use super::accounting::DropReason;
use super::capture::LogKind;
use super::event::Ev;
use super::message::{Death, Msg, NONE, Where};
use super::runtime::Target;
use crate::time::Time;
use crate::topology::Overflow;

/// Why a queue dead-letters a message (RabbitMQ's `x-death` reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeadReason {
    Rejected,
    Expired,
    MaxLength,
    DeliveryLimit,
}

impl DeadReason {
    fn drop_reason(self) -> DropReason {
        match self {
            DeadReason::Rejected | DeadReason::DeliveryLimit => DropReason::Rejected,
            DeadReason::Expired => DropReason::Expired,
            DeadReason::MaxLength => DropReason::Overflow,
        }
    }
}

impl Engine {
    /// The time to cross `link` (drawn from the link's own stream) and the hop recorded.
    #[inline]
    pub(super) fn cross(&mut self, m: u32, link: u32, start: Time) -> Time {
        let l = &mut self.links[link as usize];
        let mut delay = match &l.latency {
            Some(d) => d.sample(&mut l.rng),
            None => 0,
        };
        if l.slow.is_some() {
            delay = self.slowed(link, delay);
        }
        self.record_hop(m, link, start, start + delay);
        start + delay
    }

    /// A crossing of `link` under a latency fault: `delay` slowed, and counted.
    #[cold]
    pub(super) fn slowed(&mut self, link: u32, delay: Time) -> Time {
        let Some((factor, add, f)) = self.links[link as usize].slow else { return delay };
        self.faults[f as usize].affected += 1;
        ((delay as f64 * factor) as Time).saturating_add(add)
    }

    /// Publishes a new message over `link` (counted as published) with the link's routing key and
    /// headers; `fill` sets the rest (its ancestry, its key, its event...) before it is sent.
    #[inline]
    pub(super) fn publish_new(&mut self, link: u32, fill: impl FnOnce(&mut Msg)) {
        let out = self.new_message();
        self.ledger.published += 1;
        let l = &self.links[link as usize];
        let msg = &mut self.msgs[out];
        msg.routing_key = l.routing_key.unwrap_or(0);
        msg.headers = if l.headers.is_empty() { NONE } else { link };
        fill(msg);
        self.send(out, link);
    }

    /// Publishes `m` on a publish or dead-letter link: a partition holds it (or loses it, over
    /// an unreliable link), a lossy link may lose it.
    pub(super) fn send(&mut self, m: u32, link: u32) {
        let Some(target) = self.links[link as usize].target else { return };
        self.msgs[m].at = Where::Transit;
        let l = &mut self.links[link as usize];
        if let Some(f) = l.partitioned {
            self.faults[f as usize].affected += 1;
            if l.unreliable {
                let node = l.from;
                self.drop_message(m, node, DropReason::Lost);
            } else {
                l.held.push(m);
            }
            return;
        }
        if let Some((rate, f)) = l.loss
            && l.rng.chance(rate)
        {
            self.faults[f as usize].affected += 1;
            let node = l.from;
            self.drop_message(m, node, DropReason::Lost);
            return;
        }
        if let Some((rate, f)) = l.dup
            && l.rng.chance(rate)
        {
            // It arrives twice: a copy crosses too (the same message id, for dedup to see).
            self.faults[f as usize].affected += 1;
            let copy = self.copy_message(m);
            self.cross_to(copy, link, target);
        }
        self.cross_to(m, link, target);
    }

    /// `m` crosses `link` to `target`.
    #[inline]
    fn cross_to(&mut self, m: u32, link: u32, target: Target) {
        let at = self.cross(m, link, self.now);
        match (target, at == self.now) {
            (Target::Exchange(x), true) => self.at_exchange(m, x),
            (Target::Queue(q), true) => self.enqueue(m, q),
            (Target::Exchange(exchange), false) => self.events.push(at, Ev::AtExchange { msg: m, exchange }),
            (Target::Queue(queue), false) => self.events.push(at, Ev::AtQueue { msg: m, queue }),
            (Target::Topic(t), true) => self.at_topic(m, t),
            (Target::Topic(topic), false) => self.events.push(at, Ev::AtTopic { msg: m, topic }),
            (Target::Gateway(gateway), true) => self.at_gateway(m, gateway, self.links[link as usize].from),
            (Target::Gateway(gateway), false) => {
                let client = self.links[link as usize].from;
                self.events.push(at, Ev::AtGateway { msg: m, gateway, client })
            }
        }
    }

    pub(super) fn at_exchange(&mut self, m: u32, x: u32) {
        self.n_events += 1;
        let node = self.exchanges[x as usize].node;
        self.last_node = node;
        self.nodes[node as usize].second.inflow += 1;
        let (rk, headers) = (self.msgs[m].routing_key, self.msgs[m].headers);
        let range = self.route(x, rk, headers);
        if range.is_empty() {
            self.exchanges[x as usize].unroutable += 1;
            self.drop_message(m, node, DropReason::Unroutable);
            return;
        }
        self.exchanges[x as usize].routed += 1;
        // The destinations: all of them, but for a dead letter the queues it would cycle back
        // into (RabbitMQ cuts the cycle while routing, so the message is never enqueued again).
        // Every copy is made before any is enqueued: enqueuing may deliver, process or drop `m`.
        let dead_letter = self.msgs[m].deaths != NONE;
        let mut copies = std::mem::take(&mut self.scratch_dests);
        copies.clear();
        for dest in range {
            if dead_letter && self.msgs.closes_cycle(m, self.routes.dests[dest].queue) {
                continue;
            }
            let c = if copies.is_empty() { m } else { self.copy_message(m) };
            copies.push((c, dest));
        }
        if copies.is_empty() {
            self.scratch_dests = copies;
            self.drop_message(m, node, DropReason::Cycle);
            return;
        }
        // What it routes out: a copy per queue reached (through exchange bindings too).
        self.nodes[node as usize].second.outflow += copies.len() as u32;
        for &(c, dest) in &copies {
            let d = self.routes.dests[dest];
            let mut at = self.now;
            for p in d.path_start..d.path_start + d.path_len {
                let link = self.routes.links[p as usize];
                at = self.cross(c, link, at);
            }
            if at == self.now {
                self.enqueue(c, d.queue);
            } else {
                self.events.push(at, Ev::AtQueue { msg: c, queue: d.queue });
            }
        }
        self.scratch_dests = copies;
    }

    pub(super) fn enqueue(&mut self, m: u32, q: u32) {
        self.n_events += 1;
        let now = self.now;
        let qr = &mut self.queues[q as usize];
        let node = qr.node;
        self.last_node = node;
        qr.enqueued += 1;
        if let Some(f) = qr.paused {
            self.faults[f as usize].affected += 1;
        }
        if qr.cut > 0 {
            // Partitioned consume links: each affects what arrives while it lasts.
            for &(_, link) in &qr.consumers {
                if let Some(f) = self.links[link as usize].partitioned {
                    self.faults[f as usize].affected += 1;
                }
            }
        }
        self.nodes[node as usize].second.inflow += 1;
        if let Some(max) = qr.max_length {
            // A loop, not an `if`: a dropped head dead-lettered back into this very queue
            // takes a place again.
            while self.queues[q as usize].ready.len() as u64 >= max {
                let qr = &mut self.queues[q as usize];
                match qr.overflow {
                    Overflow::RejectPublish => {
                        qr.rejected_publish += 1;
                        qr.dropped += 1;
                        self.drop_message(m, node, DropReason::Overflow);
                        return;
                    }
                    Overflow::RejectPublishDlx => {
                        qr.rejected_publish += 1;
                        self.dead_letter(m, q, DeadReason::MaxLength);
                        return;
                    }
                    Overflow::DropHead => match qr.ready.pop_front() {
                        Some(head) => {
                            qr.depth.set(now, qr.ready.len() as u64);
                            self.dead_letter(head, q, DeadReason::MaxLength);
                        }
                        // max_length 0: there is no head; the new message is the one to go.
                        None => {
                            self.dead_letter(m, q, DeadReason::MaxLength);
                            return;
                        }
                    },
                }
            }
        }
        let qr = &mut self.queues[q as usize];
        let msg = &mut self.msgs[m];
        msg.queue = q;
        msg.service = NONE;
        msg.at = Where::Ready;
        msg.enqueued = now;
        // The sooner of the queue's TTL and the message's own expiration.
        let own = if msg.ttl == Time::MAX { Time::MAX } else { now.saturating_add(msg.ttl) };
        msg.expires = qr.ttl.map_or(Time::MAX, |ttl| now.saturating_add(ttl)).min(own);
        qr.ready.push_back(m);
        qr.depth.set(now, qr.ready.len() as u64);
        self.arm_expiry(q);
        self.dispatch(q);
    }

    /// Hands ready messages to consumers with free prefetch, round robin, in queue order.
    pub(super) fn dispatch(&mut self, q: u32) {
        if self.queues[q as usize].paused.is_some() {
            return; // its consumers are paused by a fault: messages wait
        }
        while !self.queues[q as usize].ready.is_empty() {
            let Some((s, r, link)) = self.next_consumer(q) else { break };
            let now = self.now;
            let qr = &mut self.queues[q as usize];
            let Some(m) = qr.ready.pop_front() else { break };
            qr.depth.set(now, qr.ready.len() as u64);
            qr.delivered += 1;
            qr.unacked += 1;
            if let Some(part) = qr.part.as_mut() {
                part.inflight = m;
            }
            let node = qr.node as usize;
            let msg = &mut self.msgs[m];
            if msg.origin >= self.warmup {
                let wait = now - msg.enqueued;
                qr.wait.record(wait);
                self.nodes[node].second.latency.add(crate::time::ns_to_ms(wait) as f32);
            }
            self.nodes[node].second.outflow += 1;
            msg.service = s;
            msg.replica = r;
            // A delayed retry back from its delay queue keeps its count of failed attempts.
            if !msg.retrying {
                msg.attempts = 0;
            }
            msg.retrying = false;
            msg.at = Where::Delivering;
            self.msgs.clear_deaths(m);
            let rep = &mut self.services[s as usize].replicas[r as usize];
            rep.unacked += 1;
            let epoch = rep.epoch;
            self.msgs[m].epoch = epoch;
            let at = self.cross(m, link, now);
            if at == now {
                self.at_replica(m, s, r, epoch);
            } else {
                self.events.push(at, Ev::AtReplica { msg: m, service: s, replica: r, epoch });
            }
        }
    }

    /// The next consumer replica, in round-robin order, with free prefetch: (service, replica,
    /// consume link).
    fn next_consumer(&mut self, q: u32) -> Option<(u32, u32, u32)> {
        if self.queues[q as usize].part.is_some() {
            return self.partition_consumer(q);
        }
        let qr = &self.queues[q as usize];
        let n = qr.consumers.len();
        if n == 0 {
            return None;
        }
        let total: usize = qr.consumers.iter().map(|&(s, _)| self.services[s as usize].replicas.len()).sum();
        let (mut ci, mut ri) = qr.cursor;
        for _ in 0..total {
            ri += 1;
            if ri >= self.services[qr.consumers[ci].0 as usize].replicas.len() {
                ri = 0;
                ci = (ci + 1) % n;
            }
            let (s, link) = qr.consumers[ci];
            let svc = &self.services[s as usize];
            let rep = &svc.replicas[ri];
            // A partitioned consume link: the broker cannot reach that consumer.
            let cut = qr.cut > 0 && self.links[link as usize].partitioned.is_some();
            if rep.up && rep.unacked < svc.prefetch && !cut {
                self.queues[q as usize].cursor = (ci, ri);
                return Some((s, ri as u32, link));
            }
        }
        None
    }

    /// Dead-letters `m` from queue `q`, or drops it if the queue has no dead-letter link.
    pub(super) fn dead_letter(&mut self, m: u32, q: u32, reason: DeadReason) {
        let qr = &mut self.queues[q as usize];
        let node = qr.node;
        match qr.dlx {
            Some((link, target)) => {
                qr.dead_lettered += 1;
                self.nodes[node as usize].second.dead_letters += 1;
                self.log(node, m, LogKind::DeadLettered);
                // A delayed retry leaving its delay queue is live work going back, not a dead
                // letter; either way RabbitMQ drops the message's own expiration on the way.
                if !self.msgs[m].retrying {
                    self.mark_dead(m);
                }
                self.msgs[m].ttl = Time::MAX;
                if let Some(rk) = self.links[link as usize].routing_key {
                    self.msgs[m].routing_key = rk;
                }
                self.msgs.add_death(m, Death { queue: q, rejected: reason == DeadReason::Rejected });
                // A dead-letter link straight to a queue: the cycle guard applies here, as it
                // does to each queue an exchange routes a dead letter to (`at_exchange`).
                if let Target::Queue(dq) = target
                    && self.msgs.closes_cycle(m, dq)
                {
                    self.drop_message(m, node, DropReason::Cycle);
                    return;
                }
                self.send(m, link);
            }
            None => {
                qr.dropped += 1;
                self.drop_message(m, node, reason.drop_reason());
            }
        }
    }

    /// Returns an unacknowledged message to the head of its queue, to be delivered again
    /// (`redelivered`), unless its delivery limit is spent. The caller has released it from
    /// its replica.
    pub(super) fn requeue(&mut self, m: u32) {
        if self.msgs[m].revoked {
            // A zombie's event: its partition's new owner has it already.
            self.end_consumed(m, super::accounting::Consumed::Duplicate);
            return;
        }
        let q = self.msgs[m].queue;
        let qr = &mut self.queues[q as usize];
        qr.redelivered += 1;
        let node = qr.node;
        let msg = &mut self.msgs[m];
        msg.returns += 1;
        msg.redelivered = true;
        msg.service = NONE;
        self.log(node, m, LogKind::Redelivered);
        let qr = &mut self.queues[q as usize];
        if qr.delivery_limit.is_some_and(|limit| self.msgs[m].returns > limit) {
            self.dead_letter(m, q, DeadReason::DeliveryLimit);
            return;
        }
        self.msgs[m].at = Where::Ready;
        qr.ready.push_front(m);
        qr.depth.set(self.now, qr.ready.len() as u64);
        self.arm_expiry(q);
        self.dispatch(q);
    }

    /// Makes sure an expiry check is pending for the head of `q` (TTL queues only).
    fn arm_expiry(&mut self, q: u32) {
        let qr = &mut self.queues[q as usize];
        let Some(&head) = qr.ready.front() else { return };
        // A requeued message may have expired while it was out: check it now.
        let at = self.msgs[head].expires.max(self.now);
        if at != Time::MAX && qr.expiry_at.is_none_or(|t| at < t) {
            qr.expiry_at = Some(at);
            self.events.push(at, Ev::Expire { queue: q });
        }
    }

    /// Expires messages at the head of `q` (RabbitMQ expires from the head only).
    pub(super) fn on_expire(&mut self, q: u32) {
        self.n_events += 1;
        let now = self.now;
        if self.queues[q as usize].expiry_at == Some(now) {
            self.queues[q as usize].expiry_at = None;
        }
        loop {
            let qr = &mut self.queues[q as usize];
            let Some(&head) = qr.ready.front() else { break };
            if self.msgs[head].expires > now {
                break;
            }
            qr.ready.pop_front();
            qr.expired += 1;
            qr.depth.set(now, qr.ready.len() as u64);
            self.dead_letter(head, q, DeadReason::Expired);
        }
        self.arm_expiry(q);
    }
}
