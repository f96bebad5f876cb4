//! The run report of `edasim run` (see `docs/run-report.md`): built from an engine at the end
//! of a run, serialised as JSON or rendered as a text table.

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::SerializeMap;

mod patterns;
mod saga;

pub use patterns::{BreakerReport, CallsReport, DeadlineReport, RedriveReport, Resilience, ServicePatterns};
pub use saga::SagaReport;

use crate::engine::{Engine, KindRef, Ledger};
use crate::problem::Problem;
use crate::stats::Summary;
use crate::time::ns_to_s;
use crate::topology::Kind;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub topology: String,
    pub seed: u64,
    pub sim_time_s: f64,
    pub warmup_s: f64,
    pub wall_s: f64,
    /// Events handled, scheduled or same-instant (see [`Engine::events`]).
    pub events: u64,
    /// Of those, the ones that went through the event list.
    pub scheduled_events: u64,
    pub messages: Messages,
    pub nodes: Nodes,
    /// The broker's memory alarm: absent when the run had no watermark and no fault raised it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_alarm: Option<AlarmReport>,
    /// The file's scheduled faults, each with the messages it affected (an edasim extension).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultReport>,
    /// What the resilience patterns did, summed over the run (an edasim extension).
    pub resilience: Resilience,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Problem>,
}

/// A scheduled fault and what it did.
#[derive(Clone, Debug, Serialize)]
pub struct FaultReport {
    pub node: String,
    /// A link fault: the link's target (`node` is its source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub kind: &'static str,
    pub at_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_s: Option<f64>,
    /// Messages it affected: redelivered by a crash, slowed, failed, refused by a store that
    /// was down, held by paused consumers, emitted by a burst.
    pub affected: u64,
}

