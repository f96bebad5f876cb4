//! Gateways: Traefik's `rateLimit` middleware (a token bucket per client: `average` per
//! `period`, `burst`), 429 past it, and the services behind it taking the accepted requests.

use edasim_sim::report::NodeReport;
use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options, Report};
use serde_json::{Value, json};

/// Clients (producers) → a gateway (average 1000 per second, burst 200, as the seed's Traefik)
/// → an unbounded API service that publishes into a queue.
fn system(clients: Vec<Value>) -> (Model, Engine) {
    system_seeded(clients, 7)
}

fn system_seeded(clients: Vec<Value>, seed: u64) -> (Model, Engine) {
    let mut nodes = vec![
        json!({"id": "traefik", "kind": "gateway", "average": 1000, "period_s": 1, "burst": 200}),
        json!({"id": "api", "kind": "service", "concurrency": "unbounded", "processing": 2}),
        json!({"id": "orders", "kind": "queue"}),
        json!({"id": "worker", "kind": "service", "concurrency": "unbounded", "processing": 1}),
    ];
    let mut links = vec![
        json!({"from": "traefik", "to": "api"}),
        json!({"from": "api", "to": "orders"}),
        json!({"from": "orders", "to": "worker"}),
    ];
    for c in clients {
        links.push(json!({"from": c["id"].clone(), "to": "traefik"}));
        nodes.push(c);
    }
    let topo = json!({"version": 1, "name": "gateway", "seed": seed, "nodes": nodes, "links": links});
    let model = Model::from_value(&topo).unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(&model, &Options::default());
    (model, engine)
}

fn client(id: &str, rate: f64) -> Value {
    json!({"id": id, "kind": "producer", "rate_per_s": rate, "arrival": "constant"})
}

fn gateway(r: &Report) -> (u64, u64) {
    match r.node("traefik") {
        Some(NodeReport::Gateway { accepted, rejected, .. }) => (*accepted, *rejected),
        other => panic!("{other:?}"),
    }
}

/// 1,500 requests a second from one client, at even intervals and as a Poisson stream over
/// three seeds: after the burst is spent, 1,000 ± 2% are accepted every second of a minute and
/// about 500 answered 429; what is accepted reaches the queue behind the API.
#[test]
fn one_client_over_the_average_gets_the_average() {
    for (arrival, seed) in [("constant", 7), ("poisson", 1), ("poisson", 2), ("poisson", 3)] {
        let mut c = client("shop", 1500.0);
        c["arrival"] = json!(arrival);
        let (model, mut e) = system_seeded(vec![c], seed);
        e.step_until(62 * NS_PER_S).unwrap();
        e.check_conservation().unwrap();
        let gw = model.node_index("traefik").unwrap();
        let points: Vec<_> = e.series(gw).iter().filter(|p| p.t_s >= 2 && p.t_s <= 61).copied().collect();
        assert_eq!(points.len(), 60, "a minute of seconds");
        let offered_spread = if arrival == "constant" { 20 } else { 150 };
        for p in &points {
            assert!((980..=1020).contains(&p.in_per_s), "{arrival} {seed}, second {}: {} accepted", p.t_s, p.in_per_s);
            let rejected = i64::from(p.dropped);
            assert!(
                (rejected - 500).abs() <= offered_spread,
                "{arrival} {seed}, second {}: {rejected} rejected",
                p.t_s
            );
        }
        let r = Report::new(&e, 0.0, &[]);
        let (accepted, rejected) = gateway(&r);
        assert_eq!(accepted + rejected, e.ledger().produced, "every request answered");
        assert_eq!(r.messages.dropped.throttled, rejected, "429s are drops of their own kind");
        let processed = r.service("worker").unwrap().processed;
        assert!(accepted - processed < 10, "accepted requests go through: {accepted} accepted, {processed} processed");
    }
}

/// A burst of 200 at once after an idle second passes whole (the bucket is full); 300 at once
/// lose about 100 to 429s.
#[test]
fn a_burst_up_to_the_bucket_passes_whole() {
    let burst = |n: u64| {
        let mut c = client("shop", 1_000_000.0);
        c["limit"] = json!(n);
        c["schedule"] = json!([{"at_s": 0, "rate_per_s": 0}, {"at_s": 1, "rate_per_s": 1_000_000}]);
        let (_, mut e) = system(vec![c]);
        e.step_until(3 * NS_PER_S).unwrap();
        gateway(&Report::new(&e, 0.0, &[]))
    };
    assert_eq!(burst(200), (200, 0), "200 at once after an idle second");
    let (accepted, rejected) = burst(300);
    assert!((200..=201).contains(&accepted) && accepted + rejected == 300, "{accepted} accepted of 300");
}

