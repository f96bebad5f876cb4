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

/// A fault from `at_s` until `until_s` (for ever without it) on one node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fault {
    pub at_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_s: Option<f64>,
    pub node: String,
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Service: `replicas` of its replicas (all without it) crash, and restart at the end.
    Crash {
        #[serde(skip_serializing_if = "Option::is_none")]
        replicas: Option<u32>,
    },
    /// Service: processing takes `factor` times as long, plus `add_ms`.
    Latency {
        #[serde(skip_serializing_if = "Option::is_none")]
        factor: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        add_ms: Option<f64>,
    },
    /// Service or store: this chance of failing replaces its own.
    ErrorRate { rate: f64 },
    /// Store: every call fails.
    StoreDown,
    /// Queue: its consumers get nothing (messages wait).
    PauseConsumers,
    /// Producer: its rate times `factor`.
    Burst { factor: f64 },
}

impl FaultKind {
    pub const NAMES: [&'static str; 6] = ["crash", "latency", "error_rate", "store_down", "pause_consumers", "burst"];

    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash { .. } => "crash",
            FaultKind::Latency { .. } => "latency",
            FaultKind::ErrorRate { .. } => "error_rate",
            FaultKind::StoreDown => "store_down",
            FaultKind::PauseConsumers => "pause_consumers",
            FaultKind::Burst { .. } => "burst",
        }
    }

    /// The node kinds it applies to.
    pub fn applies_to(&self) -> &'static [Kind] {
        match self {
            FaultKind::Crash { .. } | FaultKind::Latency { .. } => &[Kind::Service],
            FaultKind::ErrorRate { .. } => &[Kind::Service, Kind::Store],
            FaultKind::StoreDown => &[Kind::Store],
            FaultKind::PauseConsumers => &[Kind::Queue],
            FaultKind::Burst { .. } => &[Kind::Producer],
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

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    Reject,
    Requeue,
    Retry(RetryPolicy),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff_ms: f64,
    pub multiplier: f64,
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, backoff_ms: 100.0, multiplier: 2.0, jitter: 0.0 }
    }
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    Success,
    Failure,
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
