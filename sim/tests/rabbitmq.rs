//! Cases from RabbitMQ's own test suites and documentation, each with the outcome RabbitMQ
//! gives and where that outcome comes from. Each is a small topology run to its end.

use edasim_sim::engine::{Halt, LogKind};
use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};
use serde_json::{Value, json};

fn run(nodes: Value, links: Value, seconds: u64) -> (Engine, Report) {
    let topo = json!({"version": 1, "name": "t", "seed": 9, "nodes": nodes, "links": links});
    let model = Model::from_value(&topo).unwrap_or_else(|e| panic!("{e}"));
    let mut engine = Engine::new(&model, &Options { log_capacity: 10_000, ..Options::default() });
    engine.step_until(seconds * NS_PER_S).unwrap();
    engine.check_conservation().unwrap();
    let report = Report::new(&engine, 0.0, &[]);
    (engine, report)
}

/// Exactly `n` messages, one every 10 ms.
fn producer(n: u64) -> Value {
    json!({"id": "p", "kind": "producer", "rate_per_s": 100, "arrival": "constant", "limit": n})
}

/// AMQP 0-9-1 and RabbitMQ's docs ("Exchanges: the default exchange"): every queue is bound to
/// the default exchange with its own name as the routing key, so a message published straight to
/// a queue carries the queue's name; and ("Dead Letter Exchanges: routing dead-lettered
/// messages") with no `x-dead-letter-routing-key`, a dead letter keeps its own routing keys.
/// So a dead letter from `orders` reaches a direct exchange's binding keyed `orders`.
#[test]
fn a_message_published_to_a_queue_carries_its_name_into_the_dead_letter_exchange() {
    let (_, r) = run(
        json!([producer(5),
            {"id": "orders", "kind": "queue", "message_ttl_ms": 5},
            {"id": "dlx", "kind": "exchange", "type": "direct"},
            {"id": "orders_dead", "kind": "queue"},
            {"id": "other_dead", "kind": "queue"}]),
        json!([{"from": "p", "to": "orders"},
            {"from": "orders", "to": "dlx", "dead_letter": true},
            {"from": "dlx", "to": "orders_dead", "binding_key": "orders"},
            {"from": "dlx", "to": "other_dead", "binding_key": ""}]),
        2,
    );
    assert_eq!(r.queue("orders_dead").unwrap().enqueued, 5, "routed by the queue's name");
    assert_eq!(r.queue("other_dead").unwrap().enqueued, 0, "not by an empty key");
    assert_eq!(r.messages.dropped.unroutable, 0);
}

/// RabbitMQ's dead_lettering_SUITE, `dead_letter_routing_key_cycle_ttl`: a queue with a message
/// TTL dead-lettering to itself through the default exchange. `rabbit_dead_letter:detect_cycles/3`
/// removes the queue from the dead letter's destinations, so each message expires once and is
/// dropped ("Message dropped. Dead-letter queues cycle detected"); the queue ends empty.
#[test]
fn a_ttl_cycle_through_the_default_exchange_expires_each_message_once() {
    let (e, r) = run(
        json!([producer(2), {"id": "q", "kind": "queue", "message_ttl_ms": 1}]),
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "q", "dead_letter": true}]),
        2,
    );
    let q = r.queue("q").unwrap();
    assert_eq!((q.enqueued, q.expired, q.depth_end), (2, 2, 0), "{q:?}");
    assert_eq!(e.ledger().dead.dropped, 2, "both dropped at the cycle");
    let mut logs = Vec::new();
    let mut e = e;
    e.take_logs(usize::MAX, &mut logs);
    assert_eq!(logs.iter().filter(|l| l.kind == LogKind::Cycle).count(), 2);
}

/// LavinMQ's port of the same suite, `dead_letter_routing_key_cycle_max_length`: `x-max-length`
/// 1, dead-lettering to itself; publish msg1 then msg2: msg1 is evicted once and dropped at the
/// cycle, and the queue holds msg2 alone.
#[test]
fn a_max_length_cycle_evicts_once() {
    let (_, r) = run(
        json!([producer(2), {"id": "q", "kind": "queue", "max_length": 1}]),
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "q", "dead_letter": true}]),
        1,
    );
    let q = r.queue("q").unwrap();
    assert_eq!((q.enqueued, q.dead_lettered, q.depth_end), (2, 1, 1), "{q:?}");
}

