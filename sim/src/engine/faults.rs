//! Faults on a schedule: each starts at its time and ends at its end (if it has one), striking
//! one node. A crash takes replicas down (what they held is redelivered) and brings them back;
//! the others set a hook on their node that the hot path reads (a service's latency or error
//! rate, a store's outage or error rate, a queue's paused consumers, a producer's burst), and
//! count the messages they affected.

use super::Engine;
use super::capture::LogKind;
use super::event::Ev;
use super::message::NONE;
use super::runtime::KindRef;
use crate::time::{Time, ms_to_ns};
use crate::topology::{FaultKind, LinkRole};

/// A scheduled fault at run time.
pub(crate) struct FaultRt {
    /// The node it strikes (for a link fault, the link's source).
    pub node: u32,
    /// The link it strikes (`NONE`: a node fault).
    pub link: u32,
    pub kind: FaultKind,
    pub at: Time,
    pub until: Option<Time>,
    /// Messages it affected: redelivered by a crash, slowed, failed, refused, held or emitted
    /// beyond the producer's own rate.
    pub affected: u64,
    /// The replicas a crash took down.
    pub downed: Vec<u32>,
}

/// The chance of failing for a node whose error-rate hook is `hook`: the fault's (counting
/// the attempt or call it affects) while one is on, else the node's `own`.
pub(super) fn failure_chance(faults: &mut [FaultRt], hook: Option<(f64, u32)>, own: f64) -> f64 {
    match hook {
        Some((rate, f)) => {
            faults[f as usize].affected += 1;
            rate
        }
        None => own,
    }
}

/// Faults a run may have at most (its file's and those injected live): each is a few words of
/// memory, but a tab injecting without end must not grow a session without end.
pub const MAX_FAULTS: usize = 1024;

