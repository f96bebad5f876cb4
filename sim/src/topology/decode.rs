//! Decoding a JSON value into a [`Topology`], collecting every problem with its path.
//!
//! serde's derive stops at the first error and cannot say "expected one of" for our own rules,
//! so the file is walked by hand: each field is read once, its type and range checked, and a
//! bad field is replaced by its default so that decoding carries on and reports the rest.
//! Checks that involve several nodes or links are in `check.rs`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::kind::{KIND_NAMES, Kind};
use super::limits::{self, Bounds};
use super::saga::{Saga, SagaStep};
use super::types::*;
use crate::dist::{DIST_NAMES, Dist};
use crate::problem::Problem;

/// The largest topology file accepted, in bytes: by `edasim run`, the editor's import, share
/// links and the server (whose largest message is this plus its envelope). A 5,000-node
/// topology with positions fits.
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// What to tell a user whose file has `bytes` bytes, if that is over [`MAX_FILE_BYTES`].
pub fn too_large(bytes: u64) -> Option<String> {
    (bytes > MAX_FILE_BYTES as u64).then(|| {
        format!(
            "the file is {bytes} bytes; a topology may be at most {} MiB ({MAX_FILE_BYTES} bytes)",
            MAX_FILE_BYTES >> 20
        )
    })
}
/// The most nodes a topology may have.
pub const MAX_NODES: usize = 5_000;
/// The most links a topology may have.
pub const MAX_LINKS: usize = 20_000;

const TOP_FIELDS: &[&str] = &["version", "name", "description", "seed", "nodes", "links", "notes", "faults"];
const FAULT_FIELDS: &[&str] =
    &["at_s", "until_s", "node", "to", "kind", "replicas", "factor", "add_ms", "rate", "hang"];
const NODE_COMMON: &[&str] = &["id", "kind", "label", "pos"];
const PRODUCER_FIELDS: &[&str] = &[
    "rate_per_s",
    "arrival",
    "event",
    "limit",
    "schedule",
    "timeout_ms",
    "retries",
    "idempotency_key",
    "users",
    "think_ms",
    "keys",
];
const EXCHANGE_FIELDS: &[&str] = &["type"];
const QUEUE_FIELDS: &[&str] = &["max_length", "overflow", "message_ttl_ms", "delivery_limit"];
const SERVICE_FIELDS: &[&str] = &[
    "replicas",
    "concurrency",
    "prefetch",
    "processing",
    "failure_rate",
    "on_failure",
    "cpu_ms",
    "cpu_request_m",
    "cpu_limit_m",
    "autoscale",
    "deadline_ms",
    "shed_after_ms",
    "ack_ms",
    "redrive",
    "saga",
    "outbox",
];
const SAGA_FIELDS: &[&str] = &["start", "steps", "resends"];
const SAGA_STEP_FIELDS: &[&str] = &[
    "name",
    "participant",
    "channel",
    "command",
    "reply",
    "failure",
    "timeout_ms",
    "compensation",
    "compensation_reply",
    "pivot",
    "tombstone",
];
const AUTOSCALE_FIELDS: &[&str] = &["metric", "target", "min", "max", "sync_s", "stabilization_s", "start_s"];
const STORE_FIELDS: &[&str] = &["latency", "failure_rate", "dedup_ttl_ms"];
const TOPIC_FIELDS: &[&str] = &["partitions", "retention_ms"];
const GATEWAY_FIELDS: &[&str] = &["average", "period_s", "burst", "latency"];
pub(super) const LINK_FIELDS: &[&str] = &[
    "from",
    "to",
    "routing_key",
    "event",
    "when",
    "probability",
    "binding_key",
    "dead_letter",
    "purpose",
    "latency",
    "headers",
    "match",
    "alternate",
    "message_id",
    "timeout_ms",
    "breaker",
    "unreliable",
];

/// Decodes `value`; returns the topology (with defaults where a field was bad) and the
/// problems found.
pub(super) fn decode(value: &Value) -> (Topology, Vec<Problem>) {
    let mut d = Decoder { problems: Vec::new() };
    let topo = d.topology(value);
    (topo, d.problems)
}

struct Decoder {
    problems: Vec<Problem>,
}

/// An object being read, with the path that leads to it.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl Obj<'_> {
    fn at(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }
    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn one_of(names: &[&str]) -> String {
    names.join(", ")
}

impl Decoder {
    fn err(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.problems.push(Problem::error(path, msg));
    }

