//! The document types of the topology file. Field meanings are in `docs/topology.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Kind;
use crate::dist::Dist;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Topology {
    pub version: u32,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub seed: u64,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    /// Sticky notes on the canvas (an edasim extension).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// Faults on a schedule (an edasim extension).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
}

/// A fault from `at_s` until `until_s` (for ever without it) on one node, or with `to` on the
/// link from `node` to `to`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fault {
    pub at_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_s: Option<f64>,
    pub node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// What goes wrong. (Deserialised as-is only from live commands; the file's faults go through
/// the decoder, which reports each problem with its path.)
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Service: `replicas` of its replicas (all without it) crash, and restart at the end.
    Crash {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replicas: Option<u32>,
    },
    /// Service or store: processing (a call) takes `factor` times as long, plus `add_ms`.
    Latency {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        factor: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        add_ms: Option<f64>,
    },
    /// Service or store: this chance of failing replaces its own.
    ErrorRate { rate: f64 },
    /// Store: every call fails, at once (refused), or with `hang` when the caller's timeout ends
    /// (a host that does not answer; without a timeout, after Linux's 127 s connect timeout).
    StoreDown {
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        hang: bool,
    },
    /// Queue: its consumers get nothing (messages wait).
    PauseConsumers,
    /// Producer: its rate times `factor`.
    Burst { factor: f64 },
    /// Service: the next message it takes always fails there, wherever it goes next.
    Poison,
    /// A link: nothing crosses it while it lasts. Messages published over it wait and cross at
    /// its end (or are lost, over a link marked `unreliable`); a queue does not deliver over a
    /// partitioned consume link; a call over it gets no answer (it fails at its timeout).
    Partition,
    /// Exchange or queue (the broker): the broker refuses publishes, as its memory alarm does
    /// (`rabbitmqctl set_vm_memory_high_watermark 0` raises it on purpose): producers are
    /// blocked, an API behind a gateway answers 503.
    RefusePublishes,
    /// A publish link: each message crossing it arrives twice with this chance (at-least-once
    /// delivery: a publisher confirm lost and the publish sent again).
    Duplicate { rate: f64 },
    /// Service: a replica that commits a message's transaction crashes at once, before it
    /// publishes or acknowledges anything; it restarts at the fault's end.
    CrashAfterCommit,
}

