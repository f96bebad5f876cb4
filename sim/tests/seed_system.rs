//! The seed system (`spyker77/eda`) as its code runs: the shipped order pipeline against the
//! facts of `../shared/seed/facts.md`, over several seeds.

use std::collections::HashMap;

use edasim_sim::engine::Hop;
use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};

fn pipeline() -> Model {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json")).unwrap();
    Model::from_json_str(&text).unwrap()
}

/// The index of the link `from` → `to` in the topology.
fn link(model: &Model, from: &str, to: &str) -> u32 {
    model.topology().links.iter().position(|l| l.from == from && l.to == to).unwrap() as u32
}

/// A simulated hour at 8 orders a second, five seeds: the failed-order handler's republishes
/// carry fresh ids (the client library gives one to every message published without one), so
/// each failed payment goes round the fanout again until it succeeds. At least 98% of orders
/// ship (the rest are still on their way at the hour), none twice; payments and notifications
/// per order are both 1/(1 − 0.1) ≈ 1.11; the dedup never skips anything.
#[test]
fn every_order_ships_once_and_failed_payments_retry_until_they_succeed() {
    let model = pipeline();
    let shipped_link = link(&model, "shipping_queue", "shipment_management");
    for seed in 1..=5u64 {
        let options = Options { seed: Some(seed), hop_capacity: 1 << 20, ..Options::default() };
        let mut engine = Engine::new(&model, &options);
        let mut shipments: HashMap<u64, u32> = HashMap::new();
        let mut hops: Vec<Hop> = Vec::new();
        for minute in 1..=60u64 {
            engine.step_until(minute * 60 * NS_PER_S).unwrap();
            hops.clear();
            assert_eq!(engine.take_hops(usize::MAX, &mut hops), 0, "every hop read");
            for h in hops.iter().filter(|h| h.link == shipped_link) {
                *shipments.entry(h.root).or_default() += 1;
            }
        }
        let report = Report::new(&engine, 0.0, &[]);
        let orders = report.messages.produced as f64;
        let twice: Vec<_> = shipments.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "seed {seed}: orders shipped more than once: {twice:?}");
        let shipped = shipments.len() as f64;
        assert!(shipped >= 0.98 * orders, "seed {seed}: {shipped} of {orders} orders shipped");
        let payments = report.queue("payment_queue").unwrap().delivered as f64 / orders;
        let notifications = report.queue("notification_queue").unwrap().delivered as f64 / orders;
        assert!((payments - 1.11).abs() <= 0.02, "seed {seed}: {payments:.4} payment attempts per order");
        assert!((notifications - 1.11).abs() <= 0.02, "seed {seed}: {notifications:.4} notifications per order");
        for s in
            ["order_processing", "payment_processing", "notification", "shipment_management", "failed_order_handler"]
        {
            assert_eq!(report.service(s).unwrap().duplicates_skipped, 0, "seed {seed}: {s} skipped a duplicate");
        }
        println!(
            "seed {seed}: {shipped} of {orders} orders shipped, {payments:.4} payments and {notifications:.4} notifications per order"
        );
    }
}

/// The seed's consumers set no prefetch and run each message in its own asyncio task: every
/// service is unbounded, so a message never waits for a worker and no queue holds ready
/// messages at 8 orders a second; shipment_management (2 s a message) holds about 16 in flight
/// (Little's law: 8/s × 2 s).
#[test]
fn unbounded_consumers_keep_the_queues_empty() {
    let model = pipeline();
    let mut engine = Engine::new(&model, &Options::default());
    engine.step_until(1800 * NS_PER_S).unwrap();
    let report = Report::new(&engine, 0.0, &[]);
    for q in ["orders_queue", "payment_queue", "notification_queue", "shipping_queue", "dead_letter_queue"] {
        let depth = report.queue(q).unwrap().depth_mean;
        assert!(depth < 0.01, "{q}: {depth} ready messages on average");
    }
    let in_flight = report.service("shipment_management").unwrap().in_flight_mean;
    assert!((in_flight - 16.0).abs() < 1.0, "shipment_management: {in_flight:.2} in flight");
}

