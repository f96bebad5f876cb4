//! The inspector's form: each field a node kind or a link role takes, with what it means (the
//! text of `docs/topology.md`, shown on hover) and how its text becomes a JSON value.

use edasim_sim::topology::limits::{self, Bounds};
use edasim_sim::topology::{Kind, LinkRole, When};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    /// A number within its bounds (the engine's table, `edasim_sim::topology::limits`);
    /// empty removes an optional field.
    Number {
        bounds: Bounds,
        optional: bool,
    },
    Text {
        optional: bool,
    },
    Choice(&'static [&'static str]),
    /// Anything JSON (retry policies, schedules).
    Json {
        optional: bool,
    },
    /// A distribution of durations: its kind and its parameters.
    Dist {
        optional: bool,
    },
    /// A service's concurrency: workers per replica, or "unbounded".
    Concurrency,
    /// A service's failure policy: reject, requeue, or retry with its parameters
    /// (`on_failure.rs`).
    OnFailure,
    /// A service's transactional outbox: on or off, its relay's poll and batch (`outbox.rs`).
    Outbox,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub input: Input,
}

const fn f(name: &'static str, label: &'static str, help: &'static str, input: Input) -> Field {
    Field { name, label, help, input }
}

const fn num(bounds: Bounds, optional: bool) -> Input {
    Input::Number { bounds, optional }
}

const DIST: &str = "A distribution: a number (constant ms), or {\"dist\": \"exponential\", \"mean_ms\": 100}, \
                    \"constant\" (ms), \"uniform\" (min_ms, max_ms), \"normal\" or \"lognormal\" (mean_ms, stddev_ms).";

