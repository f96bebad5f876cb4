//! A partitioned topic keeps order per key and not across keys, redelivers on a rebalance, and
//! its lag returns to zero after a burst: the shipped scenario over ten seeds.

use edasim_sim::engine::Change;
use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};

fn model() -> Model {
    let path = format!("{}/../scenarios/partitioned-topic.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Model::from_json_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn node(e: &Engine, id: &str) -> usize {
    (0..e.node_count()).find(|&i| e.node_id(i) == id).unwrap_or_else(|| panic!("no node {id}"))
}

fn order(r: &Report, id: &str) -> edasim_sim::engine::OrderStats {
    r.service(id).and_then(|s| s.order.as_deref().copied()).unwrap_or_else(|| panic!("{id} reads no topic"))
}

fn group<'a>(r: &'a Report, id: &str) -> &'a edasim_sim::engine::GroupStats {
    let Some(edasim_sim::report::NodeReport::Topic(t)) = r.node("order_events") else { panic!("no topic") };
    t.groups.iter().find(|g| g.group == id).unwrap()
}

#[test]
fn order_is_kept_per_key_and_broken_across_keys_once_billing_has_three_consumers() {
    let m = model();
    for seed in 1..=10 {
        let mut e = Engine::new(&m, &Options { seed: Some(seed), ..Options::default() });
        e.step_until(60 * NS_PER_S).unwrap();
        let before = order(&Report::new(&e, 0.0, &[]), "billing");
        let billing = node(&e, "billing");
        e.apply(billing, Change::Replicas(3)).unwrap();
        e.step_until(120 * NS_PER_S).unwrap();
        let r = Report::new(&e, 0.0, &[]);
        let after = order(&r, "billing");
        // Per key: never out of order, before or after.
        assert_eq!(after.per_key_violations, 0, "seed {seed}: {after:?}");
        // Across keys: one consumer taking one event at a time commits nearly in production
        // order; three in parallel do not.
        let (early, late) =
            (before.across_keys_inversions, after.across_keys_inversions - before.across_keys_inversions);
        assert_eq!(early, 0, "seed {seed}: one consumer commits in the order of production");
        assert!(late > 50, "seed {seed}: {late} inversions with three consumers");
        // One rebalance per consumer joining.
        assert_eq!(group(&r, "billing").rebalances, 2, "seed {seed}");
        // Every event was read by both groups.
        assert_eq!(
            r.service("analytics").unwrap().processed,
            r.producer_emitted("orders").unwrap() - group(&r, "analytics").lag.iter().sum::<u64>(),
            "seed {seed}"
        );
    }
}

#[test]
fn a_rebalance_redelivers_what_was_in_flight() {
    let m = model();
    let mut redelivered = 0;
    for seed in 1..=10 {
        let mut e = Engine::new(&m, &Options { seed: Some(seed), ..Options::default() });
        let billing = node(&e, "billing");
        e.apply(billing, Change::Replicas(3)).unwrap();
        // The consumer count changes every 5 s: each change moves partitions.
        for (i, t) in (10..=100).step_by(5).enumerate() {
            e.step_until(t * NS_PER_S).unwrap();
            e.apply(billing, Change::Replicas(if i % 2 == 0 { 2 } else { 3 })).unwrap();
        }
        e.step_until(120 * NS_PER_S).unwrap();
        let r = Report::new(&e, 0.0, &[]);
        let g = group(&r, "billing");
        let o = order(&r, "billing");
        // Two consumers joining at the start, then nineteen changes of one consumer each.
        assert_eq!(g.rebalances, 21, "seed {seed}");
        assert_eq!(o.per_key_violations, 0, "seed {seed}: {o:?}");
        // What moved in flight was processed by its new consumer, and finished by the old one
        // (a zombie, whose commit does not count): each is a repeat of its key.
        assert_eq!(o.zombies, g.redelivered, "seed {seed}");
        redelivered += g.redelivered;
    }
    assert!(redelivered > 20, "{redelivered} redelivered in 200 rebalances");
}

#[test]
fn lag_returns_to_zero_after_a_burst() {
    let text =
        std::fs::read_to_string(format!("{}/../scenarios/partitioned-topic.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["faults"] = serde_json::json!([{"at_s": 30, "until_s": 50, "node": "orders", "kind": "burst", "factor": 4}]);
    let m = Model::from_json_str(&v.to_string()).unwrap();
    for seed in 1..=10 {
        let mut e = Engine::new(&m, &Options { seed: Some(seed), ..Options::default() });
        e.step_until(50 * NS_PER_S).unwrap();
        let r = Report::new(&e, 0.0, &[]);
        // 120 events a second against billing's ~80: a backlog builds.
        assert!(group(&r, "billing").lag.iter().sum::<u64>() > 300, "seed {seed}: {:?}", group(&r, "billing"));
        e.step_until(120 * NS_PER_S).unwrap();
        let r = Report::new(&e, 0.0, &[]);
        assert!(group(&r, "billing").lag.iter().sum::<u64>() <= 3, "seed {seed}: {:?}", group(&r, "billing"));
        assert_eq!(order(&r, "billing").per_key_violations, 0);
    }
}