    /// `v` as an object whose keys are all in `known`.
    fn object<'a>(&mut self, v: &'a Value, path: String, what: &str, known: &[&[&str]]) -> Option<Obj<'a>> {
        let Value::Object(map) = v else {
            self.err(path, format!("expected {what} (a JSON object), found {}", type_name(v)));
            return None;
        };
        for key in map.keys() {
            if !known.iter().any(|k| k.contains(&key.as_str())) {
                let all: Vec<&str> = known.iter().flat_map(|k| k.iter().copied()).collect();
                let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                self.err(at, format!("unknown field \"{key}\"; expected one of {}", one_of(&all)));
            }
        }
        Some(Obj { map, path })
    }

    fn string(&mut self, o: &Obj, key: &str) -> Option<String> {
        let v = o.get(key)?;
        match v {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.err(o.at(key), format!("expected a string, found {}", type_name(v)));
                None
            }
        }
    }

    fn boolean(&mut self, o: &Obj, key: &str) -> bool {
        match o.get(key) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                self.err(o.at(key), format!("expected true or false, found {}", type_name(v)));
                false
            }
        }
    }

    /// A number within `bounds` (the table of `limits.rs`, shared with live changes and the
    /// editor).
    fn number_value(&mut self, v: &Value, path: String, bounds: Bounds) -> Option<f64> {
        let Some(x) = v.as_f64() else {
            self.err(path, format!("expected {}, found {}", bounds.expected(), type_name(v)));
            return None;
        };
        match bounds.check(x) {
            Ok(()) => Some(x),
            Err(why) => {
                self.err(path, why);
                None
            }
        }
    }

    fn number(&mut self, o: &Obj, key: &str, bounds: Bounds) -> Option<f64> {
        let v = o.get(key)?;
        self.number_value(v, o.at(key), bounds)
    }

    /// A whole number within `bounds`.
    fn integer(&mut self, o: &Obj, key: &str, bounds: Bounds) -> Option<u64> {
        debug_assert!(bounds.whole);
        let v = o.get(key)?;
        // Large whole numbers lose nothing through u64, which f64 would round.
        match v.as_u64() {
            Some(n) if bounds.contains(n as f64) => Some(n),
            Some(n) => {
                self.err(o.at(key), format!("expected {}, found {n}", bounds.expected()));
                None
            }
            None => self.number_value(v, o.at(key), bounds).map(|x| x as u64),
        }
    }

    /// One of `names` (a string), mapped by `f`.
    fn choice<T>(
        &mut self,
        o: &Obj,
        key: &str,
        what: &str,
        names: &[&str],
        f: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let s = self.string(o, key)?;
        let t = f(&s);
        if t.is_none() {
            self.err(o.at(key), format!("unknown {what} \"{s}\"; expected one of {}", one_of(names)));
        }
        t
    }

    fn topology(&mut self, v: &Value) -> Topology {
        let mut topo = Topology {
            version: 1,
            name: String::new(),
            description: None,
            seed: 1,
            nodes: Vec::new(),
            links: Vec::new(),
            notes: Vec::new(),
            faults: Vec::new(),
        };
        let Some(o) = self.object(v, String::new(), "a topology", &[TOP_FIELDS]) else {
            return topo;
        };
        match o.get("version") {
            None => self.err("version", "missing; this edasim reads version 1"),
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => self.err("version", format!("unsupported version {v}; this edasim reads version 1")),
        }
        topo.name = self.string(&o, "name").unwrap_or_default();
        topo.description = self.string(&o, "description");
        if let Some(seed) = self.integer(&o, "seed", limits::SEED) {
            topo.seed = seed;
        }
        if let Some(items) = self.array(&o, "nodes", MAX_NODES) {
            topo.nodes = items.iter().enumerate().filter_map(|(i, v)| self.node(v, format!("nodes[{i}]"))).collect();
        } else if o.get("nodes").is_none() {
            self.err("nodes", "missing; a topology lists its nodes");
        }
        if let Some(items) = self.array(&o, "links", MAX_LINKS) {
            topo.links = items.iter().enumerate().filter_map(|(i, v)| self.link(v, format!("links[{i}]"))).collect();
        }
        if let Some(items) = self.array(&o, "notes", MAX_NODES) {
            topo.notes = items.iter().enumerate().filter_map(|(i, v)| self.note(v, format!("notes[{i}]"))).collect();
        }
        if let Some(items) = self.array(&o, "faults", MAX_LINKS) {
            topo.faults = items.iter().enumerate().filter_map(|(i, v)| self.fault(v, format!("faults[{i}]"))).collect();
        }
        topo
    }

    fn fault(&mut self, v: &Value, path: String) -> Option<Fault> {
        let o = self.object(v, path, "a fault", &[FAULT_FIELDS])?;
        let at_s = self.number(&o, "at_s", limits::SECONDS);
        if o.get("at_s").is_none() {
            self.err(o.at("at_s"), "missing; when the fault starts, in simulated seconds");
        }
        let until_s = self.number(&o, "until_s", limits::SECONDS);
        if let (Some(a), Some(u)) = (at_s, until_s)
            && u <= a
        {
            self.err(o.at("until_s"), format!("{u} is not after at_s {a}"));
        }
        let node = self.string(&o, "node");
        if node.is_none() {
            self.err(o.at("node"), "missing; the id of the node it strikes");
        }
        let name = self.string(&o, "kind");
        let kind = match name.as_deref() {
            Some("crash") => {
                FaultKind::Crash { replicas: self.integer(&o, "replicas", limits::REPLICAS).map(|n| n as u32) }
            }
            Some("latency") => {
                let factor = self.number(&o, "factor", limits::MULTIPLIER);
                let add_ms = self.number(&o, "add_ms", limits::DURATION_MS);
                if factor.is_none() && add_ms.is_none() {
                    self.err(o.at("factor"), "a latency fault needs a factor, an add_ms or both");
                }
                FaultKind::Latency { factor, add_ms }
            }
            Some("error_rate") => {
                let rate = self.number(&o, "rate", limits::PROBABILITY);
                if o.get("rate").is_none() {
                    self.err(o.at("rate"), "missing; the chance of failing while the fault lasts");
                }
                FaultKind::ErrorRate { rate: rate.unwrap_or(0.0) }
            }
            Some("duplicate") => {
                let rate = self.number(&o, "rate", limits::PROBABILITY);
                if o.get("rate").is_none() {
                    self.err(o.at("rate"), "missing; the chance that a message crossing the link arrives twice");
                }
                FaultKind::Duplicate { rate: rate.unwrap_or(0.0) }
            }
            Some("store_down") => FaultKind::StoreDown { hang: self.boolean(&o, "hang") },
            Some("poison") => FaultKind::Poison,
            Some("crash_after_commit") => FaultKind::CrashAfterCommit,
            Some("refuse_publishes") => FaultKind::RefusePublishes,
            Some("partition") => FaultKind::Partition,
            Some("pause_consumers") => FaultKind::PauseConsumers,
            Some("burst") => {
                let factor = self.number(&o, "factor", limits::MULTIPLIER);
                if o.get("factor").is_none() {
                    self.err(o.at("factor"), "missing; what the producer's rate is multiplied by");
                }
                FaultKind::Burst { factor: factor.unwrap_or(1.0) }
            }
            Some(other) => {
                self.err(
                    o.at("kind"),
                    format!("unknown fault \"{other}\"; expected one of {}", one_of(&FaultKind::NAMES)),
                );
                return None;
            }
            None => {
                if o.get("kind").is_none() {
                    self.err(o.at("kind"), format!("missing; expected one of {}", one_of(&FaultKind::NAMES)));
                }
                return None;
            }
        };
        // Fields another kind of fault reads would be silently ignored: refuse them.
        let reads: &[&str] = match kind {
            FaultKind::Crash { .. } => &["replicas"],
            FaultKind::Latency { .. } => &["factor", "add_ms"],
            FaultKind::ErrorRate { .. } | FaultKind::Duplicate { .. } => &["rate"],
            FaultKind::Burst { .. } => &["factor"],
            FaultKind::StoreDown { .. } => &["hang"],
            FaultKind::PauseConsumers
            | FaultKind::Poison
            | FaultKind::RefusePublishes
            | FaultKind::Partition
            | FaultKind::CrashAfterCommit => &[],
        };
        for field in ["replicas", "factor", "add_ms", "rate", "hang"] {
            if o.get(field).is_some() && !reads.contains(&field) {
                self.err(o.at(field), format!("a {} fault takes no {field}", kind.name()));
            }
        }
        let to = self.string(&o, "to");
        Some(Fault { at_s: at_s?, until_s, node: node?, to, kind })
    }

    fn array<'a>(&mut self, o: &Obj<'a>, key: &str, max: usize) -> Option<&'a Vec<Value>> {
        let v = o.map.get(key).filter(|v| !v.is_null())?;
        match v {
            Value::Array(items) if items.len() <= max => Some(items),
            Value::Array(items) => {
                self.err(o.at(key), format!("{} entries; at most {max} are allowed", items.len()));
                None
            }
            _ => {
                self.err(o.at(key), format!("expected an array, found {}", type_name(v)));
                None
            }
        }
    }

    fn pos(&mut self, o: &Obj, key: &str) -> Option<[f64; 2]> {
        let v = o.get(key)?;
        match v.as_array().map(|a| a.iter().map(Value::as_f64).collect::<Vec<_>>()) {
            Some(xy) if xy.len() == 2 && xy.iter().all(|c| c.is_some_and(f64::is_finite)) => {
                Some([xy[0].unwrap_or_default(), xy[1].unwrap_or_default()])
            }
            _ => {
                self.err(o.at(key), format!("expected [x, y], two numbers, found {v}"));
                None
            }
        }
    }

    fn note(&mut self, v: &Value, path: String) -> Option<Note> {
        let o = self.object(v, path, "a note", &[&["text", "pos"]])?;
        let text = self.string(&o, "text").unwrap_or_default();
        let pos = self.pos(&o, "pos").unwrap_or([0.0, 0.0]);
        Some(Note { text, pos })
    }

    fn node(&mut self, v: &Value, path: String) -> Option<Node> {
        let Value::Object(map) = v else {
            self.err(path, format!("expected a node (a JSON object), found {}", type_name(v)));
            return None;
        };
        let kind = match map.get("kind") {
            None => {
                self.err(format!("{path}.kind"), format!("missing; expected one of {}", one_of(&KIND_NAMES)));
                return None;
            }
            Some(Value::String(s)) => match Kind::from_name(s) {
                Some(kind) => kind,
                None => {
                    self.err(
                        format!("{path}.kind"),
                        format!("unknown kind \"{s}\"; expected one of {}", one_of(&KIND_NAMES)),
                    );
                    return None;
                }
            },
            Some(other) => {
                self.err(format!("{path}.kind"), format!("expected a string, found {}", type_name(other)));
                return None;
            }
        };
        let fields = match kind {
            Kind::Producer => PRODUCER_FIELDS,
            Kind::Exchange => EXCHANGE_FIELDS,
            Kind::Queue => QUEUE_FIELDS,
            Kind::Service => SERVICE_FIELDS,
            Kind::Store => STORE_FIELDS,
            Kind::Gateway => GATEWAY_FIELDS,
            Kind::Topic => TOPIC_FIELDS,
        };
        let o = self.object(v, path, "a node", &[NODE_COMMON, fields])?;
        let id = match self.string(&o, "id") {
            Some(id) if valid_id(&id) => id,
            Some(id) => {
                self.err(o.at("id"), format!("\"{id}\" is not a valid id; use 1 to 64 of A-Z a-z 0-9 _ . -"));
                id
            }
            None => {
                if o.get("id").is_none() {
                    self.err(o.at("id"), "missing; every node needs an id");
                }
                return None;
            }
        };
        let label = self.string(&o, "label");
        let pos = self.pos(&o, "pos");
        let kind = match kind {
            Kind::Producer => NodeKind::Producer(self.producer(&o)),
            Kind::Exchange => NodeKind::Exchange(self.exchange(&o)),
            Kind::Queue => NodeKind::Queue(self.queue(&o)),
            Kind::Service => NodeKind::Service(self.service(&o)),
            Kind::Store => NodeKind::Store(self.store(&o)),
            Kind::Gateway => NodeKind::Gateway(self.gateway(&o)),
            Kind::Topic => NodeKind::Topic(Topic {
                partitions: self.integer(&o, "partitions", limits::PARTITIONS).map_or(3, |n| n as u32),
                retention_ms: self.number(&o, "retention_ms", limits::DURATION_MS),
            }),
        };
        Some(Node { id, label, pos, kind })
    }

    fn producer(&mut self, o: &Obj) -> Producer {
        let rate_per_s = self.rate(o, "rate_per_s").unwrap_or(0.0);
        if o.get("rate_per_s").is_none() && o.get("schedule").is_none() && o.get("users").is_none() {
            self.err(o.at("rate_per_s"), "missing; a producer needs a rate (events per second)");
        }
        let arrival = self
            .choice(o, "arrival", "arrival process", &["poisson", "constant"], |s| match s {
                "poisson" => Some(Arrival::Poisson),
                "constant" => Some(Arrival::Constant),
                _ => None,
            })
            .unwrap_or(Arrival::Poisson);
        let event = self.string(o, "event");
        let limit = self.integer(o, "limit", limits::LIMIT);
        let mut schedule = Vec::new();
        if let Some(items) = self.array(o, "schedule", 10_000) {
            let mut last = -1.0;
            for (i, item) in items.iter().enumerate() {
                let Some(s) = self.object(
                    item,
                    format!("{}[{i}]", o.at("schedule")),
                    "a schedule step",
                    &[&["at_s", "rate_per_s"]],
                ) else {
                    continue;
                };
                let at_s = self.number(&s, "at_s", limits::SECONDS);
                let rate = self.rate(&s, "rate_per_s");
                for (key, val) in [("at_s", at_s), ("rate_per_s", rate)] {
                    if val.is_none() && s.get(key).is_none() {
                        self.err(s.at(key), "missing");
                    }
                }
                if let (Some(at_s), Some(rate_per_s)) = (at_s, rate) {
                    if at_s <= last {
                        self.err(
                            s.at("at_s"),
                            format!("{at_s} is not after the previous step's {last}; steps go in time order"),
                        );
                    }
                    last = at_s;
                    schedule.push(RateStep { at_s, rate_per_s });
                }
            }
        }
        let timeout_ms = self.number(o, "timeout_ms", limits::DURATION_MS);
        let retries = o.get("retries").and_then(|v| self.retry_policy(v, o.at("retries")));
        let idempotency_key = self.boolean(o, "idempotency_key");
        let users = self.integer(o, "users", limits::USERS).map(|n| n as u32);
        let think_ms = o.get("think_ms").and_then(|v| self.dist(v, o.at("think_ms")));
        let keys = self.integer(o, "keys", limits::KEYS).map(|n| n as u32);
        Producer {
            rate_per_s,
            arrival,
            event,
            limit,
            schedule,
            timeout_ms,
            retries,
            idempotency_key,
            users,
            think_ms,
            keys,
        }
    }

    /// A rate: 0 or more, and not so high that one producer floods the machine.
    fn rate(&mut self, o: &Obj, key: &str) -> Option<f64> {
        self.number(o, key, limits::RATE_PER_S)
    }

    fn exchange(&mut self, o: &Obj) -> Exchange {
        let names = ["fanout", "direct", "topic", "headers"];
        let kind = self.choice(o, "type", "exchange type", &names, |s| match s {
            "fanout" => Some(ExchangeType::Fanout),
            "direct" => Some(ExchangeType::Direct),
            "topic" => Some(ExchangeType::Topic),
            "headers" => Some(ExchangeType::Headers),
            _ => None,
        });
        if o.get("type").is_none() {
            self.err(o.at("type"), format!("missing; expected one of {}", one_of(&names)));
        }
        Exchange { kind: kind.unwrap_or(ExchangeType::Fanout) }
    }

    fn queue(&mut self, o: &Obj) -> Queue {
        let names = ["drop-head", "reject-publish", "reject-publish-dlx"];
        Queue {
            max_length: self.integer(o, "max_length", limits::MAX_LENGTH),
            overflow: self
                .choice(o, "overflow", "overflow policy", &names, |s| match s {
                    "drop-head" => Some(Overflow::DropHead),
                    "reject-publish" => Some(Overflow::RejectPublish),
                    "reject-publish-dlx" => Some(Overflow::RejectPublishDlx),
                    _ => None,
                })
                .unwrap_or(Overflow::DropHead),
            message_ttl_ms: self.number(o, "message_ttl_ms", limits::DURATION_MS),
            delivery_limit: self.integer(o, "delivery_limit", limits::DELIVERY_LIMIT).map(|n| n as u32),
        }
    }

    fn service(&mut self, o: &Obj) -> Service {
        let replicas = self.integer(o, "replicas", limits::REPLICAS).unwrap_or(1) as u32;
        let concurrency = match o.get("concurrency") {
            Some(Value::String(s)) if s == "unbounded" => UNBOUNDED,
            Some(Value::String(s)) => {
                let expected = limits::CONCURRENCY.expected();
                self.err(o.at("concurrency"), format!("expected {expected} or \"unbounded\", found \"{s}\""));
                1
            }
            _ => self.integer(o, "concurrency", limits::CONCURRENCY).unwrap_or(1) as u32,
        };
        let prefetch = self.integer(o, "prefetch", limits::PREFETCH).map(|n| n as u32);
        let processing = match o.get("processing") {
            Some(v) => self.dist(v, o.at("processing")).unwrap_or(Dist::constant(0.0)),
            None => {
                self.err(o.at("processing"), "missing; a service needs a processing time (a distribution)");
                Dist::constant(0.0)
            }
        };
        let failure_rate = self.number(o, "failure_rate", limits::PROBABILITY).unwrap_or(0.0);
        let on_failure = o.get("on_failure").map_or(OnFailure::Reject, |v| self.on_failure(v, o.at("on_failure")));
        let cpu_ms = o.get("cpu_ms").and_then(|v| self.dist(v, o.at("cpu_ms")));
        let cpu_request_m = self.number(o, "cpu_request_m", limits::MILLICORES);
        let cpu_limit_m = self.number(o, "cpu_limit_m", limits::MILLICORES);
        let autoscale = o.get("autoscale").and_then(|v| self.autoscale(v, o.at("autoscale")));
        if autoscale.as_ref().is_some_and(|a| a.metric == ScaleMetric::Cpu) && cpu_request_m.is_none() {
            self.err(o.at("autoscale.metric"), "cpu autoscaling measures against the CPU request: set cpu_request_m");
        }
        let deadline_ms = self.number(o, "deadline_ms", limits::DURATION_MS);
        let shed_after_ms = self.number(o, "shed_after_ms", limits::DURATION_MS);
        let redrive = o.get("redrive").and_then(|v| {
            let r = self.object(v, o.at("redrive"), "a redrive bound", &[&["max"]])?;
            if r.get("max").is_none() {
                self.err(r.at("max"), "missing; the redrives after which a message is parked");
            }
            Some(Redrive { max: self.integer(&r, "max", limits::REDRIVES)? as u32 })
        });
        Service {
            replicas,
            concurrency,
            prefetch,
            processing,
            failure_rate,
            on_failure,
            cpu_ms,
            cpu_request_m,
            cpu_limit_m,
            autoscale,
            deadline_ms,
            shed_after_ms,
            ack_ms: self.number(o, "ack_ms", limits::DURATION_MS),
            redrive,
            saga: o.get("saga").and_then(|v| self.saga(v, o.at("saga"))),
            outbox: o.get("outbox").and_then(|v| {
                let b = self.object(v, o.at("outbox"), "an outbox", &[&["poll_ms", "batch"]])?;
                let d = Outbox::default();
                Some(Outbox {
                    poll_ms: self.number(&b, "poll_ms", limits::POLL_MS).unwrap_or(d.poll_ms),
                    batch: self.integer(&b, "batch", limits::BATCH).map_or(d.batch, |n| n as u32),
                })
            }),
        }
    }

    /// A saga orchestrator's state machine: `{"start", "steps": [...], "resends"}`.
    fn saga(&mut self, v: &Value, path: String) -> Option<Saga> {
        let o = self.object(v, path, "a saga", &[SAGA_FIELDS])?;
        let start = self.string(&o, "start");
        if o.get("start").is_none() {
            self.err(o.at("start"), "missing; the event that starts a saga");
        }
        let items = self.array(&o, "steps", super::saga::MAX_STEPS);
        if items.is_none_or(Vec::is_empty) && o.get("steps").is_none_or(Value::is_array) {
            self.err(o.at("steps"), "a saga needs at least one step");
        }
        let steps: Vec<SagaStep> = items
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, v)| self.saga_step(v, format!("{}.{i}", o.at("steps"))))
            .collect();
        let resends = self.integer(&o, "resends", limits::RESENDS).map_or(super::saga::RESENDS, |n| n as u32);
        let saga = Saga { start: start?, steps, resends };
        self.saga_rules(&saga, &o);
        Some(saga)
    }

    fn saga_step(&mut self, v: &Value, path: String) -> Option<SagaStep> {
        let o = self.object(v, path, "a saga step", &[SAGA_STEP_FIELDS])?;
        let required = |d: &mut Self, key: &str, what: &str| {
            if o.get(key).is_none() {
                d.err(o.at(key), format!("missing; {what}"));
            }
            d.string(&o, key)
        };
        let name = required(self, "name", "each step needs a name");
        let command = required(self, "command", "the command (an event) that does the step");
        let reply = required(self, "reply", "the reply (an event) that says the step is done");
        let compensation = self.string(&o, "compensation");
        let compensation_reply = self.string(&o, "compensation_reply");
        if compensation.is_some() != compensation_reply.is_some() {
            let (key, why) = if compensation.is_some() {
                ("compensation_reply", "missing; a compensation needs the reply that says it is done")
            } else {
                ("compensation", "missing; a compensation reply needs its compensation")
            };
            self.err(o.at(key), why);
        }
        Some(SagaStep {
            name: name?,
            participant: self.string(&o, "participant"),
            channel: self.string(&o, "channel"),
            command: command?,
            reply: reply?,
            failure: self.string(&o, "failure"),
            timeout_ms: self.number(&o, "timeout_ms", limits::STEP_TIMEOUT_MS).unwrap_or(super::saga::STEP_TIMEOUT_MS),
            compensation,
            compensation_reply,
            pivot: self.boolean(&o, "pivot"),
            tombstone: self.boolean(&o, "tombstone"),
        })
    }

    /// The rules between steps: one pivot at most, no compensation after it (retriable steps
    /// are never undone), every event name used once.
    fn saga_rules(&mut self, saga: &Saga, o: &Obj) {
        let pivots: Vec<usize> = saga.steps.iter().enumerate().filter(|(_, s)| s.pivot).map(|(i, _)| i).collect();
        if let [_, second, ..] = pivots[..] {
            self.err(format!("{}.{second}.pivot", o.at("steps")), "a saga has one pivot at most");
        }
        let pivot = saga.pivot();
        for (i, step) in saga.steps.iter().enumerate().skip(pivot + 1) {
            if step.compensation.is_some() {
                self.err(
                    format!("{}.{i}.compensation", o.at("steps")),
                    format!("step \"{}\" comes after the pivot: it is retriable and never undone", step.name),
                );
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for name in saga.receives().chain(saga.sends()) {
            if seen.contains(&name) {
                self.err(
                    o.at("steps"),
                    format!("the event \"{name}\" is used twice; each command and reply needs its own"),
                );
            }
            seen.push(name);
        }
    }

    fn autoscale(&mut self, v: &Value, path: String) -> Option<Autoscale> {
        let o = self.object(v, path, "an autoscaler", &[AUTOSCALE_FIELDS])?;
        let names = ["cpu", "queue_ready", "in_flight"];
        let metric = self.choice(&o, "metric", "metric", &names, |s| match s {
            "cpu" => Some(ScaleMetric::Cpu),
            "queue_ready" => Some(ScaleMetric::QueueReady),
            "in_flight" => Some(ScaleMetric::InFlight),
            _ => None,
        });
        if o.get("metric").is_none() {
            self.err(o.at("metric"), "missing; expected one of \"cpu\", \"queue_ready\", \"in_flight\"");
        }
        let target = self.number(&o, "target", limits::TARGET);
        if o.get("target").is_none() {
            self.err(o.at("target"), "missing; the value per replica to hold (cpu: a fraction of the request)");
        }
        let min = self.integer(&o, "min", limits::SCALE_REPLICAS).map_or(1, |n| n as u32);
        let max = self.integer(&o, "max", limits::SCALE_REPLICAS).map_or(10, |n| n as u32);
        if min > max {
            self.err(o.at("min"), format!("min {min} is above max {max}"));
        }
        Some(Autoscale {
            metric: metric?,
            target: target?,
            min,
            max,
            sync_s: self.number(&o, "sync_s", limits::SYNC_S).unwrap_or(15.0),
            stabilization_s: self.number(&o, "stabilization_s", limits::SECONDS).unwrap_or(300.0),
            start_s: self.number(&o, "start_s", limits::SECONDS).unwrap_or(0.0),
        })
    }

    /// `{"max_attempts", "backoff_ms", "multiplier", "jitter", "immediate", "budget"}`, each
    /// with its default.
    fn retry_policy(&mut self, v: &Value, path: String) -> Option<RetryPolicy> {
        const FIELDS: &[&str] = &["max_attempts", "backoff_ms", "multiplier", "jitter", "immediate", "budget"];
        let r = self.object(v, path, "a retry policy", &[FIELDS])?;
        let d = RetryPolicy::default();
        let max_attempts = self.integer(&r, "max_attempts", limits::MAX_ATTEMPTS).map_or(d.max_attempts, |n| n as u32);
        let immediate = self.integer(&r, "immediate", limits::IMMEDIATE).map_or(0, |n| n as u32);
        if immediate >= max_attempts {
            self.err(
                r.at("immediate"),
                format!(
                    "{immediate} immediate retries leave none of max_attempts {max_attempts} for back-off: at most {}",
                    max_attempts - 1
                ),
            );
        }
        Some(RetryPolicy {
            max_attempts,
            backoff_ms: self.number(&r, "backoff_ms", limits::DURATION_MS).unwrap_or(d.backoff_ms),
            multiplier: self.number(&r, "multiplier", limits::MULTIPLIER).unwrap_or(d.multiplier),
            jitter: self.number(&r, "jitter", limits::PROBABILITY).unwrap_or(d.jitter),
            immediate: immediate.min(max_attempts - 1),
            budget: r.get("budget").and_then(|v| self.retry_budget(v, r.at("budget"))),
        })
    }

    fn retry_budget(&mut self, v: &Value, path: String) -> Option<RetryBudget> {
        let b = self.object(v, path, "a retry budget", &[&["ratio", "min_per_s", "burst"]])?;
        let d = RetryBudget::default();
        if b.get("ratio").is_none() {
            self.err(b.at("ratio"), "missing; the retries allowed per first attempt (0.1: one in ten)");
        }
        Some(RetryBudget {
            ratio: self.number(&b, "ratio", limits::BUDGET_RATIO).unwrap_or(d.ratio),
            min_per_s: self.number(&b, "min_per_s", limits::RATE_PER_S).unwrap_or(d.min_per_s),
            burst: self.number(&b, "burst", limits::BUDGET_BURST).unwrap_or(d.burst),
        })
    }

    fn breaker(&mut self, v: &Value, path: String) -> Option<Breaker> {
        const FIELDS: &[&str] = &["failure_rate", "window_s", "min_calls", "open_s", "probes"];
        let b = self.object(v, path, "a circuit breaker", &[FIELDS])?;
        let d = Breaker::default();
        Some(Breaker {
            failure_rate: self.number(&b, "failure_rate", limits::PROBABILITY).unwrap_or(d.failure_rate),
            window_s: self.number(&b, "window_s", limits::WINDOW_S).unwrap_or(d.window_s),
            min_calls: self.integer(&b, "min_calls", limits::CALLS).map_or(d.min_calls, |n| n as u32),
            open_s: self.number(&b, "open_s", limits::SECONDS).unwrap_or(d.open_s),
            probes: self.integer(&b, "probes", limits::CALLS).map_or(d.probes, |n| n as u32),
        })
    }

    fn on_failure(&mut self, v: &Value, path: String) -> OnFailure {
        const EXPECTED: &str = "expected \"reject\", \"requeue\", \"ack\" or {\"retry\": {...}}";
        match v {
            Value::String(s) if s == "reject" => OnFailure::Reject,
            Value::String(s) if s == "requeue" => OnFailure::Requeue,
            Value::String(s) if s == "ack" => OnFailure::Ack,
            Value::String(s) => {
                self.err(path, format!("unknown failure policy \"{s}\"; {EXPECTED}"));
                OnFailure::Reject
            }
            Value::Object(_) => {
                let Some(o) = self.object(v, path, "a failure policy", &[&["retry"]]) else {
                    return OnFailure::Reject;
                };
                let Some(r) = o.get("retry") else {
                    self.err(o.path.clone(), EXPECTED);
                    return OnFailure::Reject;
                };
                self.retry_policy(r, o.at("retry")).map_or(OnFailure::Reject, OnFailure::Retry)
            }
            _ => {
                self.err(path, format!("{EXPECTED}, found {}", type_name(v)));
                OnFailure::Reject
            }
        }
    }

    fn store(&mut self, o: &Obj) -> Store {
        Store {
            latency: o
                .get("latency")
                .map_or(Dist::constant(0.0), |v| self.dist(v, o.at("latency")).unwrap_or(Dist::constant(0.0))),
            failure_rate: self.number(o, "failure_rate", limits::PROBABILITY).unwrap_or(0.0),
            dedup_ttl_ms: self.number(o, "dedup_ttl_ms", limits::DURATION_MS),
        }
    }

    fn gateway(&mut self, o: &Obj) -> Gateway {
        Gateway {
            average: self.number(o, "average", limits::AVERAGE).unwrap_or(0.0),
            period_s: self.number(o, "period_s", limits::PERIOD_S).unwrap_or(1.0),
            burst: self.integer(o, "burst", limits::BURST).map_or(1, |n| n as u32),
            latency: o.get("latency").and_then(|v| self.dist(v, o.at("latency"))),
        }
    }

    /// A distribution: a bare number (constant milliseconds) or `{"dist": ..., ...}`.
    fn dist(&mut self, v: &Value, path: String) -> Option<Dist> {
        if v.is_number() {
            return self.number_value(v, path, limits::DURATION_MS).map(Dist::constant);
        }
        let Value::Object(map) = v else {
            self.err(
                path,
                format!(
                    "expected a distribution: a number of milliseconds or {{\"dist\": ...}}, found {}",
                    type_name(v)
                ),
            );
            return None;
        };
        let name = match map.get("dist") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                self.err(format!("{path}.dist"), format!("expected a string, found {}", type_name(other)));
                return None;
            }
            None => {
                self.err(format!("{path}.dist"), format!("missing; expected one of {}", one_of(DIST_NAMES)));
                return None;
            }
        };
        let params: &[&str] = match name {
            "constant" => &["ms"],
            "exponential" => &["mean_ms"],
            "uniform" => &["min_ms", "max_ms"],
            "normal" | "lognormal" => &["mean_ms", "stddev_ms"],
            _ => {
                self.err(path, format!("unknown distribution \"{name}\"; expected one of {}", one_of(DIST_NAMES)));
                return None;
            }
        };
        let o = self.object(v, path, "a distribution", &[&["dist"], params])?;
        let mut values = [0.0; 2];
        let mut ok = true;
        for (slot, key) in values.iter_mut().zip(params) {
            match o.get(key) {
                Some(v) => match self.number_value(v, o.at(key), limits::DURATION_MS) {
                    Some(x) => *slot = x,
                    None => ok = false,
                },
                None => {
                    self.err(o.at(key), format!("missing; a {name} distribution needs {}", params.join(" and ")));
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        let [a, b] = values;
        Some(match name {
            "constant" => Dist::Constant { ms: a },
            "exponential" => Dist::Exponential { mean_ms: a },
            "uniform" if a > b => {
                self.err(o.at("max_ms"), format!("max_ms {b} is below min_ms {a}"));
                return None;
            }
            "uniform" => Dist::Uniform { min_ms: a, max_ms: b },
            "normal" => Dist::Normal { mean_ms: a, stddev_ms: b },
            _ => Dist::Lognormal { mean_ms: a, stddev_ms: b },
        })
    }

    fn link(&mut self, v: &Value, path: String) -> Option<Link> {
        let o = self.object(v, path, "a link", &[LINK_FIELDS])?;
        let mut link = Link::default();
        for (key, slot) in [("from", &mut link.from), ("to", &mut link.to)] {
            match self.string(&o, key) {
                Some(s) => *slot = s,
                None if o.get(key).is_none() => self.err(o.at(key), "missing; a link names the ids at both its ends"),
                None => {}
            }
        }
        link.routing_key = self.string(&o, "routing_key");
        link.event = self.string(&o, "event");
        link.when = self.choice(&o, "when", "condition", &When::NAMES, When::from_name);
        link.probability = self.number(&o, "probability", limits::PROBABILITY);
        link.binding_key = self.string(&o, "binding_key");
        link.dead_letter = self.boolean(&o, "dead_letter");
        link.purpose = self.choice(&o, "purpose", "purpose", &["call", "dedup"], |s| match s {
            "call" => Some(Purpose::Call),
            "dedup" => Some(Purpose::Dedup),
            _ => None,
        });
        link.latency = o.get("latency").and_then(|v| self.dist(v, o.at("latency")));
        link.headers = o.get("headers").and_then(|v| self.headers(v, o.at("headers")));
        link.match_ = self.choice(&o, "match", "headers match", &HeadersMatch::NAMES, HeadersMatch::from_name);
        link.alternate = self.boolean(&o, "alternate");
        link.message_id = self.choice(&o, "message_id", "message id policy", &["new", "keep", "none"], |s| match s {
            "new" => Some(MessageId::New),
            "keep" => Some(MessageId::Keep),
            "none" => Some(MessageId::None),
            _ => None,
        });
        link.timeout_ms = self.number(&o, "timeout_ms", limits::DURATION_MS);
        link.unreliable = self.boolean(&o, "unreliable");
        link.breaker = o.get("breaker").and_then(|v| self.breaker(v, o.at("breaker")));
        Some(link)
    }

    fn headers(&mut self, v: &Value, path: String) -> Option<BTreeMap<String, Value>> {
        let Value::Object(map) = v else {
            self.err(path, format!("expected an object of header names to values, found {}", type_name(v)));
            return None;
        };
        let mut out = BTreeMap::new();
        for (k, v) in map {
            // Values keep their JSON type: RabbitMQ compares header values with their types.
            match v {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    out.insert(k.clone(), v.clone());
                }
                _ => self.err(
                    format!("{path}.{k}"),
                    format!("expected a string, number or boolean, found {}", type_name(v)),
                ),
            }
        }
        Some(out)
    }
}

/// `[A-Za-z0-9_.-]{1,64}`.
pub(super) fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
