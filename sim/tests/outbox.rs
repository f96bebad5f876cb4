//! The transactional outbox loses no event where the dual write loses some, over ten seeds:
//! the shipped side-by-side scenario (broker unreachable 60–80 s, a crash right after a commit
//! at 140 s), its traffic stopping at 150 s and the run draining to 200 s.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};
use serde_json::{Value, json};

fn scenario() -> Value {
    let path = format!("{}/../scenarios/outbox.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut v: Value = serde_json::from_str(&text).unwrap();
    for n in v["nodes"].as_array_mut().unwrap() {
        if n["kind"] == "producer" {
            n["schedule"] = json!([{"at_s": 150, "rate_per_s": 0}]);
        }
    }
    v
}

fn run(v: &Value, seed: u64) -> Report {
    let model = Model::from_json_str(&v.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let mut e = Engine::new(&model, &Options { seed: Some(seed), ..Options::default() });
    e.step_until(200 * NS_PER_S).unwrap();
    Report::new(&e, 0.0, &[])
}

/// (orders committed, orders shipping heard of, duplicates shipping skipped) on one side.
fn side(r: &Report, sfx: &str) -> (u64, u64, u64) {
    let orders = r.service(&format!("order_service{sfx}")).unwrap();
    let shipping = r.service(&format!("shipping{sfx}")).unwrap();
    (orders.processed, shipping.processed, shipping.duplicates_skipped)
}

#[test]
fn the_outbox_loses_nothing_and_the_dual_write_loses_what_the_broker_and_a_crash_cut_off() {
    let v = scenario();
    for seed in 1..=10 {
        let r = run(&v, seed);
        let (committed, heard, _) = side(&r, "");
        // About 20 s × 20 orders a second, lost while the broker was unreachable, and one order
        // per replica that crashed after its commit (the redelivery is skipped as a duplicate).
        let lost = committed - heard;
        assert!((330..=480).contains(&lost), "seed {seed}: dual write lost {lost} of {committed}");
        let crash = r.faults.iter().find(|f| f.node == "order_service" && f.kind == "crash_after_commit").unwrap();
        assert!(crash.affected >= 1, "seed {seed}");
        assert_eq!(r.service("order_service").unwrap().duplicates_skipped, crash.affected, "seed {seed}");

        let (committed, heard, skipped) = side(&r, "_b");
        assert_eq!(heard, committed, "seed {seed}: the outbox side lost events");
        let ob = r.service("order_service_b").unwrap().outbox.as_deref().copied().unwrap();
        assert_eq!(ob.written, committed);
        assert_eq!(ob.pending, 0);
        // The relay waited out the outage: its oldest row was about 20 s old.
        assert!(ob.lag_max_ms > 15_000.0, "seed {seed}: {ob:?}");
        assert!(ob.unconfirmed > 0);
        // What it published twice (a failed mark-sent), shipping's dedup skipped.
        assert_eq!(skipped, ob.republished, "seed {seed}: {ob:?}");
        assert!(ob.republished > 0, "seed {seed}: {ob:?}");
    }
}

#[test]
fn without_dedup_the_relays_repeats_reach_the_consumer() {
    let mut v = scenario();
    v["links"].as_array_mut().unwrap().retain(|l| l["to"] != "shipped_b");
    let r = run(&v, 3);
    let (committed, heard, _) = side(&r, "_b");
    let ob = r.service("order_service_b").unwrap().outbox.as_deref().copied().unwrap();
    assert!(ob.republished > 0);
    assert_eq!(heard, committed + ob.republished, "at least once: each repeat processed again");
}

/// An outbox table holds the run's memory bound of rows at most: while the broker is
/// unreachable, rows past it are refused and counted, and their events never reach shipping.
#[test]
fn a_full_outbox_refuses_rows_and_counts_them() {
    let v = scenario();
    let model = Model::from_json_str(&v.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let opts = Options { seed: Some(5), memory_watermark: Some(100), ..Options::default() };
    let mut e = Engine::new(&model, &opts);
    e.step_until(200 * NS_PER_S).unwrap();
    let r = Report::new(&e, 0.0, &[]);
    let (committed, heard, skipped) = side(&r, "_b");
    let ob = r.service("order_service_b").unwrap().outbox.as_deref().copied().unwrap();
    assert!(ob.full > 100, "about 20 s of orders met a full table: {ob:?}");
    assert_eq!(ob.written + ob.full, committed, "each commit wrote its row or had it refused: {ob:?}");
    // Shipping heard each published row (a repeat its dedup skipped aside), none refused.
    assert_eq!(ob.published, ob.written + ob.republished, "{ob:?}");
    assert_eq!(heard + skipped, ob.published, "skipped {skipped}: {ob:?}");
    assert!(r.to_text().contains("refused: the table was full"), "the text report says so");
}
