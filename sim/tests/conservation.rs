//! Every message is accounted for at every event, in random topologies with failures,
//! retries, requeues, TTLs, overflow, dedup, fan-out, crashes and dead-letter cycles, gateways,
//! unbounded services, CPU sharing, autoscalers and scheduled faults.

use edasim_sim::engine::Change;
use edasim_sim::rng::Stream;
use edasim_sim::time::NS_PER_MS;
use edasim_sim::{Engine, Model, Options};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A random, valid topology drawn from `seed`.
fn random_topology(seed: u64) -> Value {
    let mut r = Stream::new(seed, "topology");
    let mut pick = |n: usize| (r.uniform() * n as f64) as usize;
    let n_prod = 1 + pick(3);
    let n_ex = pick(4);
    let n_q = 1 + pick(5);
    let n_svc = 1 + pick(4);
    let n_store = pick(3);
    let keys = ["", "a", "b", "a.b", "a.*", "#", "*.b"];
    let mut nodes = Vec::new();
    let mut links = Vec::new();
    let mut r = Stream::new(seed, "params");
    let mut u = move || r.uniform();
    for i in 0..n_prod {
        let mut p = json!({"id": format!("p{i}"), "kind": "producer", "rate_per_s": 1.0 + 40.0 * u(),
                           "arrival": if u() < 0.7 { "poisson" } else { "constant" }});
        if u() < 0.3 {
            p["schedule"] = json!([{"at_s": 1.0, "rate_per_s": 80.0 * u()}, {"at_s": 2.5, "rate_per_s": 5.0}]);
        }
        nodes.push(p);
    }
    for i in 0..n_ex {
        let t = ["fanout", "direct", "topic", "headers"][(u() * 4.0) as usize];
        nodes.push(json!({"id": format!("x{i}"), "kind": "exchange", "type": t}));
    }
    for i in 0..n_q {
        let mut q = json!({"id": format!("q{i}"), "kind": "queue"});
        if u() < 0.5 {
            q["max_length"] = json!((u() * 8.0) as u64);
            q["overflow"] = json!(["drop-head", "reject-publish", "reject-publish-dlx"][(u() * 3.0) as usize]);
        }
        if u() < 0.4 {
            q["message_ttl_ms"] = json!(u() * 300.0);
        }
        if u() < 0.3 {
            q["delivery_limit"] = json!((u() * 3.0) as u64);
        }
        nodes.push(q);
    }
    for i in 0..n_svc {
        let processing = match (u() * 3.0) as usize {
            0 => json!({"dist": "exponential", "mean_ms": 1.0 + 200.0 * u()}),
            1 => json!({"dist": "uniform", "min_ms": 0, "max_ms": 100.0 * u()}),
            _ => json!(50.0 * u()),
        };
        let on_failure = match (u() * 3.0) as usize {
            0 => json!("reject"),
            1 => json!("requeue"),
            _ => {
                json!({"retry": {"max_attempts": 1 + (u() * 3.0) as u64, "backoff_ms": 20.0 * u(), "multiplier": 2.0, "jitter": 0.3}})
            }
        };
        nodes.push(json!({"id": format!("s{i}"), "kind": "service", "replicas": 1 + (u() * 3.0) as u64,
                          "concurrency": 1 + (u() * 3.0) as u64, "processing": processing,
                          "failure_rate": if u() < 0.6 { 0.4 * u() } else { 0.0 }, "on_failure": on_failure}));
    }
    for i in 0..n_store {
        nodes.push(json!({"id": format!("db{i}"), "kind": "store", "latency": {"dist": "exponential", "mean_ms": 5},
                          "failure_rate": 0.1 * u(), "dedup_ttl_ms": 500}));
    }
    let mut targets: Vec<String> = (0..n_ex).map(|i| format!("x{i}")).collect();
    targets.extend((0..n_q).map(|i| format!("q{i}")));
    let any = |u: &mut dyn FnMut() -> f64, v: &[String]| v[(u() * v.len() as f64) as usize].clone();
    let headers = |u: &mut dyn FnMut() -> f64| json!({"region": (["eu", "us"][(u() * 2.0) as usize])});
    for i in 0..n_prod {
        for _ in 0..1 + (u() * 2.0) as usize {
            let mut l = json!({"from": format!("p{i}"), "to": any(&mut u, &targets), "routing_key": keys[(u() * 7.0) as usize]});
            if u() < 0.3 {
                l["headers"] = headers(&mut u);
            }
            if u() < 0.2 {
                l["probability"] = json!(u());
            }
            links.push(l);
        }
    }
    let queues: Vec<String> = (0..n_q).map(|i| format!("q{i}")).collect();
    for i in 0..n_ex {
        for _ in 0..(u() * 3.0) as usize {
            let mut l =
                json!({"from": format!("x{i}"), "to": any(&mut u, &queues), "binding_key": keys[(u() * 7.0) as usize]});
            if u() < 0.3 {
                l["headers"] = headers(&mut u);
                l["match"] = json!(if u() < 0.5 { "all" } else { "any" });
            }
            if u() < 0.3 {
                l["latency"] = json!({"dist": "uniform", "min_ms": 0, "max_ms": 20});
            }
            links.push(l);
        }
        if n_ex > 1 && u() < 0.4 {
            let other = format!("x{}", (i + 1) % n_ex);
            links.push(json!({"from": format!("x{i}"), "to": other, "alternate": u() < 0.5}));
        }
    }
    for (qi, q) in queues.iter().enumerate() {
        for s in 0..n_svc {
            if (qi + s) % n_q == 0 || u() < 0.2 {
                links.push(json!({"from": q, "to": format!("s{s}")}));
            }
        }
        if u() < 0.6 {
            let mut l = json!({"from": q, "to": any(&mut u, &targets), "dead_letter": true});
            if u() < 0.5 {
                l["routing_key"] = json!(keys[(u() * 7.0) as usize]);
            }
            links.push(l);
        }
    }
    for s in 0..n_svc {
        for _ in 0..(u() * 3.0) as usize {
            let mut l = json!({"from": format!("s{s}"), "to": any(&mut u, &targets),
                               "when": if u() < 0.75 { "success" } else { "failure" },
                               "message_id": (["new", "keep", "none"][(u() * 3.0) as usize]),
                               "probability": 0.5 + 0.5 * u()});
            if u() < 0.3 {
                l["latency"] = json!({"dist": "exponential", "mean_ms": 10});
            }
            links.push(l);
        }
        for st in 0..n_store {
            if u() < 0.5 {
                links.push(json!({"from": format!("s{s}"), "to": format!("db{st}"),
                                  "purpose": if u() < 0.5 { "dedup" } else { "call" }}));
            }
        }
    }
    // The extensions, from a stream of their own: unbounded services, CPU work shared within a
    // limit, autoscalers syncing every second or two, and gateways in front of services.
    let mut r = Stream::new(seed, "extensions");
    let mut x = move || r.uniform();
    for node in nodes.iter_mut().filter(|n| n["kind"] == "service") {
        if x() < 0.2 {
            node["concurrency"] = json!("unbounded");
        }
        if x() < 0.3 {
            node["cpu_ms"] = json!({"dist": "exponential", "mean_ms": 1.0 + 10.0 * x()});
            node["cpu_request_m"] = json!(100);
            node["cpu_limit_m"] = json!(100.0 + 900.0 * x());
        }
        if x() < 0.3 {
            let metric = if node.get("cpu_ms").is_some() && x() < 0.5 {
                "cpu"
            } else {
                ["queue_ready", "in_flight"][(x() * 2.0) as usize]
            };
            node["autoscale"] = json!({"metric": metric, "target": 0.5 + 2.0 * x(), "min": 1, "max": 1 + (x() * 5.0) as u64,
                                       "sync_s": 1.0 + x(), "stabilization_s": 3.0 * x(), "start_s": 0.5 * x()});
        }
    }
    for g in 0..(x() * 2.0) as usize {
        nodes.push(json!({"id": format!("gw{g}"), "kind": "gateway", "average": 5.0 + 30.0 * x(), "period_s": 1, "burst": 1 + (x() * 10.0) as u64,
                          "latency": {"dist": "exponential", "mean_ms": 2}}));
        links.push(json!({"from": format!("p{}", (x() * n_prod as f64) as usize), "to": format!("gw{g}")}));
        links.push(json!({"from": format!("gw{g}"), "to": format!("s{}", (x() * n_svc as f64) as usize)}));
    }
    // Scheduled faults, a couple at most, on nodes they can strike.
    let mut faults = Vec::new();
    for _ in 0..(x() * 3.0) as usize {
        let at = 3.0 * x();
        let until = at + 0.1 + 2.0 * x();
        let fault = match (x() * 6.0) as usize {
            0 => json!({"node": format!("s{}", (x() * n_svc as f64) as usize), "kind": "crash"}),
            1 => {
                json!({"node": format!("s{}", (x() * n_svc as f64) as usize), "kind": "latency", "factor": 1.0 + 4.0 * x(), "add_ms": 10.0 * x()})
            }
            2 => json!({"node": format!("s{}", (x() * n_svc as f64) as usize), "kind": "error_rate", "rate": x()}),
            3 => json!({"node": format!("q{}", (x() * n_q as f64) as usize), "kind": "pause_consumers"}),
            4 => {
                json!({"node": format!("p{}", (x() * n_prod as f64) as usize), "kind": "burst", "factor": 1.0 + 5.0 * x()})
            }
            _ if n_store > 0 => json!({"node": format!("db{}", (x() * n_store as f64) as usize), "kind": "store_down"}),
            _ => continue,
        };
        let mut fault = fault;
        fault["at_s"] = json!(at);
        if x() < 0.8 {
            fault["until_s"] = json!(until);
        }
        faults.push(fault);
    }
    // The resilience patterns, from a stream of their own: immediate retries and budgets, delayed
    // retries through a queue, acks that lag, deadlines and shedding, bounded redrives, timeouts
    // and breakers on calls, poison messages and hanging stores.
    let mut r = Stream::new(seed, "patterns");
    let mut y = move || r.uniform();
    let queue_ids: Vec<String> = (0..n_q).map(|q| format!("q{q}")).collect();
    for node in nodes.iter_mut().filter(|n| n["kind"] == "service") {
        let id = node["id"].as_str().unwrap_or("").to_string();
        if let Some(retry) = node["on_failure"].get_mut("retry") {
            let max = retry["max_attempts"].as_u64().unwrap_or(1);
            if max > 1 && y() < 0.5 {
                retry["immediate"] = json!((y() * (max - 1) as f64) as u64);
            }
            if y() < 0.4 {
                retry["budget"] = json!({"ratio": y(), "min_per_s": 2.0 * y(), "burst": 1.0 + 5.0 * y()});
            }
            if y() < 0.5 && !queue_ids.is_empty() {
                links.push(json!({"from": id, "to": queue_ids[(y() * n_q as f64) as usize], "when": "retry"}));
            }
        }
        if y() < 0.3 {
            node["ack_ms"] = json!(30.0 * y());
        }
        if y() < 0.3 {
            node["deadline_ms"] = json!(500.0 * y());
        }
        if y() < 0.3 {
            node["shed_after_ms"] = json!(500.0 * y());
        }
        if y() < 0.2 {
            node["redrive"] = json!({"max": (y() * 3.0) as u64});
            if !queue_ids.is_empty() {
                links.push(json!({"from": id, "to": queue_ids[(y() * n_q as f64) as usize], "when": "parked"}));
            }
        }
    }
    for l in links.iter_mut().filter(|l| l["purpose"] == "call" || l["purpose"] == "dedup") {
        if y() < 0.5 {
            l["timeout_ms"] = json!(1.0 + 20.0 * y());
        }
        if y() < 0.5 {
            l["breaker"] = json!({"failure_rate": y(), "window_s": 1.0 + 3.0 * y(), "min_calls": 1 + (y() * 5.0) as u64,
                                  "open_s": 0.5 * y(), "probes": 1 + (y() * 3.0) as u64});
        }
    }
    // One dedup store per service at most: keep the first.
    let mut has_dedup = std::collections::HashSet::new();
    links.retain(|l| l["purpose"] != "dedup" || has_dedup.insert(l["from"].as_str().unwrap_or("").to_string()));
    // Link faults on links a process has to the broker or a store, and the broker refusing
    // publishes.
    for _ in 0..(y() * 3.0) as usize {
        let candidates: Vec<&Value> =
            links.iter().filter(|l| l.get("binding_key").is_none() && l.get("dead_letter").is_none()).collect();
        if candidates.is_empty() {
            break;
        }
        let l = candidates[(y() * candidates.len() as f64) as usize];
        let (from, to) = (l["from"].clone(), l["to"].clone());
        let from_s = from.as_str().unwrap_or("");
        let to_s = to.as_str().unwrap_or("");
        // Only links a fault may strike: from a producer or service, or a queue's consume link.
        let consume = from_s.starts_with('q') && to_s.starts_with('s');
        let publish = (from_s.starts_with('p') || from_s.starts_with('s')) && !to_s.starts_with("gw");
        if !(consume || publish) {
            continue;
        }
        let at = 3.0 * y();
        let mut fault = match (y() * 3.0) as usize {
            0 => json!({"kind": "partition"}),
            1 => json!({"kind": "latency", "add_ms": 50.0 * y()}),
            _ if !consume => json!({"kind": "error_rate", "rate": y()}),
            _ => json!({"kind": "partition"}),
        };
        fault["node"] = from;
        fault["to"] = to;
        fault["at_s"] = json!(at);
        if y() < 0.8 {
            fault["until_s"] = json!(at + 0.1 + 2.0 * y());
        }
        faults.push(fault);
    }
    for l in links.iter_mut() {
        if l.get("binding_key").is_none() && l.get("dead_letter").is_none() && l.get("purpose").is_none() && y() < 0.2 {
            let from = l["from"].as_str().unwrap_or("");
            if from.starts_with('p') || from.starts_with('s') {
                l["unreliable"] = json!(true);
            }
        }
    }
    if y() < 0.2 && n_q > 0 {
        let at = 3.0 * y();
        faults.push(json!({"node": format!("q{}", (y() * n_q as f64) as usize), "kind": "refuse_publishes",
                           "at_s": at, "until_s": at + 0.5 + y()}));
    }
    for _ in 0..(y() * 3.0) as usize {
        let at = 3.0 * y();
        let mut fault = if y() < 0.5 || n_store == 0 {
            json!({"node": format!("s{}", (y() * n_svc as f64) as usize), "kind": "poison"})
        } else {
            json!({"node": format!("db{}", (y() * n_store as f64) as usize), "kind": "store_down", "hang": true,
                   "until_s": at + 0.1 + 2.0 * y()})
        };
        fault["at_s"] = json!(at);
        faults.push(fault);
    }
    json!({"version": 1, "name": format!("random {seed}"), "seed": seed, "nodes": nodes, "links": links, "faults": faults})
}

