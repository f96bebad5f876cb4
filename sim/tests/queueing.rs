//! The engine reproduces queueing theory: M/M/1, M/M/c (Erlang C) and M/M/1/K with blocking.
//! The expected values are computed here from the formulas; each run is long enough (millions
//! of messages) that the statistical error is well inside the 2% tolerance for any seed, and
//! each batch-means interval must cover the formula's value within three half-widths.

use edasim_sim::report::{QueueReport, ServiceReport};
use edasim_sim::time::s_to_ns;
use edasim_sim::{Engine, Model, Options, Report};

fn run(topology: &str, messages: u64, warmup_s: f64) -> Report {
    let model = Model::from_json_str(topology).expect("valid topology");
    let mut engine =
        Engine::new(&model, &Options { warmup: s_to_ns(warmup_s), series_capacity: 0, ..Options::default() });
    engine.set_message_budget(Some(messages));
    engine.run_until(u64::MAX, |_| {}).expect("no stall");
    assert_eq!(engine.in_system(), 0, "the run drains");
    // Memory follows the peak in the system, not the millions that passed through.
    assert!(engine.message_capacity() < 10_000, "message slots: {}", engine.message_capacity());
    Report::new(&engine, 0.0, &[])
}

fn queue<'a>(r: &'a Report, id: &str) -> &'a QueueReport {
    r.queue(id).unwrap_or_else(|| panic!("no queue {id}"))
}

fn service<'a>(r: &'a Report, id: &str) -> &'a ServiceReport {
    r.service(id).unwrap_or_else(|| panic!("no service {id}"))
}

/// `measured` within 2% of `expected`, and within three half-widths of its interval.
fn close(what: &str, measured: f64, ci95: Option<f64>, expected: f64) {
    let rel = (measured - expected).abs() / expected;
    println!(
        "{what}: measured {measured:.5} expected {expected:.5} ({:+.3}%) ci95 {ci95:?}",
        100.0 * (measured / expected - 1.0)
    );
    assert!(rel <= 0.02, "{what}: measured {measured}, expected {expected} ({:.2}% off)", rel * 100.0);
    if let Some(h) = ci95 {
        assert!(
            (measured - expected).abs() <= 3.0 * h,
            "{what}: {measured} is more than 3 half-widths ({h}) from {expected}"
        );
    }
}

fn mm_topology(rate: f64, replicas: u32, mean_ms: f64, queue_extra: &str) -> String {
    format!(
        r#"{{"version": 1, "name": "queueing", "seed": 7,
            "nodes": [
              {{"id": "arrivals", "kind": "producer", "rate_per_s": {rate}}},
              {{"id": "q", "kind": "queue"{queue_extra}}},
              {{"id": "server", "kind": "service", "replicas": {replicas},
                "processing": {{"dist": "exponential", "mean_ms": {mean_ms}}}}}
            ],
            "links": [{{"from": "arrivals", "to": "q"}}, {{"from": "q", "to": "server"}}]}}"#
    )
}

#[test]
fn mm1_matches_formulas() {
    let (lambda, mu) = (0.9, 1.0);
    let rho: f64 = lambda / mu;
    let r = run(&mm_topology(lambda, 1, 1000.0 / mu, ""), 8_000_000, 10_000.0);
    let (q, s) = (queue(&r, "q"), service(&r, "server"));
    let wq = rho / (mu - lambda);
    let w = 1.0 / (mu - lambda);
    let wait = q.wait_ms.as_ref().unwrap();
    let total = s.since_origin_ms.as_ref().unwrap();
    close("M/M/1 mean wait (s)", wait.mean / 1000.0, wait.ci95.map(|h| h / 1000.0), wq);
    close("M/M/1 mean time in system (s)", total.mean / 1000.0, total.ci95.map(|h| h / 1000.0), w);
    close("M/M/1 utilisation", s.utilisation, s.utilisation_ci95, rho);
    close("M/M/1 mean queue length", q.depth_mean, q.depth_mean_ci95, rho * rho / (1.0 - rho));
}

/// Erlang's C formula: the probability that an arrival waits, with `c` servers and offered
/// load `a` = lambda / mu.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let top = term / (1.0 - rho);
    top / (sum + top)
}

#[test]
fn mmc_matches_erlang_c() {
    let (lambda, mu, c) = (9.0, 1.0, 10);
    let a = lambda / mu;
    let r = run(&mm_topology(lambda, c, 1000.0 / mu, ""), 16_000_000, 2_000.0);
    let (q, s) = (queue(&r, "q"), service(&r, "server"));
    let p_wait = erlang_c(c, a);
    let wq = p_wait / (f64::from(c) * mu - lambda);
    let wait = q.wait_ms.as_ref().unwrap();
    let total = s.since_origin_ms.as_ref().unwrap();
    close("M/M/c mean wait (s)", wait.mean / 1000.0, wait.ci95.map(|h| h / 1000.0), wq);
    close("M/M/c mean time in system (s)", total.mean / 1000.0, total.ci95.map(|h| h / 1000.0), wq + 1.0 / mu);
    close("M/M/c utilisation", s.utilisation, s.utilisation_ci95, a / f64::from(c));
    assert!((erlang_c(1, 0.9) - 0.9).abs() < 1e-12, "Erlang C with one server is rho");
}

#[test]
fn mm1k_matches_blocking_formulas() {
    // K = 10 in the system: 9 ready in the queue plus 1 in service (prefetch 1).
    let (lambda, mu, k) = (1.2, 1.0, 10);
    let rho: f64 = lambda / mu;
    let extra = format!(r#", "max_length": {}, "overflow": "reject-publish""#, k - 1);
    let r = run(&mm_topology(lambda, 1, 1000.0 / mu, &extra), 2_000_000, 1_000.0);
    let (q, s) = (queue(&r, "q"), service(&r, "server"));
    let norm = (1.0 - rho) / (1.0 - rho.powi(k + 1));
    let p = |n: i32| rho.powi(n) * norm;
    let p_block = p(k);
    let l: f64 = (0..=k).map(|n| f64::from(n) * p(n)).sum();
    let lambda_eff = lambda * (1.0 - p_block);
    let w = l / lambda_eff;
    let blocking = q.rejected_publish as f64 / r.messages.produced as f64;
    close("M/M/1/K blocking probability", blocking, None, p_block);
    assert_eq!(r.messages.dropped.overflow, q.rejected_publish, "every blocked message is dropped as overflow");
    let wait = q.wait_ms.as_ref().unwrap();
    let total = s.since_origin_ms.as_ref().unwrap();
    close("M/M/1/K mean time in system (s)", total.mean / 1000.0, total.ci95.map(|h| h / 1000.0), w);
    close("M/M/1/K mean wait (s)", wait.mean / 1000.0, wait.ci95.map(|h| h / 1000.0), w - 1.0 / mu);
    close("M/M/1/K utilisation", s.utilisation, s.utilisation_ci95, 1.0 - p(0));
    assert!(q.depth_max <= u64::try_from(k - 1).unwrap(), "the queue never holds more than max_length");
}
