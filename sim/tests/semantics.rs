//! The broker and consumer semantics, one small topology each, with outcomes that follow
//! exactly from the rules (constant times and arrivals wherever the rule allows).

use edasim_sim::engine::Change;
use edasim_sim::report::{QueueReport, ServiceReport};
use edasim_sim::time::{NS_PER_MS, NS_PER_S};
use edasim_sim::{Engine, Model, Options, Report};
use serde_json::{Value, json};

fn engine(nodes: Value, links: Value) -> (Model, Engine) {
    let topo = json!({"version": 1, "name": "t", "seed": 5, "nodes": nodes, "links": links});
    let model = Model::from_value(&topo).unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(&model, &Options::default());
    (model, engine)
}

fn run_for(engine: &mut Engine, seconds: f64) -> Report {
    engine.step_until((seconds * NS_PER_S as f64) as u64).unwrap();
    engine.check_conservation().unwrap();
    Report::new(engine, 0.0, &[])
}

fn queue<'a>(r: &'a Report, id: &str) -> &'a QueueReport {
    r.queue(id).unwrap_or_else(|| panic!("no queue {id}"))
}

fn service<'a>(r: &'a Report, id: &str) -> &'a ServiceReport {
    r.service(id).unwrap_or_else(|| panic!("no service {id}"))
}

/// A producer of exactly `n` messages, one every 10 ms from t = 10 ms.
fn producer(id: &str, n: u64) -> Value {
    json!({"id": id, "kind": "producer", "rate_per_s": 100, "arrival": "constant", "limit": n})
}

fn queues(ids: &[&str]) -> Vec<Value> {
    ids.iter().map(|id| json!({"id": id, "kind": "queue"})).collect()
}

#[test]
fn topic_exchange_matches_words() {
    let mut nodes = vec![producer("p", 10), json!({"id": "x", "kind": "exchange", "type": "topic"})];
    nodes.extend(queues(&["one_word", "any_tail", "middle", "us_only", "exact"]));
    let (_, mut e) = engine(
        json!(nodes),
        json!([
            {"from": "p", "to": "x", "routing_key": "order.created.eu"},
            {"from": "x", "to": "one_word", "binding_key": "order.*"},
            {"from": "x", "to": "any_tail", "binding_key": "order.#"},
            {"from": "x", "to": "middle", "binding_key": "*.created.*"},
            {"from": "x", "to": "us_only", "binding_key": "#.us"},
            {"from": "x", "to": "exact", "binding_key": "order.created.eu"},
            // A second matching binding to the same queue must not make a second copy.
            {"from": "x", "to": "exact", "binding_key": "#"}
        ]),
    );
    let r = run_for(&mut e, 1.0);
    let got: Vec<u64> =
        ["one_word", "any_tail", "middle", "us_only", "exact"].iter().map(|q| queue(&r, q).enqueued).collect();
    assert_eq!(got, vec![0, 10, 10, 0, 10]);
    assert_eq!(r.messages.copied, 20, "three queues per message: two extra copies each");
    assert_eq!(r.messages.in_system, 30);
}

#[test]
fn direct_exchange_drops_what_it_cannot_route_unless_there_is_an_alternate() {
    let mut nodes = vec![
        producer("p", 10),
        json!({"id": "x", "kind": "exchange", "type": "direct"}),
        json!({"id": "alt", "kind": "exchange", "type": "fanout"}),
    ];
    nodes.extend(queues(&["paid", "lost_and_found"]));
    let links = json!([
        {"from": "p", "to": "x", "routing_key": "refund"},
        {"from": "x", "to": "paid", "binding_key": "paid"}
    ]);
    let (_, mut e) = engine(json!(nodes.clone()), links.clone());
    let r = run_for(&mut e, 1.0);
    assert_eq!(r.messages.dropped.unroutable, 10);
    assert_eq!(queue(&r, "paid").enqueued, 0);

    let mut links = links.as_array().unwrap().clone();
    links.push(json!({"from": "x", "to": "alt", "alternate": true}));
    links.push(json!({"from": "alt", "to": "lost_and_found"}));
    let (_, mut e) = engine(json!(nodes), json!(links));
    let r = run_for(&mut e, 1.0);
    assert_eq!(r.messages.dropped.unroutable, 0);
    assert_eq!(queue(&r, "lost_and_found").enqueued, 10);
}