/// The cycle guard reads the queues' names in `x-death`, exactly: 64 queues whose messages expire
/// into 64 others, which expire into one final queue, form no cycle, so every message reaches
/// the final queue (a guard that hashed queues into 64 marks dropped them all).
#[test]
fn many_queues_share_no_cycle_mark() {
    let mut nodes = vec![
        json!({"id": "p", "kind": "producer", "rate_per_s": 1000, "arrival": "constant", "limit": 640}),
        json!({"id": "fan", "kind": "exchange", "type": "direct"}),
        json!({"id": "final", "kind": "queue"}),
    ];
    let mut links = vec![];
    for i in 0..64 {
        nodes.push(json!({"id": format!("a{i}"), "kind": "queue", "message_ttl_ms": 1}));
        nodes.push(json!({"id": format!("b{i}"), "kind": "queue", "message_ttl_ms": 1}));
        links.push(json!({"from": "fan", "to": format!("a{i}"), "binding_key": "k"}));
        links.push(json!({"from": format!("a{i}"), "to": format!("b{i}"), "dead_letter": true}));
        links.push(json!({"from": format!("b{i}"), "to": "final", "dead_letter": true}));
    }
    links.push(json!({"from": "p", "to": "fan", "routing_key": "k"}));
    let (e, r) = run(json!(nodes), json!(links), 3);
    assert_eq!(r.queue("final").unwrap().enqueued, 640 * 64, "every copy arrives");
    assert_eq!(e.ledger().dead.dropped, 0);
}

/// A rejection breaks a cycle (`detect_cycles/3` only cuts cycles with no `rejected` death in
/// them): a consumer that always rejects, dead-lettering back to its own queue, sees each
/// message again and again, until the queue's delivery limit... here until the run ends.
#[test]
fn a_rejection_in_the_cycle_lets_the_message_round_again() {
    let (_, r) = run(
        json!([producer(1), {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "processing": 100, "failure_rate": 1.0}]),
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}, {"from": "q", "to": "q", "dead_letter": true}]),
        2,
    );
    let q = r.queue("q").unwrap();
    assert!(q.dead_lettered >= 15, "round and round: {q:?}");
}

/// RabbitMQ's `rabbit_exchange_type_headers`: with `x-match` `all` or `any`, binding arguments
/// whose names start with `x-` are ignored; `all-with-x` and `any-with-x` compare them too.
/// Values compare with their types: the number 3 is not the string "3".
#[test]
fn headers_bindings_ignore_x_arguments_and_compare_types() {
    let mut nodes = vec![producer(4), json!({"id": "x", "kind": "exchange", "type": "headers"})];
    for q in ["all_ignores_x", "all_with_x", "number", "string", "any_only_x"] {
        nodes.push(json!({"id": q, "kind": "queue"}));
    }
    let (_, r) = run(
        json!(nodes),
        json!([{"from": "p", "to": "x", "headers": {"format": "pdf", "pages": 3}},
            {"from": "x", "to": "all_ignores_x", "headers": {"format": "pdf", "x-tenant": "acme"}},
            {"from": "x", "to": "all_with_x", "headers": {"format": "pdf", "x-tenant": "acme"}, "match": "all-with-x"},
            {"from": "x", "to": "number", "headers": {"pages": 3}},
            {"from": "x", "to": "string", "headers": {"pages": "3"}},
            {"from": "x", "to": "any_only_x", "headers": {"x-tenant": "acme"}, "match": "any"}]),
        1,
    );
    let got: Vec<u64> = ["all_ignores_x", "all_with_x", "number", "string", "any_only_x"]
        .iter()
        .map(|q| r.queue(q).unwrap().enqueued)
        .collect();
    assert_eq!(got, [4, 0, 4, 0, 0]);
}