/// What the memory alarm did in a run.
#[derive(Clone, Debug, Serialize)]
pub struct AlarmReport {
    /// Messages held at which it goes off.
    pub watermark: u64,
    /// Times it went off.
    pub raised: u64,
    /// Emissions refused while it was on.
    pub blocked: u64,
    /// Simulated seconds it was on.
    pub seconds_on: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Messages {
    pub produced: u64,
    pub completed: u64,
    pub dead_lettered: u64,
    pub in_system: u64,
    pub dropped: crate::engine::Drops,
    pub duplicates_skipped: u64,
    /// Published by services (each a new message).
    pub published: u64,
    /// Extra copies made by fan-out.
    pub copied: u64,
    /// Consumed by a service that published onwards.
    pub forwarded: u64,
    /// Dead letters still held (in dead-letter queues or being handled).
    pub dead_letters_in_system: u64,
    /// The whole ledger, for those who check the books (docs/accounting.md).
    pub ledger: Ledger,
}

/// Nodes by id, in the topology's order.
#[derive(Clone, Debug)]
pub struct Nodes(pub Vec<(String, NodeReport)>);

impl Serialize for Nodes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (id, r) in &self.0 {
            m.serialize_entry(id, r)?;
        }
        m.end()
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NodeReport {
    Producer {
        emitted: u64,
        /// Emissions refused by the memory alarm.
        #[serde(skip_serializing_if = "is_zero")]
        blocked: u64,
        /// A client's requests and their answers (an edasim extension).
        #[serde(skip_serializing_if = "Option::is_none")]
        client: Option<ClientReport>,
    },
    Exchange {
        routed: u64,
        unroutable: u64,
    },
    Queue(QueueReport),
    Service(ServiceReport),
    /// A gateway (an edasim extension): requests accepted, answered 429 by its rate limit and
    /// 503 while the broker refused publishes, and the accepted ones waiting for a worker.
    Gateway {
        accepted: u64,
        rejected: u64,
        unavailable: u64,
        waiting_mean: f64,
        waiting_max: u64,
    },
    /// A partitioned topic (an edasim extension): events appended per partition, and each
    /// consumer group's lag, rebalances and redeliveries.
    Topic(Box<crate::engine::TopicStats>),
    Store {
        calls: u64,
        failures: u64,
        dedup_hits: u64,
        /// Dedup keys refused because the store held its share of the run's memory bound.
        #[serde(skip_serializing_if = "is_zero")]
        keys_refused: u64,
    },
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ClientReport {
    pub requests: u64,
    pub succeeded: u64,
    /// Given up on after the last attempt.
    pub failed: u64,
    pub timeouts: u64,
    pub retries: u64,
    /// Answers that came after their attempt was given up on.
    pub late_answers: u64,
    /// Retries the retry budget refused (the request was given up on).
    #[serde(skip_serializing_if = "is_zero")]
    pub budget_refused: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct AutoscaleReport {
    pub replicas_min: u64,
    pub replicas_max: u64,
    /// Time-weighted.
    pub replicas_mean: f64,
    pub scaled_up: u64,
    pub scaled_down: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueueReport {
    pub enqueued: u64,
    pub delivered: u64,
    pub depth_mean: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth_mean_ci95: Option<f64>,
    pub depth_max: u64,
    pub depth_end: u64,
    pub wait_ms: Option<Summary>,
    pub dead_lettered: u64,
    pub dropped: u64,
    pub rejected_publish: u64,
    pub expired: u64,
    pub redelivered: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    pub processed: u64,
    pub failed: u64,
    pub retries: u64,
    pub duplicates_skipped: u64,
    pub utilisation: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilisation_ci95: Option<f64>,
    /// Messages being processed, time-weighted mean (an edasim extension): an unbounded
    /// service's load, which has no utilisation.
    pub in_flight_mean: f64,
    /// Client requests it processed twice: retried requests whose earlier attempt went
    /// through too (at a shipping service, orders shipped twice for one click).
    #[serde(skip_serializing_if = "is_zero")]
    pub repeated_requests: u64,
    pub replicas: u32,
    /// Millicores in use, time-weighted mean over all replicas, and each replica's request
    /// (services with `cpu_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_mean_m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_request_m: Option<f64>,
    /// Replicas over time, with their autoscaler (services with `autoscale`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoscaleReport>,
    pub processing_ms: Option<Summary>,
    pub since_origin_ms: Option<Summary>,
    /// Its resilience patterns (an edasim extension; fields only for what it uses).
    #[serde(flatten)]
    pub patterns: Box<ServicePatterns>,
    /// A saga orchestrator's sagas (an edasim extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saga: Option<Box<SagaReport>>,
    /// A transactional outbox and its relay (an edasim extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Box<crate::engine::OutboxStats>>,
    /// A consumer of topics: the order it committed their events in (an edasim extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Box<crate::engine::OrderStats>>,
}

impl Report {
    /// The report of the node `id`.
    pub fn node(&self, id: &str) -> Option<&NodeReport> {
        self.nodes.0.iter().find(|(n, _)| n == id).map(|(_, r)| r)
    }

    /// The report of the queue `id`.
    pub fn queue(&self, id: &str) -> Option<&QueueReport> {
        match self.node(id)? {
            NodeReport::Queue(q) => Some(q),
            _ => None,
        }
    }

    /// The report of the service `id`.
    pub fn service(&self, id: &str) -> Option<&ServiceReport> {
        match self.node(id)? {
            NodeReport::Service(s) => Some(s),
            _ => None,
        }
    }

    /// What the producer `id` emitted.
    pub fn producer_emitted(&self, id: &str) -> Option<u64> {
        match self.node(id)? {
            NodeReport::Producer { emitted, .. } => Some(*emitted),
            _ => None,
        }
    }

    /// The client tallies of the producer `id`, if it is a client.
    pub fn producer_client(&self, id: &str) -> Option<&ClientReport> {
        match self.node(id)? {
            NodeReport::Producer { client, .. } => client.as_ref(),
            _ => None,
        }
    }

    /// The report of `engine` as it stands; `wall_s` is the caller's measurement.
    pub fn new(engine: &Engine, wall_s: f64, warnings: &[Problem]) -> Report {
        let l = engine.ledger();
        let mut report = Report {
            topology: engine.name().to_string(),
            seed: engine.seed(),
            sim_time_s: ns_to_s(engine.now()),
            warmup_s: ns_to_s(engine.warmup()),
            wall_s,
            events: engine.events(),
            scheduled_events: engine.scheduled_events(),
            messages: Messages {
                produced: l.produced,
                completed: l.completed,
                dead_lettered: l.dead_lettered,
                in_system: l.in_system(),
                dropped: l.dropped,
                duplicates_skipped: l.duplicates_skipped,
                published: l.published,
                copied: l.copied,
                forwarded: l.forwarded,
                dead_letters_in_system: l.dead_in_system(),
                ledger: *l,
            },
            nodes: Nodes(
                (0..engine.node_count()).map(|i| (engine.node_id(i).to_string(), engine.node_report(i))).collect(),
            ),
            memory_alarm: {
                let a = engine.memory_alarm();
                (a.watermark != u64::MAX || a.raised > 0).then(|| AlarmReport {
                    watermark: a.watermark,
                    raised: a.raised,
                    blocked: a.blocked,
                    seconds_on: a.seconds_on(engine.now()),
                })
            },
            faults: engine.fault_reports(),
            resilience: Resilience::default(),
            warnings: warnings.to_vec(),
        };
        report.resilience = Resilience::of(&report);
        report
    }

    /// A readable table.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let m = &self.messages;
        let _ = writeln!(
            o,
            "{}  (seed {}, {} s simulated, warm-up {} s, {} events in {:.2} s)",
            self.topology,
            self.seed,
            fmt_num(self.sim_time_s),
            fmt_num(self.warmup_s),
            self.events,
            self.wall_s
        );
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "messages  produced {}  completed {}  dead-lettered {}  in system {}  dropped {} (overflow {}, unroutable {}, rejected {}, expired {})  duplicates skipped {}",
            m.produced,
            m.completed,
            m.dead_lettered,
            m.in_system,
            m.dropped.total(),
            m.dropped.overflow,
            m.dropped.unroutable,
            m.dropped.rejected,
            m.dropped.expired,
            m.duplicates_skipped
        );
        if let Some(a) = self.memory_alarm.as_ref().filter(|a| a.raised > 0) {
            let _ = writeln!(
                o,
                "memory alarm  went off {} times at {} messages held; producers blocked {} emissions over {} s",
                a.raised,
                a.watermark,
                a.blocked,
                fmt_num(a.seconds_on)
            );
        }
        let _ = writeln!(o);
        let ci = |x: Option<f64>| x.map_or(String::new(), |h| format!(" ±{}", fmt_num(h)));
        let lat = |s: &Option<Summary>| match s {
            Some(s) => format!(
                "{}{} / {} / {} / {}",
                fmt_num(s.mean),
                ci(s.ci95),
                fmt_num(s.p50),
                fmt_num(s.p95),
                fmt_num(s.p99)
            ),
            None => "-".to_string(),
        };
        let _ = writeln!(o, "{:<24} {:<9} figures (latencies in ms: mean ±95% / p50 / p95 / p99)", "node", "kind");
        for (id, r) in &self.nodes.0 {
            let (kind, text) = match r {
                NodeReport::Topic(t) => {
                    let mut text =
                        format!("appended {} in {} partitions", t.appended.iter().sum::<u64>(), t.partitions);
                    for g in &t.groups {
                        text += &format!(
                            "  group {}: lag {} (max {}), {} rebalances, {} redelivered, {} expired unread",
                            g.group,
                            g.lag.iter().sum::<u64>(),
                            g.lag_max,
                            g.rebalances,
                            g.redelivered,
                            g.expired
                        );
                    }
                    (Kind::Topic, text)
                }
                NodeReport::Producer { emitted, blocked, client } => {
                    let mut text = format!("emitted {emitted}");
                    if *blocked > 0 {
                        text += &format!("  blocked by the memory alarm {blocked}");
                    }
                    if let Some(c) = client {
                        text += &format!(
                            "  requests {}  succeeded {}  failed {}  timeouts {}  retries {}  late answers {}",
                            c.requests, c.succeeded, c.failed, c.timeouts, c.retries, c.late_answers
                        );
                    }
                    (Kind::Producer, text)
                }
                NodeReport::Exchange { routed, unroutable } => {
                    (Kind::Exchange, format!("routed {routed}  unroutable {unroutable}"))
                }
                NodeReport::Gateway { accepted, rejected, unavailable, waiting_mean, waiting_max } => (
                    Kind::Gateway,
                    format!(
                        "accepted {accepted}  rejected (429) {rejected}  unavailable (503) {unavailable}  waiting mean {} max {waiting_max}",
                        fmt_num(*waiting_mean)
                    ),
                ),
                NodeReport::Store { calls, failures, dedup_hits, keys_refused } => {
                    let refused =
                        if *keys_refused > 0 { format!("  keys refused {keys_refused}") } else { String::new() };
                    (Kind::Store, format!("calls {calls}  failures {failures}  dedup hits {dedup_hits}{refused}"))
                }
                NodeReport::Queue(q) => (
                    Kind::Queue,
                    format!(
                        "enqueued {}  depth mean {}{} max {}  wait {}  dead-lettered {}  dropped {}  rejected {}  expired {}",
                        q.enqueued,
                        fmt_num(q.depth_mean),
                        ci(q.depth_mean_ci95),
                        q.depth_max,
                        lat(&q.wait_ms),
                        q.dead_lettered,
                        q.dropped,
                        q.rejected_publish,
                        q.expired
                    ),
                ),
                NodeReport::Service(s) => {
                    let cpu = match (s.cpu_mean_m, s.cpu_request_m) {
                        (Some(used), Some(req)) => format!("  cpu {}m of {}m requested", fmt_num(used), fmt_num(req)),
                        (Some(used), None) => format!("  cpu {}m", fmt_num(used)),
                        _ => String::new(),
                    };
                    let scaled = s.autoscale.as_ref().map_or(String::new(), |a| {
                        format!(
                            "  replicas {} to {} (mean {}, {} up, {} down)",
                            a.replicas_min,
                            a.replicas_max,
                            fmt_num(a.replicas_mean),
                            a.scaled_up,
                            a.scaled_down
                        )
                    });
                    let sagas = s.saga.as_ref().map_or(String::new(), |g| {
                        let c = &g.counts;
                        format!(
                            "  sagas {} started: {} completed, {} compensated, {} failed, {} stuck, {} in progress; {} timeouts, {} inconsistent",
                            c.started,
                            c.completed,
                            c.compensated,
                            c.failed,
                            c.stuck,
                            c.running + c.compensating,
                            c.timeouts,
                            g.inconsistent
                        )
                    });
                    let outbox = s.outbox.as_ref().map_or(String::new(), |b| {
                        format!(
                            "  outbox {} written, {} published ({} again), {} pending, oldest {} ms{}",
                            b.written,
                            b.published,
                            b.republished,
                            b.pending,
                            fmt_num(b.lag_max_ms),
                            if b.full > 0 {
                                format!(", {} refused: the table was full", b.full)
                            } else {
                                String::new()
                            }
                        )
                    });
                    (
                        Kind::Service,
                        format!(
                            "processed {}  failed {}  retries {}  utilisation {}{}  in flight {}{cpu}{scaled}{sagas}{outbox}  processing {}  since origin {}",
                            s.processed,
                            s.failed,
                            s.retries,
                            fmt_num(s.utilisation),
                            ci(s.utilisation_ci95),
                            fmt_num(s.in_flight_mean),
                            lat(&s.processing_ms),
                            lat(&s.since_origin_ms)
                        ),
                    )
                }
            };
            let _ = writeln!(o, "{id:<24} {:<9} {text}", kind.name());
        }
        // Warnings go to standard error as the file is read; the JSON report carries them.
        o
    }
}

/// Four significant figures, without trailing noise.
fn fmt_num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - libm::floor(libm::log10(x.abs())) as i32).max(0) as usize;
    format!("{x:.digits$}")
}

