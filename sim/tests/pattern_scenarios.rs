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
        let worst = plain.iter().filter(|(t, _)| (100..=390).contains(t)).map(|(_, r)| *r).fold(0.0, f64::max);
        println!(
            "seed {seed}: without a budget at most {worst} good answers a second after the crash; with it back by {back:?} s"
        );
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
        println!("seed {seed}: peak retries a second {plain} without jitter, {jittered} with");
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
        println!(
            "seed {seed}: poison attempts {limited} (delivery limit), {seed_loop} (seed, 170 s), {bounded} (bounded)"
        );
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

/// The inventory database hangs from 60 s to 90 s. A hung call is known to have failed only at
/// its 2 s timeout, so the breaker learns of the outage 2 s late throughout. With the breaker:
/// open within its 10 s window (plus those 2 s) of the outage's start, calls failing fast while
/// open, closed again within its open time (plus the 2 s of probes sent just before the
/// database came back, plus a probe's call) after the database is back, and the work queue
/// short throughout. Without it: the workers sit on timeouts and the queue grows by thousands.
#[test]
fn a_breaker_fails_fast_through_an_outage_and_closes_after_it() {
    use edasim_sim::engine::BreakerState;
    let m = model("circuit-breaker");
    for seed in SEEDS {
        let mut e = engine(&m, seed);
        let svc = node(&e, "orders_service_b");
        let (queue, queue_b) = (node(&e, "order_queue"), node(&e, "order_queue_b"));
        let mut states = Vec::new();
        let mut depths_at_85 = (0, 0);
        for tenth in 1..=1500u64 {
            e.step_until(tenth * NS_PER_S / 10).unwrap();
            if tenth == 850 {
                depths_at_85 = (e.node_state(queue).depth, e.node_state(queue_b).depth);
            }
            let state = e.breakers().find(|b| b.0 == svc).map(|b| b.2).unwrap();
            states.push((tenth as f64 / 10.0, state));
        }
        let opened = states.iter().find(|(_, s)| *s == BreakerState::Open).map(|(t, _)| *t);
        assert!(opened.is_some_and(|t| t > 60.0 && t <= 60.0 + 10.0 + 2.0), "seed {seed}: opened at {opened:?} s");
        let closed = states.iter().find(|(t, s)| *t > 90.0 && *s == BreakerState::Closed).map(|(t, _)| *t);
        assert!(closed.is_some_and(|t| t <= 90.0 + 2.0 + 5.0 + 0.5), "seed {seed}: closed again at {closed:?} s");
        assert!(states.iter().filter(|(t, _)| *t > 100.0).all(|(_, s)| *s == BreakerState::Closed), "seed {seed}");
        println!("seed {seed}: opened at {opened:?} s, closed again at {closed:?} s");
        let r = Report::new(&e, 0.0, &[]);
        let with = r.service("orders_service_b").unwrap();
        let breaker = with.patterns.calls[0].breaker.as_ref().unwrap();
        assert!(breaker.failed_fast > 1000, "seed {seed}: {} calls failed fast", breaker.failed_fast);
        assert!(breaker.open_s > 20.0 && breaker.open_s < 36.0, "seed {seed}: open {} s", breaker.open_s);
        // Until it opens the queue grows on both sides; once open, the breaker's side drains
        // while the outage lasts.
        let (plain, with_breaker) = depths_at_85;
        assert!(with_breaker < 100, "seed {seed}: with the breaker {with_breaker} wait at 85 s");
        assert!(plain > 2000, "seed {seed}: without it {plain} wait at 85 s");
        let without = r.service("orders_service").unwrap();
        assert!(
            without.patterns.calls[0].timeouts > 100,
            "seed {seed}: {} timeouts",
            without.patterns.calls[0].timeouts
        );
    }
}

