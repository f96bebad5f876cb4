//! The topology file: the contract's shapes and defaults, and every problem reported at once
//! with its JSON path.

use edasim_sim::dist::Dist;
use edasim_sim::topology::{LinkRole, NodeKind, OnFailure, Overflow};
use edasim_sim::{Model, Severity};
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "version": 1, "name": "t", "seed": 1,
        "nodes": [
            {"id": "api", "kind": "producer", "rate_per_s": 2},
            {"id": "x", "kind": "exchange", "type": "topic"},
            {"id": "q", "kind": "queue"},
            {"id": "svc", "kind": "service", "processing": 10},
            {"id": "db", "kind": "store", "latency": {"dist": "uniform", "min_ms": 1, "max_ms": 3}}
        ],
        "links": [
            {"from": "api", "to": "x", "routing_key": "order.created"},
            {"from": "x", "to": "q", "binding_key": "order.*"},
            {"from": "q", "to": "svc"},
            {"from": "svc", "to": "db", "purpose": "dedup"}
        ]
    })
}

/// The problems of `v` as "path: message" lines.
fn problems(v: &Value) -> Vec<String> {
    match Model::from_value(v) {
        Ok(m) => m.warnings().iter().map(|p| format!("warning {}: {}", p.path, p.message)).collect(),
        Err(e) => e.problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect(),
    }
}

fn assert_problem(v: &Value, path: &str, contains: &str) {
    let ps = problems(v);
    assert!(
        ps.iter().any(|p| p.starts_with(&format!("{path}: ")) && p.contains(contains)),
        "expected a problem at {path} containing {contains:?}, got {ps:#?}"
    );
}

#[test]
fn spec_example_loads_with_defaults() {
    let text = r#"{
      "version": 1, "name": "M/M/1", "seed": 1,
      "nodes": [
        {"id": "arrivals", "kind": "producer", "rate_per_s": 0.9},
        {"id": "q", "kind": "queue"},
        {"id": "server", "kind": "service", "processing": {"dist": "exponential", "mean_ms": 1000}}
      ],
      "links": [{"from": "arrivals", "to": "q"}, {"from": "q", "to": "server"}]
    }"#;
    let m = Model::from_json_str(text).unwrap();
    assert!(m.warnings().is_empty(), "{:?}", m.warnings());
    let t = m.topology();
    let NodeKind::Service(s) = &t.nodes[2].kind else { panic!() };
    assert_eq!((s.replicas, s.concurrency, s.effective_prefetch(), s.failure_rate), (1, 1, 1, 0.0));
    assert_eq!(s.on_failure, OnFailure::Reject);
    assert_eq!(s.processing, Dist::Exponential { mean_ms: 1000.0 });
    let NodeKind::Queue(q) = &t.nodes[1].kind else { panic!() };
    assert_eq!((q.max_length, q.overflow), (None, Overflow::DropHead));
    assert_eq!(t.nodes[0].label(), "arrivals");
    let roles: Vec<LinkRole> = m.graph().edge_weights().map(|e| e.role).collect();
    assert_eq!(roles, vec![LinkRole::Publish, LinkRole::Consume]);
}

#[test]
fn every_distribution_form_parses() {
    for (v, d) in [
        (json!(5), Dist::Constant { ms: 5.0 }),
        (json!({"dist": "constant", "ms": 5}), Dist::Constant { ms: 5.0 }),
        (json!({"dist": "exponential", "mean_ms": 250}), Dist::Exponential { mean_ms: 250.0 }),
        (json!({"dist": "uniform", "min_ms": 10, "max_ms": 30}), Dist::Uniform { min_ms: 10.0, max_ms: 30.0 }),
        (json!({"dist": "normal", "mean_ms": 100, "stddev_ms": 20}), Dist::Normal { mean_ms: 100.0, stddev_ms: 20.0 }),
        (
            json!({"dist": "lognormal", "mean_ms": 100, "stddev_ms": 50}),
            Dist::Lognormal { mean_ms: 100.0, stddev_ms: 50.0 },
        ),
    ] {
        let mut t = base();
        t["nodes"][3]["processing"] = v;
        let m = Model::from_value(&t).unwrap();
        let NodeKind::Service(s) = &m.topology().nodes[3].kind else { panic!() };
        assert_eq!(s.processing, d);
    }
}

