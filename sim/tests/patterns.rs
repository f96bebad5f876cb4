//! Each resilience pattern's mechanics, exactly, on one message or a steady trickle: retries
//! at once and through a delay queue, call timeouts with late answers, and the checks on the
//! new fields.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};
use serde_json::{Value, json};

fn run(topo: &Value, seconds: u64) -> Report {
    let model = Model::from_value(topo).unwrap_or_else(|e| panic!("{e}"));
    let mut e = Engine::new(&model, &Options::default());
    e.step_until(seconds * NS_PER_S).unwrap();
    e.check_conservation().unwrap();
    Report::new(&e, 0.0, &[])
}

/// One message that always fails: tried, retried at once, then twice through the delay queue
/// (100 ms, then 200 ms as its own expiration), then dead-lettered to the error queue after the
/// 4th attempt. Only that last step is a dead letter in the books.
#[test]
fn retries_at_once_then_through_a_delay_queue_then_the_error_queue() {
    let topo = json!({"version": 1, "name": "retries", "seed": 1, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 1, "arrival": "constant", "limit": 1},
        {"id": "work", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": 10, "failure_rate": 1,
         "on_failure": {"retry": {"max_attempts": 4, "immediate": 1, "backoff_ms": 100, "multiplier": 2}}},
        {"id": "delay", "kind": "queue"},
        {"id": "errors", "kind": "queue"}],
        "links": [{"from": "p", "to": "work"}, {"from": "work", "to": "s"},
            {"from": "s", "to": "delay", "when": "retry"},
            {"from": "delay", "to": "work", "dead_letter": true},
            {"from": "work", "to": "errors", "dead_letter": true}]});
    let r = run(&topo, 5);
    let s = r.service("s").unwrap();
    assert_eq!((s.failed, s.patterns.retries_immediate, s.patterns.retries_delayed), (4, 1, 2));
    let delay = r.queue("delay").unwrap();
    assert_eq!((delay.enqueued, delay.expired, delay.depth_end), (2, 2, 0), "two trips through the delay queue");
    assert_eq!(r.queue("errors").unwrap().depth_end, 1, "then the error queue");
    assert_eq!(r.messages.dead_lettered, 1, "the delay queue's expiries are retries, not dead letters");
    assert_eq!(s.processed, 0, "nothing succeeded");
}

/// Calls slower than the link's timeout fail at the timeout, and the store's answer comes late.
#[test]
fn call_timeouts_cut_the_wait_and_count_late_answers() {
    let topo = json!({"version": 1, "name": "timeouts", "seed": 1, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 10, "arrival": "constant", "limit": 95},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": 5, "concurrency": 100},
        {"id": "db", "kind": "store", "latency": 50}],
        "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"},
            {"from": "s", "to": "db", "timeout_ms": 20}]});
    let r = run(&topo, 10);
    let s = r.service("s").unwrap();
    let calls = &s.patterns.calls[0];
    assert_eq!(calls.store, "db");
    assert_eq!(calls.timeouts, s.failed, "every call timed out");
    assert_eq!(calls.late_answers, calls.timeouts, "and the store answered each one late");
    assert_eq!(s.failed, 95);
    let p = s.processing_ms.as_ref().unwrap();
    assert!((p.max - 25.0).abs() < 0.1, "5 ms of work and a 20 ms timeout: {} ms", p.max);
    assert_eq!(r.resilience.timeouts, calls.timeouts);
}

/// The new fields are checked with their paths.
#[test]
fn bad_pattern_fields_are_refused_with_their_paths() {
    let bad = json!({"version": 1, "name": "bad", "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 1},
        {"id": "q", "kind": "queue"},
        {"id": "s", "kind": "service", "processing": 1,
         "on_failure": {"retry": {"max_attempts": 2, "immediate": 2, "budget": {"min_per_s": 1}}}},
        {"id": "db", "kind": "store", "latency": 1}],
        "links": [{"from": "q", "to": "s"}, {"from": "p", "to": "q", "timeout_ms": 5},
            {"from": "s", "to": "db", "breaker": {"failure_rate": 2}}]});
    let err = Model::from_value(&bad).unwrap_err().to_string();
    for expected in [
        "nodes[2].on_failure.retry.immediate",
        "nodes[2].on_failure.retry.budget.ratio",
        "links[1].timeout_ms",
        "links[2].breaker.failure_rate",
    ] {
        assert!(err.contains(expected), "{expected} missing from: {err}");
    }
}

/// A failure handled as an answer (`on_failure: "ack"`): each failed attempt publishes its
/// failure link and is acknowledged; nothing is dropped, dead-lettered or tried again.
#[test]
fn a_failure_acked_is_answered_not_lost() {
    let topo = json!({"version": 1, "name": "declines", "seed": 1, "nodes": [
        {"id": "p", "kind": "producer", "rate_per_s": 10, "arrival": "constant", "limit": 40},
        {"id": "charges", "kind": "queue"},
        {"id": "payments", "kind": "service", "processing": 10, "failure_rate": 0.5, "on_failure": "ack"},
        {"id": "declined", "kind": "queue"},
        {"id": "errors", "kind": "queue"}],
        "links": [{"from": "p", "to": "charges"}, {"from": "charges", "to": "payments"},
            {"from": "payments", "to": "declined", "when": "failure", "event": "PaymentFailed"},
            {"from": "charges", "to": "errors", "dead_letter": true}]});
    let r = run(&topo, 10);
    let s = r.service("payments").unwrap();
    assert!(s.failed > 5 && s.processed > 5, "both outcomes: {} failed, {} processed", s.failed, s.processed);
    assert_eq!(s.failed + s.processed, 40, "each charge tried once");
    assert_eq!(r.queue("declined").unwrap().enqueued, s.failed, "each failure answered");
    assert_eq!(r.queue("errors").unwrap().enqueued, 0, "none dead-lettered");
    assert_eq!((r.messages.dead_lettered, r.messages.dropped.rejected), (0, 0));
    assert_eq!(s.retries, 0);
}