pub fn node_fields(kind: Kind) -> &'static [Field] {
    const PRODUCER: &[Field] = &[
        f("rate_per_s", "Rate (events/s)", "Events per second this producer emits.", num(limits::RATE_PER_S, false)),
        f(
            "arrival",
            "Arrivals",
            "poisson: random gaps (exponential); constant: evenly spaced.",
            Input::Choice(&["poisson", "constant"]),
        ),
        f(
            "event",
            "Event type",
            "The type name of the events emitted (default: the producer's id).",
            Input::Text { optional: true },
        ),
        f("limit", "Limit", "Stop after this many events (empty: never).", num(limits::LIMIT, true)),
        f(
            "schedule",
            "Schedule",
            "Piecewise rate: [{\"at_s\": 60, \"rate_per_s\": 20}, ...].",
            Input::Json { optional: true },
        ),
        f(
            "timeout_ms",
            "Timeout (ms)",
            "A client of a gateway gives up on an attempt unanswered this long (the attempt goes on in the system). Empty: it waits.",
            num(limits::DURATION_MS, true),
        ),
        f(
            "retries",
            "Retries",
            "A client of a gateway tries again after a timeout, 429, 503 or 500: {\"max_attempts\": 3, \"backoff_ms\": 100, \"multiplier\": 2, \"jitter\": 0.1}.",
            Input::Json { optional: true },
        ),
        f(
            "users",
            "Users",
            "A closed loop: this many users, each sending a request, waiting for its end, then thinking before the next (the rate does not apply). Only for a client of gateways.",
            num(limits::USERS, true),
        ),
        f("think_ms", "Think time", DIST, Input::Dist { optional: true }),
        f(
            "keys",
            "Partition keys",
            "Each event gets one of this many keys (a customer): a topic partitions by it, and consumers' order is checked per key.",
            num(limits::KEYS, true),
        ),
        f(
            "idempotency_key",
            "Idempotency key",
            "true: every attempt of a request carries the first attempt's id, so a dedup at the API skips repeats.",
            Input::Json { optional: true },
        ),
    ];
    const EXCHANGE: &[Field] = &[f(
        "type",
        "Type",
        "fanout: every bound queue; direct: binding key = routing key; topic: * one word, # zero or more; headers: match on headers.",
        Input::Choice(&["fanout", "direct", "topic", "headers"]),
    )];
    const QUEUE: &[Field] = &[
        f(
            "max_length",
            "Max length",
            "Ready messages the queue holds at most (empty: unbounded).",
            num(limits::MAX_LENGTH, true),
        ),
        f(
            "overflow",
            "Overflow",
            "When full: drop-head drops the oldest; reject-publish refuses the new one; reject-publish-dlx dead-letters it.",
            Input::Choice(&["drop-head", "reject-publish", "reject-publish-dlx"]),
        ),
        f(
            "message_ttl_ms",
            "Message TTL (ms)",
            "A message waiting longer expires (dead-lettered if the queue has a dead-letter link).",
            num(limits::DURATION_MS, true),
        ),
        f(
            "delivery_limit",
            "Delivery limit",
            "After this many redeliveries a message is dead-lettered.",
            num(limits::DELIVERY_LIMIT, true),
        ),
    ];
    const SERVICE: &[Field] = &[
        f(
            "replicas",
            "Replicas",
            "Instances consuming in parallel (a Kubernetes autoscaler changes this).",
            num(limits::REPLICAS, false),
        ),
        f(
            "concurrency",
            "Concurrency",
            "Messages each replica processes at once, or \"unbounded\": each message in its own task (as the seed's asyncio consumers), so waiting costs no worker.",
            Input::Concurrency,
        ),
        f(
            "prefetch",
            "Prefetch",
            "Unacknowledged messages per replica (default: the concurrency; 0: no limit, AMQP's meaning).",
            num(limits::PREFETCH, true),
        ),
        f("processing", "Processing time", DIST, Input::Dist { optional: false }),
        f(
            "failure_rate",
            "Failure rate",
            "Chance (0 to 1) that processing a message fails.",
            num(limits::PROBABILITY, false),
        ),
        f(
            "on_failure",
            "On failure",
            "reject (dead-letter if the queue can, else drop), requeue (back to the queue at once), ack (the failure is an answer, not a loss: its failure links and saga reply are sent and the message is settled, as a declined card answered with PaymentFailed), or retry: the first \"at once\" retries immediately, then each after back-off × multiplier^k, ± the jitter's fraction (1: full jitter), in the replica or through a delay queue (a link with when \"retry\"); after the last attempt, reject. A retry budget set in the file is kept.",
            Input::OnFailure,
        ),
        f(
            "cpu_ms",
            "CPU time",
            "CPU time per message, spent before the processing time, which is then waiting (a sleep, a call) and costs no CPU. A distribution; empty: none.",
            Input::Dist { optional: true },
        ),
        f(
            "cpu_request_m",
            "CPU request (m)",
            "Each replica's CPU request in millicores (100 = a tenth of a core): what cpu autoscaling measures against.",
            num(limits::MILLICORES, true),
        ),
        f(
            "cpu_limit_m",
            "CPU limit (m)",
            "Each replica's CPU limit in millicores: its tasks share it, each using at most a core (empty: no limit).",
            num(limits::MILLICORES, true),
        ),
        f(
            "autoscale",
            "Autoscale",
            "Kubernetes' HPA: {\"metric\": \"cpu\" (a fraction of the request), \"queue_ready\" or \"in_flight\" (per replica), \"target\": 0.8, \"min\": 1, \"max\": 10, \"sync_s\": 15, \"stabilization_s\": 300, \"start_s\": 0}. Empty: fixed replicas.",
            Input::Json { optional: true },
        ),
        f(
            "deadline_ms",
            "Deadline (ms)",
            "How long work stays worth doing from its origin (the requester's timeout): successes within it are goodput, later ones late. Empty: none.",
            num(limits::DURATION_MS, true),
        ),
        f(
            "shed_after_ms",
            "Shed after (ms)",
            "Load shedding: work older than this when a worker takes it is dropped unprocessed. Set it below the deadline by the processing time. Empty: none.",
            num(limits::DURATION_MS, true),
        ),
        f(
            "ack_ms",
            "Ack delay (ms)",
            "Time from the handler's effects (its publishes, its dedup write) to its ack reaching the broker: a crash in it redelivers work already done. Empty: none.",
            num(limits::DURATION_MS, true),
        ),
        f(
            "redrive",
            "Redrive bound",
            "A dead-letter handler that parks a message after this many redrives: {\"max\": 3}, with a link whose when is \"parked\". Empty: no bound (the seed's handler).",
            Input::Json { optional: true },
        ),
        f(
            "saga",
            "Saga",
            "A saga orchestrator: {\"start\": event, \"steps\": [{\"name\", \"channel\", \"command\", \"reply\", \"failure\", \"timeout_ms\", \"compensation\", \"compensation_reply\", \"pivot\"}]} (docs/topology.md).",
            Input::Json { optional: true },
        ),
        f(
            "outbox",
            "Outbox",
            "A transactional outbox: what it publishes is written to its store (a call link) in the same transaction as its business change, and a relay polls the table and publishes the rows, at least once.",
            Input::Outbox,
        ),
    ];
    const STORE: &[Field] = &[
        f("latency", "Latency", DIST, Input::Dist { optional: false }),
        f(
            "failure_rate",
            "Failure rate",
            "Chance (0 to 1) that a call fails (the calling attempt fails).",
            num(limits::PROBABILITY, false),
        ),
        f(
            "dedup_ttl_ms",
            "Dedup key TTL (ms)",
            "How long a dedup store remembers a message id (empty: for ever).",
            num(limits::DURATION_MS, true),
        ),
    ];
    const TOPIC: &[Field] = &[
        f(
            "partitions",
            "Partitions",
            "Events go to the partition of their key; within a consumer group each partition has one consumer (default 3).",
            num(limits::PARTITIONS, true),
        ),
        f(
            "retention_ms",
            "Retention (ms)",
            "Events older than this are deleted, read or not (empty: kept).",
            num(limits::DURATION_MS, true),
        ),
    ];
    const GATEWAY: &[Field] = &[
        f(
            "average",
            "Average",
            "Requests each client may make per period on average (Traefik's rateLimit average; 0: no limit). A request finding no token is answered 429.",
            num(limits::AVERAGE, false),
        ),
        f("period_s", "Period (s)", "The period of the average (default 1 s).", num(limits::PERIOD_S, true)),
        f(
            "burst",
            "Burst",
            "Requests a client may make at once: the bucket's size (default 1).",
            num(limits::BURST, true),
        ),
        f("latency", "Latency", DIST, Input::Dist { optional: true }),
    ];
    match kind {
        Kind::Producer => PRODUCER,
        Kind::Exchange => EXCHANGE,
        Kind::Queue => QUEUE,
        Kind::Service => SERVICE,
        Kind::Store => STORE,
        Kind::Gateway => GATEWAY,
        Kind::Topic => TOPIC,
    }
}