#[test]
fn headers_exchange_matches_all_or_any() {
    let mut nodes = vec![producer("p", 4), json!({"id": "x", "kind": "exchange", "type": "headers"})];
    nodes.extend(queues(&["all_match", "all_miss", "any_match"]));
    let (_, mut e) = engine(
        json!(nodes),
        json!([
            {"from": "p", "to": "x", "headers": {"region": "eu", "tier": "gold"}},
            {"from": "x", "to": "all_match", "headers": {"region": "eu", "tier": "gold"}},
            {"from": "x", "to": "all_miss", "headers": {"region": "eu", "tier": "silver"}},
            {"from": "x", "to": "any_match", "headers": {"region": "us", "tier": "gold"}, "match": "any"}
        ]),
    );
    let r = run_for(&mut e, 1.0);
    assert_eq!(queue(&r, "all_match").enqueued, 4);
    assert_eq!(queue(&r, "all_miss").enqueued, 0);
    assert_eq!(queue(&r, "any_match").enqueued, 4);
}

#[test]
fn exchange_to_exchange_bindings_and_their_latency() {
    let mut nodes = vec![
        producer("p", 5),
        json!({"id": "front", "kind": "exchange", "type": "fanout"}),
        json!({"id": "back", "kind": "exchange", "type": "direct"}),
        json!({"id": "s", "kind": "service", "processing": 10}),
    ];
    nodes.extend(queues(&["q"]));
    let (_, mut e) = engine(
        json!(nodes),
        json!([
            {"from": "p", "to": "front", "routing_key": "k", "latency": 5},
            {"from": "front", "to": "back", "latency": 7},
            {"from": "back", "to": "q", "binding_key": "k", "latency": 11},
            {"from": "q", "to": "s"}
        ]),
    );
    let r = run_for(&mut e, 1.0);
    let s = service(&r, "s");
    assert_eq!(s.processed, 5);
    // 5 + 7 + 11 ms of links, then 10 ms of processing.
    assert_eq!(s.since_origin_ms.as_ref().unwrap().mean, 33.0);
}

#[test]
fn ttl_expires_from_the_head_into_the_dead_letter_queue() {
    let mut nodes = vec![producer("p", 20)];
    nodes.push(json!({"id": "q", "kind": "queue", "message_ttl_ms": 100}));
    nodes.extend(queues(&["dlq"]));
    let (_, mut e) =
        engine(json!(nodes), json!([{"from": "p", "to": "q"}, {"from": "q", "to": "dlq", "dead_letter": true}]));
    // At 150 ms: messages emitted at 10..=50 ms have expired (5), 60..=150 are still there.
    let r = run_for(&mut e, 0.15);
    assert_eq!((queue(&r, "q").expired, queue(&r, "dlq").enqueued), (5, 5));
    assert_eq!(e.node_state(1).depth, 10);
    let r = run_for(&mut e, 1.0);
    assert_eq!((queue(&r, "q").expired, queue(&r, "dlq").enqueued, r.messages.dead_lettered), (20, 20, 20));
    // Dead letters parked in a dead-letter queue are out of the live books.
    assert_eq!((r.messages.in_system, r.messages.dead_letters_in_system), (0, 20));
}