/// Two clients each get their own bucket (Traefik's default source criterion is the remote
/// address): both over the average, each gets the average (Poisson arrivals, three seeds).
#[test]
fn each_client_has_its_own_bucket() {
    for seed in 1..=3 {
        let (mut a, mut b) = (client("shop", 1500.0), client("app", 1500.0));
        a["arrival"] = json!("poisson");
        b["arrival"] = json!("poisson");
        let (_, mut e) = system_seeded(vec![a, b], seed);
        e.step_until(31 * NS_PER_S).unwrap();
        let (accepted, _) = gateway(&Report::new(&e, 0.0, &[]));
        // 31 s at 1000/s each, plus each bucket's 200 of burst at the start.
        let expected = 2.0 * (31.0 * 1000.0 + 200.0);
        assert!(
            (accepted as f64 - expected).abs() / expected < 0.01,
            "seed {seed}: {accepted} accepted, {expected} expected"
        );
    }
}

/// While the broker's memory alarm blocks publishes, the API behind the gateway answers 503:
/// clients are not blocked (they keep asking), their requests are refused and counted.
#[test]
fn the_broker_refusing_publishes_is_a_503() {
    let topo = json!({"version": 1, "name": "t", "seed": 1, "nodes": [
        {"id": "shop", "kind": "producer", "rate_per_s": 500, "arrival": "constant"},
        {"id": "traefik", "kind": "gateway", "average": 0},
        {"id": "api", "kind": "service", "concurrency": "unbounded", "processing": 1},
        {"id": "orders", "kind": "queue"}],
        "links": [{"from": "shop", "to": "traefik"}, {"from": "traefik", "to": "api"}, {"from": "api", "to": "orders"}]});
    let model = Model::from_value(&topo).unwrap();
    let mut e = Engine::new(&model, &Options { memory_watermark: Some(1000), ..Options::default() });
    e.step_until(10 * NS_PER_S).unwrap();
    let r = Report::new(&e, 0.0, &[]);
    let Some(NodeReport::Gateway { accepted, unavailable, rejected, .. }) = r.node("traefik") else { panic!() };
    assert_eq!(*rejected, 0, "average 0: no rate limit");
    assert!(*accepted >= 990 && *unavailable > 3000, "{accepted} accepted, {unavailable} answered 503");
    assert_eq!(r.messages.dropped.refused, *unavailable);
    let Some(NodeReport::Producer { blocked, .. }) = r.node("shop") else { panic!() };
    assert_eq!(*blocked, 0, "a client of a gateway is never blocked");
}

/// A closed loop: 20 users, each sending a request, waiting for its answer and thinking 900 ms
/// before the next. Through an API taking 100 ms they send 20 a second (the interactive
/// response-time law: X = N / (R + Z) = 20 / 1 s); through one taking 1 s, 20 / 1.9 s ≈ 10.5.
#[test]
fn a_closed_loop_of_users_sends_as_fast_as_answers_come() {
    for (api_ms, expected) in [(100.0, 20.0), (1000.0, 20.0 / 1.9)] {
        let topo = json!({"version": 1, "name": "users", "seed": 5, "nodes": [
            {"id": "users", "kind": "producer", "users": 20, "think_ms": 900, "timeout_ms": 30000},
            {"id": "traefik", "kind": "gateway", "average": 0},
            {"id": "api", "kind": "service", "concurrency": "unbounded", "processing": api_ms}],
            "links": [{"from": "users", "to": "traefik"}, {"from": "traefik", "to": "api"}]});
        let model = Model::from_value(&topo).unwrap_or_else(|e| panic!("{e}"));
        let mut e = Engine::new(&model, &Options::default());
        e.step_until(101 * NS_PER_S).unwrap();
        e.check_conservation().unwrap();
        let r = Report::new(&e, 0.0, &[]);
        let Some(NodeReport::Producer { client: Some(c), .. }) = r.node("users") else { panic!() };
        let rate = c.succeeded as f64 / 100.0;
        assert!(
            (rate - expected).abs() / expected < 0.03,
            "API {api_ms} ms: {rate:.2} requests/s, {expected:.2} expected"
        );
        assert_eq!(c.timeouts, 0);
    }
}
