//! Engine throughput: events and messages per second, with full metrics (per-node statistics
//! and per-second series) on, on M/M/1 and on the order pipeline; and the same with a live
//! view draining up to 2,000 hops per simulated second.
//!
//! `cargo bench -p edasim-sim --bench engine`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use edasim_sim::engine::Hop;
use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options};

const MM1: &str = r#"{"version": 1, "name": "M/M/1", "seed": 1,
  "nodes": [{"id": "arrivals", "kind": "producer", "rate_per_s": 0.9}, {"id": "q", "kind": "queue"},
            {"id": "server", "kind": "service", "processing": {"dist": "exponential", "mean_ms": 1000}}],
  "links": [{"from": "arrivals", "to": "q"}, {"from": "q", "to": "server"}]}"#;

fn order_pipeline() -> String {
    // At 200 orders per second: a busy system, with every pattern of the scenario at work.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json"))
        .expect("the shipped scenario");
    text.replace("\"rate_per_s\": 8,", "\"rate_per_s\": 200,")
        .replace("\"replicas\": 2, \"concurrency\": 16", "\"replicas\": 10, \"concurrency\": 64")
        .replace("\"replicas\": 1, \"concurrency\": 16", "\"replicas\": 10, \"concurrency\": 16")
}

/// Runs `seconds` of simulated time; with `view`, drains hops each second as a live view does.
fn run(model: &Model, seconds: u64, view: bool) -> (u64, u64) {
    let opts = Options { hop_capacity: if view { 2_000 } else { 0 }, ..Options::default() };
    let mut engine = Engine::new(model, &opts);
    let mut hops: Vec<Hop> = Vec::with_capacity(2_000);
    for s in 1..=seconds {
        engine.step_until(s * NS_PER_S).expect("no stall");
        if view {
            hops.clear();
            engine.take_hops(2_000, &mut hops);
        }
    }
    (engine.events(), engine.ledger().produced)
}

fn bench(c: &mut Criterion) {
    let cases = [
        ("mm1", Model::from_json_str(MM1).unwrap(), 200_000),
        ("order_pipeline", Model::from_json_str(&order_pipeline()).unwrap(), 1_000),
    ];
    for (name, model, seconds) in &cases {
        for view in [false, true] {
            let (events, produced) = run(model, *seconds, view);
            let label = if view { format!("{name}+view") } else { name.to_string() };
            let mut g = c.benchmark_group("events");
            g.sample_size(10);
            g.throughput(Throughput::Elements(events));
            g.bench_with_input(BenchmarkId::from_parameter(&label), &view, |b, &view| {
                b.iter(|| run(model, *seconds, view))
            });
            g.finish();
            let mut g = c.benchmark_group("messages");
            g.sample_size(10);
            g.throughput(Throughput::Elements(produced));
            g.bench_with_input(BenchmarkId::from_parameter(&label), &view, |b, &view| {
                b.iter(|| run(model, *seconds, view))
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