#[test]
fn overflow_policies() {
    for (policy, dlq_expected, dropped_expected) in
        [("drop-head", 7, 0), ("reject-publish", 0, 7), ("reject-publish-dlx", 7, 0)]
    {
        let mut nodes = vec![producer("p", 10)];
        nodes.push(json!({"id": "q", "kind": "queue", "max_length": 3, "overflow": policy}));
        nodes.extend(queues(&["dlq"]));
        let mut links = vec![json!({"from": "p", "to": "q"})];
        if policy != "reject-publish" {
            links.push(json!({"from": "q", "to": "dlq", "dead_letter": true}));
        }
        let (model, mut e) = engine(json!(nodes), json!(links));
        let r = run_for(&mut e, 1.0);
        let q = queue(&r, "q");
        assert_eq!((q.depth_end, q.depth_max), (3, 3), "{policy}");
        assert_eq!(queue(&r, "dlq").enqueued, dlq_expected, "{policy}");
        assert_eq!(r.messages.dropped.overflow, dropped_expected, "{policy}");
        let rejected = if policy == "drop-head" { 0 } else { 7 };
        assert_eq!(q.rejected_publish, rejected, "{policy}");
        // drop-head keeps the newest, the reject policies keep the oldest.
        let _ = model;
    }
}

#[test]
fn requeue_until_the_delivery_limit() {
    let nodes = json!([
        producer("p", 3),
        {"id": "q", "kind": "queue", "delivery_limit": 2},
        {"id": "s", "kind": "service", "processing": 5, "failure_rate": 1.0, "on_failure": "requeue"},
        {"id": "dlq", "kind": "queue"}
    ]);
    let (_, mut e) = engine(
        nodes,
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}, {"from": "q", "to": "dlq", "dead_letter": true}]),
    );
    let r = run_for(&mut e, 1.0);
    // Delivered 3 times each (the first and 2 redeliveries), then dead-lettered.
    assert_eq!(service(&r, "s").failed, 9);
    assert_eq!(queue(&r, "q").redelivered, 9);
    assert_eq!(queue(&r, "dlq").enqueued, 3);
}

#[test]
fn retries_back_off_exponentially_then_reject() {
    let nodes = json!([
        producer("p", 1),
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": 10, "failure_rate": 1.0,
         "on_failure": {"retry": {"max_attempts": 4, "backoff_ms": 100, "multiplier": 2.0}}},
        {"id": "dlq", "kind": "queue"},
        {"id": "h", "kind": "service", "processing": 0}
    ]);
    let (_, mut e) = engine(
        nodes,
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}, {"from": "q", "to": "dlq", "dead_letter": true},
               {"from": "dlq", "to": "h"}]),
    );
    let r = run_for(&mut e, 5.0);
    let s = service(&r, "s");
    assert_eq!((s.failed, s.retries), (4, 3));
    // Emitted at 10 ms; 4 attempts of 10 ms and back-offs of 100, 200, 400 ms: dead-lettered
    // at 10 + 40 + 700 = 750 ms, handled at once.
    let h = service(&r, "h");
    assert_eq!(h.since_origin_ms.as_ref().unwrap().mean, 740.0);
}

#[test]
fn workers_prefetch_and_round_robin() {
    // 3 replicas x 2 workers; 60 messages arrive at once-ish; each takes 1 s.
    let nodes = json!([
        {"id": "p", "kind": "producer", "rate_per_s": 1000, "arrival": "constant", "limit": 60},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "replicas": 3, "concurrency": 2, "prefetch": 4, "processing": 1000}
    ]);
    let (_, mut e) = engine(nodes, json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]));
    e.step_until(100 * NS_PER_MS).unwrap();
    let st = e.node_state(2);
    assert_eq!((st.busy, st.workers, st.unacked), (6, 6, 12), "6 working, 6 more prefetched");
    assert_eq!(e.node_state(1).depth, 48);
    assert_eq!(e.node_state(1).unacked, 12);
    let r = run_for(&mut e, 20.0);
    let s = service(&r, "s");
    assert_eq!(s.processed, 60);
    // 60 messages, 6 at a time, 1 s each: the last finishes 10 s after the first started.
    assert!((s.since_origin_ms.as_ref().unwrap().max - 10_000.0).abs() < 100.0);
}

