//! Clients of gateways that wait for answers: a request is answered when the API behind the
//! gateway finishes it (201, or 500 when it rejects it), or at once by the gateway (429, 503).
//! An attempt unanswered after the timeout is given up on, though it goes on in the system; a
//! given-up or failed attempt is tried again after a back-off while attempts remain. Without an
//! idempotency key each attempt has a fresh id, so an API that dedups on the id cannot tell a
//! repeat: a request whose first attempt did succeed creates a second order.

use rustc_hash::{FxHashMap, FxHashSet};

use super::Engine;
use super::capture::LogKind;
use super::event::Ev;
use super::retry::{self, Next};
use crate::report::ClientReport;
use crate::time::Time;
use crate::topology::RetryPolicy;

/// Retried requests followed to count the services that process one twice: at most this many
/// (past it, new retries are not followed).
const MAX_FOLLOWED: usize = 1 << 20;

/// A client's settings and its tallies (kept as the report gives them).
#[derive(Debug, Default)]
pub(crate) struct ClientRt {
    pub timeout: Option<Time>,
    pub retry: Option<RetryPolicy>,
    pub budget: Option<super::retry::Bucket>,
    pub idempotent: bool,
    pub tally: ClientReport,
    /// A closed loop: its users' think time (each sends its next request this long after the
    /// last one ended).
    pub think: Option<crate::dist::Dist>,
}

/// A request in progress: its client, the attempt it is on, and the id of that attempt's
/// message (0 while it waits to retry).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pending {
    pub producer: u32,
    pub attempt: u32,
    pub current: u64,
    /// The user of a closed loop who sent it (`NO_USER`: an open loop).
    pub user: u32,
}

pub(crate) const NO_USER: u32 = u32::MAX;

/// The requests in progress, and the retried ones followed through the system.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    pub pending: FxHashMap<u64, Pending>,
    pub followed: FxHashSet<u64>,
    /// (service, request) processed so far, for followed requests.
    pub processed: FxHashMap<(u32, u64), u32>,
}

fn split(root: u64) -> (u32, u32) {
    (root as u32, (root >> 32) as u32)
}

