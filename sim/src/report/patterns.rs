//! What the resilience patterns did: per service (retries by kind, budget refusals, deadlines
//! and goodput, duplicates processed, redrives, calls with their timeouts and breakers), and the
//! run's totals in one place.

use serde::Serialize;

use super::{NodeReport, Report};
use crate::engine::{BreakerState, Engine};
use crate::time::ns_to_s;

/// A service's patterns; each part absent (or zero) when the service does not use it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServicePatterns {
    #[serde(skip_serializing_if = "is_zero")]
    pub retries_immediate: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub retries_delayed: u64,
    /// Retries its retry budget refused (the message went to the error queue).
    #[serde(skip_serializing_if = "is_zero")]
    pub budget_refused: u64,
    /// Successes of messages already processed once: redelivered after their effects and
    /// before their ack, and processed again.
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicates_processed: u64,
    /// Services with `deadline_ms` or `shed_after_ms`: completions within the deadline (goodput)
    /// and after it, and work shed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineReport>,
    /// Redrive-bounded handlers: messages republished, and parked past the bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive: Option<RedriveReport>,
    /// Its calls to stores over links with a timeout or a breaker, in link order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallsReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DeadlineReport {
    pub in_time: u64,
    pub late: u64,
    pub shed: u64,
    /// Completions within the deadline per simulated second.
    pub goodput_per_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RedriveReport {
    pub redriven: u64,
    pub parked: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallsReport {
    /// The store called.
    pub store: String,
    pub timeouts: u64,
    /// Answers that came after the caller had given up.
    pub late_answers: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BreakerReport {
    pub state: BreakerState,
    /// Changes of state (closed → open → half-open → ...).
    pub transitions: u64,
    /// Simulated seconds not closed.
    pub open_s: f64,
    /// Calls failed at once while open (or beyond the probes while half-open).
    pub failed_fast: u64,
}

/// The run's resilience in one place: sums over services, queues, clients and calls.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Resilience {
    pub retries_immediate: u64,
    pub retries_delayed: u64,
    /// Client retries (each a new request through the gateway).
    pub client_retries: u64,
    pub budget_refused: u64,
    /// Messages returned to their queue and delivered again (requeues, crashes).
    pub redeliveries: u64,
    pub duplicates_skipped: u64,
    pub duplicates_processed: u64,
    pub breaker_transitions: u64,
    pub breaker_open_s: f64,
    /// Calls and client attempts given up on after their timeout.
    pub timeouts: u64,
    /// Answers that came after their caller had given up.
    pub late_answers: u64,
    pub shed: u64,
    /// Useful completions: within their deadline at services with one, and client requests
    /// answered successfully within their timeout.
    pub goodput: u64,
    pub goodput_per_s: f64,
}

impl Engine {
    /// The patterns of service `s`.
    pub(crate) fn service_patterns(&self, s: u32) -> ServicePatterns {
        let svc = self.service_rt(s);
        let p = &svc.patterns;
        let secs = ns_to_s(self.now()).max(f64::MIN_POSITIVE);
        ServicePatterns {
            retries_immediate: p.retries_immediate,
            retries_delayed: p.retries_delayed,
            budget_refused: p.budget_refused,
            duplicates_processed: p.duplicates_processed,
            deadline: (p.deadline.is_some() || p.shed_after.is_some()).then(|| DeadlineReport {
                in_time: p.in_time,
                late: p.late,
                shed: p.shed,
                goodput_per_s: p.in_time as f64 / secs,
            }),
            redrive: p.redrive.map(|_| RedriveReport { redriven: p.redriven, parked: p.parked }),
            calls: svc
                .calls
                .iter()
                .chain(svc.dedup.iter())
                .filter_map(|&(store, link)| {
                    let l = self.link_rt(link);
                    (l.timeout.is_some() || l.breaker.is_some()).then(|| CallsReport {
                        store: self.node_id(self.store_rt(store).node as usize).to_string(),
                        timeouts: l.timeouts,
                        late_answers: l.late_answers,
                        breaker: l.breaker.as_ref().map(|b| BreakerReport {
                            state: b.state,
                            transitions: b.transitions,
                            open_s: ns_to_s(b.time_open(self.now())),
                            failed_fast: b.failed_fast,
                        }),
                    })
                })
                .collect(),
        }
    }
}

impl Resilience {
    /// The totals of a report's nodes.
    pub(crate) fn of(report: &Report) -> Resilience {
        let mut r = Resilience::default();
        let mut goodput_per_s = 0.0;
        for (_, node) in &report.nodes.0 {
            match node {
                NodeReport::Service(s) => {
                    let p = &s.patterns;
                    r.retries_immediate += p.retries_immediate;
                    r.retries_delayed += p.retries_delayed;
                    r.budget_refused += p.budget_refused;
                    r.duplicates_skipped += s.duplicates_skipped;
                    r.duplicates_processed += p.duplicates_processed;
                    if let Some(d) = &p.deadline {
                        r.shed += d.shed;
                        r.goodput += d.in_time;
                        goodput_per_s += d.goodput_per_s;
                    }
                    for c in &p.calls {
                        r.timeouts += c.timeouts;
                        r.late_answers += c.late_answers;
                        if let Some(b) = &c.breaker {
                            r.breaker_transitions += b.transitions;
                            r.breaker_open_s += b.open_s;
                        }
                    }
                }
                NodeReport::Queue(q) => r.redeliveries += q.redelivered,
                NodeReport::Producer { client: Some(c), .. } => {
                    r.client_retries += c.retries;
                    r.budget_refused += c.budget_refused;
                    r.timeouts += c.timeouts;
                    r.late_answers += c.late_answers;
                    r.goodput += c.succeeded;
                    goodput_per_s += c.succeeded as f64 / report.sim_time_s.max(f64::MIN_POSITIVE);
                }
                _ => {}
            }
        }
        r.goodput_per_s = goodput_per_s;
        r
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
