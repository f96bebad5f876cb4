//! Gateways: a client's request meets the rate limit (a token bucket per client, as Traefik's
//! `rateLimit` middleware keeps one per remote address) and, accepted, waits at the gateway
//! for a worker of the services behind it; refused, it is answered 429. While the broker
//! refuses publishes (the memory alarm), the API behind answers 503.

use super::Engine;
use super::accounting::DropReason;
use super::event::Ev;

impl Engine {
    pub(super) fn at_gateway(&mut self, m: u32, g: u32, client: u32) {
        self.n_events += 1;
        let now = self.now;
        let gw = &mut self.gateways[g as usize];
        let node = gw.node;
        self.last_node = node;
        if !self.may_emit(node) {
            self.gateways[g as usize].unavailable += 1;
            self.answered(m, false);
            self.drop_message(m, node, DropReason::Refused);
            return;
        }
        let gw = &mut self.gateways[g as usize];
        if !gw.admit(client, now) {
            gw.rejected += 1;
            self.answered(m, false);
            self.drop_message(m, node, DropReason::Throttled);
            return;
        }
        gw.accepted += 1;
        let q = gw.queue;
        let delay = gw.latency.as_ref().map_or(0, |d| d.sample(&mut gw.rng));
        if delay == 0 {
            self.enqueue(m, q);
        } else {
            self.events.push(now.saturating_add(delay), Ev::AtQueue { msg: m, queue: q });
        }
    }
}