#[test]
fn the_contracts_example_message() {
    let mut t = base();
    t["nodes"][3]["processing"] = json!({"dist": "expo", "mean_ms": 3});
    assert_problem(
        &t,
        "nodes[3].processing",
        "unknown distribution \"expo\"; expected one of constant, exponential, uniform, normal, lognormal",
    );
}

#[test]
fn bad_values_name_their_paths() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|t| t["nodes"][0]["rate_per_s"] = json!(-1)),
            "nodes[0].rate_per_s",
            "from 0 to 1000000 events per second, found -1",
        ),
        (Box::new(|t| t["nodes"][0]["rate_per_s"] = json!("fast")), "nodes[0].rate_per_s", "expected a number"),
        (Box::new(|t| t["nodes"][3]["failure_rate"] = json!(1.5)), "nodes[3].failure_rate", "probability"),
        (
            Box::new(|t| t["nodes"][3]["replicas"] = json!(1001)),
            "nodes[3].replicas",
            "whole number from 0 to 1000 replicas",
        ),
        (Box::new(|t| t["nodes"][3]["replicas"] = json!(2.5)), "nodes[3].replicas", "whole number"),
        (Box::new(|t| t["nodes"][3]["on_failure"] = json!("explode")), "nodes[3].on_failure", "unknown failure policy"),
        (
            Box::new(|t| t["nodes"][3]["on_failure"] = json!({"retry": {"max_attempts": 0}})),
            "nodes[3].on_failure.retry.max_attempts",
            "whole number",
        ),
        (
            Box::new(|t| t["nodes"][3]["speed"] = json!(1)),
            "nodes[3].speed",
            "unknown field \"speed\"; expected one of id, kind, label, pos, replicas",
        ),
        (
            Box::new(|t| t["nodes"][2]["kind"] = json!("router")),
            "nodes[2].kind",
            "unknown kind \"router\"; expected one of producer, gateway, exchange, queue, topic, service, store",
        ),
        (
            Box::new(|t| t["nodes"][2]["overflow"] = json!("drop-tail")),
            "nodes[2].overflow",
            "expected one of drop-head, reject-publish, reject-publish-dlx",
        ),
        (Box::new(|t| t["nodes"][1]["type"] = json!("round-robin")), "nodes[1].type", "unknown exchange type"),
        (Box::new(|t| t["nodes"][2]["id"] = json!("has space")), "nodes[2].id", "not a valid id"),
        (
            Box::new(|t| t["nodes"][2]["id"] = json!("api")),
            "nodes[2].id",
            "duplicate id \"api\" (first used by nodes[0])",
        ),
        (
            Box::new(|t| t["nodes"][4]["latency"] = json!({"dist": "uniform", "min_ms": 5, "max_ms": 1})),
            "nodes[4].latency.max_ms",
            "below min_ms",
        ),
        (
            Box::new(|t| t["nodes"][4]["latency"] = json!({"dist": "normal", "mean_ms": 5})),
            "nodes[4].latency.stddev_ms",
            "missing",
        ),
        (
            Box::new(|t| {
                t["nodes"][0]["schedule"] = json!([{"at_s": 5, "rate_per_s": 1}, {"at_s": 2, "rate_per_s": 1}])
            }),
            "nodes[0].schedule[1].at_s",
            "time order",
        ),
        (Box::new(|t| t["nodes"][0]["pos"] = json!([1])), "nodes[0].pos", "expected [x, y]"),
        (Box::new(|t| t["links"][0]["to"] = json!("nowhere")), "links[0].to", "no node has the id \"nowhere\""),
        (Box::new(|t| t["links"][0]["probability"] = json!(2)), "links[0].probability", "probability"),
        (
            Box::new(|t| t["links"][1]["routing_key"] = json!("k")),
            "links[1].routing_key",
            "a binding takes no routing_key",
        ),
        (
            Box::new(|t| t["links"][0]["binding_key"] = json!("k")),
            "links[0].binding_key",
            "a publish link takes no binding_key",
        ),
        (Box::new(|t| t["links"][0]["when"] = json!("failure")), "links[0].when", "takes no when"),
        (
            Box::new(|t| t["links"][2] = json!({"from": "q", "to": "api"})),
            "links[2]",
            "a link from a queue to a producer means nothing",
        ),
        (Box::new(|t| t["links"][2] = json!({"from": "q", "to": "x"})), "links[2]", "add \"dead_letter\": true"),
        (
            Box::new(|t| t["links"][2] = json!({"from": "svc", "to": "q", "dead_letter": true})),
            "links[2]",
            "a dead-letter link goes from a queue",
        ),
        (Box::new(|t| t["links"][2]["weight"] = json!(3)), "links[2].weight", "unknown field \"weight\""),
        (Box::new(|t| t["version"] = json!(2)), "version", "unsupported version 2"),
        (Box::new(|t| t["nodes"] = json!({})), "nodes", "expected an array"),
        (Box::new(|t| t["extra"] = json!(true)), "extra", "unknown field \"extra\""),
    ];
    for (i, (edit, path, contains)) in cases.iter().enumerate() {
        let mut t = base();
        edit(&mut t);
        let ps = problems(&t);
        assert!(
            ps.iter().any(|p| p.starts_with(&format!("{path}: ")) && p.contains(contains)),
            "case {i}: expected a problem at {path} containing {contains:?}, got {ps:#?}"
        );
        assert!(Model::from_value(&t).is_err(), "case {i} must be an error");
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut t = base();
    t["nodes"][0]["rate_per_s"] = json!(-5);
    t["nodes"][3]["failure_rate"] = json!(3);
    t["links"][0]["to"] = json!("ghost");
    t["links"][3]["colour"] = json!("red");
    let err = Model::from_value(&t).unwrap_err();
    let paths: Vec<&str> = err.errors().map(|p| p.path.as_str()).collect();
    for want in ["nodes[0].rate_per_s", "nodes[3].failure_rate", "links[0].to", "links[3].colour"] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
}

