//! The engine's runtime tables: one struct per node kind, compiled from the model into flat
//! arrays indexed by `u32`, so that the hot loop follows indices instead of maps.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rustc_hash::FxHashMap;

use crate::dist::Dist;
use crate::rng::Stream;
use crate::stats::{BatchMeans, Gauge, LatencyStat, Point, Ring, SecondSamples};
use crate::time::Time;
use crate::topology::{Arrival, ExchangeType, HeadersMatch, Kind, MessageId, OnFailure, Overflow, UNBOUNDED, When};

/// Where a publish or dead-letter link delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Exchange(u32),
    Queue(u32),
    /// A client's request to a gateway.
    Gateway(u32),
    Topic(u32),
}

/// A node of the topology and the entry of its kind's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindRef {
    Producer(u32),
    Exchange(u32),
    Queue(u32),
    Service(u32),
    Store(u32),
    Gateway(u32),
    Topic(u32),
}

impl KindRef {
    pub fn kind(self) -> Kind {
        match self {
            KindRef::Producer(_) => Kind::Producer,
            KindRef::Exchange(_) => Kind::Exchange,
            KindRef::Queue(_) => Kind::Queue,
            KindRef::Service(_) => Kind::Service,
            KindRef::Store(_) => Kind::Store,
            KindRef::Gateway(_) => Kind::Gateway,
            KindRef::Topic(_) => Kind::Topic,
        }
    }
}

pub(crate) struct LinkRt {
    pub from: u32,
    pub to: u32,
    pub latency: Option<Dist>,
    pub rng: Stream,
    /// Publish and dead-letter links: where they deliver.
    pub target: Option<Target>,
    /// Interned routing key (publish, dead-letter), or the symbol of "".
    pub routing_key: Option<u32>,
    pub event: Option<u32>,
    pub when: When,
    pub probability: f64,
    pub message_id: MessageId,
    /// Bindings: the key and header rules; publish links: the headers they set.
    pub binding_key: String,
    pub headers: BTreeMap<String, serde_json::Value>,
    pub match_: HeadersMatch,
    /// A publish or request link that loses what a partition cuts off.
    pub unreliable: bool,
    /// Link faults: added latency (`factor`, `add`, fault), a chance of loss (or of a failed
    /// call) and its fault, a partition, and the messages a partition holds.
    pub slow: Option<(f64, Time, u32)>,
    pub loss: Option<(f64, u32)>,
    /// A duplicate fault: the chance a crossing arrives twice, and the fault.
    pub dup: Option<(f64, u32)>,
    pub partitioned: Option<u32>,
    pub held: Vec<u32>,
    /// Call links: the caller's timeout, its breaker, and what they did.
    pub timeout: Option<Time>,
    pub breaker: Option<super::breaker::BreakerRt>,
    pub timeouts: u64,
    /// Answers that came after the caller had given up (the store did the work anyway).
    pub late_answers: u64,
}

pub(crate) struct ProducerRt {
    pub node: u32,
    pub rate: f64,
    pub arrival: Arrival,
    pub event: u32,
    pub limit: Option<u64>,
    pub emitted: u64,
    /// Emissions refused by the memory alarm.
    pub blocked: u64,
    pub schedule: Vec<(Time, f64)>,
    pub next_step: usize,
    pub links: Vec<u32>,
    pub rng: Stream,
    /// Generation of the pending emission; a rate change starts a new one.
    pub generation: u32,
    /// A client of gateways only: the memory alarm does not stop it asking; the service
    /// behind the gateway answers 503.
    pub via_gateway: bool,
    /// A client that waits for answers (timeouts, retries).
    pub client: Option<super::client::ClientRt>,
    /// A burst fault: the rate's multiplier, and the fault.
    pub burst: Option<(f64, u32)>,
    /// Partition keys its events get (0: none), and the next sequence number of each.
    pub keys: u32,
    pub key_seq: Vec<u32>,
}

/// A gateway: per-client token buckets in front of the queue of accepted requests that its
/// services consume (Traefik holding the connection until a backend worker takes it).
pub(crate) struct GatewayRt {
    pub node: u32,
    /// The queue of accepted requests (`queues[queue]`, owned by this node).
    pub queue: u32,
    /// Tokens per nanosecond; 0: no limit.
    pub rate: f64,
    pub burst: f64,
    pub latency: Option<Dist>,
    pub rng: Stream,
    /// (client node, tokens, when last filled), one per client seen.
    pub buckets: Vec<(u32, f64, Time)>,
    pub accepted: u64,
    /// Answered 429: no token.
    pub rejected: u64,
    /// Answered 503: the broker refused publishes (memory alarm).
    pub unavailable: u64,
}