/// Why a live fault is refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("no node {0}")]
    NoNode(usize),
    #[error("no link {0}")]
    NoLink(usize),
    #[error("a {kind} fault cannot strike {node}; it strikes {}", if .applies.is_empty() { "no node: name a link".to_string() } else { .applies.join(" or ") })]
    WrongKind { kind: &'static str, node: &'static str, applies: Vec<&'static str> },
    #[error("{0}: {1}")]
    OutOfRange(&'static str, String),
    #[error("for_s: {0}")]
    Duration(String),
    #[error("this run has {MAX_FAULTS} faults already, the most it may have")]
    TooMany,
}

impl Engine {
    fn link_fault_start(&mut self, f: u32, link: u32, kind: FaultKind) {
        let l = &mut self.links[link as usize];
        match kind {
            FaultKind::Latency { factor, add_ms } => {
                l.slow = Some((factor.unwrap_or(1.0), ms_to_ns(add_ms.unwrap_or(0.0)), f));
            }
            FaultKind::ErrorRate { rate } => l.loss = Some((rate, f)),
            FaultKind::Duplicate { rate } => l.dup = Some((rate, f)),
            FaultKind::Partition => {
                l.partitioned = Some(f);
                // A queue's consume link: the queue cannot reach that consumer.
                if let KindRef::Queue(q) = self.nodes[l.from as usize].kind {
                    self.queues[q as usize].cut += 1;
                }
            }
            _ => {} // the checker refuses other kinds on links
        }
        let node = self.faults[f as usize].node;
        let n = &mut self.nodes[node as usize];
        n.faults_on += 1;
        n.second.faults_started += 1;
        self.log_event(node, LogKind::FaultStarted, f);
    }

    fn link_fault_end(&mut self, f: u32, link: u32) {
        let mine = |hook: Option<u32>| hook == Some(f);
        let l = &mut self.links[link as usize];
        if mine(l.slow.map(|x| x.2)) {
            l.slow = None;
        }
        if mine(l.loss.map(|x| x.1)) {
            l.loss = None;
        }
        if mine(l.dup.map(|x| x.1)) {
            l.dup = None;
        }
        if mine(l.partitioned) {
            l.partitioned = None;
            let held = std::mem::take(&mut l.held);
            let from = l.from;
            // What waited crosses now, in the order it was sent.
            for m in held {
                self.send(m, link);
            }
            if let KindRef::Queue(q) = self.nodes[from as usize].kind {
                self.queues[q as usize].cut -= 1;
                self.dispatch(q);
            }
        }
        let node = self.faults[f as usize].node;
        let n = &mut self.nodes[node as usize];
        n.faults_on = n.faults_on.saturating_sub(1);
        self.log_event(node, LogKind::FaultEnded, f);
    }

    /// Starts a fault on `node` now, lasting `for_s` seconds (for ever without); returns its
    /// index among the run's faults (the report lists it with the file's).
    pub fn inject(&mut self, node: usize, kind: FaultKind, for_s: Option<f64>) -> Result<usize, FaultError> {
        let on = self.nodes.get(node).ok_or(FaultError::NoNode(node))?.kind.kind();
        if !kind.applies_to().contains(&on) {
            let applies = kind.applies_to().iter().map(|k| k.article()).collect();
            return Err(FaultError::WrongKind { kind: kind.name(), node: on.article(), applies });
        }
        self.start_now(node as u32, NONE, kind, for_s)
    }

    /// Starts a fault on link `link` (of role `role`) now, as [`Engine::inject`] does on a node.
    pub fn inject_link(
        &mut self,
        link: usize,
        role: LinkRole,
        kind: FaultKind,
        for_s: Option<f64>,
    ) -> Result<usize, FaultError> {
        let from = self.links.get(link).ok_or(FaultError::NoLink(link))?.from;
        if !kind.strikes_links().contains(&role) {
            let applies = kind.strikes_links().iter().map(|r| r.describe()).collect();
            return Err(FaultError::WrongKind { kind: kind.name(), node: role.describe(), applies });
        }
        self.start_now(from, link as u32, kind, for_s)
    }

    fn start_now(&mut self, node: u32, link: u32, kind: FaultKind, for_s: Option<f64>) -> Result<usize, FaultError> {
        if let Some((field, why)) = kind.out_of_range() {
            return Err(FaultError::OutOfRange(field, why));
        }
        if let Some(s) = for_s {
            crate::topology::limits::SECONDS.check(s).map_err(FaultError::Duration)?;
            if s <= 0.0 {
                return Err(FaultError::Duration("expected more than 0 seconds".to_string()));
            }
        }
        if self.faults.len() >= MAX_FAULTS {
            return Err(FaultError::TooMany);
        }
        let now = self.now;
        let until = for_s.map(|s| now.saturating_add(crate::time::s_to_ns(s)));
        let f = self.faults.len() as u32;
        self.faults.push(FaultRt { node, link, kind, at: now, until, affected: 0, downed: Vec::new() });
        if let Some(until) = until {
            self.events.push(until, Ev::FaultEnd { fault: f });
        }
        self.on_fault_start(f);
        Ok(f as usize)
    }

    /// The faults striking now: (node, the link's target for a link fault, kind, when it ends
    /// if it does).
    pub fn active_faults(&self) -> impl Iterator<Item = (usize, Option<usize>, &'static str, Option<Time>)> + '_ {
        let now = self.now;
        self.faults.iter().filter(move |f| f.at <= now && f.until.is_none_or(|u| u > now)).map(|f| {
            let to = (f.link != NONE).then(|| self.links[f.link as usize].to as usize);
            (f.node as usize, to, f.kind.name(), f.until)
        })
    }

    /// Each scheduled fault, with the messages it affected so far.
    pub fn fault_reports(&self) -> Vec<crate::report::FaultReport> {
        self.faults
            .iter()
            .map(|f| crate::report::FaultReport {
                node: self.node_id(f.node as usize).to_string(),
                to: (f.link != NONE).then(|| self.node_id(self.links[f.link as usize].to as usize).to_string()),
                kind: f.kind.name(),
                at_s: crate::time::ns_to_s(f.at),
                until_s: f.until.map(crate::time::ns_to_s),
                affected: f.affected,
            })
            .collect()
    }

    /// Plans every fault's start and end.
    pub(super) fn plan_faults(&mut self) {
        for f in 0..self.faults.len() {
            let (at, until) = (self.faults[f].at, self.faults[f].until);
            self.events.push(at, Ev::FaultStart { fault: f as u32 });
            if let Some(until) = until {
                self.events.push(until, Ev::FaultEnd { fault: f as u32 });
            }
        }
    }

    pub(super) fn on_fault_start(&mut self, f: u32) {
        self.n_events += 1;
        let (node, kind) = (self.faults[f as usize].node, self.faults[f as usize].kind.clone());
        self.last_node = node;
        let link = self.faults[f as usize].link;
        if link != NONE {
            self.link_fault_start(f, link, kind);
            return;
        }
        match (self.nodes[node as usize].kind, kind) {
            (KindRef::Service(s), FaultKind::Crash { replicas }) => {
                let mut held = 0;
                let mut downed = Vec::new();
                let n = replicas.unwrap_or(u32::MAX);
                while (downed.len() as u32) < n {
                    let Some(r) = self.services[s as usize].replicas.iter().rposition(|r| r.up) else { break };
                    held += self.replica_down(s, r as u32);
                    downed.push(r as u32);
                }
                let fr = &mut self.faults[f as usize];
                fr.affected += u64::from(held);
                fr.downed = downed;
                self.log_event(node, LogKind::Crashed, held);
            }
            (KindRef::Service(s), FaultKind::Latency { factor, add_ms }) => {
                let add = ms_to_ns(add_ms.unwrap_or(0.0));
                self.services[s as usize].slow = Some((factor.unwrap_or(1.0), add, f));
            }
            (KindRef::Service(s), FaultKind::ErrorRate { rate }) => {
                self.services[s as usize].fault_failure = Some((rate, f))
            }
            (KindRef::Store(st), FaultKind::ErrorRate { rate }) => {
                self.stores[st as usize].fault_failure = Some((rate, f))
            }
            (KindRef::Store(st), FaultKind::StoreDown { hang }) => self.stores[st as usize].down = Some((f, hang)),
            (KindRef::Store(st), FaultKind::Latency { factor, add_ms }) => {
                let add = ms_to_ns(add_ms.unwrap_or(0.0));
                self.stores[st as usize].slow = Some((factor.unwrap_or(1.0), add, f));
            }
            (KindRef::Exchange(_) | KindRef::Queue(_), FaultKind::RefusePublishes) => {
                self.alarm.forced = Some(f);
                self.update_alarm(node);
            }
            (KindRef::Service(s), FaultKind::CrashAfterCommit) => {
                self.services[s as usize].crash_after_commit = Some(f)
            }
            (KindRef::Service(s), FaultKind::Poison) => self.services[s as usize].patterns.poison_next = Some(f),
            (KindRef::Queue(q), FaultKind::PauseConsumers) => self.queues[q as usize].paused = Some(f),
            (KindRef::Producer(p), FaultKind::Burst { factor }) => {
                self.producers[p as usize].burst = Some((factor, f));
                self.plan_emission(p);
            }
            _ => {} // the checker refuses a fault on a node it cannot strike
        }
        let n = &mut self.nodes[node as usize];
        n.faults_on += 1;
        n.second.faults_started += 1;
        self.log_event(node, LogKind::FaultStarted, f);
    }

    pub(super) fn on_fault_end(&mut self, f: u32) {
        self.n_events += 1;
        let node = self.faults[f as usize].node;
        self.last_node = node;
        let link = self.faults[f as usize].link;
        if link != NONE {
            self.link_fault_end(f, link);
            return;
        }
        let mine = |hook: Option<u32>| hook == Some(f);
        match self.nodes[node as usize].kind {
            KindRef::Service(s) => {
                let downed = std::mem::take(&mut self.faults[f as usize].downed);
                for &r in &downed {
                    self.replica_up(s, Some(r));
                }
                if !downed.is_empty() {
                    self.log_event(node, LogKind::Restarted, 0);
                }
                let svc = &mut self.services[s as usize];
                if mine(svc.slow.map(|x| x.2)) {
                    svc.slow = None;
                }
                if mine(svc.fault_failure.map(|x| x.1)) {
                    svc.fault_failure = None;
                }
                if mine(svc.crash_after_commit) {
                    svc.crash_after_commit = None;
                }
                // A poison message never taken stays unmade; one taken fails on.
                if mine(svc.patterns.poison_next) {
                    svc.patterns.poison_next = None;
                }
            }
            KindRef::Store(st) => {
                let store = &mut self.stores[st as usize];
                if mine(store.down.map(|x| x.0)) {
                    store.down = None;
                }
                if mine(store.slow.map(|x| x.2)) {
                    store.slow = None;
                }
                if mine(store.fault_failure.map(|x| x.1)) {
                    store.fault_failure = None;
                }
            }
            KindRef::Exchange(_) | KindRef::Queue(_) if mine(self.alarm.forced) => {
                // The alarm clears now, if the messages held allow.
                self.alarm.forced = None;
                self.update_alarm(node);
            }
            KindRef::Queue(q) if mine(self.queues[q as usize].paused) => {
                self.queues[q as usize].paused = None;
                self.dispatch(q);
            }
            KindRef::Producer(p) if mine(self.producers[p as usize].burst.map(|x| x.1)) => {
                self.producers[p as usize].burst = None;
                self.plan_emission(p);
            }
            _ => {}
        }
        let n = &mut self.nodes[node as usize];
        n.faults_on = n.faults_on.saturating_sub(1);
        self.log_event(node, LogKind::FaultEnded, f);
    }
}