#[test]
fn text_level_problems() {
    for (text, contains) in [
        ("", "empty"),
        ("   \n", "empty"),
        ("{\"version\": 1,", "invalid JSON"),
        ("[1, 2]", "expected a topology (a JSON object), found an array"),
        ("null", "found null"),
        ("{\"version\": 1, \"name\": \"x\", \"nodes\": [], \"links\": [], \"seed\": -1}", "seed"),
    ] {
        let err = Model::from_json_str(text).unwrap_err();
        assert!(err.to_string().contains(contains), "{text:?}: {err}");
    }
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let err = Model::from_json_str(&deep).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(9 * 1024 * 1024));
    assert!(Model::from_json_str(&huge).unwrap_err().to_string().contains("at most"));
}

#[test]
fn warnings_do_not_stop_a_run() {
    let mut t = base();
    t["nodes"].as_array_mut().unwrap().push(json!({"id": "orphan", "kind": "queue"}));
    let m = Model::from_value(&t).unwrap();
    let w = &m.warnings()[0];
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.path, "nodes[5]");
    assert!(w.message.contains("no consumer"), "{w}");
}

#[test]
fn dead_letter_cycles_are_named_and_follow_routing_keys() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json")).unwrap();
    let m = Model::from_json_str(&text).unwrap();
    let cycles: Vec<&str> =
        m.warnings().iter().filter(|w| w.message.contains("dead-letter cycle")).map(|w| w.message.as_str()).collect();
    assert!(
        cycles.iter().any(|c| c.contains("payment_queue → dead_letter → dead_letter_queue → failed_order_handler → order_processed_exchange → payment_queue")),
        "{cycles:#?}"
    );
    // The default exchange never routes payment_processing's keys to orders_queue.
    assert!(!cycles.iter().any(|c| c.starts_with("dead-letter cycle: orders_queue")), "{cycles:#?}");
}

#[test]
fn export_round_trips() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json")).unwrap();
    let m = Model::from_json_str(&text).unwrap();
    let exported = serde_json::to_string_pretty(m.topology()).unwrap();
    let again = Model::from_json_str(&exported).unwrap();
    assert_eq!(again.topology(), m.topology());
    assert_eq!(Model::from_topology(m.topology()).unwrap().topology(), m.topology());
}

#[test]
fn concurrency_may_be_unbounded_and_nothing_else_in_words() {
    let t = |c: Value| {
        json!({"version": 1, "name": "t", "nodes": [{"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "concurrency": c, "processing": 5}], "links": [{"from": "q", "to": "s"}]})
    };
    let m = Model::from_value(&t(json!("unbounded"))).unwrap();
    let out = serde_json::to_value(m.topology()).unwrap();
    assert_eq!(out["nodes"][1]["concurrency"], json!("unbounded"), "written back as it was read");
    let err = Model::from_value(&t(json!("lots"))).unwrap_err();
    assert_eq!(err.problems[0].path, "nodes[1].concurrency");
    assert!(err.problems[0].message.contains("\"unbounded\""), "{}", err.problems[0]);
}
