//! CPU (processor sharing within a replica's limit) and the autoscaler (Kubernetes' HPA
//! algorithm), against the formula and against the seed system's lesson.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};
use serde_json::{Value, json};

fn engine(service: Value, schedule: Value) -> (Model, Engine) {
    let topo = json!({"version": 1, "name": "hpa", "seed": 3, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 0, "arrival": "constant", "schedule": schedule},
        {"id": "q", "kind": "queue"}, service],
        "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]});
    let model = Model::from_value(&topo).unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(&model, &Options::default());
    (model, engine)
}

fn replicas(e: &Engine, model: &Model) -> u32 {
    e.node_state(model.node_index("s").unwrap()).replicas_up
}

/// Two tasks on a replica limited to one core take twice as long; under the limit they run at
/// full speed. 10 ms of CPU each: alone 10 ms, two at once on 1000m both end at 20 ms, on
/// 2000m both at 10 ms.
#[test]
fn tasks_share_the_replicas_cpu_limit() {
    for (limit, expected_ms) in [(1000.0, 20.0), (2000.0, 10.0)] {
        let topo = json!({"version": 1, "name": "ps", "seed": 1, "nodes": [
            {"id": "p", "kind": "producer", "rate_per_s": 1_000_000, "arrival": "constant", "limit": 2},
            {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "concurrency": "unbounded", "processing": 0, "cpu_ms": 10,
             "cpu_request_m": 100, "cpu_limit_m": limit}],
            "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]});
        let model = Model::from_value(&topo).unwrap();
        let mut e = Engine::new(&model, &Options::default());
        e.step_until(NS_PER_S).unwrap();
        e.check_conservation().unwrap();
        let r = Report::new(&e, 0.0, &[]);
        let p = r.service("s").unwrap().processing_ms.clone().unwrap();
        assert!((p.mean - expected_ms).abs() < 0.01, "limit {limit}m: each took {} ms", p.mean);
    }
}

/// A CPU-bound service (10 ms of CPU a message, a request of 100m, an HPA at 80% of it: one
/// replica holds 8 messages a second at the target) under a step to 2 and then 8 times that:
/// it reaches the replicas the formula gives (2, then 8) within `sync_s + start_s` of each step,
/// and after the load falls it keeps them for the stabilization window before scaling down.
#[test]
fn the_hpa_follows_the_formula_and_waits_to_scale_down() {
    let service = json!({"id": "s", "kind": "service", "concurrency": "unbounded", "processing": 0,
        "cpu_ms": 10, "cpu_request_m": 100, "cpu_limit_m": 1000,
        "autoscale": {"metric": "cpu", "target": 0.8, "min": 1, "max": 10, "sync_s": 15, "stabilization_s": 300, "start_s": 5}});
    let schedule = json!([{"at_s": 0, "rate_per_s": 8}, {"at_s": 60, "rate_per_s": 16},
        {"at_s": 300, "rate_per_s": 64}, {"at_s": 600, "rate_per_s": 8}]);
    let (model, mut e) = engine(service, schedule);
    let at = |e: &mut Engine, s: u64| {
        e.step_until(s * NS_PER_S).unwrap();
        replicas(e, &model)
    };
    assert_eq!(at(&mut e, 59), 1, "at the target: one replica");
    // The step at 60 s: the sync at 75 s sees 160% of the request, ratio 2: two, ready at 80 s.
    assert_eq!(at(&mut e, 60 + 15 + 5), 2, "two replicas within sync_s + start_s of the step");
    assert_eq!(at(&mut e, 299), 2, "steady at two");
    // The step at 300 s: 320% of the request on each of two: ratio 4, eight replicas.
    assert_eq!(at(&mut e, 300 + 15 + 5), 8, "eight within sync_s + start_s of the step");
    assert_eq!(at(&mut e, 599), 8, "steady at eight");
    // The load falls at 600 s to one replica's worth: the stabilization window holds the eight
    // for 300 s from the last sync that wanted them (585 s); then down to one.
    assert_eq!(at(&mut e, 600 + 280), 8, "no scale-down within the window");
    assert_eq!(at(&mut e, 600 + 300 + 30), 1, "down to one after the window");
    let r = Report::new(&e, 0.0, &[]);
    let a = r.service("s").unwrap().autoscale.clone().unwrap();
    assert_eq!((a.replicas_min, a.replicas_max, a.scaled_up, a.scaled_down), (1, 8, 7, 7));
    e.check_conservation().unwrap();
}

/// The seed system's lesson: its services sleep (1 s) and use almost no CPU (0.2 ms a message),
/// so under a burst of 200 orders a second an HPA on CPU (80% of 100m) stays at one replica
/// while the messages in flight pile up to ~200; scaled on in-flight messages (50 per replica,
/// as KEDA would), it grows to four.
#[test]
fn sleeping_services_do_not_scale_on_cpu_but_do_on_in_flight() {
    let run = |metric: &str, target: f64| {
        let service = json!({"id": "s", "kind": "service", "concurrency": "unbounded", "processing": 1000,
            "cpu_ms": 0.2, "cpu_request_m": 100, "cpu_limit_m": 250,
            "autoscale": {"metric": metric, "target": target, "min": 1, "max": 10, "sync_s": 15, "stabilization_s": 300, "start_s": 0}});
        let (model, mut e) = engine(service, json!([{"at_s": 0, "rate_per_s": 200}]));
        e.step_until(120 * NS_PER_S).unwrap();
        let r = Report::new(&e, 0.0, &[]);
        // The per-second series the live charts draw carries the CPU in use too.
        let last = *e.series(model.node_index("s").unwrap()).last().unwrap();
        assert!((f64::from(last.cpu_m) - 40.0).abs() < 4.0, "{} millicores in the last second", last.cpu_m);
        (replicas(&e, &model), r.service("s").unwrap().in_flight_mean, r.service("s").unwrap().cpu_mean_m.unwrap())
    };
    let (on_cpu, in_flight, cpu_m) = run("cpu", 0.8);
    assert_eq!(on_cpu, 1, "on CPU it stays at one ({cpu_m:.0}m of 100m used)");
    assert!(in_flight > 190.0, "while {in_flight:.0} messages are in flight");
    assert!((cpu_m - 40.0).abs() < 2.0, "200/s × 0.2 ms = 40m: {cpu_m:.1}");
    let (on_in_flight, _, _) = run("in_flight", 50.0);
    assert_eq!(on_in_flight, 4, "on in-flight messages it scales to 200 / 50");
}