#[test]
fn a_crash_redelivers_what_the_replica_held() {
    let nodes = json!([
        producer("p", 4),
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "replicas": 1, "concurrency": 4, "processing": 1000}
    ]);
    let (_, mut e) = engine(nodes, json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]));
    e.step_until(500 * NS_PER_MS).unwrap();
    assert_eq!(e.node_state(2).busy, 4);
    e.apply(2, Change::CrashReplica(0)).unwrap();
    e.check_conservation().unwrap();
    let r = run_for(&mut e, 5.0);
    assert_eq!(queue(&r, "q").redelivered, 4);
    let s = service(&r, "s");
    assert_eq!(s.processed, 4, "nothing lost: at least once");
    // Emitted at 10, 20, 30, 40 ms; restarted at 500 ms, each takes 1 s again: done at 1500 ms.
    assert_eq!(s.since_origin_ms.as_ref().unwrap().mean, 1475.0);
}

#[test]
fn scaling_changes_capacity_live() {
    let nodes = json!([
        {"id": "p", "kind": "producer", "rate_per_s": 10, "arrival": "constant"},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "replicas": 1, "processing": 200}
    ]);
    let (_, mut e) = engine(nodes, json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]));
    e.step_until(10 * NS_PER_S).unwrap();
    let backlog = e.node_state(1).depth;
    assert!(backlog >= 45, "one replica at 5/s falls behind 10/s by 5 a second: {backlog}");
    e.apply(2, Change::Replicas(4)).unwrap();
    e.step_until(30 * NS_PER_S).unwrap();
    assert!(e.node_state(1).depth < 3, "four replicas drain it: {}", e.node_state(1).depth);
    assert_eq!(e.node_state(2).replicas_up, 4);
    assert!(e.apply(2, Change::RatePerS(1.0)).is_err(), "a service has no rate");
    assert!(e.apply(0, Change::RatePerS(-1.0)).is_err());
    e.check_conservation().unwrap();
}

#[test]
fn dedup_skips_a_message_id_seen_before() {
    let nodes = json!([
        producer("p", 5),
        {"id": "q", "kind": "queue"},
        {"id": "fanout", "kind": "service", "processing": 1},
        {"id": "q2", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": 1},
        {"id": "redis", "kind": "store", "latency": 1}
    ]);
    let (_, mut e) = engine(
        nodes,
        json!([
            {"from": "p", "to": "q"}, {"from": "q", "to": "fanout"},
            // Published twice with the consumed message's id: the second is a duplicate.
            {"from": "fanout", "to": "q2", "message_id": "keep"},
            {"from": "fanout", "to": "q2", "message_id": "keep"},
            {"from": "q2", "to": "s"}, {"from": "s", "to": "redis", "purpose": "dedup"}
        ]),
    );
    let r = run_for(&mut e, 1.0);
    assert_eq!(service(&r, "s").processed, 5);
    assert_eq!(r.messages.duplicates_skipped, 5);
    assert_eq!(r.messages.completed, 5);
}

#[test]
fn schedules_change_the_rate() {
    let nodes = json!([
        {"id": "p", "kind": "producer", "rate_per_s": 10, "arrival": "constant",
         "schedule": [{"at_s": 0, "rate_per_s": 2}, {"at_s": 5, "rate_per_s": 20}, {"at_s": 10, "rate_per_s": 0}]},
        {"id": "q", "kind": "queue"}
    ]);
    let (_, mut e) = engine(nodes, json!([{"from": "p", "to": "q"}]));
    e.step_until(5 * NS_PER_S).unwrap();
    assert_eq!(e.ledger().produced, 9, "2/s for 5 s, the first after 0.5 s");
    e.step_until(60 * NS_PER_S).unwrap();
    // Then 20/s from 5.05 s; at 10 s the step to 0 (scheduled first) comes before the emission.
    assert_eq!(e.ledger().produced, 9 + 99, "then 20/s for 5 s, then nothing");
}

#[test]
fn failure_publishes_and_series_points() {
    let nodes = json!([
        {"id": "p", "kind": "producer", "rate_per_s": 50},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "concurrency": 10, "processing": {"dist": "exponential", "mean_ms": 20}, "failure_rate": 0.25},
        {"id": "alerts", "kind": "queue"}
    ]);
    let (_, mut e) = engine(
        nodes,
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}, {"from": "s", "to": "alerts", "when": "failure", "event": "payment_failed"}]),
    );
    let r = run_for(&mut e, 100.0);
    let s = service(&r, "s");
    assert_eq!(queue(&r, "alerts").enqueued, s.failed);
    assert_eq!(r.messages.dropped.rejected, s.failed, "rejected without a dead-letter link");
    let ratio = s.failed as f64 / (s.failed + s.processed) as f64;
    assert!((0.2..0.3).contains(&ratio), "{ratio}");
    let series: Vec<_> = e.series(2).iter().copied().collect();
    assert_eq!(series.len(), 100);
    assert_eq!(series.iter().map(|p| u64::from(p.errors)).sum::<u64>(), s.failed);
    assert!(series.iter().all(|p| p.p50_ms <= p.p95_ms && p.p95_ms <= p.p99_ms));
    let mut hops = Vec::new();
    assert_eq!(e.take_hops(10, &mut hops), 0, "hops are off unless asked for");
}

