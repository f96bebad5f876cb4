//! The shipped fault-and-pattern scenarios keep their lessons, over five seeds each: every file
//! holds the system twice, side by side, without the pattern and with it, under the same
//! faults, and each test measures both sides.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};

const SEEDS: std::ops::RangeInclusive<u64> = 1..=5;

fn model(name: &str) -> Model {
    let path = format!("{}/../scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Model::from_json_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn engine(model: &Model, seed: u64) -> Engine {
    Engine::new(model, &Options { seed: Some(seed), series_capacity: 3600, ..Options::default() })
}

fn node(e: &Engine, id: &str) -> usize {
    (0..e.node_count()).find(|&i| e.node_id(i) == id).unwrap_or_else(|| panic!("no node {id}"))
}

/// Runs to `end_s`, reading `f` of the report every `every_s` seconds: [(time, value)].
fn sampled<T>(e: &mut Engine, every_s: u64, end_s: u64, f: impl Fn(&Report) -> T) -> Vec<(u64, T)> {
    (every_s..=end_s)
        .step_by(every_s as usize)
        .map(|t| {
            e.step_until(t * NS_PER_S).unwrap();
            (t, f(&Report::new(e, 0.0, &[])))
        })
        .collect()
}

/// Per-window rates of a cumulative count sampled by [`sampled`]: [(window end, per second)].
fn rates(samples: &[(u64, u64)]) -> Vec<(u64, f64)> {
    samples.windows(2).map(|w| (w[1].0, (w[1].1 - w[0].1) as f64 / (w[1].0 - w[0].0) as f64)).collect()
}

fn client_ok(r: &Report, id: &str) -> u64 {
    r.producer_client(id).unwrap_or_else(|| panic!("{id} is no client")).succeeded
}

/// A third of the payment replicas crash for 30 s (60 s to 90 s) under 70% load. Without a
/// retry budget, the clients' retries keep the API busy with abandoned attempts: good throughput
/// (requests answered within the timeout) stays under half the offered 70 a second for the five
/// minutes after the crash ends. With the budget it is back above 90% within 60 s.
#[test]
fn a_retry_storm_stays_without_a_budget_and_passes_with_one() {
    let m = model("retry-storm");
    for seed in SEEDS {
        let mut e = engine(&m, seed);
        let ok = sampled(&mut e, 10, 400, |r| (client_ok(r, "clients"), client_ok(r, "clients_budget")));
        let plain = rates(&ok.iter().map(|&(t, (a, _))| (t, a)).collect::<Vec<_>>());
        let budget = rates(&ok.iter().map(|&(t, (_, b))| (t, b)).collect::<Vec<_>>());
        let before = |v: &[(u64, f64)]| v.iter().filter(|(t, _)| (20..=60).contains(t)).all(|(_, r)| *r > 60.0);
        assert!(before(&plain) && before(&budget), "seed {seed}: both serve the load before the crash");
        for &(t, r) in plain.iter().filter(|(t, _)| (100..=390).contains(t)) {
            assert!(r < 35.0, "seed {seed}: without a budget, {r} good answers a second at {t} s");
        }
        let back = budget.iter().find(|(t, r)| *t > 90 && *r > 63.0).map(|(t, _)| *t);
        assert!(back.is_some_and(|t| t <= 150), "seed {seed}: with the budget, good throughput back at {back:?} s");
        let r = Report::new(&e, 0.0, &[]);
        assert!(r.producer_client("clients_budget").unwrap().budget_refused > 0, "seed {seed}: the budget refused");
    }
}

/// The consumers come back at 40 s to a database still down until 50 s: a thousand orders each
/// fail at once. Without jitter their retries come in waves; with full jitter the peak of
/// retries a second is at least 30% lower.
#[test]
fn jitter_spreads_the_waves_of_retries() {
    let m = model("retry-jitter");
    for seed in SEEDS {
        let mut e = engine(&m, seed);
        e.step_until(120 * NS_PER_S).unwrap();
        let peak = |id: &str| e.series(node(&e, id)).iter().map(|p| p.retries).max().unwrap_or(0);
        let (plain, jittered) = (peak("consumer"), peak("consumer_j"));
        assert!(plain >= 500, "seed {seed}: a wave of {plain} retries a second without jitter");
        assert!(
            f64::from(jittered) <= 0.7 * f64::from(plain),
            "seed {seed}: peak {jittered} with jitter against {plain} without"
        );
        e.check_conservation().unwrap();
    }
}


/// One poison payment at 10 s in each of three pipelines. With a delivery limit of 3 it is
/// delivered 4 times, then waits in the dead-letter queue; with the seed's handler it keeps
/// looping, its attempts growing with time; with a bounded redrive of 3 it is tried 4 times and
/// parked.
#[test]
fn a_poison_message_is_dead_lettered_loops_or_is_parked() {
    let m = model("poison-message");
    for seed in SEEDS {
        let mut e = engine(&m, seed);
        let attempts = sampled(&mut e, 60, 180, |r| {
            let by = |node: &str| r.faults.iter().find(|f| f.node == node).map_or(0, |f| f.affected);
            (by("payment"), by("payment_seed"), by("payment_bounded"))
        });
        let r = Report::new(&e, 0.0, &[]);
        let (limited, seed_loop, bounded) = attempts.last().unwrap().1;
        assert_eq!(limited, 4, "seed {seed}: delivered once and redelivered 3 times");
        assert_eq!(r.queue("dead_letter_queue").unwrap().depth_end, 1, "seed {seed}: then dead-lettered");
        assert_eq!(bounded, 4, "seed {seed}: tried once and redriven 3 times");
        assert_eq!(r.queue("parking_lot").unwrap().depth_end, 1, "seed {seed}: then parked");
        let loops: Vec<u64> = attempts.iter().map(|(_, (_, s, _))| *s).collect();
        assert!(loops.windows(2).all(|w| w[1] >= w[0] + 50), "seed {seed}: the seed's loop keeps going: {loops:?}");
        assert!(seed_loop > 150, "seed {seed}: {seed_loop} attempts in 170 s");
        // Nothing else fails there (the poison's last attempt may be under way).
        let failed = r.service("payment_seed").unwrap().failed;
        assert!((seed_loop - 1..=seed_loop).contains(&failed), "seed {seed}: {failed} failed, {seed_loop} attempts");
    }
}