impl Engine {
    fn node_report(&self, node: usize) -> NodeReport {
        let now = self.now();
        match self.node_kind(node) {
            KindRef::Producer(p) => {
                let p = self.producer_rt(p);
                NodeReport::Producer {
                    emitted: p.emitted,
                    blocked: p.blocked,
                    client: p.client.as_ref().map(|c| c.tally.clone()),
                }
            }
            KindRef::Exchange(x) => {
                let x = self.exchange_rt(x);
                NodeReport::Exchange { routed: x.routed, unroutable: x.unroutable }
            }
            KindRef::Gateway(g) => {
                let g = self.gateway_rt(g);
                let q = self.queue_rt(g.queue);
                NodeReport::Gateway {
                    accepted: g.accepted,
                    rejected: g.rejected,
                    unavailable: g.unavailable,
                    waiting_mean: q.depth.mean(now).unwrap_or(0.0),
                    waiting_max: q.depth.max(),
                }
            }
            KindRef::Topic(_) => NodeReport::Topic(Box::new(self.topic_stats(node).expect("a topic"))),
            KindRef::Store(s) => {
                let s = self.store_rt(s);
                NodeReport::Store { calls: s.calls, failures: s.failures, dedup_hits: s.hits, keys_refused: s.refused }
            }
            KindRef::Queue(q) => {
                let q = self.queue_rt(q);
                NodeReport::Queue(QueueReport {
                    enqueued: q.enqueued,
                    delivered: q.delivered,
                    depth_mean: q.depth.mean(now).unwrap_or(0.0),
                    depth_mean_ci95: q.depth_batches.half_width(),
                    depth_max: q.depth.max(),
                    depth_end: q.depth.value(),
                    wait_ms: q.wait.summary(),
                    dead_lettered: q.dead_lettered,
                    dropped: q.dropped,
                    rejected_publish: q.rejected_publish,
                    expired: q.expired,
                    redelivered: q.redelivered,
                })
            }
            KindRef::Service(si) => {
                let s = self.service_rt(si);
                let busy = s.busy.mean(now).unwrap_or(0.0);
                let workers = s.workers.mean(now).unwrap_or(0.0);
                NodeReport::Service(ServiceReport {
                    processed: s.processed,
                    failed: s.failed,
                    retries: s.retries,
                    duplicates_skipped: s.duplicates,
                    utilisation: if workers > 0.0 { (busy / workers).min(1.0) } else { 0.0 },
                    utilisation_ci95: s.util_batches.half_width(),
                    in_flight_mean: busy,
                    repeated_requests: s.repeated_requests,
                    replicas: s.replicas_up(),
                    cpu_mean_m: s.cpu_work.as_ref().map(|_| s.cpu_use.mean(now).unwrap_or(0.0)),
                    cpu_request_m: s.cpu_request_m,
                    autoscale: s.autoscale.as_ref().map(|a| AutoscaleReport {
                        replicas_min: a.lowest,
                        replicas_max: s.up.max(),
                        replicas_mean: s.up.mean(now).unwrap_or(0.0),
                        scaled_up: a.scaled_up,
                        scaled_down: a.scaled_down,
                    }),
                    processing_ms: s.processing_stat.summary(),
                    since_origin_ms: s.since_origin.summary(),
                    patterns: Box::new(self.service_patterns(si)),
                    saga: self.saga_report(node).map(Box::new),
                    outbox: self.outbox_stats(node).map(Box::new),
                    order: self.order_stats(node).map(Box::new),
                })
            }
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