/// Runs `events` events of a random topology, checking the books after each, with live
/// changes (scaling, crashes, rate changes) along the way.
fn run_checked(seed: u64, events: u64) -> Result<(), String> {
    let topo = random_topology(seed);
    let model = Model::from_value(&topo).map_err(|e| format!("generated topology invalid: {e}\n{topo:#}"))?;
    let mut engine = Engine::new(&model, &Options { hop_capacity: 64, log_capacity: 64, ..Options::default() });
    let mut r = Stream::new(seed, "changes");
    let mut hops = Vec::new();
    let (mut last, mut same) = (0, 0);
    for i in 0..events {
        let Some(t) = engine.step() else { break };
        // A loop that takes no simulated time (a message requeued for ever by a service with
        // zero processing time) is the model's, not the engine's: stop there.
        same = if t == last { same + 1 } else { 0 };
        last = t;
        if same > 10_000 {
            break;
        }
        engine.check_conservation().map_err(|e| format!("after event {i} at {} ns: {e}\n{topo:#}", engine.now()))?;
        if i % 97 == 0 {
            let node = (r.uniform() * engine.node_count() as f64) as usize;
            let change = match (r.uniform() * 5.0) as usize {
                0 => Change::Replicas((r.uniform() * 4.0) as u32),
                1 => Change::CrashReplica(0),
                2 => Change::RatePerS(60.0 * r.uniform()),
                3 => Change::MaxLength(Some((r.uniform() * 4.0) as u64)),
                _ => Change::FailureRate(r.uniform()),
            };
            // Changes that do not apply to the node are refused and change nothing.
            let _ = engine.apply(node, change);
            engine.check_conservation().map_err(|e| format!("after a live change at event {i}: {e}\n{topo:#}"))?;
        }
        if i % 50 == 0 {
            hops.clear();
            engine.take_hops(16, &mut hops);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn books_balance_at_every_event(seed in any::<u64>()) {
        if let Err(e) = run_checked(seed, 3_000) {
            prop_assert!(false, "{}", e);
        }
    }
}

#[test]
fn random_topologies_are_valid_and_varied() {
    // The generator must produce what the property claims to cover.
    let (mut dl, mut ttl, mut overflow, mut retry) = (0, 0, 0, 0);
    let (mut gateway, mut cpu, mut autoscale, mut unbounded, mut faults) = (0, 0, 0, 0, 0);
    for seed in 0..200 {
        let t = random_topology(seed);
        Model::from_value(&t).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let s = t.to_string();
        dl += usize::from(s.contains("dead_letter"));
        ttl += usize::from(s.contains("message_ttl_ms"));
        overflow += usize::from(s.contains("reject-publish"));
        retry += usize::from(s.contains("retry"));
        gateway += usize::from(s.contains("\"gateway\""));
        cpu += usize::from(s.contains("cpu_limit_m"));
        autoscale += usize::from(s.contains("autoscale"));
        unbounded += usize::from(s.contains("unbounded"));
        faults += usize::from(s.contains("\"at_s\"") && s.contains("\"faults\":[{"));
    }
    assert!(dl > 50 && ttl > 30 && overflow > 20 && retry > 30, "{dl} {ttl} {overflow} {retry}");
    assert!(gateway > 50 && cpu > 50 && autoscale > 50 && unbounded > 30, "{gateway} {cpu} {autoscale} {unbounded}");
    assert!(faults > 80, "{faults} topologies with faults");
}

#[test]
fn dead_letter_cycles_terminate_and_balance() {
    // A queue dead-lettering into itself with reject-publish-dlx, and a handler loop like the
    // seed system's: both must keep the books and not spin at one instant.
    let topo = json!({"version": 1, "name": "cycles", "seed": 3, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 50},
        {"id": "q", "kind": "queue", "max_length": 2, "overflow": "reject-publish-dlx"},
        {"id": "s", "kind": "service", "processing": {"dist": "exponential", "mean_ms": 30}, "failure_rate": 0.5},
        {"id": "dlq", "kind": "queue"},
        {"id": "h", "kind": "service", "processing": 1}
    ], "links": [
        {"from": "p", "to": "q"}, {"from": "q", "to": "s"},
        {"from": "q", "to": "q", "dead_letter": true},
        {"from": "s", "to": "dlq", "when": "failure"},
        {"from": "dlq", "to": "h"}, {"from": "h", "to": "q", "message_id": "none"}
    ]});
    let model = Model::from_value(&topo).unwrap();
    assert!(model.warnings().iter().any(|w| w.message.contains("dead-letter cycle")), "{:?}", model.warnings());
    let mut engine = Engine::new(&model, &Options::default());
    engine.step_until(30_000 * NS_PER_MS).expect("no stall");
    engine.check_conservation().unwrap();
    // The second time round the self-cycle the dead letter is dropped, not looped.
    assert!(engine.ledger().dead.dropped > 0, "{:?}", engine.ledger());
    assert!(engine.ledger().dead_lettered > 0 && engine.ledger().completed > 0, "{:?}", engine.ledger());
}