impl GatewayRt {
    /// Whether `client` has a token now (and takes it): Traefik's limiter (golang's
    /// `rate.Limiter`), a bucket that starts full.
    pub fn admit(&mut self, client: u32, now: Time) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let i = match self.buckets.iter().position(|b| b.0 == client) {
            Some(i) => i,
            None => {
                self.buckets.push((client, self.burst, now));
                self.buckets.len() - 1
            }
        };
        let (_, tokens, last) = &mut self.buckets[i];
        *tokens = (*tokens + (now - *last) as f64 * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub(crate) struct ExchangeRt {
    pub node: u32,
    pub kind: ExchangeType,
    /// Binding links (to queues and exchanges), in file order.
    pub bindings: Vec<u32>,
    pub alternate: Option<u32>,
    pub routed: u64,
    pub unroutable: u64,
}

pub(crate) struct QueueRt {
    pub node: u32,
    pub ready: VecDeque<u32>,
    pub max_length: Option<u64>,
    pub overflow: Overflow,
    pub ttl: Option<Time>,
    pub delivery_limit: Option<u32>,
    /// The dead-letter link and where it goes.
    pub dlx: Option<(u32, Target)>,
    /// Consuming services and the consume link of each.
    pub consumers: Vec<(u32, u32)>,
    /// Round-robin position: (index into consumers, replica).
    pub cursor: (usize, usize),
    pub expiry_at: Option<Time>,
    pub depth: Gauge,
    pub depth_batches: BatchMeans,
    pub wait: LatencyStat,
    /// Delivered and not yet settled, by all consumers.
    pub unacked: u64,
    pub enqueued: u64,
    pub delivered: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    pub rejected_publish: u64,
    pub expired: u64,
    pub redelivered: u64,
    /// The queue of a gateway's accepted requests: the service that finishes one answers it.
    pub answers: bool,
    /// A pause-consumers fault: nothing is delivered while it lasts.
    pub paused: Option<u32>,
    /// Consume links of this queue partitioned now.
    pub cut: u32,
    /// A consumer group's partition of a topic: it delivers to one replica, one at a time.
    pub part: Option<super::topic::PartRt>,
}

impl QueueRt {
    /// An empty queue of `node`: unbounded, no TTL, no dead-letter link.
    pub fn new(node: u32) -> QueueRt {
        QueueRt {
            node,
            ready: VecDeque::new(),
            max_length: None,
            overflow: Overflow::DropHead,
            ttl: None,
            delivery_limit: None,
            dlx: None,
            consumers: Vec::new(),
            cursor: (0, usize::MAX - 1),
            expiry_at: None,
            depth: Gauge::default(),
            depth_batches: BatchMeans::default(),
            wait: LatencyStat::default(),
            unacked: 0,
            enqueued: 0,
            delivered: 0,
            dead_lettered: 0,
            dropped: 0,
            rejected_publish: 0,
            expired: 0,
            redelivered: 0,
            answers: false,
            paused: None,
            cut: 0,
            part: None,
        }
    }
}

pub(crate) struct Replica {
    pub up: bool,
    pub epoch: u32,
    pub unacked: u32,
    pub busy: u32,
    /// Delivered messages waiting for a free worker.
    pub prefetched: VecDeque<u32>,
    /// Tasks using the CPU, sharing the replica's limit.
    pub cpu: Vec<CpuTask>,
    /// When the tasks' remaining work was last brought up to date.
    pub cpu_at: Time,
    /// Generation of the pending CPU completion event.
    pub cpu_gen: u32,
    /// Millicores in use now.
    pub cpu_m: u64,
}

impl Replica {
    pub fn new() -> Self {
        Replica {
            up: true,
            epoch: 0,
            unacked: 0,
            busy: 0,
            prefetched: VecDeque::new(),
            cpu: Vec::new(),
            cpu_at: 0,
            cpu_gen: 0,
            cpu_m: 0,
        }
    }
}

/// A message's CPU work in progress: core-nanoseconds left, and what follows it (its waiting
/// time, then the outcome drawn when it started).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CpuTask {
    pub msg: u32,
    pub left: f64,
    pub then: Time,
    pub outcome: super::event::Outcome,
}

/// A service's autoscaler at run time.
pub(crate) struct AutoscaleRt {
    pub spec: crate::topology::Autoscale,
    /// (when, desired replicas) of the syncs within the stabilization window.
    pub history: VecDeque<(Time, u32)>,
    /// CPU gauge area at the last sync.
    pub cpu_area: u128,
    /// The fewest replicas up so far.
    pub lowest: u64,
    pub scaled_up: u64,
    pub scaled_down: u64,
}

pub(crate) struct ServiceRt {
    pub node: u32,
    pub processing: Dist,
    pub failure_rate: f64,
    pub on_failure: OnFailure,
    pub concurrency: u32,
    pub prefetch: u32,
    pub replicas: Vec<Replica>,
    /// Queues consumed.
    pub inputs: Vec<u32>,
    /// Publish links, in file order.
    pub publishes: Vec<u32>,
    /// Store calls: (store, link).
    pub calls: Vec<(u32, u32)>,
    pub dedup: Option<(u32, u32)>,
    pub rng: Stream,
    pub busy: Gauge,
    pub workers: Gauge,
    /// Utilisation of each measured second, for its confidence interval.
    pub util_batches: BatchMeans,
    pub processing_stat: LatencyStat,
    pub since_origin: LatencyStat,
    pub started: u64,
    pub processed: u64,
    pub failed: u64,
    pub retries: u64,
    pub duplicates: u64,
    /// CPU time per message; `None`: it uses none worth counting.
    pub cpu_work: Option<Dist>,
    pub cpu_request_m: Option<f64>,
    /// Cores a replica's tasks share (infinite: no limit).
    pub cpu_limit: f64,
    /// Millicores in use, all replicas.
    pub cpu_use: Gauge,
    /// Replicas up, over time.
    pub up: Gauge,
    /// A latency fault: processing times `factor`, plus `add`, and the fault.
    pub slow: Option<(f64, Time, u32)>,
    /// An error-rate fault: the chance of failing, and the fault.
    pub fault_failure: Option<(f64, u32)>,
    /// Client requests it processed twice (a retried request whose first attempt went
    /// through too: a duplicate order).
    pub repeated_requests: u64,
    /// Replicas the service should have (the file, a live change, the autoscaler): fewer are
    /// up while some have crashed or are starting.
    pub wanted: u32,
    pub autoscale: Option<AutoscaleRt>,
    pub patterns: Patterns,
    /// A saga orchestrator's sagas.
    pub saga: Option<Box<super::saga::SagaRt>>,
    /// A transactional outbox and its relay.
    pub outbox: Option<Box<super::outbox::OutboxRt>>,
    /// A `crash_after_commit` fault on it now (the fault).
    pub crash_after_commit: Option<u32>,
    /// A consumer of topics: the order it commits their events in.
    pub order: Option<Box<super::topic::OrderCheck>>,
}

/// A service's resilience patterns (from the file) and what they did.
#[derive(Debug, Default)]
pub(crate) struct Patterns {
    /// The retry policy's budget.
    pub budget: Option<super::retry::Bucket>,
    /// A `when: "retry"` link: delayed retries wait in a delay queue behind it.
    pub retry_link: Option<u32>,
    pub deadline: Option<Time>,
    /// Work older than this is shed.
    pub shed_after: Option<Time>,
    /// From effects to acknowledgement (0: at once).
    pub ack: Time,
    /// Redrives before a message is parked.
    pub redrive: Option<u32>,
    /// A poison fault waiting for the next message to take (the fault).
    pub poison_next: Option<u32>,
    pub retries_immediate: u64,
    pub retries_delayed: u64,
    pub budget_refused: u64,
    /// Completions within the deadline, and after it.
    pub in_time: u64,
    pub late: u64,
    pub shed: u64,
    /// Successes of messages whose effects were done once already.
    pub duplicates_processed: u64,
    pub redriven: u64,
    pub parked: u64,
}

impl ServiceRt {
    /// Workers per replica in the pool (none for an unbounded service: each message has its
    /// own task, and the busy gauge counts what is in flight).
    pub fn pool(&self) -> u64 {
        if self.concurrency == UNBOUNDED { 0 } else { u64::from(self.concurrency) }
    }
    pub fn replicas_up(&self) -> u32 {
        self.replicas.iter().filter(|r| r.up).count() as u32
    }
}

pub(crate) struct StoreRt {
    pub node: u32,
    pub latency: Dist,
    pub failure_rate: f64,
    pub dedup_ttl: Option<Time>,
    pub rng: Stream,
    /// Dedup keys seen, per (service, message id), with the time they expire.
    pub seen: FxHashMap<(u32, u64), Time>,
    /// When expired keys are next swept out of `seen`.
    pub next_sweep: Time,
    /// Keys it may hold at most (its share of the run's memory bound); past that it refuses new
    /// keys, as Redis at `maxmemory` with the `noeviction` policy refuses writes.
    pub max_keys: usize,
    /// Keys it refused for lack of room.
    pub refused: u64,
    pub calls: u64,
    pub failures: u64,
    pub hits: u64,
    /// A store-down fault: every call fails while it lasts (the fault, and whether calls hang).
    pub down: Option<(u32, bool)>,
    /// A latency fault: calls take `factor` times as long, plus `add`, and the fault.
    pub slow: Option<(f64, Time, u32)>,
    /// An error-rate fault: the chance of a call failing, and the fault.
    pub fault_failure: Option<(f64, u32)>,
}

impl StoreRt {
    /// Whether `service` has seen message id `key` (and its key has not expired).
    #[inline]
    pub fn has_seen(&mut self, now: Time, service: u32, key: u64) -> bool {
        self.sweep_if_due(now);
        self.seen.get(&(service, key)).is_some_and(|until| *until > now)
    }

