//! Faults on a schedule (`faults` in the file): each kind on the node it strikes, with exact or
//! near-exact outcomes, the messages it affected in the report, and bad faults refused with
//! their paths.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};
use serde_json::{Value, json};

/// A producer of 100 messages a second (evenly spaced) → a queue → a service of 10 ms (two
/// workers) that calls a store, with `faults`.
fn run(faults: Value, seconds: u64) -> Report {
    let topo = json!({"version": 1, "name": "faults", "seed": 11, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 100, "arrival": "constant"},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "replicas": 2, "concurrency": 2, "processing": 10},
        {"id": "db", "kind": "store", "latency": 1}],
        "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}, {"from": "s", "to": "db"}],
        "faults": faults});
    let model = Model::from_value(&topo).unwrap_or_else(|e| panic!("{e}"));
    let mut e = Engine::new(&model, &Options::default());
    e.step_until(seconds * NS_PER_S).unwrap();
    e.check_conservation().unwrap();
    Report::new(&e, 0.0, &[])
}

fn affected(r: &Report) -> u64 {
    r.faults[0].affected
}

#[test]
fn a_crash_takes_replicas_down_and_brings_them_back() {
    let r = run(json!([{"at_s": 2, "until_s": 4, "node": "s", "kind": "crash"}]), 10);
    let q = r.queue("q").unwrap();
    // Two seconds without a consumer: ~200 messages wait, then drain.
    assert!(q.depth_max >= 190, "the queue held {} at most", q.depth_max);
    assert_eq!(q.depth_end, 0, "drained after the restart");
    assert_eq!(r.service("s").unwrap().replicas, 2, "both back");
    assert!(affected(&r) <= 4, "what the replicas held when they crashed: {}", affected(&r));
}

#[test]
fn latency_slows_processing_while_it_lasts() {
    let r = run(json!([{"at_s": 1, "until_s": 2, "node": "s", "kind": "latency", "factor": 3, "add_ms": 5}]), 5);
    let p = r.service("s").unwrap().processing_ms.clone().unwrap();
    // 10 ms + 1 ms of store call normally; 35 ms + 1 ms for the second's ~100 messages.
    assert!((p.max - 36.0).abs() < 0.5, "slowest {} ms", p.max);
    assert!((95..=105).contains(&affected(&r)), "{} slowed", affected(&r));
}

#[test]
fn error_rates_on_services_and_stores_and_a_store_down() {
    let r = run(json!([{"at_s": 1, "until_s": 2, "node": "s", "kind": "error_rate", "rate": 1.0}]), 4);
    let failed = r.service("s").unwrap().failed;
    assert!((95..=105).contains(&failed), "every attempt in that second failed: {failed}");
    let r = run(json!([{"at_s": 1, "until_s": 2, "node": "db", "kind": "error_rate", "rate": 1.0}]), 4);
    assert!((95..=105).contains(&r.service("s").unwrap().failed), "a failing call fails the attempt");
    let r = run(json!([{"at_s": 1, "until_s": 3, "node": "db", "kind": "store_down"}]), 4);
    let failed = r.service("s").unwrap().failed;
    assert!((195..=205).contains(&failed), "two seconds of refused calls: {failed}");
    assert_eq!(affected(&r), failed, "each refused call counted");
}

#[test]
fn paused_consumers_hold_messages_and_a_burst_multiplies_the_rate() {
    let r = run(json!([{"at_s": 1, "until_s": 3, "node": "q", "kind": "pause_consumers"}]), 5);
    assert!(r.queue("q").unwrap().depth_max >= 195, "two seconds held");
    assert!((195..=205).contains(&affected(&r)), "{} held", affected(&r));
    let r = run(json!([{"at_s": 1, "until_s": 2, "node": "p", "kind": "burst", "factor": 5}]), 3);
    // 100/s for two seconds and 500/s for one.
    let emitted = r.messages.produced;
    assert!((690..=710).contains(&emitted), "{emitted} emitted");
    assert!((495..=505).contains(&affected(&r)), "{} in the burst", affected(&r));
}