/// The fields of a link, by what it means and its source kind.
pub fn link_fields(role: LinkRole, from_kind: Kind) -> Vec<Field> {
    const LATENCY: Field = f(
        "latency",
        "Latency",
        "Time to cross the link (empty: none). A distribution as for processing.",
        Input::Json { optional: true },
    );
    let mut fields = match role {
        LinkRole::Publish => {
            let mut v = vec![
                f(
                    "routing_key",
                    "Routing key",
                    "The key exchanges route on (default \"\").",
                    Input::Text { optional: true },
                ),
                f("event", "Event type", "The type name of what is published here.", Input::Text { optional: true }),
                f(
                    "probability",
                    "Probability",
                    "Publish on this link with this chance (default 1).",
                    num(limits::PROBABILITY, true),
                ),
            ];
            if from_kind == Kind::Service {
                v.push(f(
                    "when",
                    "When",
                    "Publish after success (default), after a failed attempt, as the delay queue of delayed retries (retry), or for messages past the redrive bound (parked).",
                    Input::Choice(&When::NAMES),
                ));
            }
            v
        }
        LinkRole::Bind | LinkRole::ExchangeBind => {
            vec![f(
                "binding_key",
                "Binding key",
                "What routing keys this binding takes (topic: * one word, # any).",
                Input::Text { optional: true },
            )]
        }
        LinkRole::DeadLetter => {
            vec![f(
                "routing_key",
                "Routing key",
                "Replaces the message's routing key (default: kept).",
                Input::Text { optional: true },
            )]
        }
        LinkRole::Call | LinkRole::Dedup => {
            vec![
                f(
                    "purpose",
                    "Purpose",
                    "call: one call per message; dedup: skip message ids seen before.",
                    Input::Choice(&["call", "dedup"]),
                ),
                f(
                    "timeout_ms",
                    "Timeout (ms)",
                    "The caller gives up on a call unanswered after this long (the attempt fails); a later answer is counted late. Empty: it waits.",
                    num(limits::DURATION_MS, true),
                ),
                f(
                    "breaker",
                    "Circuit breaker",
                    "{\"failure_rate\": 0.5, \"window_s\": 10, \"min_calls\": 10, \"open_s\": 5, \"probes\": 1}: opens when that share of the window's calls failed, fails calls at once while open, lets probes through after open_s. Empty: none.",
                    Input::Json { optional: true },
                ),
            ]
        }
        LinkRole::Request => vec![
            f("event", "Event type", "The type name of the requests.", Input::Text { optional: true }),
            f(
                "probability",
                "Probability",
                "Send on this link with this chance (default 1).",
                num(limits::PROBABILITY, true),
            ),
        ],
        LinkRole::Consume | LinkRole::Alternate => vec![],
    };
    if matches!(role, LinkRole::Publish | LinkRole::Request) {
        fields.push(f(
            "unreliable",
            "Unreliable",
            "true: a partition of this link loses what is sent over it, instead of holding it until the partition ends. Empty: reliable.",
            Input::Json { optional: true },
        ));
    }
    fields.push(LATENCY);
    fields
}