#[test]
fn hops_are_bounded_and_counted() {
    let nodes = json!([{"id": "p", "kind": "producer", "rate_per_s": 100}, {"id": "q", "kind": "queue"}]);
    let topo = json!({"version": 1, "name": "t", "seed": 1, "nodes": nodes, "links": [{"from": "p", "to": "q", "latency": 3}]});
    let model = Model::from_value(&topo).unwrap();
    let mut e = Engine::new(&model, &Options { hop_capacity: 50, ..Options::default() });
    e.step_until(NS_PER_S).unwrap();
    let produced = e.ledger().produced;
    let mut hops = Vec::new();
    let rest = e.take_hops(20, &mut hops);
    assert_eq!(hops.len(), 20);
    assert_eq!(rest, produced - 20, "left out: the rest of the buffer and what did not fit");
    assert!(hops.iter().all(|h| h.end == h.start + 3 * NS_PER_MS && e.symbol(h.event) == "p"));
    assert_eq!(e.take_hops(20, &mut hops), 0);
}

#[test]
fn link_crossings_count_every_message_on_every_link() {
    // 10 orders fan out to two queues; one consumer fails everything and dead-letters it.
    let mut nodes = vec![producer("p", 10), json!({"id": "x", "kind": "exchange", "type": "fanout"})];
    nodes.extend(queues(&["a", "b", "dlq"]));
    nodes.push(json!({"id": "ok", "kind": "service", "processing": 1}));
    nodes.push(json!({"id": "bad", "kind": "service", "processing": 1, "failure_rate": 1}));
    nodes.push(json!({"id": "drain", "kind": "service", "processing": 1}));
    let (_, mut e) = engine(
        json!(nodes),
        json!([
            {"from": "p", "to": "x"}, {"from": "x", "to": "a"}, {"from": "x", "to": "b"},
            {"from": "a", "to": "ok"}, {"from": "b", "to": "bad"},
            {"from": "b", "to": "dlq", "dead_letter": true}, {"from": "dlq", "to": "drain"}
        ]),
    );
    run_for(&mut e, 1.0);
    assert_eq!(e.link_crossings(), [10, 10, 10, 10, 10, 10, 10]);
}

/// An exchange's flow out is what it routes: a copy per queue reached, through
/// exchange-to-exchange bindings too, so that its chart shows what leaves it.
#[test]
fn an_exchanges_out_flow_is_what_its_queues_receive() {
    let mut nodes = vec![
        producer("p", 50),
        json!({"id": "fan", "kind": "exchange", "type": "fanout"}),
        json!({"id": "topic", "kind": "exchange", "type": "topic"}),
    ];
    nodes.extend(queues(&["a", "b", "c"]));
    let (model, mut e) = engine(
        json!(nodes),
        json!([
            {"from": "p", "to": "fan"},
            {"from": "fan", "to": "a"}, {"from": "fan", "to": "b"}, {"from": "fan", "to": "topic"},
            {"from": "topic", "to": "c", "binding_key": "#"}
        ]),
    );
    let r = run_for(&mut e, 2.0);
    let received: u64 = ["a", "b", "c"].iter().map(|q| queue(&r, q).enqueued).sum();
    assert_eq!(received, 150);
    let fan = e.node_totals(model.node_index("fan").unwrap());
    assert_eq!((fan.inflow, fan.outflow), (50, 150), "{fan:?}");
    let points: u32 = e.series(model.node_index("fan").unwrap()).iter().map(|p| p.out_per_s).sum();
    assert_eq!(points, 150, "the per-second series carries it");
}

