//! Live changes to a running simulation: what the engine lets a user turn while it plays.
//! Structural edits (nodes, links) need a new engine; these do not.

use serde::{Deserialize, Serialize};

use super::{Engine, KindRef};
use crate::dist::Dist;
use crate::time::ms_to_ns;
use crate::topology::limits::{self, Bounds};
use crate::topology::{Kind, UNBOUNDED};

/// One parameter of one node, changed between two steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "param", content = "value", rename_all = "snake_case")]
pub enum Change {
    /// Producer: events per second (supersedes its schedule until the next step of it).
    RatePerS(f64),
    /// Service: replicas up; scaling down redelivers what the removed replicas held.
    Replicas(u32),
    /// Service: workers per replica, or `"unbounded"`.
    Concurrency(#[serde(with = "crate::topology::concurrency_serde")] u32),
    /// Service: processing time.
    Processing(Dist),
    /// Service or store: chance that a processing attempt or call fails.
    FailureRate(f64),
    /// Store: call latency.
    Latency(Dist),
    /// Queue: ready messages it holds at most (`null`: unbounded). Applies to new messages.
    MaxLength(Option<u64>),
    /// Queue: message TTL (`null`: none). Applies to messages enqueued from now on.
    MessageTtlMs(Option<f64>),
    /// Service: one replica crashes and is restarted at once; what it held is redelivered.
    CrashReplica(u32),
    /// Service: one replica crashes and is restarted after `restart_ms` (as a Kubernetes
    /// deployment restarts a crashed pod); what it held is redelivered.
    Crash { replica: u32, restart_ms: f64 },
}

impl Change {
    pub fn name(&self) -> &'static str {
        match self {
            Change::RatePerS(_) => "rate_per_s",
            Change::Replicas(_) => "replicas",
            Change::Concurrency(_) => "concurrency",
            Change::Processing(_) => "processing",
            Change::FailureRate(_) => "failure_rate",
            Change::Latency(_) => "latency",
            Change::MaxLength(_) => "max_length",
            Change::MessageTtlMs(_) => "message_ttl_ms",
            Change::CrashReplica(_) => "crash_replica",
            Change::Crash { .. } => "crash",
        }
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ChangeError {
    #[error("no node {0}")]
    NoNode(usize),
    #[error("a {kind} has no parameter {param} that can change while it runs")]
    NotApplicable { kind: Kind, param: &'static str },
    #[error("{param}: {why}")]
    OutOfRange { param: &'static str, why: String },
}

/// Checks `x` against the parameter's bounds (the table the loader and the editor use too).
fn within(param: &'static str, bounds: Bounds, x: f64) -> Result<(), ChangeError> {
    bounds.check(x).map_err(|why| ChangeError::OutOfRange { param, why })
}

fn range(param: &'static str, ok: bool, why: &str) -> Result<(), ChangeError> {
    if ok { Ok(()) } else { Err(ChangeError::OutOfRange { param, why: why.to_string() }) }
}

impl Engine {
    /// Changes one parameter of `node` now. Nothing changes if the change is refused.
    pub fn apply(&mut self, node: usize, change: Change) -> Result<(), ChangeError> {
        let kind = self.nodes.get(node).ok_or(ChangeError::NoNode(node))?.kind;
        let param = change.name();
        let is_fault = matches!(change, Change::CrashReplica(_) | Change::Crash { .. });
        if !is_fault && !kind.kind().live_params().contains(&param) {
            return Err(ChangeError::NotApplicable { kind: kind.kind(), param });
        }
        let now = self.now;
        match (kind, change) {
            (KindRef::Producer(p), Change::RatePerS(r)) => {
                within(param, limits::RATE_PER_S, r)?;
                self.producers[p as usize].rate = r;
                self.plan_emission(p);
            }
            (KindRef::Service(s), Change::Replicas(n)) => {
                within(param, limits::REPLICAS, f64::from(n))?;
                // The count an autoscaler starts from too.
                self.services[s as usize].wanted = n;
                loop {
                    let up = self.services[s as usize].replicas_up();
                    if up < n {
                        self.replica_up(s, None);
                    } else if up > n {
                        let last = self.services[s as usize].replicas.iter().rposition(|r| r.up).unwrap_or(0);
                        self.replica_down(s, last as u32);
                    } else {
                        break;
                    }
                }
            }
            (KindRef::Service(s), Change::Concurrency(c)) => {
                if c != UNBOUNDED {
                    within(param, limits::CONCURRENCY, f64::from(c))?;
                }
                let svc = &mut self.services[s as usize];
                // Prefetch follows concurrency unless the file set it apart.
                if svc.prefetch == svc.concurrency {
                    svc.prefetch = c;
                }
                svc.concurrency = c;
                let up = u64::from(svc.replicas_up());
                svc.workers.set(now, up * svc.pool());
                for r in 0..svc.replicas.len() as u32 {
                    self.fill_workers(s, r);
                }
                for i in 0..self.services[s as usize].inputs.len() {
                    let q = self.services[s as usize].inputs[i];
                    self.dispatch(q);
                }
            }
            (KindRef::Service(s), Change::Processing(d)) => {
                range(param, valid_dist(&d), "expected a distribution of 0 or more milliseconds")?;
                self.services[s as usize].processing = d;
            }
            (KindRef::Service(s), Change::FailureRate(f)) => {
                within(param, limits::PROBABILITY, f)?;
                self.services[s as usize].failure_rate = f;
            }
            (KindRef::Store(s), Change::FailureRate(f)) => {
                within(param, limits::PROBABILITY, f)?;
                self.stores[s as usize].failure_rate = f;
            }
            (KindRef::Store(s), Change::Latency(d)) => {
                range(param, valid_dist(&d), "expected a distribution of 0 or more milliseconds")?;
                self.stores[s as usize].latency = d;
            }
            (KindRef::Queue(q), Change::MaxLength(m)) => {
                if let Some(m) = m {
                    within(param, limits::MAX_LENGTH, m as f64)?;
                }
                self.queues[q as usize].max_length = m;
            }
            (KindRef::Queue(q), Change::MessageTtlMs(t)) => {
                if let Some(t) = t {
                    within(param, limits::DURATION_MS, t)?;
                }
                self.queues[q as usize].ttl = t.map(ms_to_ns);
            }
            (KindRef::Service(s), Change::CrashReplica(r)) => self.crash(s, r, 0.0, param)?,
            (KindRef::Service(s), Change::Crash { replica, restart_ms }) => {
                self.crash(s, replica, restart_ms, param)?
            }
            (k, _) => return Err(ChangeError::NotApplicable { kind: k.kind(), param }),
        }
        Ok(())
    }
}

impl Engine {
    /// Replica `r` of `s` crashes (logged with the messages it held, redelivered) and comes back
    /// after `restart_ms` (at once for 0).
    fn crash(&mut self, s: u32, r: u32, restart_ms: f64, param: &'static str) -> Result<(), ChangeError> {
        let n = self.services[s as usize].replicas.len() as u32;
        range(param, r < n, &format!("the service has replicas 0 to {}", n.saturating_sub(1)))?;
        within(param, limits::DURATION_MS, restart_ms)?;
        let restart = ms_to_ns(restart_ms);
        let held = self.replica_down(s, r);
        let node = self.services[s as usize].node;
        self.log_event(node, super::capture::LogKind::Crashed, held);
        if restart == 0 {
            self.replica_up(s, Some(r));
        } else {
            let epoch = self.services[s as usize].replicas[r as usize].epoch;
            let at = self.now.saturating_add(restart);
            self.events.push(at, super::event::Ev::Restart { service: s, replica: r, epoch });
        }
        Ok(())
    }
}

/// Checks a distribution given live, as the file's rules would.
pub fn valid_dist(d: &Dist) -> bool {
    let ok = |x: f64| x.is_finite() && x >= 0.0;
    match *d {
        Dist::Constant { ms } => ok(ms),
        Dist::Exponential { mean_ms } => ok(mean_ms),
        Dist::Uniform { min_ms, max_ms } => ok(min_ms) && ok(max_ms) && min_ms <= max_ms,
        Dist::Normal { mean_ms, stddev_ms } | Dist::Lognormal { mean_ms, stddev_ms } => ok(mean_ms) && ok(stddev_ms),
    }
}