impl FaultKind {
    pub const NAMES: [&'static str; 11] = [
        "crash",
        "latency",
        "error_rate",
        "store_down",
        "pause_consumers",
        "burst",
        "poison",
        "refuse_publishes",
        "partition",
        "duplicate",
        "crash_after_commit",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash { .. } => "crash",
            FaultKind::Latency { .. } => "latency",
            FaultKind::ErrorRate { .. } => "error_rate",
            FaultKind::StoreDown { .. } => "store_down",
            FaultKind::PauseConsumers => "pause_consumers",
            FaultKind::Burst { .. } => "burst",
            FaultKind::Poison => "poison",
            FaultKind::RefusePublishes => "refuse_publishes",
            FaultKind::Partition => "partition",
            FaultKind::Duplicate { .. } => "duplicate",
            FaultKind::CrashAfterCommit => "crash_after_commit",
        }
    }

    /// Each kind in a plain form: what a user starting one live begins from.
    pub fn examples() -> [FaultKind; 11] {
        [
            FaultKind::Crash { replicas: Some(1) },
            FaultKind::Latency { factor: Some(3.0), add_ms: None },
            FaultKind::ErrorRate { rate: 0.5 },
            FaultKind::StoreDown { hang: false },
            FaultKind::PauseConsumers,
            FaultKind::Burst { factor: 3.0 },
            FaultKind::Poison,
            FaultKind::RefusePublishes,
            FaultKind::Partition,
            FaultKind::Duplicate { rate: 0.2 },
            FaultKind::CrashAfterCommit,
        ]
    }

    /// Its numbers out of their ranges (the same the file's decoder checks), as
    /// `(field, why)`.
    pub fn out_of_range(&self) -> Option<(&'static str, String)> {
        use super::limits;
        let check = |field: &'static str, b: limits::Bounds, x: Option<f64>| {
            x.and_then(|x| b.check(x).err()).map(|why| (field, why))
        };
        match self {
            FaultKind::Crash { replicas } => check("replicas", limits::REPLICAS, replicas.map(f64::from)),
            FaultKind::Latency { factor: None, add_ms: None } => {
                Some(("factor", "a latency fault needs a factor, an add_ms or both".to_string()))
            }
            FaultKind::Latency { factor, add_ms } => {
                check("factor", limits::MULTIPLIER, *factor).or_else(|| check("add_ms", limits::DURATION_MS, *add_ms))
            }
            FaultKind::ErrorRate { rate } | FaultKind::Duplicate { rate } => {
                check("rate", limits::PROBABILITY, Some(*rate))
            }
            FaultKind::Burst { factor } => check("factor", limits::MULTIPLIER, Some(*factor)),
            FaultKind::StoreDown { .. }
            | FaultKind::PauseConsumers
            | FaultKind::Poison
            | FaultKind::RefusePublishes
            | FaultKind::Partition
            | FaultKind::CrashAfterCommit => None,
        }
    }

    /// The node kinds it applies to.
    pub fn applies_to(&self) -> &'static [Kind] {
        match self {
            FaultKind::Crash { .. } | FaultKind::Poison | FaultKind::CrashAfterCommit => &[Kind::Service],
            FaultKind::Latency { .. } => &[Kind::Service, Kind::Store],
            FaultKind::ErrorRate { .. } => &[Kind::Service, Kind::Store],
            FaultKind::StoreDown { .. } => &[Kind::Store],
            FaultKind::PauseConsumers => &[Kind::Queue],
            FaultKind::Burst { .. } => &[Kind::Producer],
            FaultKind::RefusePublishes => &[Kind::Exchange, Kind::Queue],
            FaultKind::Partition | FaultKind::Duplicate { .. } => &[],
        }
    }

    /// The links it may strike, by role: links between a process and the broker or a store (a
    /// binding is inside the broker). On a link, latency adds to the crossing, an error rate
    /// loses messages (fails calls), a partition holds everything.
    pub fn strikes_links(&self) -> &'static [super::LinkRole] {
        use super::LinkRole::*;
        match self {
            FaultKind::Latency { .. } | FaultKind::Partition => &[Publish, Request, Consume, Call, Dedup],
            FaultKind::ErrorRate { .. } => &[Publish, Request, Call, Dedup],
            FaultKind::Duplicate { .. } => &[Publish],
            _ => &[],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Note {
    pub text: String,
    pub pos: [f64; 2],
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos: Option<[f64; 2]>,
    #[serde(flatten)]
    pub kind: NodeKind,
}

impl Node {
    /// What the canvas shows.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NodeKind {
    Producer(Producer),
    Exchange(Exchange),
    Queue(Queue),
    Service(Service),
    Store(Store),
    Gateway(Gateway),
    Topic(Topic),
}

impl NodeKind {
    pub fn kind(&self) -> Kind {
        match self {
            NodeKind::Producer(_) => Kind::Producer,
            NodeKind::Exchange(_) => Kind::Exchange,
            NodeKind::Queue(_) => Kind::Queue,
            NodeKind::Service(_) => Kind::Service,
            NodeKind::Store(_) => Kind::Store,
            NodeKind::Gateway(_) => Kind::Gateway,
            NodeKind::Topic(_) => Kind::Topic,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Producer {
    pub rate_per_s: f64,
    pub arrival: Arrival,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<RateStep>,
    /// A client of a gateway (edasim extensions): it gives up on an attempt unanswered after
    /// `timeout_ms` (the attempt goes on in the system), and tries again by `retries` after a
    /// timeout, a 429, a 503 or a 500; with `idempotency_key` every attempt of a request
    /// carries the first attempt's id, so a dedup at the API can skip a repeat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<RetryPolicy>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub idempotency_key: bool,
    /// A closed loop (an edasim extension): this many users, each sending a request, waiting
    /// for its end (an answer, or giving up), then thinking `think_ms` before the next. The
    /// rate does not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub think_ms: Option<Dist>,
    /// Partition keys (an edasim extension): each event gets one of this many keys at random
    /// (a customer, an order), and a sequence number per key, which a topic partitions by and
    /// the consumers' order is checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<u32>,
}

impl Producer {
    /// Whether it waits for answers (a client with a timeout or retries).
    pub fn is_client(&self) -> bool {
        self.timeout_ms.is_some() || self.retries.is_some() || self.users.is_some()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    Poisson,
    Constant,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RateStep {
    pub at_s: f64,
    pub rate_per_s: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exchange {
    #[serde(rename = "type")]
    pub kind: ExchangeType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeType {
    Fanout,
    Direct,
    Topic,
    /// An edasim extension: RabbitMQ's headers exchange.
    Headers,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Queue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    pub overflow: Overflow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_ttl_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_limit: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overflow {
    DropHead,
    RejectPublish,
    RejectPublishDlx,
}

/// A service's `concurrency` of `"unbounded"`: each message runs in its own task (the seed's
/// asyncio consumers), so waiting costs no worker. Also a prefetch without limit.
pub const UNBOUNDED: u32 = u32::MAX;

/// A concurrency as the file writes it: a whole number, or `"unbounded"` for [`UNBOUNDED`].
pub mod concurrency_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::UNBOUNDED;

    pub fn serialize<S: Serializer>(c: &u32, s: S) -> Result<S::Ok, S::Error> {
        if *c == UNBOUNDED { s.serialize_str("unbounded") } else { s.serialize_u32(*c) }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(u32),
            Word(String),
        }
        match Either::deserialize(d)? {
            Either::Number(n) => Ok(n),
            Either::Word(w) if w == "unbounded" => Ok(UNBOUNDED),
            Either::Word(w) => {
                Err(serde::de::Error::custom(format!("expected a number or \"unbounded\", found \"{w}\"")))
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Service {
    pub replicas: u32,
    /// Messages one replica processes at once; [`UNBOUNDED`] for `"unbounded"`.
    #[serde(serialize_with = "concurrency_serde::serialize")]
    pub concurrency: u32,
    /// Unacknowledged messages per replica; 0 means no limit (AMQP's `basic.qos` meaning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<u32>,
    pub processing: Dist,
    pub failure_rate: f64,
    pub on_failure: OnFailure,
    /// CPU time per message (an edasim extension), spent before `processing`, which is then
    /// waiting (the seed's `asyncio.sleep`) and costs no CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<Dist>,
    /// Each replica's CPU request in millicores (what `cpu` autoscaling measures against).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_request_m: Option<f64>,
    /// Each replica's CPU limit in millicores: its tasks share it (processor sharing), each
    /// task using at most one core. Default: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_limit_m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,
    /// How long work stays worth doing, from its origin (the requester's timeout): completions
    /// within it are goodput, later ones are late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<f64>,
    /// Load shedding: work older than this (from its origin) when a worker takes it is dropped
    /// unprocessed. Set it below `deadline_ms` by the processing time, or what is taken just
    /// in time finishes late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shed_after_ms: Option<f64>,
    /// Time from a handler's last effect (its publishes, its dedup write) to its acknowledgement
    /// reaching the broker: a crash within it redelivers work already done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_ms: Option<f64>,
    /// A dead-letter handler that bounds its redrives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive: Option<Redrive>,
    /// A saga orchestrator: the state machine of each saga it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saga: Option<super::Saga>,
    /// A transactional outbox: what it publishes is written to its store in the transaction of
    /// its store calls, and a relay publishes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Outbox>,
}

/// A transactional outbox (an edasim extension): a service with a call link to a store writes
/// the messages it publishes as rows of an outbox table, in the same transaction as its business
/// change; a relay polls the table every `poll_ms`, publishes up to `batch` rows in order with
/// publisher confirms (a row whose publish is not confirmed stays), then marks them sent with a
/// store call (if that call fails the rows are published again at the next poll: at least once).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outbox {
    pub poll_ms: f64,
    pub batch: u32,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox { poll_ms: 100.0, batch: 100 }
    }
}

/// What an autoscaler measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMetric {
    /// CPU use over the sync period against the request (Kubernetes' HPA on CPU); the target is
    /// a fraction of the request (0.8: 80%).
    Cpu,
    /// Ready messages in the queues it consumes, per replica (KEDA's RabbitMQ scaler).
    QueueReady,
    /// Messages in flight (being processed), per replica.
    InFlight,
}

/// An autoscaler with Kubernetes' algorithm: every `sync_s`, `desired = ceil(current ×
/// value / target)` unless within 10% of the target, between `min` and `max`; scaling down
/// only to the highest desire of the last `stabilization_s`; a new replica is ready after
/// `start_s`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Autoscale {
    pub metric: ScaleMetric,
    pub target: f64,
    pub min: u32,
    pub max: u32,
    pub sync_s: f64,
    pub stabilization_s: f64,
    pub start_s: f64,
}

impl Service {
    /// Unacknowledged messages one replica may hold: the prefetch (0: no limit), by default its
    /// concurrency (a prefetch below it leaves workers idle; the file may ask for that).
    pub fn effective_prefetch(&self) -> u32 {
        match self.prefetch {
            Some(0) => UNBOUNDED,
            Some(p) => p,
            None => self.concurrency,
        }
    }

    /// Whether each message runs in its own task, with no pool of workers.
    pub fn unbounded(&self) -> bool {
        self.concurrency == UNBOUNDED
    }
}

/// What a service does with a message whose processing failed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Rejected without requeue: dead-lettered, or dropped without a dead-letter link.
    Reject,
    /// Rejected with requeue: delivered again.
    Requeue,
    /// Retried by its policy, then rejected.
    Retry(RetryPolicy),
    /// Handled: the failure is an answer, not a loss (a declined card answered with
    /// *PaymentFailed*): its failure links and saga reply are sent and the message is acked.
    Ack,
}

/// Retries: `max_attempts` in all (the first included); the first `immediate` retries at once,
/// the rest after an exponential back-off (`backoff_ms × multiplier^k`, spread by ± `jitter`),
/// held by the consumer or, for a service with a `when: "retry"` link, waiting in a delay queue;
/// then the error queue (the queue's dead-letter link). A `budget` caps retries to a fraction of
/// first attempts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff_ms: f64,
    pub multiplier: f64,
    pub jitter: f64,
    #[serde(skip_serializing_if = "is_zero")]
    pub immediate: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<RetryBudget>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, backoff_ms: 100.0, multiplier: 2.0, jitter: 0.0, immediate: 0, budget: None }
    }
}

/// A retry budget (Finagle's and Linkerd's): a token bucket that every first attempt fills by
/// `ratio` and every retry empties by one, also filled by `min_per_s` each second (so that a
/// quiet service may still retry), holding at most `burst`. A retry that finds no token is not
/// made: the message goes to the error queue (a client gives up).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetryBudget {
    pub ratio: f64,
    pub min_per_s: f64,
    pub burst: f64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget { ratio: 0.1, min_per_s: 1.0, burst: 10.0 }
    }
}

/// A circuit breaker on a call link (Resilience4j's, time-based): over the last `window_s`
/// seconds, once at least `min_calls` calls ended and the share that failed reaches
/// `failure_rate`, it opens; open, every call fails at once, without reaching the store; after
/// `open_s` it lets `probes` calls through (half-open): all succeeding close it, one failing
/// opens it again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breaker {
    pub failure_rate: f64,
    pub window_s: f64,
    pub min_calls: u32,
    pub open_s: f64,
    pub probes: u32,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker { failure_rate: 0.5, window_s: 10.0, min_calls: 10, open_s: 5.0, probes: 1 }
    }
}