/// The text a field's value shows in the form.
pub fn show(input: Input, value: Option<&Value>) -> String {
    match (input, value) {
        (_, None | Some(Value::Null)) => String::new(),
        (Input::Text { .. } | Input::Choice(_) | Input::Concurrency, Some(Value::String(s))) => s.clone(),
        // 8.0 reads as 8 (the engine's copy stores every number as a float).
        (Input::Number { .. } | Input::Concurrency, Some(Value::Number(n))) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
            _ => n.to_string(),
        },
        (_, Some(v)) => v.to_string(),
    }
}

/// The value typed text means, `Ok(None)` for "remove the field", or why it means nothing.
pub fn parse(input: Input, text: &str) -> Result<Option<Value>, String> {
    let t = text.trim();
    match input {
        Input::Number { optional: true, .. }
        | Input::Text { optional: true }
        | Input::Json { optional: true }
        | Input::Dist { optional: true }
        | Input::OnFailure
        | Input::Outbox
            if t.is_empty() =>
        {
            Ok(None)
        }
        Input::Number { bounds, .. } => {
            // A whole number is read as one, so that a 64-bit seed keeps every digit.
            if bounds.whole
                && let Ok(n) = t.parse::<u64>()
            {
                bounds.check(n as f64)?;
                return Ok(Some(json!(n)));
            }
            let v: f64 = t.parse().map_err(|_| format!("\"{t}\" is not a number; expected {}", bounds.expected()))?;
            bounds.check(v)?;
            Ok(Some(if bounds.whole { json!(v as u64) } else { json!(v) }))
        }
        Input::Text { .. } => Ok(Some(json!(t))),
        Input::Concurrency if t == "unbounded" => Ok(Some(json!("unbounded"))),
        Input::Concurrency => parse(Input::Number { bounds: limits::CONCURRENCY, optional: false }, t)
            .map_err(|e| format!("{e}, or \"unbounded\"")),
        Input::Choice(options) => {
            if options.contains(&t) {
                Ok(Some(json!(t)))
            } else {
                Err(format!("one of {}", options.join(", ")))
            }
        }
        Input::Json { .. } | Input::Dist { .. } | Input::OnFailure | Input::Outbox => {
            serde_json::from_str(t).map(Some).map_err(|e| format!("not JSON: {e}"))
        }
    }
}

/// The distribution kinds, and the parameters each takes (milliseconds).
pub const DISTS: &[(&str, &[&str])] = &[
    ("constant", &["ms"]),
    ("exponential", &["mean_ms"]),
    ("uniform", &["min_ms", "max_ms"]),
    ("normal", &["mean_ms", "stddev_ms"]),
    ("lognormal", &["mean_ms", "stddev_ms"]),
];

pub fn dist_params(kind: &str) -> &'static [&'static str] {
    DISTS.iter().find(|(k, _)| *k == kind).map_or(&[], |(_, p)| p)
}

/// A distribution's kind and parameters (a bare number is a constant); `None` for no value.
pub fn dist_parts(value: Option<&Value>) -> Option<(String, Vec<f64>)> {
    match value? {
        Value::Number(n) => Some(("constant".into(), vec![n.as_f64().unwrap_or(0.0)])),
        v => {
            let kind = v.get("dist")?.as_str()?.to_string();
            let params = dist_params(&kind).iter().map(|p| v.get(*p).and_then(Value::as_f64).unwrap_or(0.0)).collect();
            Some((kind, params))
        }
    }
}

pub fn dist_value(kind: &str, params: &[f64]) -> Value {
    let mut v = json!({"dist": kind});
    for (name, x) in dist_params(kind).iter().zip(params) {
        v[*name] = json!(x);
    }
    v
}