#[test]
fn bad_faults_name_their_paths() {
    let problems = |faults: Value| {
        let topo = json!({"version": 1, "name": "t", "nodes": [
            {"id": "p", "kind": "producer", "rate_per_s": 1}, {"id": "q", "kind": "queue"}],
            "links": [{"from": "p", "to": "q"}], "faults": faults});
        Model::from_value(&topo).unwrap_err().problems.iter().map(|p| p.to_string()).collect::<Vec<_>>()
    };
    let p = problems(json!([{"at_s": 1, "node": "ghost", "kind": "crash"}]));
    assert!(p.iter().any(|p| p.starts_with("faults[0].node: no node has the id \"ghost\"")), "{p:?}");
    let p = problems(json!([{"at_s": 1, "node": "q", "kind": "store_down"}]));
    assert!(
        p.iter().any(|p| p.starts_with("faults[0].kind: a store_down fault strikes a store, not a queue")),
        "{p:?}"
    );
    let p = problems(json!([{"at_s": 5, "until_s": 2, "node": "q", "kind": "pause_consumers"}]));
    assert!(p.iter().any(|p| p.starts_with("faults[0].until_s: 2 is not after at_s 5")), "{p:?}");
    let p = problems(json!([{"at_s": 1, "node": "q", "kind": "meteor"}]));
    assert!(p.iter().any(|p| p.starts_with("faults[0].kind: unknown fault \"meteor\"")), "{p:?}");
    let p = problems(json!([{"at_s": 1, "node": "p", "kind": "burst", "factor": 2, "rate": 0.5}]));
    assert!(p.iter().any(|p| p.starts_with("faults[0].rate: a burst fault takes no rate")), "{p:?}");
    // A file with faults writes them back as it read them.
    let topo = json!({"version": 1, "name": "t", "seed": 1, "nodes": [{"id": "q", "kind": "queue"}], "links": [],
        "faults": [{"at_s": 1.0, "until_s": 2.0, "node": "q", "kind": "pause_consumers"}]});
    let m = Model::from_value(&topo).unwrap();
    assert_eq!(serde_json::to_value(m.topology()).unwrap()["faults"], topo["faults"]);
}

/// Faults on links: a partition holds what is published over it and lets it cross at its end
/// (or loses it, over an unreliable link); a partitioned consume link keeps the queue from its
/// consumer; a partitioned call link gets no answer (the call fails at its timeout); latency and
/// loss on a link.
#[test]
fn link_faults_hold_lose_slow_and_cut_calls() {
    let topo = |faults: Value, unreliable: bool, call: Value| {
        json!({"version": 1, "name": "links", "seed": 11, "nodes": [
            {"id": "p", "kind": "producer", "rate_per_s": 100, "arrival": "constant"},
            {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "replicas": 2, "concurrency": 2, "processing": 10},
            {"id": "db", "kind": "store", "latency": 1}],
            "links": [{"from": "p", "to": "q", "unreliable": unreliable}, {"from": "q", "to": "s"}, call],
            "faults": faults})
    };
    let run_topo = |t: Value| {
        let model = Model::from_value(&t).unwrap_or_else(|e| panic!("{e}"));
        let mut e = Engine::new(&model, &Options::default());
        e.step_until(5 * NS_PER_S).unwrap();
        e.check_conservation().unwrap();
        Report::new(&e, 0.0, &[])
    };
    let call = json!({"from": "s", "to": "db"});
    let part = json!([{"at_s": 1, "until_s": 2, "node": "p", "to": "q", "kind": "partition"}]);
    // Held for a second, then all of it arrives at once: nothing lost.
    let r = run_topo(topo(part.clone(), false, call.clone()));
    assert!((95..=105).contains(&r.faults[0].affected), "{} held", r.faults[0].affected);
    assert_eq!(r.faults[0].to.as_deref(), Some("q"));
    assert_eq!(r.messages.dropped.lost, 0);
    assert!(r.queue("q").unwrap().depth_max >= 90, "the held messages arrive together");
    // Over an unreliable link they are lost.
    let r = run_topo(topo(part, true, call.clone()));
    assert_eq!(r.messages.dropped.lost, r.faults[0].affected, "each one lost");
    assert!((95..=105).contains(&r.messages.dropped.lost));
    // A partitioned consume link: the queue holds what arrives.
    let r = run_topo(topo(
        json!([{"at_s": 1, "until_s": 3, "node": "q", "to": "s", "kind": "partition"}]),
        false,
        call.clone(),
    ));
    assert!(r.queue("q").unwrap().depth_max >= 190, "held {}", r.queue("q").unwrap().depth_max);
    assert_eq!(r.queue("q").unwrap().depth_end, 0, "delivered after");
    // A partitioned call link: calls get no answer and fail at their 20 ms timeout.
    let timed = json!({"from": "s", "to": "db", "timeout_ms": 20});
    let r =
        run_topo(topo(json!([{"at_s": 1, "until_s": 2, "node": "s", "to": "db", "kind": "partition"}]), false, timed));
    let s = r.service("s").unwrap();
    assert!((95..=105).contains(&s.failed), "{} failed", s.failed);
    assert_eq!((s.patterns.calls[0].timeouts, s.patterns.calls[0].late_answers), (s.failed, 0), "no answer at all");
    // Latency and loss on a publish link.
    let slow = json!([{"at_s": 0, "node": "p", "to": "q", "kind": "latency", "add_ms": 50}]);
    let r = run_topo(topo(slow, false, call.clone()));
    assert!(r.faults[0].affected >= 490, "{} slowed", r.faults[0].affected);
    let lossy = json!([{"at_s": 0, "node": "p", "to": "q", "kind": "error_rate", "rate": 0.5}]);
    let r = run_topo(topo(lossy, false, call.clone()));
    let lost = r.messages.dropped.lost;
    assert!((200..=300).contains(&lost), "about half of 500 lost: {lost}");
    // The broker refusing publishes: the producer is blocked for its second.
    let refuse = json!([{"at_s": 1, "until_s": 2, "node": "q", "kind": "refuse_publishes"}]);
    let r = run_topo(topo(refuse, false, call));
    let blocked = r.memory_alarm.as_ref().map_or(0, |a| a.blocked);
    assert!((95..=105).contains(&r.faults[0].affected), "{} refused", r.faults[0].affected);
    assert_eq!(blocked, r.faults[0].affected);
    assert!((390..=410).contains(&r.messages.produced), "{} produced", r.messages.produced);
}