/// The Kubernetes variant: one replica each, an HPA on CPU (80% of a 100m request) on every
/// service. The services sleep and use 0.3 ms of CPU a message, so at 200 orders a second
/// shipment_management holds about 400 orders in flight on one replica at 60m of CPU: its HPA
/// never scales. Every order still ships once.
#[test]
fn the_kubernetes_variant_does_not_scale_on_cpu_under_load() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline-k8s.json")).unwrap();
    let model = Model::from_json_str(&text.replace("\"rate_per_s\": 8,", "\"rate_per_s\": 200,")).unwrap();
    for seed in 1..=3u64 {
        let mut engine = Engine::new(&model, &Options { seed: Some(seed), ..Options::default() });
        engine.step_until(300 * NS_PER_S).unwrap();
        let report = Report::new(&engine, 0.0, &[]);
        let ship = report.service("shipment_management").unwrap();
        let scaled = ship.autoscale.as_ref().unwrap();
        assert_eq!(scaled.replicas_max, 1, "seed {seed}: the CPU HPA never scaled");
        assert!(ship.in_flight_mean > 350.0, "seed {seed}: {} in flight", ship.in_flight_mean);
        let cpu = ship.cpu_mean_m.unwrap();
        assert!(cpu < 0.8 * 100.0, "seed {seed}: {cpu}m of CPU, under the HPA's target");
    }
}

/// The seed's defect under a client that times out and retries: order_generation makes a new
/// order id per request, so a POST retried after a timeout whose first attempt did succeed
/// creates a second order, which ships. A client timing out at 5 ms (under the API's p99 of
/// about 7 ms) at 50 orders a second ships some orders twice; with an idempotency key on the
/// client and a dedup at the API on it, none, over five seeds.
#[test]
fn retried_posts_ship_twice_unless_the_client_sends_an_idempotency_key() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json")).unwrap();
    let client =
        r#""rate_per_s": 50, "timeout_ms": 5, "retries": {"max_attempts": 3, "backoff_ms": 100, "multiplier": 2},"#;
    let retrying = text.replace(r#""rate_per_s": 8,"#, client);
    let keyed = retrying.replace(r#""timeout_ms": 5,"#, r#""timeout_ms": 5, "idempotency_key": true,"#).replace(
        r#"{"from": "traefik", "to": "order_generation"},"#,
        r#"{"from": "traefik", "to": "order_generation"}, {"from": "order_generation", "to": "redis", "purpose": "dedup"},"#,
    );
    for (name, text, duplicates_expected) in [("without a key", &retrying, true), ("with a key", &keyed, false)] {
        let model = Model::from_json_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for seed in 1..=5u64 {
            let mut engine = Engine::new(&model, &Options { seed: Some(seed), ..Options::default() });
            engine.step_until(600 * NS_PER_S).unwrap();
            engine.check_conservation().unwrap();
            let report = Report::new(&engine, 0.0, &[]);
            let shipped_twice = report.service("shipment_management").unwrap().repeated_requests;
            let edasim_sim::report::NodeReport::Producer { client: Some(c), .. } = report.node("order_api").unwrap()
            else {
                panic!("a client")
            };
            assert!(c.timeouts > 100 && c.retries > 100, "{name}, seed {seed}: {c:?}");
            if duplicates_expected {
                assert!(shipped_twice > 0, "{name}, seed {seed}: no order shipped twice ({c:?})");
            } else {
                assert_eq!(shipped_twice, 0, "{name}, seed {seed}: orders shipped twice");
                let api = report.service("order_generation").unwrap();
                assert!(api.duplicates_skipped > 0, "{name}, seed {seed}: the API's dedup skipped the repeats");
            }
            println!("{name}, seed {seed}: {shipped_twice} orders shipped twice; client {c:?}");
        }
    }
}
