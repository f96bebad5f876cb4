//! Producers: Poisson or constant arrivals at a rate that a schedule (or a live change) may
//! alter; each emission starts a new root message and publishes it on every link.

use super::Engine;
use super::accounting::DropReason;
use super::event::Ev;
use crate::time::{NS_PER_S, Time};
use crate::topology::Arrival;

impl Engine {
    /// The gap to the next emission at the producer's current rate, or `None` at rate 0.
    fn next_gap(&mut self, p: u32) -> Option<Time> {
        let pr = &mut self.producers[p as usize];
        let rate = pr.rate * pr.burst.map_or(1.0, |b| b.0);
        if rate <= 0.0 {
            return None;
        }
        let mean_ns = NS_PER_S as f64 / rate;
        let gap = match pr.arrival {
            Arrival::Poisson => -mean_ns * libm::log(pr.rng.uniform_open0()),
            Arrival::Constant => mean_ns,
        };
        Some(libm::round(gap).max(1.0) as Time)
    }

    /// Plans the next emission from now, superseding any pending one.
    pub(super) fn plan_emission(&mut self, p: u32) {
        let pr = &mut self.producers[p as usize];
        pr.generation = pr.generation.wrapping_add(1);
        let generation = pr.generation;
        if let Some(gap) = self.next_gap(p) {
            self.events.push(self.now.saturating_add(gap), Ev::Emit { producer: p, generation });
        }
    }

    pub(super) fn on_emit(&mut self, p: u32, generation: u32) {
        self.n_events += 1;
        let pr = &self.producers[p as usize];
        if pr.generation != generation {
            return; // superseded by a rate change
        }
        if self.done_emitting(p) {
            return;
        }
        let node = pr.node;
        self.last_node = node;
        if !self.producers[p as usize].via_gateway && !self.may_emit(node) {
            // Blocked by the memory alarm: this emission never happens; the next is planned.
            self.producers[p as usize].blocked += 1;
            if let Some(gap) = self.next_gap(p) {
                self.events.push(self.now.saturating_add(gap), Ev::Emit { producer: p, generation });
            }
            return;
        }
        if let Some((_, f)) = self.producers[p as usize].burst {
            self.faults[f as usize].affected += 1;
        }
        self.emit(p, super::client::NO_USER);
        if let Some(gap) = self.next_gap(p) {
            self.events.push(self.now.saturating_add(gap), Ev::Emit { producer: p, generation });
        }
    }

    /// Whether producer `p` has emitted its limit, or the run its budget.
    fn done_emitting(&self, p: u32) -> bool {
        let pr = &self.producers[p as usize];
        pr.limit.is_some_and(|l| pr.emitted >= l) || !self.producing()
    }

    /// One emission of producer `p`: a new root message, published on its links (a request
    /// of `user` in a closed loop).
    fn emit(&mut self, p: u32, user: u32) {
        let (node, event) = (self.producers[p as usize].node, self.producers[p as usize].event);
        self.producers[p as usize].emitted += 1;
        self.nodes[node as usize].second.outflow += 1;
        self.ledger.produced += 1;
        let m = self.new_message();
        let msg = &mut self.msgs[m];
        msg.root = msg.id;
        msg.origin = self.now;
        msg.key = msg.id;
        msg.event = event;
        let pr = &mut self.producers[p as usize];
        if pr.keys > 0 {
            let key = ((pr.rng.uniform() * f64::from(pr.keys)) as u32).min(pr.keys - 1);
            let seq = &mut pr.key_seq[key as usize];
            *seq += 1;
            let msg = &mut self.msgs[m];
            msg.pkey = key;
            msg.seq = *seq;
        }
        // Waiting for its answer before it is sent: the answer may come at this very instant.
        self.request_sent(p, m, user);
        self.publish_produced(m, p);
    }

    /// A user of a closed loop sends its next request (it is sent whatever the memory alarm:
    /// the users of gateways are clients, not publishers).
    pub(super) fn on_user_sends(&mut self, p: u32, user: u32) {
        self.n_events += 1;
        if self.done_emitting(p) {
            return;
        }
        self.last_node = self.producers[p as usize].node;
        self.emit(p, user);
    }

    /// Publishes a producer's message on each of its links that fires (a copy per extra link).
    pub(super) fn publish_produced(&mut self, m: u32, p: u32) {
        // Copies are made before anything is sent: sending may end `m` at once.
        let mut out = std::mem::take(&mut self.scratch_pairs);
        out.clear();
        for i in 0..self.producers[p as usize].links.len() {
            let link = self.producers[p as usize].links[i];
            let prob = self.links[link as usize].probability;
            if self.producers[p as usize].rng.chance(prob) {
                let msg = if out.is_empty() { m } else { self.copy_message(m) };
                out.push((msg, link));
            }
        }
        if out.is_empty() {
            let node = self.producers[p as usize].node;
            self.drop_message(m, node, DropReason::Unroutable);
        }
        for &(msg, link) in &out {
            let l = &self.links[link as usize];
            let mm = &mut self.msgs[msg];
            mm.routing_key = l.routing_key.unwrap_or(0);
            if let Some(ev) = l.event {
                mm.event = ev;
            }
            mm.headers = if l.headers.is_empty() { super::message::NONE } else { link };
        }
        for &(msg, link) in &out {
            self.send(msg, link);
        }
        self.scratch_pairs = out;
    }

    pub(super) fn on_rate_step(&mut self, p: u32) {
        self.n_events += 1;
        let pr = &mut self.producers[p as usize];
        let Some(&(_, rate)) = pr.schedule.get(pr.next_step) else { return };
        pr.rate = rate;
        pr.next_step += 1;
        if let Some(&(at, _)) = pr.schedule.get(pr.next_step) {
            self.events.push(at, Ev::RateStep { producer: p });
        }
        self.plan_emission(p);
    }
}