#[test]
fn random_runs_do_real_work() {
    // The property above is only as good as the traffic it sees: across a sample of seeds the
    // runs must produce, fail, dead-letter, drop and complete messages.
    let mut totals = edasim_sim::engine::Ledger::default();
    let mut events = 0;
    for seed in 0..40 {
        let model = Model::from_value(&random_topology(seed)).unwrap();
        let mut engine = Engine::new(&model, &Options::default());
        for _ in 0..3_000 {
            if engine.step().is_none() {
                break;
            }
            events += 1;
        }
        let l = engine.ledger();
        totals.produced += l.produced;
        totals.completed += l.completed + l.forwarded;
        totals.dead_lettered += l.dead_lettered;
        totals.dropped.overflow += l.dropped.overflow + l.dropped.expired;
        totals.dropped.rejected += l.dropped.rejected;
        totals.duplicates_skipped += l.duplicates_skipped;
    }
    println!("{events} events: {totals:?}");
    assert!(events > 80_000, "{events}");
    assert!(totals.produced > 10_000 && totals.completed > 1_000, "{totals:?}");
    assert!(totals.dead_lettered > 100 && totals.dropped.overflow > 100 && totals.dropped.rejected > 10, "{totals:?}");
    assert!(totals.duplicates_skipped > 0, "{totals:?}");
}