/// A dead-letter handler's redrive bound: it republishes a message with a count of its redrives
/// (as `x-death`'s count), and after `max` publishes it on its `when: "parked"` links instead.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Redrive {
    pub max: u32,
}

/// An HTTP gateway (an edasim extension), as Traefik's `rateLimit` middleware limits: a token
/// bucket per client (Traefik's default `sourceCriterion` is the remote address, so each
/// producer linked to it is a client of its own) filling at `average` requests per `period_s`
/// up to `burst`; a request finding no token is answered 429. Accepted requests wait at the
/// gateway for a worker of the services it routes to (its consume links), after `latency`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gateway {
    /// Requests per period each client may make on average; 0: no limit (Traefik's meaning).
    pub average: f64,
    pub period_s: f64,
    /// Requests a client may make at once (the bucket's size).
    pub burst: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Dist>,
}

/// A partitioned event stream (an edasim extension), as Kafka keeps one: each event goes to the
/// partition of its key (`key % partitions`; round robin without one) and stays in the log.
/// Each service consuming it is a consumer group that reads every event; within a group each
/// partition has one consumer (a replica), which processes its events one at a time, in order,
/// and commits its offset after processing. When the group's replicas change, the partitions
/// are assigned again (a rebalance): an event in flight on a partition that moves is processed
/// again by its new consumer. Events older than `retention_ms` are deleted, read or not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Topic {
    pub partitions: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Store {
    pub latency: Dist,
    pub failure_rate: f64,
    /// How long a dedup key is remembered (Redis `EX`); default: for ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup_ttl_ms: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Link {
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_key: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dead_letter: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Dist>,
    /// Headers a publish link sets, or a headers-exchange binding matches: strings, numbers
    /// or booleans, compared with their types (the number 3 is not the string "3").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<HeadersMatch>,
    /// An exchange → exchange link that is the alternate exchange of its source.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub alternate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// A publish or request link over a network that loses what it cannot carry: a partition
    /// loses the messages sent over it instead of holding them.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreliable: bool,
    /// A call link: the caller gives up on a call unanswered after this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    /// A call link: a circuit breaker on the calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<Breaker>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    Success,
    Failure,
    /// A failed message waiting out its back-off: published here (to a delay queue) with the
    /// back-off as its expiration.
    Retry,
    /// A redrive-bounded handler's message past its bound (to a parking-lot queue).
    Parked,
}

