//! Sagas keep their promises, over ten seeds: the shipped orchestration scenario with faults
//! added one at a time. Traffic stops at 200 s and the run drains to 300 s, so every count is
//! final.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report, SagaReport};
use serde_json::{Value, json};

const SEEDS: std::ops::RangeInclusive<u64> = 1..=10;

fn scenario(name: &str) -> Value {
    let path = format!("{}/../scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The orchestration scenario with traffic stopping at 200 s, and `faults`.
fn orchestration(faults: Value) -> Value {
    let mut v = scenario("saga-orchestration");
    let checkout = v["nodes"].as_array_mut().unwrap().iter_mut().find(|n| n["id"] == "checkout").unwrap();
    checkout["schedule"] = json!([{"at_s": 200, "rate_per_s": 0}]);
    v["faults"] = faults;
    v
}

fn run(v: &Value, seed: u64) -> Report {
    let model = Model::from_json_str(&v.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let mut e = Engine::new(&model, &Options { seed: Some(seed), ..Options::default() });
    e.step_until(300 * NS_PER_S).unwrap();
    Report::new(&e, 0.0, &[])
}

fn saga(r: &Report) -> &SagaReport {
    r.service("order_saga").and_then(|s| s.saga.as_deref()).expect("order_saga is an orchestrator")
}

/// Every saga ends completed or compensated, none stuck or failed, none with an effect left
/// behind (an order cancelled with its inventory still held or its card charged).
fn all_settled(s: &SagaReport, seed: u64) {
    assert_eq!(s.counts.running + s.counts.compensating, 0, "seed {seed}: sagas still in progress: {s:?}");
    assert_eq!(s.counts.stuck + s.counts.failed, 0, "seed {seed}: {s:?}");
    assert_eq!(s.counts.started, s.counts.completed + s.counts.compensated, "seed {seed}: {s:?}");
    assert_eq!(s.inconsistent, 0, "seed {seed}: {s:?}");
}

#[test]
fn every_declined_payment_is_compensated_and_nothing_is_left_behind() {
    let v = orchestration(json!([]));
    for seed in SEEDS {
        let r = run(&v, seed);
        let s = saga(&r);
        all_settled(s, seed);
        assert!(s.counts.started > 900, "seed {seed}: {s:?}");
        // About one card in eight is declined, a few reservations fail: compensated.
        let share = s.counts.compensated as f64 / s.counts.started as f64;
        assert!((0.10..0.22).contains(&share), "seed {seed}: {share} compensated");
        // Each compensated saga cancelled its order.
        let cancels = r.service("order_service").unwrap().processed - s.counts.started;
        assert!(cancels >= s.counts.compensated, "seed {seed}: {cancels} cancels for {s:?}");
    }
}

#[test]
fn an_orchestrator_with_a_log_resumes_its_sagas_after_a_crash() {
    let v = orchestration(json!([{"at_s": 60, "until_s": 75, "node": "order_saga", "kind": "crash"}]));
    for seed in SEEDS {
        let s = saga(&run(&v, seed)).clone();
        all_settled(&s, seed);
        assert!(s.counts.recovered > 5, "seed {seed}: {s:?}");
    }
}

#[test]
fn without_a_log_a_crash_strands_the_sagas_in_progress_with_their_effects() {
    let mut v = orchestration(json!([{"at_s": 60, "until_s": 75, "node": "order_saga", "kind": "crash"}]));
    v["links"].as_array_mut().unwrap().retain(|l| l["to"] != "saga_log");
    for seed in SEEDS {
        let s = saga(&run(&v, seed)).clone();
        assert!(!s.log);
        assert!(s.counts.stuck > 0, "seed {seed}: {s:?}");
        assert_eq!(s.counts.recovered, 0);
        assert_eq!(s.counts.started, s.counts.completed + s.counts.compensated + s.counts.stuck, "seed {seed}");
        // Stuck sagas hold orders and inventory that nothing will release.
        assert!(s.inconsistent > 0 && s.inconsistent <= s.counts.stuck, "seed {seed}: {s:?}");
    }
}

#[test]
fn a_reply_after_its_timeout_is_ignored_and_the_saga_compensates() {
    // Payments take 6 s more for 20 s: their replies come after the 5 s timeout.
    let v = orchestration(
        json!([{"at_s": 80, "until_s": 100, "node": "payment_service", "kind": "latency", "add_ms": 6000}]),
    );
    for seed in SEEDS {
        let s = saga(&run(&v, seed)).clone();
        all_settled(&s, seed);
        assert!(s.counts.timeouts > 0 && s.counts.ignored_replies > 0, "seed {seed}: {s:?}");
        // A void that overtook its slow charge left a tombstone that refused the charge: no
        // order is both charged and cancelled.
        assert!(s.counts.refused_late > 0, "seed {seed}: {s:?}");
        assert_eq!(s.inconsistent, 0);
    }
}

#[test]
fn duplicate_replies_are_ignored() {
    let v = orchestration(
        json!([{"at_s": 0, "node": "payment_service", "to": "saga_queue", "kind": "duplicate", "rate": 0.5}]),
    );
    for seed in SEEDS {
        let s = saga(&run(&v, seed)).clone();
        all_settled(&s, seed);
        assert!(s.counts.ignored_replies > 300, "seed {seed}: {s:?}");
    }
}

#[test]
fn a_failing_compensation_is_sent_again_and_then_fails_the_saga() {
    // The order service fails everything for 6 s: a CreateOrder gets no reply, its saga
    // times out and cancels the order; the cancels get no reply either, and are sent again
    // until the fault is over.
    let short = orchestration(
        json!([{"at_s": 100, "until_s": 106, "node": "order_service", "kind": "error_rate", "rate": 1.0}]),
    );
    // For 60 s: a cancel sent six times (3 s apart) gets no reply: the saga failed while
    // compensating.
    let long = orchestration(
        json!([{"at_s": 100, "until_s": 160, "node": "order_service", "kind": "error_rate", "rate": 1.0}]),
    );
    for seed in SEEDS {
        let s = saga(&run(&short, seed)).clone();
        all_settled(&s, seed);
        assert!(s.counts.resent > 10, "seed {seed}: {s:?}");
        let s = saga(&run(&long, seed)).clone();
        assert!(s.counts.failed > 0, "seed {seed}: {s:?}");
        assert_eq!(s.counts.running + s.counts.compensating, 0, "seed {seed}: {s:?}");
    }
}

/// The same slow payments without the tombstone: a void sent at the timeout overtakes the
/// charge still in progress, finds nothing to undo, and the charge lands after it: orders
/// charged and cancelled.
#[test]
fn without_a_tombstone_a_void_that_overtakes_its_charge_leaves_orders_charged_and_cancelled() {
    let mut v = orchestration(
        json!([{"at_s": 80, "until_s": 100, "node": "payment_service", "kind": "latency", "add_ms": 6000}]),
    );
    let order_saga = v["nodes"].as_array_mut().unwrap().iter_mut().find(|n| n["id"] == "order_saga").unwrap();
    order_saga["saga"]["steps"][2]["tombstone"] = json!(false);
    for seed in SEEDS {
        let s = saga(&run(&v, seed)).clone();
        assert!(s.inconsistent > 0 && s.inconsistent < s.counts.compensated, "seed {seed}: {s:?}");
        assert_eq!(s.counts.refused_late, 0);
    }
}

/// Choreography: no one holds the sagas, so the books are the services' counts. Once the run
/// drains, every failure was compensated by the services that react to it.
#[test]
fn a_choreographed_saga_compensates_every_failure_by_reaction() {
    let mut v = scenario("saga-choreography");
    let checkout = v["nodes"].as_array_mut().unwrap().iter_mut().find(|n| n["id"] == "checkout").unwrap();
    checkout["schedule"] = json!([{"at_s": 200, "rate_per_s": 0}]);
    for seed in SEEDS {
        let r = run(&v, seed);
        let n = |id: &str| r.service(id).unwrap_or_else(|| panic!("{id}")).clone();
        let (inventory, payment) = (n("inventory_service"), n("payment_service"));
        assert!(payment.failed > 50 && inventory.failed > 10, "seed {seed}");
        assert_eq!(n("order_cancel").processed, inventory.failed + payment.failed, "seed {seed}");
        assert_eq!(n("inventory_release").processed, payment.failed, "seed {seed}");
        assert_eq!(n("shipping_service").processed, payment.processed, "seed {seed}");
        assert_eq!(r.messages.in_system, 0, "seed {seed}");
    }
}