/// Parameters for `to` that keep the mean of the distribution `from` had (a spread of a quarter
/// of the mean where `to` needs one), so that switching kinds changes the shape, not the scale.
pub fn convert(from: &str, params: &[f64], to: &str) -> Vec<f64> {
    let p = |i: usize| params.get(i).copied().unwrap_or(0.0);
    let mean = if from == "uniform" { (p(0) + p(1)) / 2.0 } else { p(0) };
    match to {
        "uniform" => vec![mean * 0.5, mean * 1.5],
        "normal" | "lognormal" => vec![mean, mean / 4.0],
        _ => vec![mean],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_values_or_reasons() {
        let rate = node_fields(Kind::Producer)[0].input;
        assert_eq!(parse(rate, " 150 "), Ok(Some(json!(150.0))));
        assert_eq!(parse(rate, "-1").unwrap_err(), "expected a number from 0 to 1000000 events per second, found -1");
        let replicas = node_fields(Kind::Service)[0].input;
        assert_eq!(parse(replicas, "0"), Ok(Some(json!(0))), "the loader's and the engine's range: 0 to 1000");
        assert!(parse(replicas, "1001").unwrap_err().contains("from 0 to 1000 replicas"));
        let seed = Input::Number { bounds: limits::SEED, optional: false };
        assert_eq!(parse(seed, "18446744073709551615"), Ok(Some(json!(u64::MAX))), "every digit kept");
        assert!(parse(rate, "fast").unwrap_err().contains("not a number"));
        let max_len = node_fields(Kind::Queue)[0].input;
        assert_eq!(parse(max_len, ""), Ok(None), "an optional field is removed");
        assert!(parse(max_len, "2.5").unwrap_err().starts_with("expected a whole number"));
        let processing = node_fields(Kind::Service)[3].input;
        assert_eq!(
            parse(processing, "{\"dist\":\"constant\",\"ms\":5}"),
            Ok(Some(json!({"dist": "constant", "ms": 5})))
        );
        assert!(parse(processing, "").is_err(), "processing is required");
        assert_eq!(show(Input::Text { optional: true }, Some(&json!("order.created"))), "order.created");
        assert_eq!(show(rate, Some(&json!(8.0))), "8");
        assert_eq!(show(rate, Some(&json!(0.25))), "0.25");
        assert_eq!(show(processing, Some(&json!({"dist": "constant", "ms": 5}))), "{\"dist\":\"constant\",\"ms\":5}");
    }

    #[test]
    fn distributions_split_into_kind_and_parameters_and_keep_their_mean() {
        assert_eq!(dist_parts(Some(&json!(5))), Some(("constant".to_string(), vec![5.0])));
        let n = json!({"dist": "normal", "mean_ms": 100.0, "stddev_ms": 20.0});
        assert_eq!(dist_parts(Some(&n)), Some(("normal".to_string(), vec![100.0, 20.0])));
        assert_eq!(dist_value("normal", &[100.0, 20.0]), n);
        assert_eq!(convert("normal", &[100.0, 20.0], "uniform"), [50.0, 150.0]);
        assert_eq!(convert("uniform", &[50.0, 150.0], "exponential"), [100.0]);
        assert_eq!(convert("exponential", &[80.0], "lognormal"), [80.0, 20.0]);
        for (kind, _) in DISTS {
            let v = dist_value(kind, &convert("exponential", &[80.0], kind));
            assert!(serde_json::from_value::<edasim_sim::dist::Dist>(v.clone()).is_ok(), "{v}");
        }
    }

    #[test]
    fn every_kind_and_role_has_its_fields() {
        for kind in Kind::ALL {
            assert!(!node_fields(kind).is_empty(), "{kind}");
        }
        assert!(link_fields(LinkRole::Publish, Kind::Service).iter().any(|f| f.name == "when"));
        assert!(!link_fields(LinkRole::Publish, Kind::Producer).iter().any(|f| f.name == "when"));
        assert_eq!(link_fields(LinkRole::Consume, Kind::Queue).len(), 1, "latency only");
    }

    /// Every number field's range is the engine's: what the loader and live changes accept.
    #[test]
    fn number_fields_take_their_bounds_from_the_engine() {
        for kind in Kind::ALL {
            for field in node_fields(kind) {
                if let Input::Number { bounds, .. } = field.input {
                    assert_eq!(Some(bounds), limits::of_field(field.name), "{kind}.{}", field.name);
                }
            }
        }
    }
}