impl When {
    pub const NAMES: [&'static str; 4] = ["success", "failure", "retry", "parked"];

    pub fn from_name(name: &str) -> Option<When> {
        Some(match name {
            "success" => When::Success,
            "failure" => When::Failure,
            "retry" => When::Retry,
            "parked" => When::Parked,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Call,
    Dedup,
}

/// RabbitMQ's `x-match`: `all` and `any` ignore binding arguments whose names start with
/// `x-`; `all-with-x` and `any-with-x` compare them too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadersMatch {
    All,
    Any,
    AllWithX,
    AnyWithX,
}

impl HeadersMatch {
    pub const NAMES: [&'static str; 4] = ["all", "any", "all-with-x", "any-with-x"];

    pub fn from_name(name: &str) -> Option<HeadersMatch> {
        Some(match name {
            "all" => HeadersMatch::All,
            "any" => HeadersMatch::Any,
            "all-with-x" => HeadersMatch::AllWithX,
            "any-with-x" => HeadersMatch::AnyWithX,
            _ => return None,
        })
    }

    /// Whether a binding with `binding` headers matches a message with `message` headers.
    pub fn matches(
        self,
        binding: &BTreeMap<String, serde_json::Value>,
        message: Option<&BTreeMap<String, serde_json::Value>>,
    ) -> bool {
        let with_x = matches!(self, HeadersMatch::AllWithX | HeadersMatch::AnyWithX);
        let mut hits = binding
            .iter()
            .filter(|(k, _)| with_x || !k.starts_with("x-"))
            .map(|(k, v)| message.and_then(|m| m.get(k)) == Some(v));
        match self {
            HeadersMatch::All | HeadersMatch::AllWithX => hits.all(|h| h),
            HeadersMatch::Any | HeadersMatch::AnyWithX => hits.any(|h| h),
        }
    }
}

/// The message id a service gives what it publishes, which is what dedup stores key on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageId {
    /// A fresh id (the default).
    New,
    /// The consumed message's id.
    Keep,
    /// No id at all: every such message shares one dedup key, as a client library that sends
    /// none would make a consumer keying on the id see. (The seed's library, aiormq, gives a
    /// message published without an id a fresh one: that is `New`.)
    None,
}