fn join(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

impl Engine {
    /// A client's new request (message `m`, its first attempt) starts waiting for its answer.
    pub(super) fn request_sent(&mut self, p: u32, m: u32, user: u32) {
        let Some(c) = self.producers[p as usize].client.as_mut() else { return };
        c.tally.requests += 1;
        if let Some(b) = c.budget.as_mut() {
            b.deposit();
        }
        let (root, id) = (self.msgs[m].root, self.msgs[m].id);
        self.requests.pending.insert(root, Pending { producer: p, attempt: 1, current: id, user });
        self.plan_timeout(p, root, 1);
    }

    fn plan_timeout(&mut self, p: u32, root: u64, attempt: u32) {
        if let Some(t) = self.producers[p as usize].client.as_ref().and_then(|c| c.timeout) {
            let (lo, hi) = split(root);
            self.events.push(self.now.saturating_add(t), Ev::ClientTimeout { root_lo: lo, root_hi: hi, attempt });
        }
    }

    /// Message `m` was answered: `ok` (201, or an idempotent repeat the API skipped) or not
    /// (429, 503, 500).
    pub(super) fn answered(&mut self, m: u32, ok: bool) {
        let (root, id) = (self.msgs[m].root, self.msgs[m].id);
        let Some(&p) = self.requests.pending.get(&root) else { return };
        let Some(c) = self.producers[p.producer as usize].client.as_mut() else { return };
        if p.current != id {
            c.tally.late_answers += 1;
            return;
        }
        if ok {
            c.tally.succeeded += 1;
            self.request_ended(root);
        } else {
            self.retry_or_give_up(root);
        }
    }

    pub(super) fn on_client_timeout(&mut self, root_lo: u32, root_hi: u32, attempt: u32) {
        self.n_events += 1;
        let root = join(root_lo, root_hi);
        let Some(p) = self.requests.pending.get(&root).copied() else { return };
        if p.attempt != attempt || p.current == 0 {
            return;
        }
        if let Some(c) = self.producers[p.producer as usize].client.as_mut() {
            c.tally.timeouts += 1;
        }
        self.retry_or_give_up(root);
    }

    /// The current attempt failed or was given up on: another after the back-off, or the end.
    fn retry_or_give_up(&mut self, root: u64) {
        let Some(p) = self.requests.pending.get_mut(&root) else { return };
        p.current = 0;
        let (producer, attempt) = (p.producer, p.attempt);
        let now = self.now;
        let pr = &mut self.producers[producer as usize];
        let node = pr.node;
        let Some(c) = pr.client.as_mut() else { return };
        let next = match &c.retry {
            Some(r) => retry::next(r, attempt, c.budget.as_mut(), now, &mut pr.rng),
            None => Next::GiveUp,
        };
        let wait = match next {
            Next::Immediate => 0,
            Next::After(wait) => wait,
            Next::GiveUp | Next::Refused => {
                if next == Next::Refused {
                    c.tally.budget_refused += 1;
                    self.log_event(node, LogKind::BudgetRefused, 0);
                }
                if let Some(c) = self.producers[producer as usize].client.as_mut() {
                    c.tally.failed += 1;
                }
                self.request_ended(root);
                return;
            }
        };
        c.tally.retries += 1;
        let (lo, hi) = split(root);
        self.events.push(now.saturating_add(wait), Ev::ClientRetry { root_lo: lo, root_hi: hi });
    }

    /// A request is over: its user (in a closed loop) thinks, then sends the next.
    fn request_ended(&mut self, root: u64) {
        let Some(p) = self.requests.pending.remove(&root) else { return };
        if p.user != NO_USER {
            let pr = &mut self.producers[p.producer as usize];
            let think = pr.client.as_ref().and_then(|c| c.think.clone()).map_or(0, |d| d.sample(&mut pr.rng));
            self.events.push(self.now.saturating_add(think), Ev::UserSends { producer: p.producer, user: p.user });
        }
    }

    /// Plans a closed loop's users' first requests, each after a think time (so that they do
    /// not all start at once).
    pub(super) fn start_users(&mut self, p: u32, users: u32) {
        for user in 0..users {
            let pr = &mut self.producers[p as usize];
            let think = pr.client.as_ref().and_then(|c| c.think.clone()).map_or(0, |d| d.sample(&mut pr.rng));
            self.events.push(think, Ev::UserSends { producer: p, user });
        }
    }

    pub(super) fn on_client_retry(&mut self, root_lo: u32, root_hi: u32) {
        self.n_events += 1;
        let root = join(root_lo, root_hi);
        let Some(p) = self.requests.pending.get_mut(&root) else { return };
        p.attempt += 1;
        let (producer, attempt) = (p.producer, p.attempt);
        let pr = &self.producers[producer as usize];
        let (node, event, idempotent) = (pr.node, pr.event, pr.client.as_ref().is_some_and(|c| c.idempotent));
        self.last_node = node;
        self.nodes[node as usize].second.outflow += 1;
        self.nodes[node as usize].second.retries += 1;
        self.ledger.produced += 1;
        let m = self.new_message();
        let msg = &mut self.msgs[m];
        msg.root = root;
        msg.origin = self.now;
        msg.key = if idempotent { root } else { msg.id };
        msg.event = event;
        let id = msg.id;
        if let Some(p) = self.requests.pending.get_mut(&root) {
            p.current = id;
        }
        if self.requests.followed.len() < MAX_FOLLOWED {
            self.requests.followed.insert(root);
        }
        self.plan_timeout(producer, root, attempt);
        self.publish_produced(m, producer);
    }

    /// Service `s` processed message `m`: if `m` belongs to a retried request, counts whether
    /// the service has now processed that request twice (two orders shipped for one click).
    pub(super) fn follow_processed(&mut self, s: u32, m: u32) {
        if self.requests.followed.is_empty() {
            return;
        }
        let root = self.msgs[m].root;
        if !self.requests.followed.contains(&root) {
            return;
        }
        let n = self.requests.processed.entry((s, root)).or_insert(0);
        *n += 1;
        if *n == 2 {
            self.services[s as usize].repeated_requests += 1;
        }
    }
}