#[test]
fn link_faults_name_a_link_that_can_have_them() {
    let problems = |faults: Value| {
        let topo = json!({"version": 1, "name": "t", "nodes": [
            {"id": "p", "kind": "producer", "rate_per_s": 1}, {"id": "x", "kind": "exchange", "type": "fanout"},
            {"id": "q", "kind": "queue"}],
            "links": [{"from": "p", "to": "x"}, {"from": "x", "to": "q"}], "faults": faults});
        Model::from_value(&topo).unwrap_err().problems.iter().map(|p| p.to_string()).collect::<Vec<_>>()
    };
    let p = problems(json!([{"at_s": 1, "node": "p", "to": "q", "kind": "partition"}]));
    assert!(p.iter().any(|p| p.starts_with("faults[0].to: no link from \"p\" to \"q\"")), "{p:?}");
    let p = problems(json!([{"at_s": 1, "node": "x", "to": "q", "kind": "partition"}]));
    assert!(p.iter().any(|p| p.starts_with("faults[0].kind: a partition fault strikes a publish link")), "{p:?}");
    let p = problems(json!([{"at_s": 1, "node": "x", "kind": "partition"}]));
    assert!(p.iter().any(|p| p.starts_with("faults[0].to: a partition fault strikes a link")), "{p:?}");
}

/// The broker refusing publishes for ten seconds, in the seed system: the order API answers 503
/// to every request meanwhile (Traefik's `unavailable`), and takes orders again after.
#[test]
fn the_broker_refusing_publishes_makes_the_order_api_answer_503() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json")).unwrap();
    let mut topo: Value = serde_json::from_str(&text).unwrap();
    topo["faults"] = json!([{"at_s": 10, "until_s": 20, "node": "amq.default", "kind": "refuse_publishes"}]);
    let model = Model::from_value(&topo).unwrap_or_else(|e| panic!("{e}"));
    let mut e = Engine::new(&model, &Options::default());
    e.step_until(30 * NS_PER_S).unwrap();
    let r = Report::new(&e, 0.0, &[]);
    let Some(edasim_sim::report::NodeReport::Gateway { unavailable, accepted, .. }) = r.node("traefik") else {
        panic!("traefik is a gateway")
    };
    // 8 orders a second for 10 s.
    assert!((50..=110).contains(unavailable), "{unavailable} answered 503");
    assert_eq!(*unavailable, r.faults[0].affected, "each one counted against the fault");
    assert!(*accepted >= 140, "{accepted} taken before and after");
    assert!(r.memory_alarm.as_ref().is_some_and(|a| a.raised == 1 && (a.seconds_on - 10.0).abs() < 0.5));
}