/// RabbitMQ's memory alarm: past the high watermark every publisher is blocked until the broker
/// is back under it. An M/M/1 offered five times its capacity holds no more than its watermark,
/// and what the producer could not publish is counted.
#[test]
fn the_memory_alarm_blocks_producers_at_the_watermark() {
    let topo = json!({"version": 1, "name": "overload", "seed": 1, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 5000},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": {"dist": "exponential", "mean_ms": 1}}],
        "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]});
    let model = Model::from_value(&topo).unwrap();
    let opts = Options { memory_watermark: Some(2_000), log_capacity: 10_000, ..Options::default() };
    let mut e = Engine::new(&model, &opts);
    let mut peak = 0;
    for s in 1..=60 {
        e.step_until(s * NS_PER_S).unwrap();
        peak = peak.max(e.in_system());
    }
    e.check_conservation().unwrap();
    assert!(peak <= 2_000, "held {peak}");
    assert!(e.message_capacity() <= 2_100, "slots {}", e.message_capacity());
    let a = e.memory_alarm().clone();
    assert!(a.on && a.raised >= 1, "{a:?}");
    // About 4,000 a second blocked once the alarm is on.
    assert!(a.blocked > 200_000, "{a:?}");
    let r = Report::new(&e, 0.0, &[]);
    let alarm = r.memory_alarm.as_ref().unwrap();
    assert_eq!(alarm.blocked, a.blocked);
    // On most of the time: it clears at 90% of the watermark and the queue refills at once.
    assert!(alarm.seconds_on > 30.0 && alarm.seconds_on < 60.0, "{alarm:?}");
    let mut logs = Vec::new();
    e.take_logs(usize::MAX, &mut logs);
    assert_eq!(logs.iter().filter(|l| l.kind == LogKind::MemoryAlarm).count() as u64, a.raised);
}

/// A publish loop grows without any producer (each message consumed publishes two): the alarm
/// cannot stop it, so the run stops itself at twice the watermark instead of taking the
/// machine's memory.
#[test]
fn a_publish_loop_is_stopped_at_twice_the_watermark() {
    let topo = json!({"version": 1, "name": "loop", "seed": 1, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 1, "limit": 1},
        {"id": "x", "kind": "exchange", "type": "fanout"},
        {"id": "q1", "kind": "queue"}, {"id": "q2", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": 1, "concurrency": 4}],
        "links": [{"from": "p", "to": "x"}, {"from": "x", "to": "q1"}, {"from": "x", "to": "q2"},
            {"from": "q1", "to": "s"}, {"from": "q2", "to": "s"}, {"from": "s", "to": "x"}]});
    let model = Model::from_value(&topo).unwrap();
    let mut e = Engine::new(&model, &Options { memory_watermark: Some(1_000), ..Options::default() });
    match e.step_until(600 * NS_PER_S) {
        Err(Halt::Overload(o)) => {
            assert_eq!((o.held, o.watermark), (2_001, 1_000), "{o:?}");
            assert!(o.to_string().contains("publish loop"), "{o}");
        }
        other => panic!("expected an overload, got {other:?}"),
    }
    e.check_conservation().unwrap();
}

/// Dedup keys are bounded with the messages: a store keeps at most ten keys per message of the
/// watermark, and past that refuses new ones (Redis at `maxmemory` with `noeviction`).
#[test]
fn dedup_keys_are_bounded_with_the_watermark() {
    let topo = json!({"version": 1, "name": "keys", "seed": 1, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 1000, "arrival": "constant"},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": 0, "concurrency": 10},
        {"id": "redis", "kind": "store", "dedup_ttl_ms": 3600000}],
        "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"},
            {"from": "s", "to": "redis", "purpose": "dedup"}]});
    let model = Model::from_value(&topo).unwrap();
    let mut e = Engine::new(&model, &Options { memory_watermark: Some(100), ..Options::default() });
    e.step_until(10 * NS_PER_S).unwrap();
    let redis = model.node_index("redis").unwrap();
    assert_eq!(e.node_state(redis).keys, 1_000);
    match Report::new(&e, 0.0, &[]).node("redis") {
        Some(edasim_sim::report::NodeReport::Store { keys_refused, .. }) => assert_eq!(*keys_refused, 9_000),
        other => panic!("{other:?}"),
    }
}