/// A burst triples the requests from 60 s to 80 s. Without a deadline the service then completes
/// work at full rate for minutes, almost none of it within the callers' 2 s; shedding work
/// older than 1.5 s keeps it answering in time at nearly full rate through the burst, and at
/// the offered rate from the burst's end.
#[test]
fn shedding_late_work_saves_goodput_after_a_burst() {
    let m = model("goodput-collapse");
    for seed in SEEDS {
        let mut e = engine(&m, seed);
        let counts = sampled(&mut e, 10, 200, |r| {
            let d = |id: &str| {
                let s = r.service(id).unwrap();
                (s.processed, s.patterns.deadline.as_ref().unwrap().in_time)
            };
            (d("quotes"), d("quotes_s"))
        });
        // (processed, in time) of each side, sampled.
        type Counts = ((u64, u64), (u64, u64));
        let series = |f: fn(&Counts) -> u64| rates(&counts.iter().map(|(t, c)| (*t, f(c))).collect::<Vec<_>>());
        let (done, good) = (series(|c| c.0.0), series(|c| c.0.1));
        let good_shed = series(|c| c.1.1);
        for ((t, d), (_, g)) in done.iter().zip(&good).filter(|((t, _), _)| (100..=200).contains(t)) {
            assert!(*d > 90.0, "seed {seed}: without a deadline, {d} done a second at {t} s (full rate)");
            assert!(*g < 8.0, "seed {seed}: without a deadline, {g} in time a second at {t} s");
        }
        for &(t, g) in good_shed.iter().filter(|(t, _)| (70..=80).contains(t)) {
            assert!(g > 90.0, "seed {seed}: shedding, {g} in time a second in the burst (to {t} s)");
        }
        for &(t, g) in good_shed.iter().filter(|(t, _)| (90..=200).contains(t)) {
            assert!(g > 72.0, "seed {seed}: shedding, {g} in time a second at {t} s");
        }
        let r = Report::new(&e, 0.0, &[]);
        let shed = r.service("quotes_s").unwrap().patterns.deadline.as_ref().unwrap().shed;
        let worst = good.iter().filter(|(t, _)| (100..=200).contains(t)).map(|(_, g)| *g).fold(0.0, f64::max);
        let least = good_shed.iter().filter(|(t, _)| (90..=200).contains(t)).map(|(_, g)| *g).fold(f64::MAX, f64::min);
        println!(
            "seed {seed}: after the burst at most {worst} in time a second without shedding, at least {least} with; {shed} shed"
        );
        assert!(shed > 500, "seed {seed}: {shed} shed");
        assert_eq!(r.messages.dropped.shed, shed, "seed {seed}: shed work is dropped in the books");
    }
}

/// A replica crashes every 20 s. What it held is redelivered, including orders already passed
/// on to shipping but not yet acknowledged: without a dedup store those are processed (and
/// shipped) twice; with one, none is, and the repeats are skipped.
#[test]
fn a_dedup_store_makes_crash_redeliveries_harmless() {
    let m = model("idempotent-consumer");
    for seed in SEEDS {
        let mut e = engine(&m, seed);
        e.step_until(200 * NS_PER_S).unwrap();
        let r = Report::new(&e, 0.0, &[]);
        let (plain, dedup) = (r.service("orders_service").unwrap(), r.service("orders_service_d").unwrap());
        let twice = plain.patterns.duplicates_processed;
        assert!(twice >= 5, "seed {seed}: {twice} orders processed twice without dedup");
        // Each of them was passed on twice: shipping got more than the orders emitted.
        let emitted = r.producer_emitted("orders").unwrap();
        let shipped = r.queue("shipping_queue").unwrap().enqueued;
        assert_eq!(shipped, plain.processed, "seed {seed}: one shipment per success");
        assert!(shipped > emitted - 100 + twice / 2, "seed {seed}: {shipped} shipments for {emitted} orders");
        println!("seed {seed}: {twice} processed twice without dedup, {} skipped with it", dedup.duplicates_skipped);
        assert_eq!(dedup.patterns.duplicates_processed, 0, "seed {seed}: none processed twice with dedup");
        assert!(dedup.duplicates_skipped >= 5, "seed {seed}: {} repeats skipped", dedup.duplicates_skipped);
        assert!(r.resilience.redeliveries > 2 * 9, "seed {seed}: {} redeliveries", r.resilience.redeliveries);
        e.check_conservation().unwrap();
    }
}