/// A crash with a restart delay: the replica is down until the restart (what it held waits,
/// redelivered, for another replica or for the restart), the log says how many messages it
/// held, and the redelivered messages are marked on their hops.
#[test]
fn a_crashed_replica_stays_down_until_its_restart() {
    use edasim_sim::engine::{Hop, LogKind};
    let nodes = json!([
        producer("p", 4),
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "replicas": 2, "concurrency": 2, "processing": 1000}
    ]);
    let topo = json!({"version": 1, "name": "t", "seed": 5, "nodes": nodes,
        "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]});
    let model = Model::from_value(&topo).unwrap();
    let mut e = Engine::new(&model, &Options { log_capacity: 100, hop_capacity: 100, ..Options::default() });
    e.step_until(500 * NS_PER_MS).unwrap();
    assert_eq!((e.node_state(2).busy, e.node_state(2).replicas_up), (4, 2));
    e.apply(2, Change::Crash { replica: 0, restart_ms: 3000.0 }).unwrap();
    e.check_conservation().unwrap();
    // Replica 0 held two; they wait for replica 1 (busy until 1010 ms and 1020 ms).
    assert_eq!(e.node_state(2).replicas_up, 1);
    e.step_until(3_400 * NS_PER_MS).unwrap();
    assert_eq!(e.node_state(2).replicas_up, 1, "still down before its restart at 3.5 s");
    e.step_until(3_600 * NS_PER_MS).unwrap();
    assert_eq!(e.node_state(2).replicas_up, 2, "up again");
    let mut logs = Vec::new();
    e.take_logs(100, &mut logs);
    let crash = logs.iter().find(|l| l.kind == LogKind::Crashed).expect("a crash line");
    assert_eq!(crash.count, 2, "it held two messages");
    assert!(logs.iter().any(|l| l.kind == LogKind::Restarted));
    let mut hops: Vec<Hop> = Vec::new();
    e.take_hops(100, &mut hops);
    assert_eq!(hops.iter().filter(|h| h.redelivered).count(), 2, "the two redelivered, marked");
    let r = run_for(&mut e, 5.0);
    assert_eq!(service(&r, "s").processed, 4, "nothing lost");
    // A bad restart delay is refused, with nothing changed.
    assert!(e.apply(2, Change::Crash { replica: 0, restart_ms: -1.0 }).is_err());
    assert_eq!(e.node_state(2).replicas_up, 2);
}

/// A service whose concurrency is "unbounded" (a task per message, as asyncio consumers run)
/// processes everything delivered at once: 100 messages of 1 s each all finish a second after
/// they arrive, where one worker would take 100 s. A prefetch of 0 means no limit (AMQP's
/// meaning): with 2 workers, every message is delivered at once and 98 wait at the replica.
#[test]
fn unbounded_concurrency_and_prefetch_zero() {
    let (_, mut e) = engine(
        json!([producer("p", 100), {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "concurrency": "unbounded", "processing": 1000}]),
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]),
    );
    let r = run_for(&mut e, 2.05);
    assert_eq!(service(&r, "s").processed, 100, "all done a second after the last arrived");
    assert_eq!(queue(&r, "q").depth_max, 1, "nothing waits for a worker");
    assert!((service(&r, "s").in_flight_mean - 100.0 / 2.05).abs() < 1.0, "{}", service(&r, "s").in_flight_mean);

    let (_, mut e) = engine(
        json!([producer("p", 100), {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "concurrency": 2, "prefetch": 0, "processing": 1000}]),
        json!([{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]),
    );
    let r = run_for(&mut e, 1.5);
    assert_eq!(queue(&r, "q").delivered, 100, "no prefetch limit: all delivered");
    assert_eq!(service(&r, "s").processed, 2, "two workers");
}