    /// Expired keys are swept out every half TTL in one pass over the map: cheaper than
    /// tracking each key's expiry, and memory stays bounded by 1.5 TTLs' worth of keys.
    fn sweep_if_due(&mut self, now: Time) {
        if let Some(ttl) = self.dedup_ttl
            && now >= self.next_sweep
        {
            self.seen.retain(|_, until| *until > now);
            self.next_sweep = now.saturating_add((ttl / 2).max(crate::time::NS_PER_S));
        }
    }

    /// Remembers that `service` has processed message id `key`, if there is room (a full store
    /// gains room only at its periodic sweep, never by a pass over its keys per message).
    pub fn remember(&mut self, now: Time, service: u32, key: u64) {
        if self.seen.len() >= self.max_keys && !self.seen.contains_key(&(service, key)) {
            self.sweep_if_due(now);
            if self.seen.len() >= self.max_keys {
                self.refused += 1;
                return;
            }
        }
        let until = self.dedup_ttl.map_or(Time::MAX, |ttl| now.saturating_add(ttl));
        self.seen.insert((service, key), until);
    }
}

/// Counters of the current simulated second, per node, closed into a [`Point`] each second.
#[derive(Clone, Debug, Default)]
pub(crate) struct SecondCounters {
    pub inflow: u32,
    pub outflow: u32,
    pub errors: u32,
    pub dead_letters: u32,
    pub dropped: u32,
    pub retries: u32,
    /// Faults that struck the node at some time in the second (started in it, or on at its end).
    pub faults_started: u32,
    pub latency: SecondSamples,
    /// Gauge areas at the start of the second (depth or busy; workers).
    pub area_before: u128,
    pub workers_area_before: u128,
    pub cpu_area_before: u128,
}

/// A node's flows since the start, updated as each second closes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NodeTotals {
    /// Messages in: enqueued (queues), processing started (services), routed (exchanges),
    /// calls (stores).
    pub inflow: u64,
    /// Messages out: emitted (producers), routed to queues (exchanges: a copy per queue),
    /// delivered (queues), processed (services).
    pub outflow: u64,
    pub errors: u64,
    pub dead_letters: u64,
    pub dropped: u64,
    /// Retries made (services and clients).
    pub retries: u64,
}

pub(crate) struct NodeRt {
    pub id: String,
    pub kind: KindRef,
    pub second: SecondCounters,
    pub totals: NodeTotals,
    pub series: Ring<Point>,
    /// Faults striking it now.
    pub faults_on: u32,
}

/// Interned strings (event types, routing keys): the hot loop moves `u32`s, not `String`s.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    map: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.map.insert(s.to_string(), i);
        i
    }

    pub fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", String::as_str)
    }
}

/// One destination of a routing decision: the queue, and the links crossed to reach it as a
/// range of `RouteCache::links`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RouteDest {
    pub queue: u32,
    pub path_start: u32,
    pub path_len: u32,
}

pub(crate) type RouteKey = (u32, u32, u32);

/// Routing results by (exchange, routing key, headers link): routing is a pure function of
/// them, so each combination is worked out once, and the hot loop reads the result by index.
#[derive(Debug, Default)]
pub(crate) struct RouteCache {
    pub map: FxHashMap<RouteKey, (u32, u32)>,
    pub dests: Vec<RouteDest>,
    pub links: Vec<u32>,
}
